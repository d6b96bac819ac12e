//! Keys from the partner IdP's JWKS URL: cached, refetched while in use, and
//! never trusted for longer than configured.
//!
//! A key set fetched at time F is *fresh* until F + `jwks_ttl`: it is used
//! as is, and a JWT it verified may be remembered ([`super::verified`]) until
//! then, no longer. The first request needing a key after that refetches
//! first (concurrent ones wait for the same fetch), so a key removed from
//! the JWKS stops verifying within `jwks_ttl`.
//!
//! When a refetch fails, the keys of the last *successful* fetch stay usable
//! until F + `jwks_max_stale`, and the fetch is retried, at most once per
//! [`retry interval`](JwksKeys::retry), by the next request that comes
//! along (the others do not wait for it). Past that, and while the very first
//! fetch is failing, requests get 503 `auth_unavailable` with a
//! `Retry-After`, not a 401: the user's JWT may well be fine.
//!
//! A JWT naming an unknown `kid` triggers a refetch (the IdP may have rotated
//! its keys), but at most once per `jwks_refresh_floor`: otherwise anyone could
//! make the service hammer the IdP by sending made-up `kid`s. Symmetric
//! (`oct`) keys in a JWKS are ignored (a public document cannot hold a
//! secret), and so are keys meant for something else than signatures (`use`
//! other than `sig`, or `key_ops` without `verify`).
//!
//! Every age and spacing here is read on the service's clock
//! ([`peliqan_api::clock`]); the HTTP timeouts of the fetch itself are real
//! time.

use crate::error::ServiceError;
use crate::settings::AuthSettings;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use parking_lot::RwLock;
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A key with the algorithm the JWKS (not the token) assigns it.
#[derive(Clone)]
pub struct FoundKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// A key to verify with, and how long a verification with it may be
/// remembered (until the key set is due for a refetch).
pub struct Lookup {
    pub found: FoundKey,
    pub trust_until: Instant,
}

pub struct JwksKeys {
    url: url::Url,
    http: reqwest::Client,
    floor: Duration,
    ttl: Duration,
    max_stale: Duration,
    /// Least time between two attempts while fetches fail: a second, or the
    /// refresh floor when shorter (tests use short floors).
    retry: Duration,
    state: RwLock<State>,
    /// Serialises fetches so concurrent requests cause one request.
    fetching: tokio::sync::Mutex<()>,
    clock: SharedClock,
}

#[derive(Default)]
struct State {
    /// The keys of the last successful fetch.
    keys: Arc<HashMap<String, FoundKey>>,
    /// When that fetch happened.
    fetched_at: Option<Instant>,
    /// The last attempt, successful or not.
    attempted_at: Option<Instant>,
    /// Whether the last attempt failed.
    failing: bool,
}

impl State {
    fn age(&self, now: Instant) -> Option<Duration> {
        self.fetched_at.map(|t| now.saturating_duration_since(t))
    }
}

impl JwksKeys {
    pub fn new(url: url::Url, settings: &AuthSettings, clock: SharedClock) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            url,
            http,
            floor: settings.jwks_refresh_floor,
            ttl: settings.jwks_ttl,
            max_stale: settings.jwks_max_stale,
            retry: settings.jwks_refresh_floor.min(Duration::from_secs(1)),
            state: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
            clock,
        })
    }

    /// The key for `kid` (or the only key, when the token names none).
    pub async fn key(&self, kid: Option<&str>) -> Result<Lookup, ServiceError> {
        let degraded = {
            let s = self.state.read();
            let now = self.clock.instant();
            let age = s.age(now);
            if let Some(found) = pick(&s.keys, kid)
                && age.is_some_and(|a| a < self.ttl)
            {
                return Ok(self.lookup(&s, found, now));
            }
            // Stale keys still usable while refetches fail: whoever retries
            // waits, the others go on with what there is.
            s.failing && age.is_some_and(|a| a < self.max_stale) && pick(&s.keys, kid).is_some()
        };
        let _guard = if degraded {
            match self.fetching.try_lock() {
                Ok(guard) => guard,
                Err(_) => return self.decide(kid),
            }
        } else {
            self.fetching.lock().await
        };
        // Another request may have fetched while this one waited.
        if self.due(kid, self.clock.instant()) {
            self.refetch().await;
        }
        self.decide(kid)
    }

    /// Whether a fetch should happen now for a request naming `kid`.
    fn due(&self, kid: Option<&str>, now: Instant) -> bool {
        let s = self.state.read();
        let Some(attempted) = s.attempted_at else {
            return true;
        };
        let since = now.saturating_duration_since(attempted);
        if s.failing && since < self.retry {
            return false;
        }
        let fresh = s.age(now).is_some_and(|a| a < self.ttl);
        if !fresh {
            return true;
        }
        pick(&s.keys, kid).is_none() && since >= self.floor
    }

    /// The answer from the current state, after any fetch.
    fn decide(&self, kid: Option<&str>) -> Result<Lookup, ServiceError> {
        let s = self.state.read();
        let now = self.clock.instant();
        let usable = s
            .age(now)
            .is_some_and(|a| a < self.ttl || a < self.max_stale);
        if !usable {
            return Err(self.unavailable(&s, now));
        }
        match pick(&s.keys, kid) {
            Some(found) => Ok(self.lookup(&s, found, now)),
            // The key set could not be refreshed: the kid may be a new key.
            None if s.failing => Err(self.unavailable(&s, now)),
            None => Err(ServiceError::InvalidToken(
                "the JWT's key id (kid) is not known".into(),
            )),
        }
    }

    fn lookup(&self, s: &State, found: FoundKey, now: Instant) -> Lookup {
        // Verifications with stale keys are not remembered at all.
        let trust_until = s
            .fetched_at
            .map(|t| t + self.ttl)
            .filter(|&t| t > now)
            .unwrap_or(now);
        Lookup { found, trust_until }
    }

    /// 503 `auth_unavailable`, retry once the next fetch attempt may happen.
    fn unavailable(&self, s: &State, now: Instant) -> ServiceError {
        let next = s
            .attempted_at
            .map(|t| (t + self.retry).saturating_duration_since(now))
            .unwrap_or_default();
        ServiceError::AuthUnavailable(Some(next))
    }

    async fn refetch(&self) {
        let result = self.fetch().await;
        let now = self.clock.instant();
        let mut s = self.state.write();
        s.attempted_at = Some(now);
        match result {
            Ok(keys) => {
                let changed = s.fetched_at.is_none()
                    || s.failing
                    || keys.len() != s.keys.len()
                    || keys.keys().any(|k| !s.keys.contains_key(k));
                if keys.is_empty() {
                    tracing::warn!(url = %self.url, "the JWKS has no usable signing key");
                } else if changed {
                    let kids: Vec<&String> = keys.keys().collect();
                    tracing::info!(?kids, url = %self.url, "fetched the JWKS");
                } else {
                    tracing::debug!(url = %self.url, "refetched the JWKS; same keys");
                }
                s.keys = Arc::new(keys);
                s.fetched_at = Some(now);
                s.failing = false;
            }
            Err(e) => {
                let usable_for = s
                    .fetched_at
                    .map(|t| (t + self.max_stale).saturating_duration_since(now));
                if s.failing {
                    tracing::debug!(error = %e, url = %self.url, "could not fetch the JWKS again");
                } else {
                    tracing::error!(
                        error = %e,
                        url = %self.url,
                        usable_for_secs = usable_for.map(|d| d.as_secs()),
                        "could not fetch the JWKS; the last keys are used until \
                         TOKEN_SERVICE_JWKS_MAX_STALE_SECS is over, then user requests get 503"
                    );
                }
                s.failing = true;
            }
        }
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, FoundKey>> {
        // Read key by key: one key of a shape this library does not know
        // (an encryption algorithm, a new curve) must not hide the others.
        #[derive(serde::Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = self
            .http
            .get(self.url.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, found(&jwk)?)))
            .collect())
    }
}

fn pick(keys: &HashMap<String, FoundKey>, kid: Option<&str>) -> Option<FoundKey> {
    match kid {
        Some(kid) => keys.get(kid).cloned(),
        None if keys.len() == 1 => keys.values().next().cloned(),
        None => None,
    }
}

fn found(jwk: &Jwk) -> Option<FoundKey> {
    if !for_signatures(jwk) {
        return None;
    }
    let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (_, AlgorithmParameters::OctetKey(_)) => return None,
        (Some(ka), _) => ka.to_string().parse().ok()?,
        (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (None, AlgorithmParameters::EllipticCurve(ec)) => match ec.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            _ => return None,
        },
        (None, AlgorithmParameters::OctetKeyPair(_)) => Algorithm::EdDSA,
    };
    if matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return None;
    }
    Some(FoundKey {
        algorithm,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

/// `use`, when present, must be `sig`; `key_ops`, when present, must allow
/// `verify` (RFC 7517 sections 4.2 and 4.3).
fn for_signatures(jwk: &Jwk) -> bool {
    let use_ok = jwk
        .common
        .public_key_use
        .as_ref()
        .is_none_or(|u| *u == PublicKeyUse::Signature);
    let ops_ok = jwk
        .common
        .key_operations
        .as_ref()
        .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    use_ok && ops_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwk(extra: serde_json::Value) -> Jwk {
        let mut v = json!({
            "kty": "EC", "crv": "P-256", "kid": "k",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_signature_keys_are_used() {
        assert!(found(&jwk(json!({}))).is_some());
        assert!(found(&jwk(json!({"use": "sig"}))).is_some());
        assert!(found(&jwk(json!({"use": "enc"}))).is_none());
        assert!(found(&jwk(json!({"use": "other"}))).is_none());
        assert!(found(&jwk(json!({"key_ops": ["verify"]}))).is_some());
        assert!(found(&jwk(json!({"key_ops": ["encrypt"]}))).is_none());
    }
}
