//! Issuing and checking the emulator's JWTs.
//!
//! Tokens are real HS256 JWTs signed with a key drawn at random when the
//! emulator starts, so a token from one emulator process never works on
//! another, and clients exercise the same decode/expiry paths they would
//! against Peliqan. The claims say who the token is for (`scope`) and, for
//! sub-account tokens, which account; `exp` is checked with zero leeway so
//! a 1-second TTL is enough to test expiry. `iat`, `exp` and the expiry
//! check read the emulator's clock ([`peliqan_api::clock`]), not
//! jsonwebtoken's system time, so a test can advance it instead of waiting.

use crate::error::ApiError;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use peliqan_api::clock::SharedClock;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    /// The partner (SaaS company): manages sub-accounts.
    Partner,
    /// One end-customer account: manages its own connections.
    Subaccount,
}

/// The claims of every token the emulator signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub scope: Scope,
    pub partner_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subaccount_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub iat: u64,
    /// Random per issuance, so two tokens for one account never compare equal
    /// (callers that cache tokens can tell a refresh happened).
    pub jti: String,
    /// Absent on the partner token and on `expire=false` tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
}

/// The per-process signing key.
pub(crate) struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    clock: SharedClock,
}

impl Keys {
    /// A fresh random key; token times come from `clock`.
    pub(crate) fn random(clock: SharedClock) -> Self {
        let secret: [u8; 32] = rand::random();
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` is optional (non-expiring tokens exist) and checked in
        // `verify` against our clock: jsonwebtoken would read system time.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            clock,
        }
    }

    /// Signs a token for `scope`; `ttl: None` makes it non-expiring.
    pub(crate) fn issue(
        &self,
        scope: Scope,
        partner_id: u64,
        subaccount: Option<(u64, &str)>,
        ttl: Option<Duration>,
    ) -> String {
        let iat = self.clock.unix_secs();
        let claims = Claims {
            scope,
            partner_id,
            subaccount_id: subaccount.map(|(id, _)| id),
            external_id: subaccount.map(|(_, ext)| ext.to_owned()),
            iat,
            jti: random_hex(),
            exp: ttl.map(|t| iat.saturating_add(t.as_secs().max(1))),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            // Encoding a plain struct with an HMAC key cannot fail.
            .expect("HS256 signing of plain claims")
    }

    /// Checks signature and expiry; the messages are those of
    /// djangorestframework-jwt, which Peliqan's API answers with.
    pub(crate) fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let expired = || ApiError::Unauthenticated("Signature has expired.".to_owned());
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            // Expired once `exp` is in the past, as jsonwebtoken with zero leeway.
            Ok(data)
                if data
                    .claims
                    .exp
                    .is_some_and(|exp| exp < self.clock.unix_secs()) =>
            {
                Err(expired())
            }
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(expired()),
            Err(_) => Err(ApiError::Unauthenticated(
                "Error decoding signature.".to_owned(),
            )),
        }
    }
}

/// 128 random bits as hex: token ids and OAuth `state` values.
pub(crate) fn random_hex() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::clock::SystemClock;

    #[test]
    fn a_token_round_trips_and_another_key_rejects_it() {
        let keys = Keys::random(SystemClock::shared());
        let t = keys.issue(
            Scope::Subaccount,
            1,
            Some((7, "acme")),
            Some(Duration::from_secs(60)),
        );
        let c = keys.verify(&t).unwrap();
        assert_eq!(
            (c.scope, c.subaccount_id, c.external_id.as_deref()),
            (Scope::Subaccount, Some(7), Some("acme"))
        );
        assert!(c.exp.is_some());
        assert!(Keys::random(SystemClock::shared()).verify(&t).is_err());
        assert!(keys.verify("not.a.jwt").is_err());
    }

    #[test]
    fn non_expiring_tokens_carry_no_exp_and_each_issuance_differs() {
        let keys = Keys::random(SystemClock::shared());
        let a = keys.issue(Scope::Partner, 1, None, None);
        let b = keys.issue(Scope::Partner, 1, None, None);
        assert_ne!(a, b);
        assert_eq!(keys.verify(&a).unwrap().exp, None);
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;
    use peliqan_api::clock::ManualClock;

    #[test]
    fn a_token_expires_when_the_clock_passes_its_exp() {
        let clock = ManualClock::new();
        let keys = Keys::random(clock.clone());
        let t = keys.issue(Scope::Partner, 1, None, Some(Duration::from_secs(60)));
        let c = keys.verify(&t).unwrap();
        assert_eq!(c.exp, Some(c.iat + 60));
        clock.advance(Duration::from_secs(60));
        assert!(keys.verify(&t).is_ok(), "valid through its exp second");
        clock.advance(Duration::from_secs(1));
        let err = keys.verify(&t).unwrap_err().to_string();
        assert!(err.contains("expired"), "{err}");
    }
}
