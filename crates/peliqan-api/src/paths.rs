//! Every endpoint path of the Embed API, in one place.
//!
//! Paths are written without a trailing slash; Peliqan (and the emulator)
//! accept both forms. Query strings are built by the callers from
//! [`crate::TokenQuery`].

use crate::ids::{ServerId, SubaccountId};

/// `POST` (create) and `GET` (list) end-customer accounts. Partner token.
pub const SUBACCOUNTS: &str = "/api/subaccount";
/// `GET /api/subaccount/token?external_id=..[&expire=false]`. Partner token.
pub const SUBACCOUNT_TOKEN_BY_EXTERNAL_ID: &str = "/api/subaccount/token";
/// `GET` connector definitions with their connect forms. Partner token.
pub const SERVERTYPES: &str = "/api/servertypes";
/// `POST` (add) and `GET` (list) connections. Sub-account token.
pub const SERVERS: &str = "/api/servers";
/// `POST` a query table. Sub-account token.
pub const TABLE: &str = "/table";
/// `POST` a scheduled Python script. Sub-account token.
pub const INTERFACE: &str = "/interface";

/// `GET`, `PUT`, `DELETE` one end-customer account. Partner token.
pub fn subaccount(id: SubaccountId) -> String {
    format!("{SUBACCOUNTS}/{id}")
}

/// `GET /api/subaccount/{id}/token[?expire=false]`. Partner token.
pub fn subaccount_token(id: SubaccountId) -> String {
    format!("{SUBACCOUNTS}/{id}/token")
}

/// `GET` the status of one connection. Sub-account token.
pub fn server(id: ServerId) -> String {
    format!("/api/server/{id}")
}

/// `GET` the logs of one connection. Sub-account token.
pub fn server_logs(id: ServerId) -> String {
    format!("/api/server/{id}/logs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_the_seed_document() {
        assert_eq!(subaccount(SubaccountId(7)), "/api/subaccount/7");
        assert_eq!(subaccount_token(SubaccountId(7)), "/api/subaccount/7/token");
        assert_eq!(server(ServerId(12345)), "/api/server/12345");
        assert_eq!(server_logs(ServerId(1)), "/api/server/1/logs");
    }
}
