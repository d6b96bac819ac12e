//! Our own contract between the token service and the browser SDK: the
//! answer of `POST /v1/token` ([`TokenAnswer`]) and the problem body of every
//! error answer ([`Problem`]). The token service writes them, the SDK and the
//! tests read them; both sides use these types.

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
    /// Where and how the browser calls Peliqan with this token
    /// (`peliqan_url`, `dialect`, `routes`, at the answer's top level).
    #[serde(flatten)]
    pub routing: BrowserRouting,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .field("subaccount_id", &self.subaccount_id)
            .field("external_id", &self.external_id)
            .field("routing", &self.routing)
            .finish()
    }
}

/// The routing part of a [`TokenAnswer`]: what a browser needs to call
/// Peliqan in the right dialect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BrowserRouting {
    /// The Peliqan base URL the browser must call with the token.
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
            routes.set_text(op, text).map_err(|e| e.0)?;
        }
        Ok(routes)
    }
}

/// The prefix of a [`Problem::kind`]; the problem's `code` follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:peliqan-token-service:problem:";

/// The body of every error answer of the token service: an RFC 9457 problem
/// document (`application/problem+json`) with the service's `code`
/// extension. The codes are listed in the token service's README; this type
/// carries one as text, so a reader built before a code was added still
/// reads the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem type: [`PROBLEM_TYPE_PREFIX`] and the code.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status, repeated for clients that lose it.
    pub status: u16,
    /// What went wrong in this instance, for a person.
    pub detail: String,
    /// Stable machine-readable code, e.g. `unknown_tenant`.
    pub code: String,
}

impl Problem {
    /// The problem `code` answered with `status`; `kind` is derived from
    /// the code.
    pub fn new(code: &str, title: &str, status: u16, detail: String) -> Self {
        Self {
            kind: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title: title.to_owned(),
            status,
            detail,
            code: code.to_owned(),
        }
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
        assert_eq!(answer.routing.dialect, None);
        assert!(format!("{answer:?}").contains("***"));
        assert_eq!(
            BrowserRouting::default().routes().unwrap().dialect(),
            Dialect::Seed
        );
    }

    #[test]
    fn a_problem_round_trips_with_its_type_key() {
        let p = Problem::new("rate_limited", "Too many requests", 429, "retry".into());
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "urn:peliqan-token-service:problem:rate_limited",
                "title": "Too many requests", "status": 429, "detail": "retry",
                "code": "rate_limited"})
        );
        assert_eq!(serde_json::from_value::<Problem>(json).unwrap(), p);
    }
}
