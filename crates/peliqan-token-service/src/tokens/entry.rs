//! One cached sub-account token and its timing.
//!
//! The expiry comes from the token's own `exp` claim. The payload is decoded
//! without verifying the signature: the token came straight from Peliqan over
//! TLS, and the service only needs to know how long it lives. A token without
//! `exp` is refused: it would be a non-expiring token, never for a browser.
//!
//! Timeline of an entry, with `lifetime = exp - now`:
//! `now .. refresh_at` served from cache; `refresh_at .. valid_until` still
//! served while one background refresh runs; `valid_until = exp - margin`
//! the entry is dropped so no caller gets an almost-dead token.

use super::compact::CompactJwt;
use crate::error::ServiceError;
use crate::settings::CacheSettings;
use actix_web::web::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use peliqan_api::{BrowserRouting, ExternalId, SubaccountId, SubaccountToken};
use rand::Rng;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// A token ready to hand out. Kept small (no pre-serialised answer, the
/// expiry as 20 ASCII bytes): 100,000 tenants are held in memory.
pub struct CachedToken {
    /// The sub-account JWT, in binary form when possible ([`CompactJwt`]).
    token: CompactJwt,
    /// `expires_at` in RFC 3339, `YYYY-MM-DDTHH:MM:SSZ`.
    expires_at: [u8; 20],
    /// The sub-account, when Peliqan named it.
    pub subaccount_id: Option<SubaccountId>,
    /// When the entry must stop being served.
    pub valid_until: Instant,
    /// Milliseconds after `created` at which a refresh should start; moved
    /// later after a failed refresh.
    refresh_after_ms: AtomicU64,
    created: Instant,
    refreshing: AtomicBool,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("subaccount_id", &self.subaccount_id)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

impl CachedToken {
    /// Checks a token answer and works out its timing.
    pub fn new(
        answer: &SubaccountToken,
        tenant: &ExternalId,
        settings: &CacheSettings,
    ) -> Result<Self, ServiceError> {
        let exp = token_exp(&answer.token).ok_or_else(|| {
            tracing::error!(
                tenant = %tenant,
                "Peliqan returned a sub-account token without `exp`; refusing to hand out a \
                 non-expiring token"
            );
            ServiceError::UpstreamMisconfigured
        })?;
        let now_wall = SystemTime::now();
        let lifetime = exp.duration_since(now_wall).map_err(|_| {
            tracing::error!(tenant = %tenant, "Peliqan returned an already expired token (clock skew?)");
            ServiceError::UpstreamMisconfigured
        })?;
        let (valid_for, refresh_after) = timing(lifetime, settings, rand::rng().random());
        let created = Instant::now();
        let expires_at: DateTime<Utc> = exp.into();
        let expires_at = expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let expires_at = expires_at.as_bytes().try_into().map_err(|_| {
            tracing::error!(tenant = %tenant, "Peliqan returned a token expiring after year 9999");
            ServiceError::UpstreamMisconfigured
        })?;
        Ok(Self {
            token: CompactJwt::new(&answer.token),
            expires_at,
            subaccount_id: answer.subaccount_id,
            valid_until: created + valid_for,
            refresh_after_ms: AtomicU64::new(refresh_after.as_millis() as u64),
            created,
            refreshing: AtomicBool::new(false),
        })
    }

    /// The `POST /v1/token` answer for `tenant` (the cache key):
    /// `{"token","expires_at","subaccount_id","external_id"` then `routing`
    /// (from [`routing_fragment`], the same for every answer) and `}`.
    /// Written by hand so the binary token streams straight into the one
    /// buffer, the only allocation.
    pub fn body(&self, tenant: &ExternalId, routing: &[u8]) -> Bytes {
        let mut out =
            Vec::with_capacity(self.token.text_len() + tenant.as_str().len() + routing.len() + 112);
        out.extend_from_slice(b"{\"token\":");
        self.token.write_json(&mut out);
        out.extend_from_slice(b",\"expires_at\":\"");
        // RFC 3339 ASCII: nothing to escape.
        out.extend_from_slice(&self.expires_at);
        out.extend_from_slice(b"\",\"subaccount_id\":");
        match self.subaccount_id {
            // Writing into a Vec cannot fail.
            Some(id) => drop(write!(out, "{id}")),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"external_id\":");
        // Writing a str into a Vec cannot fail; this escapes the tenant.
        let _ = serde_json::to_writer(&mut out, tenant.as_str());
        out.extend_from_slice(routing);
        out.push(b'}');
        Bytes::from(out)
    }

    /// Whether the entry may still be served.
    pub fn is_valid(&self, now: Instant) -> bool {
        now < self.valid_until
    }

    /// Claims the one refresh of this entry, if it is due and nobody has it.
    pub fn claim_refresh(&self, now: Instant) -> bool {
        let due = now.saturating_duration_since(self.created).as_millis() as u64
            >= self.refresh_after_ms.load(Ordering::Relaxed);
        due && !self.refreshing.swap(true, Ordering::AcqRel)
    }

    /// A refresh failed: try again a little later, while the token lasts.
    pub fn refresh_failed(&self, now: Instant) {
        let left = self.valid_until.saturating_duration_since(now);
        let wait = (left / 4).clamp(Duration::from_millis(200), Duration::from_secs(10));
        let at = now.saturating_duration_since(self.created) + wait;
        self.refresh_after_ms
            .store(at.as_millis() as u64, Ordering::Relaxed);
        self.refreshing.store(false, Ordering::Release);
    }
}

/// The fields of [`BrowserRouting`] (`peliqan_url`, `dialect`, and `routes`
/// when sub-account-side routes are overridden) as a JSON object's members
/// with a leading comma, ready to append to every answer: they are the same
/// for every tenant, so they are serialised once, at startup.
pub fn routing_fragment(routing: &BrowserRouting) -> Box<[u8]> {
    // A struct of strings and a map of strings always serialises.
    let mut json = serde_json::to_vec(routing).unwrap_or_default();
    if json.len() <= 2 {
        // `{}`: nothing to add.
        return Box::default();
    }
    // `{"peliqan_url":..}` -> `,"peliqan_url":..`
    json[0] = b',';
    json.pop();
    json.into_boxed_slice()
}

/// `(served for, refresh after)` for a token living `lifetime`, with
/// `jitter` in `[0, 1)` spreading refreshes of tokens minted together.
/// Margins are capped relative to the lifetime so a short-lived token is
/// still cached for a useful while.
pub fn timing(lifetime: Duration, s: &CacheSettings, jitter: f64) -> (Duration, Duration) {
    let margin = s.safety_margin.min(lifetime / 4);
    let valid_for = lifetime - margin;
    let ahead = s.refresh_ahead.min(valid_for / 2);
    let spread = ahead.mul_f64(0.25 * jitter.clamp(0.0, 1.0));
    (valid_for, valid_for.saturating_sub(ahead + spread))
}

/// The `exp` of a JWT, read without verification (see the module docs).
pub fn token_exp(jwt: &str) -> Option<SystemTime> {
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<f64>,
    }
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let exp = serde_json::from_slice::<Exp>(&bytes).ok()?.exp?;
    (exp.is_finite() && exp > 0.0).then(|| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(exp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::{Dialect, Operation, TokenAnswer};

    fn jwt(payload: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    fn settings(margin: u64, ahead: u64) -> CacheSettings {
        CacheSettings {
            capacity: 10,
            safety_margin: Duration::from_secs(margin),
            refresh_ahead: Duration::from_secs(ahead),
            connectors_ttl: Duration::from_secs(1),
            max_token_lifetime: Duration::from_secs(86_400),
            unknown_tenant_ttl: Duration::from_secs(30),
            forced_refresh_interval: Duration::from_secs(5),
        }
    }

    #[test]
    fn every_answer_carries_the_routing_fields_written_once() {
        let mut routes = Dialect::Partner.routes();
        let plain = BrowserRouting::new("https://app.eu.peliqan.io/", &routes);
        routes
            .set_text(Operation::GetConnection, "GET /api/v2/servers/{id}/")
            .unwrap();
        let overridden = BrowserRouting::new("https://app.eu.peliqan.io", &routes);
        let secs = (SystemTime::now() + Duration::from_secs(600))
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let answer = SubaccountToken {
            token: jwt(&format!(r#"{{"exp": {secs}}}"#)),
            subaccount_id: None,
            external_id: None,
        };
        let tenant = ExternalId::from("a\"b");
        let t = CachedToken::new(&answer, &tenant, &settings(60, 300)).unwrap();
        for routing in [plain, overridden] {
            let body = t.body(&tenant, &routing_fragment(&routing));
            let v: TokenAnswer = serde_json::from_slice(&body).unwrap();
            assert_eq!(v.external_id, tenant);
            assert_eq!(v.subaccount_id, None);
            assert_eq!(v.peliqan_url.as_deref(), Some("https://app.eu.peliqan.io"));
            assert_eq!(v.dialect.as_deref(), Some("partner"));
            assert_eq!(v.routes, routing.routes);
        }
        assert!(routing_fragment(&BrowserRouting::default()).is_empty());
    }

    #[test]
    fn a_token_without_exp_is_never_cached_or_served() {
        assert!(token_exp(&jwt(r#"{"sub": 1}"#)).is_none());
        let answer = SubaccountToken {
            token: jwt(r#"{"sub": 1}"#),
            subaccount_id: None,
            external_id: None,
        };
        let err =
            CachedToken::new(&answer, &ExternalId::from("t"), &settings(60, 300)).unwrap_err();
        assert_eq!(err.code(), "upstream_misconfigured");
    }

    #[test]
    fn refresh_starts_before_the_margin_and_jitter_only_makes_it_earlier() {
        let s = settings(60, 300);
        let (valid, early) = timing(Duration::from_secs(1800), &s, 0.0);
        assert_eq!(valid, Duration::from_secs(1740));
        assert_eq!(early, Duration::from_secs(1440));
        let (_, jittered) = timing(Duration::from_secs(1800), &s, 0.99);
        assert!(jittered < early && jittered > Duration::from_secs(1360));
        // A 4 s token still gets cached, with a refresh half-way.
        let (valid, refresh) = timing(Duration::from_secs(4), &s, 0.0);
        assert_eq!(
            (valid, refresh),
            (Duration::from_secs(3), Duration::from_millis(1500))
        );
    }

    #[test]
    fn the_answer_names_the_expiry_in_rfc3339_and_hides_nothing_else() {
        let exp = SystemTime::now() + Duration::from_secs(600);
        let secs = exp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let answer = SubaccountToken {
            token: jwt(&format!(r#"{{"exp": {secs}}}"#)),
            subaccount_id: Some(SubaccountId(7)),
            external_id: None,
        };
        let t = CachedToken::new(&answer, &ExternalId::from("acme"), &settings(60, 300)).unwrap();
        let v: TokenAnswer =
            serde_json::from_slice(&t.body(&ExternalId::from("acme"), &[])).unwrap();
        assert_eq!(v.token, answer.token);
        assert_eq!(v.subaccount_id, Some(SubaccountId(7)));
        assert_eq!(v.external_id.as_str(), "acme");
        assert!(DateTime::parse_from_rfc3339(&v.expires_at).is_ok());
        assert_eq!((v.peliqan_url, v.dialect), (None, None));
        assert!(!format!("{t:?}").contains(&answer.token));
        assert!(t.claim_refresh(Instant::now() + Duration::from_secs(500)));
        assert!(
            !t.claim_refresh(Instant::now() + Duration::from_secs(500)),
            "claimed once"
        );
    }
}
