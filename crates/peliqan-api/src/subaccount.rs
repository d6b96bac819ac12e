//! End-customer accounts (sub-accounts) and their tokens.

use crate::ids::{ExternalId, SubaccountId};
use serde::{Deserialize, Serialize};

/// Body of `POST /api/subaccount` (create) and `PUT /api/subaccount/{id}`
/// (update). Only `external_id` is required by Peliqan. The fields after
/// `company_name` are the `partner` dialect's additions (Peliqan's SDK sends
/// them on creation); they are left out when unset.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubaccountInput {
    /// The partner's unique id for this end-customer. Required.
    pub external_id: ExternalId,
    /// Given name of the end-customer's main user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name of the end-customer's main user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail address of the end-customer's main user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// UI language, e.g. `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The end-customer's company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Initial password of the main user (`partner` dialect). Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Country of the company (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Company size (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_size: Option<String>,
    /// Time zone, e.g. `UTC` (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Whether the main user's e-mail counts as verified (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Licence, e.g. `free_trial` (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// End of the licence, a date (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
}

impl std::fmt::Debug for SubaccountInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubaccountInput")
            .field("external_id", &self.external_id)
            .field("email", &self.email)
            .field("company_name", &self.company_name)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// An end-customer account as Peliqan returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subaccount {
    /// Peliqan's id of the account.
    pub id: SubaccountId,
    /// The partner's id of the end-customer.
    pub external_id: ExternalId,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// UI language.
    #[serde(default)]
    pub language: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
}

/// A sub-account's data-warehouse info (`partner` dialect:
/// `GET /api/partner/sub-accounts/{id}/info/`). Peliqan's SDK reads these
/// two fields; both are optional here so other answers still read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubaccountInfo {
    /// Id of the account's default data warehouse (a connection).
    #[serde(default)]
    pub default_dw_id: Option<u64>,
    /// Name of the account's default data warehouse.
    #[serde(default)]
    pub default_dw_name: Option<String>,
}

/// Query of the token endpoints: `?external_id=..` (by external id only)
/// and `expire=false` for a non-expiring, server-side-only token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenQuery {
    /// Look the sub-account up by the partner's id (by-external-id endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// `Some(false)` asks for a non-expiring token. Never hand such a token
    /// to a browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<bool>,
}

/// Answer of the token endpoints. Peliqan documents only that a JWT comes
/// back; the expiry is read from the token's own `exp` claim by callers
/// that need it, the other fields are kept when present.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubaccountToken {
    /// The sub-account JWT (secret).
    pub token: String,
    /// The sub-account the token is for, when the answer names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subaccount_id: Option<SubaccountId>,
    /// The partner's id of that sub-account, when the answer names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
}

impl std::fmt::Debug for SubaccountToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubaccountToken")
            .field("token", &"***")
            .field("subaccount_id", &self.subaccount_id)
            .field("external_id", &self.external_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_debug_never_prints_the_token() {
        let t = SubaccountToken {
            token: "eyJsecret".into(),
            subaccount_id: Some(SubaccountId(1)),
            external_id: None,
        };
        assert!(!format!("{t:?}").contains("eyJsecret"));
    }

    #[test]
    fn subaccount_reads_with_unknown_fields_and_missing_optionals() {
        let s: Subaccount =
            serde_json::from_str(r#"{"id": 3, "external_id": "wood_123", "plan": "x"}"#).unwrap();
        assert_eq!(s.id, SubaccountId(3));
        assert_eq!(s.external_id.as_str(), "wood_123");
        assert_eq!(s.email, None);
    }
}
