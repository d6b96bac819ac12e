//! The built-in dialects' route tables, one per dialect, as written in the
//! documents they come from.
//!
//! - `seed`: the Partner API document this project was built from
//!   (no trailing slashes).
//! - `sub-account`: Peliqan's older help text (`/api/sub-account/...`).
//! - `partner`: Peliqan's own Python SDK (`peliqan` 2.18.5) and current help
//!   text (`/api/partner/...`, every path ending in `/`).
//!
//! Where a source is silent (servertypes, adding a connection and its
//! `oauth_url`, connection logs, and in `sub-account` everything but
//! creation and tokens) the seed's shape is kept under the dialect's
//! trailing-slash rule. Those rows are marked "inferred".

use super::{Dialect, Operation};
use Operation::*;

/// `(operation, route)` rows of one dialect. An operation a dialect does not
/// have is simply absent.
pub(super) fn rows(dialect: Dialect) -> &'static [(Operation, &'static str)] {
    match dialect {
        Dialect::Seed => SEED,
        Dialect::SubAccount => SUB_ACCOUNT,
        Dialect::Partner => PARTNER,
    }
}

const SEED: &[(Operation, &str)] = &[
    (ListSubaccounts, "GET /api/subaccount"),
    (CreateSubaccount, "POST /api/subaccount"),
    (GetSubaccount, "GET /api/subaccount/{id}"),
    (UpdateSubaccount, "PUT /api/subaccount/{id}"),
    (DeleteSubaccount, "DELETE /api/subaccount/{id}"),
    (TokenById, "GET /api/subaccount/{id}/token"),
    (
        TokenByExternalId,
        "GET /api/subaccount/token?external_id={external_id}",
    ),
    (
        NonExpiringTokenById,
        "GET /api/subaccount/{id}/token?expire=false",
    ),
    (
        NonExpiringTokenByExternalId,
        "GET /api/subaccount/token?external_id={external_id}&expire=false",
    ),
    (Servertypes, "GET /api/servertypes"),
    (ListConnections, "GET /api/servers"),
    (AddConnection, "POST /api/servers"),
    (GetConnection, "GET /api/server/{id}"),
    (ConnectionLogs, "GET /api/server/{id}/logs"),
    (CreateTable, "POST /table"),
    (CreateScript, "POST /interface"),
];

const SUB_ACCOUNT: &[(Operation, &str)] = &[
    (ListSubaccounts, "GET /api/sub-account/"), // inferred
    (CreateSubaccount, "POST /api/sub-account/"),
    (GetSubaccount, "GET /api/sub-account/{id}/"), // inferred
    (UpdateSubaccount, "PUT /api/sub-account/{id}/"), // inferred
    (DeleteSubaccount, "DELETE /api/sub-account/{id}/"), // inferred
    (
        TokenById,
        "POST /api/sub-account/integrate/?account_id={id}",
    ),
    (
        TokenByExternalId,
        "POST /api/sub-account/integrate/?external_id={external_id}",
    ),
    (
        NonExpiringTokenById,
        "GET /api/sub-account/identity/?account_id={id}&expire=false",
    ),
    (
        NonExpiringTokenByExternalId,
        "GET /api/sub-account/identity/?external_id={external_id}&expire=false",
    ),
    (Servertypes, "GET /api/servertypes/"),         // inferred
    (ListConnections, "GET /api/servers/"),         // inferred
    (AddConnection, "POST /api/servers/"),          // inferred
    (GetConnection, "GET /api/server/{id}/"),       // inferred
    (ConnectionLogs, "GET /api/server/{id}/logs/"), // inferred
    (CreateTable, "POST /table/"),                  // inferred
    (CreateScript, "POST /interface/"),             // inferred
];

const PARTNER: &[(Operation, &str)] = &[
    (
        ListSubaccounts,
        "GET /api/partner/sub-accounts/?page={page}&per_page={per_page}",
    ),
    (CreateSubaccount, "POST /api/partner/sub-accounts/"),
    (
        GetSubaccount,
        "GET /api/partner/sub-account/?account_id={id}",
    ),
    (
        GetSubaccountByExternalId,
        "GET /api/partner/sub-account/?external_id={external_id}",
    ),
    (SubaccountInfo, "GET /api/partner/sub-accounts/{id}/info/"),
    (
        TokenById,
        "POST /api/partner/sub-account/integrate/?account_id={id}",
    ),
    (
        TokenByExternalId,
        "POST /api/partner/sub-account/integrate/?external_id={external_id}",
    ),
    (
        NonExpiringTokenById,
        "GET /api/partner/sub-account/identity/?account_id={id}",
    ),
    (
        NonExpiringTokenByExternalId,
        "GET /api/partner/sub-account/identity/?external_id={external_id}",
    ),
    (OauthToken, "POST /api/oauth2/token/"),
    (Servertypes, "GET /api/servertypes/"), // inferred
    (ListConnections, "GET /api/servers/"),
    (AddConnection, "POST /api/servers/"), // inferred
    (GetConnection, "GET /api/servers/{id}/"),
    (ConnectionLogs, "GET /api/servers/{id}/logs/"), // inferred
    (CreateTable, "POST /api/database/tables/create-sql-query/"),
    (ListScripts, "GET /api/interfaces/"),
    (ListGroups, "GET /api/groups/"),
    (CreateScript, "POST /api/interfaces/group/{group_id}/"),
];
