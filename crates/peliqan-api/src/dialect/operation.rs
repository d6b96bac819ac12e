//! The operations of the Partner API that a dialect maps to routes.

use std::fmt;
use std::str::FromStr;

macro_rules! operations {
    ( $( $(#[$meta:meta])* $variant:ident => $name:literal, $side:ident; )+ ) => {
        /// One thing the API can do, whatever path a dialect gives it. The
        /// discriminants follow [`Operation::ALL`] (tables index by them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $( $(#[$meta])* $variant, )+
        }

        impl Operation {
            /// Every operation, in table order.
            pub const ALL: &'static [Operation] = &[ $( Operation::$variant, )+ ];

            /// The snake_case name used in configuration keys and in the
            /// token service's `routes` answer, e.g. `token_by_external_id`.
            pub fn name(self) -> &'static str {
                match self { $( Operation::$variant => $name, )+ }
            }

            /// Which token the operation is called with.
            pub fn side(self) -> Side {
                match self { $( Operation::$variant => Side::$side, )+ }
            }
        }
    };
}

/// Which credential an operation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The partner's own token (server-side only).
    Partner,
    /// An end-customer (sub-account) token: what a browser may call.
    Subaccount,
    /// No token: the OAuth client-credentials exchange itself.
    Credentials,
}

operations! {
    /// List the partner's sub-accounts.
    ListSubaccounts => "list_subaccounts", Partner;
    /// Create a sub-account.
    CreateSubaccount => "create_subaccount", Partner;
    /// Read one sub-account by Peliqan's id.
    GetSubaccount => "get_subaccount", Partner;
    /// Read one sub-account by the partner's external id.
    GetSubaccountByExternalId => "get_subaccount_by_external_id", Partner;
    /// Replace a sub-account's details.
    UpdateSubaccount => "update_subaccount", Partner;
    /// Delete a sub-account.
    DeleteSubaccount => "delete_subaccount", Partner;
    /// A sub-account's data-warehouse info.
    SubaccountInfo => "subaccount_info", Partner;
    /// A short-lived token for a sub-account id.
    TokenById => "token_by_id", Partner;
    /// A short-lived token for an external id.
    TokenByExternalId => "token_by_external_id", Partner;
    /// A non-expiring token for a sub-account id (server-side use only).
    NonExpiringTokenById => "non_expiring_token_by_id", Partner;
    /// A non-expiring token for an external id (server-side use only).
    NonExpiringTokenByExternalId => "non_expiring_token_by_external_id", Partner;
    /// Exchange OAuth client credentials for a partner access token.
    OauthToken => "oauth_token", Credentials;
    /// The connector catalogue with connect forms.
    Servertypes => "servertypes", Partner;
    /// List a sub-account's connections.
    ListConnections => "list_connections", Subaccount;
    /// Add a connection.
    AddConnection => "add_connection", Subaccount;
    /// Read one connection and its status.
    GetConnection => "get_connection", Subaccount;
    /// Read a connection's logs.
    ConnectionLogs => "connection_logs", Subaccount;
    /// Create a query table.
    CreateTable => "create_table", Subaccount;
    /// List scripts ("interfaces").
    ListScripts => "list_scripts", Subaccount;
    /// List script groups (a script is created inside a group).
    ListGroups => "list_groups", Subaccount;
    /// Create a scheduled Python script.
    CreateScript => "create_script", Subaccount;
}

impl Operation {
    /// The configuration key that overrides this operation's route, e.g.
    /// `PELIQAN_API_ROUTE_TOKEN_BY_EXTERNAL_ID`.
    pub fn config_key(self) -> String {
        ["PELIQAN_API_ROUTE_", &self.name().to_ascii_uppercase()].concat()
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Operation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .iter()
            .copied()
            .find(|op| op.name() == s)
            .ok_or_else(|| ["unknown API operation `", s, "`"].concat())
    }
}
