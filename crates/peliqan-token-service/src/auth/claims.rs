//! What the service takes from a verified user JWT: who the user is (`sub`,
//! with the tenant the rate-limit key), which tenant they belong to (the configured claim,
//! the only source of the tenant, taken exactly as written: see [`super::tenant`]),
//! and profile claims for auto-provisioning.

use super::tenant::tenant_id;
use crate::error::ServiceError;
use peliqan_api::{ExternalId, SubaccountInput};
use serde_json::{Map, Value};

/// A user whose JWT checked out.
#[derive(Debug, Clone)]
pub struct VerifiedUser {
    /// The JWT's `sub`.
    pub subject: String,
    /// The tenant named by the configured claim.
    pub tenant: ExternalId,
    /// Profile claims, used only when a sub-account is created.
    pub profile: Profile,
}

/// Standard OIDC profile claims, plus `company_name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// `email`.
    pub email: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
    /// `locale`, e.g. `en` or `en-US`.
    pub locale: Option<String>,
    /// `company_name`.
    pub company_name: Option<String>,
}

impl Profile {
    /// The profile claims, each read as text by `text`.
    pub fn read(text: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            email: text("email"),
            given_name: text("given_name"),
            family_name: text("family_name"),
            locale: text("locale"),
            company_name: text("company_name"),
        }
    }

    /// The sub-account to create for `tenant` from this profile.
    pub fn subaccount_input(&self, tenant: &ExternalId) -> SubaccountInput {
        SubaccountInput {
            external_id: tenant.clone(),
            first_name: self.given_name.clone(),
            last_name: self.family_name.clone(),
            email: self.email.clone(),
            // Peliqan wants a language code, OIDC gives a BCP 47 tag.
            language: self
                .locale
                .as_ref()
                .map(|l| l.split(['-', '_']).next().unwrap_or(l).to_owned()),
            company_name: self.company_name.clone(),
            ..SubaccountInput::default()
        }
    }
}

/// Where claims are read from: a JSON map, or the claims the service read
/// from a verified JWT (`super::decode::Claims`).
pub trait ClaimSource {
    /// The claim `name`, if present.
    fn claim(&self, name: &str) -> Option<&Value>;
}

impl ClaimSource for Map<String, Value> {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl VerifiedUser {
    /// Reads the user from verified claims; `tenant_claim` may be a dotted path
    /// (`app_metadata.tenant`) for IdPs that nest custom claims.
    pub fn from_claims(
        claims: &impl ClaimSource,
        tenant_claim: &str,
    ) -> Result<Self, ServiceError> {
        let subject = claims
            .claim("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ServiceError::InvalidToken("the JWT has no `sub` claim".into()))?;
        let value = lookup(claims, tenant_claim)
            .ok_or_else(|| ServiceError::MissingTenantClaim(tenant_claim.to_owned()))?;
        let tenant = tenant_id(tenant_claim, value).inspect_err(|e| {
            if let ServiceError::InvalidTenantClaim(_) = e {
                // Logged as sent (`%`, not `?`): the log writer escapes
                // control characters in every line (see `telemetry`).
                let sent = value
                    .as_str()
                    .map_or_else(|| value.to_string(), String::from);
                tracing::info!(claim = tenant_claim, value = %sent, "refused the tenant claim");
            }
        })?;
        let text = |k: &str| claims.claim(k).and_then(Value::as_str).map(String::from);
        Ok(Self {
            subject: subject.to_owned(),
            tenant: ExternalId(tenant),
            profile: Profile::read(text),
        })
    }
}

pub(crate) fn lookup<'a>(claims: &'a impl ClaimSource, path: &str) -> Option<&'a Value> {
    // An exact key wins, so a claim literally named `a.b` still works.
    if let Some(v) = claims.claim(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut cur = claims.claim(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn tenant_comes_from_the_configured_claim_only() {
        let c = claims(json!({"sub": "u1", "external_id": "acme", "tenant": "other"}));
        assert_eq!(
            VerifiedUser::from_claims(&c, "external_id")
                .unwrap()
                .tenant
                .as_str(),
            "acme"
        );
        let nested = claims(json!({"sub": "u1", "app": {"tenant": 42}}));
        assert_eq!(
            VerifiedUser::from_claims(&nested, "app.tenant")
                .unwrap()
                .tenant
                .as_str(),
            "42"
        );
        let err = VerifiedUser::from_claims(&c, "org").unwrap_err();
        assert_eq!(err.code(), "missing_tenant_claim");
        let empty = claims(json!({"sub": "u1", "external_id": ""}));
        let err = VerifiedUser::from_claims(&empty, "external_id").unwrap_err();
        assert_eq!(err.code(), "missing_tenant_claim");
        let blank = claims(json!({"sub": "u1", "external_id": " "}));
        let err = VerifiedUser::from_claims(&blank, "external_id").unwrap_err();
        assert_eq!(err.code(), "invalid_tenant_claim");
    }

    #[test]
    fn profile_claims_become_the_new_subaccount() {
        let c = claims(json!({"sub": "u", "external_id": "t", "email": "a@b.c",
            "given_name": "Ann", "family_name": "Lee", "locale": "nl-BE", "company_name": "ACME"}));
        let input = VerifiedUser::from_claims(&c, "external_id")
            .unwrap()
            .profile
            .subaccount_input(&ExternalId::from("t"));
        assert_eq!(input.language.as_deref(), Some("nl"));
        assert_eq!(input.first_name.as_deref(), Some("Ann"));
        assert_eq!(input.company_name.as_deref(), Some("ACME"));
    }
}
