//! Whether user JWTs have their issuer and audience checked, and what the
//! service does about it at startup; `doctor`'s `user_jwt` line reads the
//! same verdict, so the two never disagree.
//!
//! With a PEM key or a JWKS, the keys are the identity provider's, and it
//! signs the tokens of *all* its applications (and, for a multi-tenant IdP,
//! of all its customers) with them: without an audience and issuer check, a
//! token minted for any other app that carries the tenant claim would buy a
//! Peliqan token here. So those modes refuse to start without both, unless
//! `TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE` says otherwise (then a
//! warning at every start). An HS256 secret is shared with the partner's own
//! login system only; there the checks are advice, warned about at start.

use super::{AuthSettings, ConfigError, JwtKey};

const ISSUER: &str = "TOKEN_SERVICE_JWT_ISSUER";
const AUDIENCE: &str = "TOKEN_SERVICE_JWT_AUDIENCE";
const ALLOW: &str = "TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE";

/// How the issuer and audience checks stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerAudience {
    /// Both are configured and checked.
    Checked,
    /// Some are missing with an HS256 secret: allowed, warned about at start.
    MissingWithSharedSecret(Vec<&'static str>),
    /// Some are missing with a PEM key or JWKS and the opt-out is set: the
    /// service runs, warned about at every start.
    MissingAllowed(Vec<&'static str>),
    /// Some are missing with a PEM key or JWKS: the service does not start.
    MissingRefused(Vec<&'static str>),
}

impl AuthSettings {
    /// The verdict on these settings' issuer and audience checks.
    pub fn issuer_audience(&self) -> IssuerAudience {
        // Without a JWT key, users are identified another way: no JWT to check.
        let Some(key) = &self.key else {
            return IssuerAudience::Checked;
        };
        let mut missing = Vec::new();
        if self.issuer.is_none() {
            missing.push(ISSUER);
        }
        if self.audience.is_empty() {
            missing.push(AUDIENCE);
        }
        if missing.is_empty() {
            IssuerAudience::Checked
        } else if matches!(key, JwtKey::Hs256(_)) {
            IssuerAudience::MissingWithSharedSecret(missing)
        } else if self.allow_any_issuer_audience {
            IssuerAudience::MissingAllowed(missing)
        } else {
            IssuerAudience::MissingRefused(missing)
        }
    }

    /// The key whose setting the JWT key comes from.
    fn key_name(&self) -> &'static str {
        self.key.as_ref().map_or("", JwtKey::setting)
    }

    /// Why startup must stop, naming the first missing key; `None` when the
    /// service may start.
    pub fn issuer_audience_refusal(&self) -> Option<ConfigError> {
        let IssuerAudience::MissingRefused(missing) = self.issuer_audience() else {
            return None;
        };
        Some(ConfigError::new(
            missing[0],
            format!(
                "is required with {}: {}; set {ISSUER} and {AUDIENCE} to what your IdP puts in \
                 this app's tokens, or {ALLOW}=true to run without these checks",
                self.key_name(),
                RISK
            ),
        ))
    }

    /// The warning to log at every start, if any.
    pub fn issuer_audience_warning(&self) -> Option<String> {
        match self.issuer_audience() {
            IssuerAudience::Checked | IssuerAudience::MissingRefused(_) => None,
            IssuerAudience::MissingAllowed(missing) => Some(format!(
                "{} not set and {ALLOW}=true: user JWTs signed with the keys of {} are accepted \
                 without that check, so {RISK}",
                missing.join(" and "),
                self.key_name()
            )),
            IssuerAudience::MissingWithSharedSecret(missing) => Some(format!(
                "{} not set: user JWTs signed with the HS256 secret are accepted without that \
                 check; set it if your login system signs tokens for more than this service",
                missing.join(" and ")
            )),
        }
    }
}

/// What an unchecked issuer and audience let through.
const RISK: &str = "a token your IdP signed for any other application (or for another \
                    customer of the same IdP) that carries the tenant claim would buy Peliqan \
                    tokens here";

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_client::Secret;
    use std::time::Duration;

    fn auth(key: JwtKey, issuer: bool, audience: bool, allow: bool) -> AuthSettings {
        AuthSettings {
            key: Some(key),
            issuer: issuer.then(|| "https://login.example.com".to_owned()),
            audience: if audience { vec!["app".into()] } else { vec![] },
            leeway_secs: 30,
            tenant_claim: "external_id".into(),
            jwks_refresh_floor: Duration::from_secs(30),
            jwks_ttl: Duration::from_secs(60),
            jwks_max_stale: Duration::from_secs(3600),
            allow_any_issuer_audience: allow,
        }
    }

    fn jwks() -> JwtKey {
        JwtKey::Jwks("https://login.example.com/jwks".parse().unwrap())
    }

    #[test]
    fn jwks_and_pem_need_both_checks_or_the_explicit_opt_out() {
        let pem = JwtKey::PublicKey {
            algorithm: jsonwebtoken::Algorithm::ES256,
            pem: vec![],
        };
        for key in [jwks(), pem] {
            assert_eq!(
                auth(key.clone(), true, true, false).issuer_audience_refusal(),
                None
            );
            let e = auth(key.clone(), false, true, false)
                .issuer_audience_refusal()
                .unwrap();
            assert_eq!(e.key, ISSUER);
            assert!(e.message.contains(ALLOW) && e.message.contains("any other application"));
            let e = auth(key.clone(), true, false, false)
                .issuer_audience_refusal()
                .unwrap();
            assert_eq!(e.key, AUDIENCE);
            let allowed = auth(key.clone(), false, false, true);
            assert_eq!(allowed.issuer_audience_refusal(), None);
            let warning = allowed.issuer_audience_warning().unwrap();
            assert!(
                warning.contains(&format!("{ISSUER} and {AUDIENCE} not set")),
                "{warning}"
            );
            assert_eq!(auth(key, true, true, false).issuer_audience_warning(), None);
        }
    }

    #[test]
    fn an_hs256_secret_runs_without_them_with_a_warning() {
        let hs = || JwtKey::Hs256(Secret::new("0123456789abcdef0123456789abcdef"));
        let a = auth(hs(), false, true, false);
        assert_eq!(
            a.issuer_audience(),
            IssuerAudience::MissingWithSharedSecret(vec![ISSUER])
        );
        assert_eq!(a.issuer_audience_refusal(), None);
        assert!(a.issuer_audience_warning().unwrap().starts_with(ISSUER));
        assert_eq!(
            auth(hs(), true, true, false).issuer_audience_warning(),
            None
        );
    }
}
