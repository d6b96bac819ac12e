//! Checking the end user's JWT, issued by the partner's own login system.
//!
//! Flow: `Authorization: Bearer <jwt>` -> the header's `alg` is compared with
//! the algorithm fixed by configuration (never chosen by the token, which is
//! how `alg: none` and HS256-signed-with-the-public-key attacks work) -> the
//! signature and `iss`/`aud` are checked by `jsonwebtoken`, `exp`/`nbf` here
//! against the service's clock ([`check_times`]: `jsonwebtoken`'s own check
//! would read the system clock) -> the tenant is read from the verified
//! claims only ([`claims`]), exactly as written or not at all ([`tenant`]).
//! Each part of the JWT is read once ([`decode`], with `jsonwebtoken`'s
//! checks). A JWT that passed a public-key check (PEM or JWKS) is
//! remembered by its exact text for a short while ([`verified`]); an HS256
//! check is cheaper than the memo's bookkeeping, so it is simply run again. JWKS keys are refetched while
//! in use and never used past their configured staleness ([`jwks`]).

pub mod claims;
mod decode;
mod jwks;
pub mod tenant;
mod verified;

use crate::error::ServiceError;
use crate::settings::{AuthSettings, JwtKey};
use claims::ClaimSource;
pub use claims::{Profile, VerifiedUser};
use decode::{Check, Claims, Failure, Headers, Hs256, Parts, Wanted, hs256_key, raw_header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwks::JwksKeys;
use peliqan_api::clock::SharedClock;
use std::sync::Arc;
use verified::VerifiedJwts;

/// Verifies user JWTs. Built once at startup; cheap to share.
pub struct UserVerifier {
    keys: Keys,
    settings: AuthSettings,
    verified: VerifiedJwts,
    /// Whether [`Self::verified`] is consulted (see [`UserVerifier::new`]).
    memo: bool,
    /// Header segments already read (a handful: see [`decode`]).
    headers: Headers,
    /// The claims read from a verified JWT.
    wanted: Wanted,
    clock: SharedClock,
}

enum Keys {
    /// One configured key: HS256 secret or PEM public key.
    Static {
        algorithm: Algorithm,
        key: DecodingKey,
        validation: Validation,
        /// The HMAC keyed once, for an HS256 secret.
        hs256: Option<Box<Hs256>>,
    },
    /// Keys from the partner's IdP, each with the algorithm the JWKS gives it.
    Jwks(JwksKeys),
}

impl UserVerifier {
    /// Builds the verifier, on `clock`'s time; a JWKS is fetched lazily on
    /// first use.
    pub fn new(settings: &AuthSettings, clock: SharedClock) -> anyhow::Result<Self> {
        let Some(key) = &settings.key else {
            anyhow::bail!("no user-JWT key is configured");
        };
        let keys = match key {
            JwtKey::Hs256(secret) => Keys::Static {
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.expose().as_bytes()),
                validation: validation(settings, Algorithm::HS256),
                hs256: Some(Box::new(hs256_key(secret.expose().as_bytes()))),
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
                    hs256: None,
                }
            }
            JwtKey::Jwks(url) => Keys::Jwks(JwksKeys::new(url.clone(), settings, clock.clone())?),
        };
        Ok(Self {
            keys,
            settings: settings.clone(),
            verified: VerifiedJwts::new(clock.clone()),
            // An HS256 check (one HMAC over a few hundred bytes, with the
            // key prepared once) costs about what a lookup that misses and
            // an insert that evicts cost the memo; with distinct users (one
            // request per user per page load) it mostly misses. Public-key
            // checks cost tens of microseconds: there it pays.
            memo: !matches!(key, JwtKey::Hs256(_)),
            headers: Headers::default(),
            wanted: Wanted::new(&settings.tenant_claim),
            clock,
        })
    }

    /// Checks the `Authorization` header and returns who the user is.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
    ) -> Result<Arc<VerifiedUser>, ServiceError> {
        let jwt = bearer(authorization)?;
        // One reading of the clock for the memo and the time checks.
        let now = self.clock.unix_secs();
        if self.memo
            && let Some(user) = self.verified.get_at(jwt, now)
        {
            return Ok(user);
        }
        let parts = Parts::split(jwt)?;
        let known = self.headers.get(parts.header);
        let header = match &known {
            Some(header) => header.clone(),
            None => Arc::new(raw_header(&parts)?),
        };
        let remember = known.is_none().then(|| (&self.headers, header.clone()));
        let times = (now, self.settings.leeway_secs);
        let ((claims, exp), trust_until) = match &self.keys {
            Keys::Static {
                algorithm,
                key,
                validation,
                hs256,
            } => {
                require_alg(&header.alg, *algorithm)?;
                let check = Check {
                    key,
                    algorithm: *algorithm,
                    validation,
                    wanted: &self.wanted,
                    headers: remember,
                    hs256: hs256.as_deref(),
                };
                (checked(jwt, &parts, check, times)?, None)
            }
            Keys::Jwks(jwks) => {
                let lookup = jwks.key(header.kid.as_deref()).await?;
                let found = lookup.found;
                require_alg(&header.alg, found.algorithm)?;
                let validation = validation(&self.settings, found.algorithm);
                let check = Check {
                    key: &found.key,
                    algorithm: found.algorithm,
                    validation: &validation,
                    wanted: &self.wanted,
                    headers: remember,
                    hs256: None,
                };
                (
                    checked(jwt, &parts, check, times)?,
                    Some(lookup.trust_until),
                )
            }
        };
        let user = Arc::new(VerifiedUser::from_claims(
            &claims,
            &self.settings.tenant_claim,
        )?);
        if self.memo {
            let until = exp.saturating_add(self.settings.leeway_secs);
            self.verified
                .insert_checked(jwt, user.clone(), until, trust_until, now);
        }
        Ok(user)
    }
}

fn validation(settings: &AuthSettings, algorithm: Algorithm) -> Validation {
    let mut v = Validation::new(algorithm);
    // `exp` and `nbf` are checked by `check_times`, on the service's clock;
    // `exp` stays required here, so a JWT without one is refused as before.
    v.validate_exp = false;
    v.validate_nbf = false;
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

/// Checks the verified claims' `exp` and `nbf` (if any) at unix second
/// `now`, with `leeway` seconds either way, exactly as `jsonwebtoken` would
/// on the system clock: expired when `exp < now - leeway`, not yet valid
/// when `nbf > now + leeway`. Answers `exp`. A present but non-numeric
/// claim is malformed; `decode` has already refused a JWT without `exp`.
fn check_times(claims: &impl ClaimSource, now: u64, leeway: u64) -> Result<u64, ServiceError> {
    let malformed = || ServiceError::InvalidToken("the JWT is malformed".into());
    let exp = match claims.claim("exp") {
        None | Some(serde_json::Value::Null) => {
            return Err(ServiceError::InvalidToken(
                "the JWT has no `exp` claim".into(),
            ));
        }
        Some(v) => numeric_date(v).ok_or_else(malformed)?,
    };
    if exp < now.saturating_sub(leeway) {
        return Err(ServiceError::TokenExpired);
    }
    match claims.claim("nbf") {
        None | Some(serde_json::Value::Null) => {}
        Some(v) => {
            if numeric_date(v).ok_or_else(malformed)? > now.saturating_add(leeway) {
                return Err(ServiceError::InvalidToken(
                    "the JWT is not valid yet (nbf)".into(),
                ));
            }
        }
    }
    Ok(exp)
}

/// A JWT NumericDate as `jsonwebtoken` reads it: a whole number of seconds,
/// or a non-negative finite one rounded.
fn numeric_date(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

pub(crate) fn bearer(authorization: Option<&str>) -> Result<&str, ServiceError> {
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

fn require_alg(header_alg: &str, expected: Algorithm) -> Result<(), ServiceError> {
    if header_alg.parse::<Algorithm>().is_ok_and(|a| a == expected) {
        Ok(())
    } else {
        Err(ServiceError::UnsupportedAlgorithm(
            header_alg.chars().take(16).collect(),
        ))
    }
}

/// The verified claims and `exp` of `jwt`, its times checked by
/// [`check_times`] at `(now, leeway)`.
fn checked<'w>(
    jwt: &str,
    parts: &Parts<'_>,
    check: Check<'_, 'w>,
    (now, leeway): (u64, u64),
) -> Result<(Claims<'w>, u64), ServiceError> {
    match decode::decode(jwt, parts, check) {
        Ok(claims) => {
            let exp = check_times(&claims, now, leeway)?;
            Ok((claims, exp))
        }
        Err(Failure::IssuerOrAudience(e, claims)) => {
            // The signature and the required claims passed. `jsonwebtoken`
            // checks times before `iss`/`aud`: an expired JWT for another
            // audience still answers `token_expired`, as it always did.
            check_times(&claims, now, leeway)?;
            Err(e)
        }
        Err(Failure::Other(e)) => Err(e),
    }
}

fn decode_error(e: &jsonwebtoken::errors::Error) -> ServiceError {
    match e.kind() {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn exp_and_nbf_are_checked_at_the_given_time_with_the_leeway() {
        let c = |v| claims(v);
        let t = |c: &serde_json::Map<_, _>, now| check_times(c, now, 30).map_err(|e| e.code());
        let exp = c(serde_json::json!({"exp": 1000}));
        assert_eq!(t(&exp, 500), Ok(1000));
        // Expired once `exp` is more than the leeway ago.
        assert_eq!(t(&exp, 1030), Ok(1000), "leeway edge");
        assert_eq!(t(&exp, 1031), Err("token_expired"));
        assert_eq!(check_times(&exp, 1001, 0), Err(ServiceError::TokenExpired));
        assert_eq!(check_times(&exp, 1000, 0), Ok(1000));
        // Not valid before `nbf`, less the leeway.
        let nbf = c(serde_json::json!({"exp": 2000, "nbf": 1000}));
        assert_eq!(t(&nbf, 970), Ok(2000), "leeway edge");
        let early = check_times(&nbf, 969, 30).unwrap_err();
        assert!(format!("{early:?}").contains("nbf"), "{early:?}");
        assert_eq!(early.code(), "invalid_token");
        assert_eq!(check_times(&nbf, 1000, 0), Ok(2000));
        assert!(check_times(&nbf, 999, 0).is_err());
        // A fractional date is rounded; nonsense is malformed.
        assert_eq!(t(&c(serde_json::json!({"exp": 1000.6})), 1031), Ok(1001));
        for bad in [
            serde_json::json!({"exp": "soon"}),
            serde_json::json!({"exp": -5}),
            serde_json::json!({"exp": 2000, "nbf": "later"}),
        ] {
            assert_eq!(t(&c(bad.clone()), 500), Err("invalid_token"), "{bad}");
        }
        // Still refused without `exp`, as `decode` already does.
        for none in [serde_json::json!({}), serde_json::json!({"exp": null})] {
            assert_eq!(t(&c(none), 500), Err("invalid_token"));
        }
    }

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
        use base64::Engine;
        let head = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"none","typ":"JWT"}"#);
        let jwt = format!("{head}.e30.");
        let parts = Parts::split(&jwt).unwrap();
        assert_eq!(raw_header(&parts).unwrap().alg, "none");
        let err = require_alg("none", Algorithm::HS256).unwrap_err();
        assert_eq!(err.code(), "unsupported_algorithm");
        assert!(require_alg("HS256", Algorithm::RS256).is_err());
    }
}
