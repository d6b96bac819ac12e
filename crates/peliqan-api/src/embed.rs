//! Our own contract between the token service and the browser SDK: the
//! answer of `POST /v1/token`. The token service writes it, the SDK and the
//! tests read it; both sides use this one type.

use crate::dialect::{Dialect, Operation, Routes};
use crate::ids::{ExternalId, SubaccountId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /v1/token` -> 200.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    /// The tenant's short-lived Peliqan token (secret).
    pub token: String,
    /// When the token stops being served, RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
    pub expires_at: String,
    /// The tenant's sub-account, when known.
    #[serde(default)]
    pub subaccount_id: Option<SubaccountId>,
    /// The tenant (the partner's id of the end-customer).
    pub external_id: ExternalId,
    /// The Peliqan base URL the browser must call with this token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peliqan_url: Option<String>,
    /// The API dialect of that Peliqan (`seed`, `sub-account`, `partner`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
    /// Sub-account-side routes the operator overrode, by operation name
    /// (`get_connection` -> `GET /api/v2/servers/{id}/`); absent when none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, String>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .field("subaccount_id", &self.subaccount_id)
            .field("external_id", &self.external_id)
            .field("peliqan_url", &self.peliqan_url)
            .field("dialect", &self.dialect)
            .field("routes", &self.routes)
            .finish()
    }
}

/// The routing part of a [`TokenAnswer`]: what a browser needs to call
/// Peliqan in the right dialect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BrowserRouting {
    /// See [`TokenAnswer::peliqan_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peliqan_url: Option<String>,
    /// See [`TokenAnswer::dialect`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
    /// See [`TokenAnswer::routes`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, String>,
}

impl BrowserRouting {
    /// What to tell browsers about `routes` served from `peliqan_url`: the
    /// dialect, and the overridden operations a browser calls.
    pub fn new(peliqan_url: &str, routes: &Routes) -> Self {
        Self {
            peliqan_url: Some(peliqan_url.trim_end_matches('/').to_owned()),
            dialect: Some(routes.dialect().name().to_owned()),
            routes: routes
                .overrides()
                .filter(|(op, _)| op.side() == crate::dialect::Side::Subaccount)
                .map(|(op, r)| (op.name().to_owned(), r.to_string()))
                .collect(),
        }
    }

    /// The routes these fields describe (`seed` when no dialect is named).
    /// An unknown dialect, operation or a route that does not parse is an
    /// error naming it.
    pub fn routes(&self) -> Result<Routes, String> {
        let dialect = match &self.dialect {
            Some(name) => name.parse::<Dialect>()?,
            None => Dialect::default(),
        };
        let mut routes = dialect.routes();
        for (name, text) in &self.routes {
            let op: Operation = name.parse()?;
            routes.set_text(op, text).map_err(|e| e.to_string())?;
        }
        Ok(routes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_round_trips_only_sub_account_side_overrides() {
        let mut routes = Dialect::Partner.routes();
        routes
            .set_text(Operation::GetConnection, "GET /api/v2/servers/{id}/")
            .unwrap();
        routes
            .set_text(Operation::TokenById, "POST /x/{id}/")
            .unwrap();
        let routing = BrowserRouting::new("https://app.eu.peliqan.io/", &routes);
        assert_eq!(
            routing.peliqan_url.as_deref(),
            Some("https://app.eu.peliqan.io")
        );
        assert_eq!(
            routing.routes.len(),
            1,
            "partner-side routes stay on the server"
        );
        let back = routing.routes().unwrap();
        assert_eq!(back.dialect(), Dialect::Partner);
        assert_eq!(
            back.route(Operation::GetConnection).unwrap().to_string(),
            "GET /api/v2/servers/{id}/"
        );
    }

    #[test]
    fn an_old_answer_without_routing_means_the_seed_dialect() {
        let answer: TokenAnswer = serde_json::from_str(
            r#"{"token":"t","expires_at":"2026-01-01T00:00:00Z","subaccount_id":1,"external_id":"a"}"#,
        )
        .unwrap();
        assert_eq!(answer.dialect, None);
        assert!(format!("{answer:?}").contains("***"));
        assert_eq!(
            BrowserRouting::default().routes().unwrap().dialect(),
            Dialect::Seed
        );
    }
}
