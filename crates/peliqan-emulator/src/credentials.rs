//! OAuth client credentials for the partner (`partner` dialect):
//! `POST /api/oauth2/token/` trades the emulator's client id and secret for
//! a Bearer access token, accepted on partner routes like the partner JWT.
//!
//! Access tokens are opaque random strings, as django-oauth-toolkit issues
//! them, remembered with their expiry in a map of their own (not in
//! [`crate::state::State`]: a reset keeps credentials valid, as it keeps the
//! partner token). `POST /__emulator/access-tokens/revoke` empties the map
//! ([`crate::control`]),
//! so a client's next call gets a 401 and must renew.

use crate::error::ApiError;
use crate::state::EmulatorState;
use crate::tokens::random_hex;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use parking_lot::Mutex;
use peliqan_api::clock::SharedClock;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Beyond this many live tokens the oldest are dropped, so a client that
/// never reuses its token cannot grow the map without bound.
const MAX_TOKENS: usize = 10_000;

/// The emulator's one OAuth application and the tokens issued to it.
pub(crate) struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
    ttl: Duration,
    issued: Mutex<HashMap<String, Instant>>,
    /// Expiry is measured on the emulator's clock.
    clock: SharedClock,
}

impl ClientCredentials {
    /// A fresh random client id and secret; tokens expire on `clock`.
    pub(crate) fn random(ttl: Duration, clock: SharedClock) -> Self {
        Self {
            client_id: format!("emulator-{}", &random_hex()[..16]),
            client_secret: random_hex(),
            ttl,
            issued: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// Issues an access token; returns it and its lifetime.
    fn issue(&self) -> (String, Duration) {
        let token = random_hex();
        let now = self.clock.instant();
        let mut issued = self.issued.lock();
        issued.retain(|_, expires| *expires > now);
        if issued.len() >= MAX_TOKENS
            && let Some(oldest) = issued
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(t, _)| t.clone())
        {
            issued.remove(&oldest);
        }
        issued.insert(token.clone(), now + self.ttl);
        (token, self.ttl)
    }

    /// Whether `token` was issued, is not revoked and has not expired.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        self.issued
            .lock()
            .get(token)
            .is_some_and(|expires| self.clock.instant() < *expires)
    }

    /// Forgets every issued token; returns how many were live.
    pub(crate) fn revoke_all(&self) -> usize {
        let mut issued = self.issued.lock();
        let now = self.clock.instant();
        let live = issued.values().filter(|e| **e > now).count();
        issued.clear();
        live
    }

    /// Constant-time comparison of the secret, out of habit: it is one.
    fn secret_matches(&self, given: &str) -> bool {
        let (a, b) = (self.client_secret.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

fn oauth_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        status,
        code,
        message: message.into(),
    }
}

/// `POST /api/oauth2/token/` with a form body `grant_type=client_credentials
/// &client_id=..&client_secret=..` (RFC 6749 section 4.4).
pub(crate) async fn token(
    emu: web::Data<EmulatorState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the token request as a form: \
             `Content-Type: application/x-www-form-urlencoded`.",
        ));
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type \"{other}\" is not supported: use client_credentials."),
            ));
        }
        None => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required: use client_credentials.",
            ));
        }
    }
    let (Some(id), Some(secret)) = (field("client_id"), field("client_secret")) else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required in the form body.",
        ));
    };
    let creds = &emu.credentials;
    if id != creds.client_id || !creds.secret_matches(secret) {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed: unknown client_id or wrong client_secret.",
        ));
    }
    let (access_token, ttl) = creds.issue();
    // Whole seconds, rounded up: a sub-second test TTL still reads as positive.
    let expires_in = ttl.as_millis().div_ceil(1000).max(1) as u64;
    tracing::info!(expires_in, "access token issued");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .content_type(ContentType::json())
        .json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::clock::{ManualClock, SystemClock};

    #[test]
    fn tokens_work_until_they_expire_or_are_revoked() {
        let creds = ClientCredentials::random(Duration::from_secs(60), SystemClock::shared());
        let (a, _) = creds.issue();
        assert!(creds.accepts(&a) && !creds.accepts("nope"));
        assert_eq!(creds.revoke_all(), 1);
        assert!(!creds.accepts(&a));
        let short = ClientCredentials::random(Duration::ZERO, SystemClock::shared());
        let (b, _) = short.issue();
        assert!(!short.accepts(&b), "a zero TTL token is born expired");
        assert!(creds.secret_matches(&creds.client_secret.clone()));
        assert!(!creds.secret_matches("x"));
    }

    #[test]
    fn tokens_expire_on_the_emulator_clock() {
        let clock = ManualClock::new();
        let creds = ClientCredentials::random(Duration::from_secs(60), clock.clone());
        let (a, _) = creds.issue();
        clock.advance(Duration::from_secs(59));
        assert!(creds.accepts(&a));
        clock.advance(Duration::from_secs(1));
        assert!(!creds.accepts(&a), "expired at its lifetime");
    }
}
