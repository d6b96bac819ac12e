//! Keys from the partner IdP's JWKS URL, cached, with rotation.
//!
//! A JWT naming an unknown `kid` triggers a refetch (the IdP may have rotated
//! its keys), but at most once per `jwks_refresh_floor`: otherwise anyone could
//! make the service hammer the IdP by sending made-up `kid`s. Symmetric
//! (`oct`) keys in a JWKS are ignored: a public document cannot hold a secret.

use crate::error::ServiceError;
use crate::settings::AuthSettings;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A key with the algorithm the JWKS (not the token) assigns it.
#[derive(Clone)]
pub struct FoundKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

pub struct JwksKeys {
    url: url::Url,
    http: reqwest::Client,
    floor: Duration,
    ttl: Duration,
    state: RwLock<State>,
    /// Serialises fetches so concurrent unknown `kid`s cause one request.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    keys: Arc<HashMap<String, FoundKey>>,
    fetched_at: Option<Instant>,
}

impl JwksKeys {
    pub fn new(url: url::Url, settings: &AuthSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            url,
            http,
            floor: settings.jwks_refresh_floor,
            ttl: settings.jwks_ttl,
            state: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// The key for `kid` (or the only key, when the token names none).
    pub async fn key(&self, kid: Option<&str>) -> Result<FoundKey, ServiceError> {
        let stale = {
            let s = self.state.read();
            if let Some(k) = pick(&s.keys, kid)
                && s.fetched_at.is_some_and(|t| t.elapsed() < self.ttl)
            {
                return Ok(k);
            }
            s.fetched_at.is_none_or(|t| t.elapsed() >= self.floor)
        };
        if stale {
            let _guard = self.fetching.lock().await;
            // Another request may have fetched while this one waited.
            let again = self
                .state
                .read()
                .fetched_at
                .is_none_or(|t| t.elapsed() >= self.floor);
            if again {
                self.refetch().await;
            }
        }
        pick(&self.state.read().keys, kid)
            .ok_or_else(|| ServiceError::InvalidToken("the JWT's key id (kid) is not known".into()))
    }

    async fn refetch(&self) {
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), url = %self.url, "fetched the JWKS");
                *self.state.write() = State {
                    keys: Arc::new(keys),
                    fetched_at: Some(Instant::now()),
                };
            }
            Err(e) => {
                // Keep the old keys; count the attempt so the floor still holds.
                tracing::error!(error = %e, url = %self.url, "could not fetch the JWKS");
                self.state.write().fetched_at = Some(Instant::now());
            }
        }
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, FoundKey>> {
        let set: JwkSet = self
            .http
            .get(self.url.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, found(jwk)?)))
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
