//! Partner access tokens from OAuth client credentials: exchanged at the
//! dialect's `oauth_token` route, cached, renewed ahead of expiry, and
//! renewed at once when Peliqan rejects one.
//!
//! The exchange is `POST` with a form body `grant_type=client_credentials&
//! client_id=..&client_secret=..`; the answer is `{"access_token",
//! "token_type": "Bearer", "expires_in"}`. As Peliqan's own Python SDK does
//! (`peliqan/credentials.py`), a token is renewed `min(30 s, lifetime / 2)`
//! before it expires, and a 401 invalidates the token only when the rejected
//! one is still the cached one (a concurrent call may have replaced it).
//! Renewals are single-flight: callers that need a token while one is being
//! fetched wait for that one. Time is read from the client's clock
//! ([`crate::ClientBuilder::clock`]), so tests advance it instead of waiting.

use crate::client::PeliqanClient;
use crate::error::Error;
use crate::secret::Secret;
use peliqan_api::Operation;
use peliqan_api::clock::SharedClock;
use peliqan_api::dialect::Vars;
use serde::Deserialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The access-token cache of one set of client credentials.
pub(crate) struct AccessTokens {
    client_id: String,
    client_secret: Secret,
    cached: Mutex<Option<Cached>>,
    /// Held while an exchange is in flight.
    renewal: tokio::sync::Mutex<()>,
    clock: SharedClock,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    /// When to fetch the next one; `None` when the answer gave no lifetime
    /// (then only a 401 renews it).
    renew_at: Option<Instant>,
}

/// How long before its expiry a token of `lifetime` is renewed.
pub(crate) fn renewal_margin(lifetime: Duration) -> Duration {
    (lifetime / 2).min(Duration::from_secs(30))
}

impl AccessTokens {
    pub(crate) fn new(client_id: String, client_secret: Secret, clock: SharedClock) -> Self {
        Self {
            client_id,
            client_secret,
            cached: Mutex::new(None),
            renewal: tokio::sync::Mutex::new(()),
            clock,
        }
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The cached token while it is not due for renewal.
    fn fresh(&self) -> Option<Secret> {
        let cached = self.cached.lock().expect("token cache lock");
        cached
            .as_ref()
            .filter(|c| c.renew_at.is_none_or(|at| self.clock.instant() < at))
            .map(|c| c.token.clone())
    }

    /// A valid access token: the cached one, or a new one from the exchange.
    pub(crate) async fn get(&self, client: &PeliqanClient) -> Result<Secret, Error> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _in_flight = self.renewal.lock().await;
        // Whoever held the lock before us may have renewed it already.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        // Measured before sending, so network time only shortens the lifetime.
        let started = self.clock.instant();
        let (token, lifetime) =
            self.exchange(client)
                .await
                .map_err(|source| Error::ClientCredentials {
                    client_id: self.client_id.clone(),
                    source: Box::new(source),
                })?;
        let renew_at = lifetime.map(|l| started + (l - renewal_margin(l)));
        tracing::debug!(
            client_id = %self.client_id,
            lifetime_s = lifetime.map(|l| l.as_secs()),
            "fetched a partner access token"
        );
        *self.cached.lock().expect("token cache lock") = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        Ok(token)
    }

    /// Forgets `rejected` if it is still the cached token, so the next
    /// [`AccessTokens::get`] fetches a new one.
    pub(crate) fn invalidate(&self, rejected: &Secret) {
        let mut cached = self.cached.lock().expect("token cache lock");
        if cached
            .as_ref()
            .is_some_and(|c| c.token.expose() == rejected.expose())
        {
            *cached = None;
        }
    }

    /// One exchange (retried per the client's policy: a second token is
    /// harmless, so it counts as idempotent whatever its method).
    async fn exchange(&self, client: &PeliqanClient) -> Result<(Secret, Option<Duration>), Error> {
        let call = client
            .call(Operation::OauthToken, &Vars::default())?
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", self.client_secret.expose()),
            ])
            .repeatable();
        let body = client.send(&call, None).await?;
        let answer: AccessTokenAnswer = call.decode(&body)?;
        let invalid = |json_path: &str, message: &str| Error::Decode {
            method: call.method_str(),
            path: call.path.clone(),
            json_path: json_path.to_owned(),
            message: message.to_owned(),
        };
        if answer.access_token.trim().is_empty() {
            return Err(invalid("access_token", "the access token is empty"));
        }
        let lifetime = match answer.expires_in {
            None => None,
            Some(secs) => Some(
                Duration::try_from_secs_f64(secs)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| invalid("expires_in", "must be a positive number of seconds"))?,
            ),
        };
        Ok((Secret::new(answer.access_token), lifetime))
    }
}

/// The token endpoint's answer (RFC 6749 section 5.1), read tolerantly:
/// unknown keys are ignored, `expires_in` may be a number or a numeric string.
#[derive(Deserialize)]
struct AccessTokenAnswer {
    access_token: String,
    #[serde(default, deserialize_with = "seconds")]
    expires_in: Option<f64>,
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("not a number of seconds")),
        serde_json::Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| D::Error::custom("not a number of seconds")),
        _ => Err(D::Error::custom("not a number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_thirty_seconds_early_or_at_half_life() {
        assert_eq!(
            renewal_margin(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn the_answer_reads_with_extra_keys_and_string_lifetimes() {
        let a: AccessTokenAnswer = serde_json::from_str(
            r#"{"access_token": "t", "token_type": "Bearer", "expires_in": "3600", "scope": "x"}"#,
        )
        .unwrap();
        assert_eq!(a.expires_in, Some(3600.0));
        let a: AccessTokenAnswer = serde_json::from_str(r#"{"access_token": "t"}"#).unwrap();
        assert_eq!(a.expires_in, None);
    }

    #[test]
    fn only_the_cached_token_is_invalidated() {
        let clock = peliqan_api::clock::SystemClock::shared();
        let tokens = AccessTokens::new("app".into(), Secret::new("s"), clock);
        *tokens.cached.lock().unwrap() = Some(Cached {
            token: Secret::new("new"),
            renew_at: None,
        });
        tokens.invalidate(&Secret::new("old"));
        assert_eq!(
            tokens.fresh().map(|t| t.expose().to_owned()).as_deref(),
            Some("new")
        );
        tokens.invalidate(&Secret::new("new"));
        assert!(tokens.fresh().is_none());
    }

    #[test]
    fn a_token_is_due_when_the_clock_passes_its_renewal_point() {
        use peliqan_api::clock::Clock;
        let clock = peliqan_api::clock::ManualClock::new();
        let tokens = AccessTokens::new("app".into(), Secret::new("s"), clock.clone());
        *tokens.cached.lock().unwrap() = Some(Cached {
            token: Secret::new("t"),
            renew_at: Some(clock.instant() + Duration::from_secs(30)),
        });
        clock.advance(Duration::from_secs(29));
        assert!(tokens.fresh().is_some());
        clock.advance(Duration::from_secs(1));
        assert!(tokens.fresh().is_none(), "due at its renewal point");
    }
}
