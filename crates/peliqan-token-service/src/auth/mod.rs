//! Checking the end user's JWT, issued by the partner's own login system.
//!
//! Flow: `Authorization: Bearer <jwt>` -> the header's `alg` is compared with
//! the algorithm fixed by configuration (never chosen by the token, which is
//! how `alg: none` and HS256-signed-with-the-public-key attacks work) -> the
//! signature and `exp`/`nbf`/`iss`/`aud` are checked by `jsonwebtoken` -> the
//! tenant is read from the verified claims only ([`claims`]), exactly as
//! written or not at all ([`tenant`]). A JWT that passed is remembered by its
//! exact text for a short while ([`verified`]). JWKS keys are refetched while
//! in use and never used past their configured staleness ([`jwks`]).

pub mod claims;
mod jwks;
pub mod tenant;
mod verified;

use crate::error::ServiceError;
use crate::settings::{AuthSettings, JwtKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use claims::{Profile, VerifiedUser};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwks::JwksKeys;
use std::sync::Arc;
use verified::VerifiedJwts;

/// Verifies user JWTs. Built once at startup; cheap to share.
pub struct UserVerifier {
    keys: Keys,
    settings: AuthSettings,
    verified: VerifiedJwts,
}

enum Keys {
    /// One configured key: HS256 secret or PEM public key.
    Static {
        algorithm: Algorithm,
        key: DecodingKey,
        validation: Validation,
    },
    /// Keys from the partner's IdP, each with the algorithm the JWKS gives it.
    Jwks(JwksKeys),
}

/// The parts of a JWT header that matter before verification.
#[derive(serde::Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl UserVerifier {
    /// Builds the verifier; a JWKS is fetched lazily on first use.
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let keys = match &settings.key {
            JwtKey::Hs256(secret) => Keys::Static {
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.expose().as_bytes()),
                validation: validation(settings, Algorithm::HS256),
            },
            JwtKey::PublicKey { algorithm, pem } => {
                let key = match algorithm {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(pem)?,
                    _ => DecodingKey::from_ec_pem(pem)?,
                };
                Keys::Static {
                    algorithm: *algorithm,
                    key,
                    validation: validation(settings, *algorithm),
                }
            }
            JwtKey::Jwks(url) => Keys::Jwks(JwksKeys::new(url.clone(), settings)?),
        };
        Ok(Self {
            keys,
            settings: settings.clone(),
            verified: VerifiedJwts::default(),
        })
    }

    /// Checks the `Authorization` header and returns who the user is.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
    ) -> Result<Arc<VerifiedUser>, ServiceError> {
        let jwt = bearer(authorization)?;
        if let Some(user) = self.verified.get(jwt) {
            return Ok(user);
        }
        let header = raw_header(jwt)?;
        let (claims, trust_until): (serde_json::Map<String, serde_json::Value>, _) =
            match &self.keys {
                Keys::Static {
                    algorithm,
                    key,
                    validation,
                } => {
                    require_alg(&header.alg, *algorithm)?;
                    (decode(jwt, key, validation)?, None)
                }
                Keys::Jwks(jwks) => {
                    let lookup = jwks.key(header.kid.as_deref()).await?;
                    let found = lookup.found;
                    require_alg(&header.alg, found.algorithm)?;
                    let validation = validation(&self.settings, found.algorithm);
                    let claims = decode(jwt, &found.key, &validation)?;
                    (claims, Some(lookup.trust_until))
                }
            };
        let user = Arc::new(VerifiedUser::from_claims(
            &claims,
            &self.settings.tenant_claim,
        )?);
        // `exp` is a required claim, so `decode` has checked it is there.
        if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_u64) {
            let until = exp.saturating_add(self.settings.leeway_secs);
            self.verified.insert(jwt, user.clone(), until, trust_until);
        }
        Ok(user)
    }
}

fn validation(settings: &AuthSettings, algorithm: Algorithm) -> Validation {
    let mut v = Validation::new(algorithm);
    v.leeway = settings.leeway_secs;
    v.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(iss) = &settings.issuer {
        v.set_issuer(&[iss]);
        required.push("iss");
    }
    if settings.audience.is_empty() {
        // Without a configured audience there is nothing to compare `aud` to.
        v.validate_aud = false;
    } else {
        v.set_audience(&settings.audience);
        required.push("aud");
    }
    v.set_required_spec_claims(&required);
    v
}

fn bearer(authorization: Option<&str>) -> Result<&str, ServiceError> {
    let value = authorization.ok_or(ServiceError::MissingCredentials)?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ServiceError::MissingCredentials)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ServiceError::MissingCredentials);
    }
    Ok(token)
}

/// Reads the header ourselves: `jsonwebtoken` cannot even parse `alg: none`,
/// and that case deserves its own code rather than "malformed".
fn raw_header(jwt: &str) -> Result<RawHeader, ServiceError> {
    let malformed = || ServiceError::InvalidToken("the JWT is malformed".into());
    let (head, rest) = jwt.split_once('.').ok_or_else(malformed)?;
    if rest.split('.').count() != 2 {
        return Err(malformed());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

fn require_alg(header_alg: &str, expected: Algorithm) -> Result<(), ServiceError> {
    if header_alg.parse::<Algorithm>().is_ok_and(|a| a == expected) {
        Ok(())
    } else {
        Err(ServiceError::UnsupportedAlgorithm(
            header_alg.chars().take(16).collect(),
        ))
    }
}

fn decode(
    jwt: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<serde_json::Map<String, serde_json::Value>, ServiceError> {
    jsonwebtoken::decode(jwt, key, validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => ServiceError::TokenExpired,
            ErrorKind::InvalidAudience => ServiceError::InvalidAudience,
            ErrorKind::InvalidIssuer => ServiceError::InvalidIssuer,
            ErrorKind::InvalidAlgorithm => ServiceError::UnsupportedAlgorithm("mismatch".into()),
            ErrorKind::ImmatureSignature => {
                ServiceError::InvalidToken("the JWT is not valid yet (nbf)".into())
            }
            ErrorKind::InvalidSignature => {
                ServiceError::InvalidToken("the JWT signature is invalid".into())
            }
            ErrorKind::MissingRequiredClaim(c) => {
                ServiceError::InvalidToken(format!("the JWT has no `{c}` claim"))
            }
            _ => ServiceError::InvalidToken("the JWT is malformed".into()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_required_and_case_insensitive() {
        assert_eq!(bearer(Some("bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("Bearer  abc ")), Ok("abc"));
        assert_eq!(
            bearer(Some("JWT abc")),
            Err(ServiceError::MissingCredentials)
        );
        assert_eq!(
            bearer(Some("Bearer ")),
            Err(ServiceError::MissingCredentials)
        );
        assert_eq!(bearer(None), Err(ServiceError::MissingCredentials));
    }

    #[test]
    fn alg_none_is_refused_before_any_decoding() {
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let jwt = format!("{head}.e30.");
        assert_eq!(raw_header(&jwt).unwrap().alg, "none");
        let err = require_alg("none", Algorithm::HS256).unwrap_err();
        assert_eq!(err.code(), "unsupported_algorithm");
        assert!(require_alg("HS256", Algorithm::RS256).is_err());
    }
}
