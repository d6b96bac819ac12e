//! One cached sub-account token and its timing.
//!
//! The expiry comes from the token's own `exp` claim. The payload is decoded
//! without verifying the signature: the token came straight from Peliqan over
//! TLS, and the service only needs to know how long it lives. An implausible
//! token is refused ([`Implausible`]): without `exp` it would be a
//! non-expiring token, never for a browser; one already expired, or living
//! longer than `cache.max_token_lifetime`, means something between the
//! service and Peliqan is wrong. All time arithmetic on `exp` is checked, so
//! no answer from Peliqan can make it panic.
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
use peliqan_api::clock::Clock;
use peliqan_api::{BrowserRouting, ExternalId, SubaccountId, SubaccountToken};
use rand::Rng;
use std::fmt;
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
    /// When the entry must stop being served, on the service's clock.
    pub valid_until: Instant,
    /// Milliseconds after `created` at which a refresh should start; moved
    /// later after a failed refresh.
    refresh_after_ms: AtomicU64,
    created: Instant,
    refreshing: AtomicBool,
    /// Fetched by a forced refresh (a browser reported the previous token
    /// rejected): the next forced refresh waits `forced_refresh_interval`
    /// from `created`. Sits in padding, so it costs no memory.
    forced: bool,
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
    /// Checks a token answer and works out its timing, at `clock`'s time
    /// (its `exp` against `clock.now()`, its deadlines from
    /// `clock.instant()`). An implausible token is a 502
    /// `upstream_misconfigured`, logged loudly (never the token).
    pub fn new(
        answer: &SubaccountToken,
        tenant: &ExternalId,
        settings: &CacheSettings,
        clock: &dyn Clock,
    ) -> Result<Self, ServiceError> {
        Self::checked(answer, settings, clock.now(), clock.instant()).map_err(|why| {
            tracing::error!(
                tenant = %tenant,
                reason = %why,
                "Peliqan answered an IMPLAUSIBLE TOKEN: {why}; it is not handed out (502 \
                 upstream_misconfigured). Check that PELIQAN_API_URL and the token routes \
                 point at Peliqan's short-lived token endpoints, this machine's clock, and \
                 TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS"
            );
            ServiceError::UpstreamMisconfigured
        })
    }

    /// [`Self::new`] at calendar time `now` and monotonic time `created`,
    /// without the logging.
    fn checked(
        answer: &SubaccountToken,
        settings: &CacheSettings,
        now: SystemTime,
        created: Instant,
    ) -> Result<Self, Implausible> {
        let (exp, lifetime) = lifetime(&answer.token, now, settings.max_token_lifetime)?;
        let (valid_for, refresh_after) = timing(lifetime, settings, rand::rng().random());
        // `exp` is within the cap of now, but the cap is configurable: check anyway.
        let expires_at = DateTime::<Utc>::from_timestamp(exp, 0)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .and_then(|t| <[u8; 20]>::try_from(t.as_bytes()).ok())
            .ok_or(Implausible::Unrepresentable)?;
        let valid_until = created
            .checked_add(valid_for)
            .ok_or(Implausible::Unrepresentable)?;
        Ok(Self {
            token: CompactJwt::new(&answer.token),
            expires_at,
            subaccount_id: answer.subaccount_id,
            valid_until,
            refresh_after_ms: AtomicU64::new(
                u64::try_from(refresh_after.as_millis()).unwrap_or(u64::MAX),
            ),
            created,
            refreshing: AtomicBool::new(false),
            forced: false,
        })
    }

    /// Marks a token fetched by a forced refresh (see [`Self::forced_recently`]).
    pub fn into_forced(mut self) -> Self {
        self.forced = true;
        self
    }

    /// Whether this token came from a forced refresh less than `interval`
    /// ago: then another forced refresh of the tenant must wait.
    pub fn forced_recently(&self, now: Instant, interval: Duration) -> bool {
        self.forced && now.saturating_duration_since(self.created) < interval
    }

    /// Whether `jwt` is this token, byte for byte.
    pub fn is(&self, jwt: &str) -> bool {
        self.token.eq_text(jwt)
    }

    /// The token as text (off the hot path: refreshes compare it with the
    /// shared tier's).
    pub fn token_text(&self) -> String {
        let mut json = Vec::with_capacity(self.token.text_len() + 2);
        self.token.write_json(&mut json);
        serde_json::from_slice(&json).unwrap_or_default()
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

    /// A refresh failed (or its task died): try again a little later, while
    /// the token lasts.
    pub fn refresh_failed(&self, now: Instant) {
        let left = self.valid_until.saturating_duration_since(now);
        let wait = (left / 4).clamp(Duration::from_millis(200), Duration::from_secs(10));
        let at = now.saturating_duration_since(self.created) + wait;
        self.refresh_after_ms.store(
            u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.refreshing.store(false, Ordering::Release);
    }
}

/// Why a token from Peliqan is not handed out.
#[derive(Debug, Clone, PartialEq)]
pub enum Implausible {
    /// The payload is not base64url JSON.
    Unreadable,
    /// No `exp`: a non-expiring token.
    NoExp,
    /// `exp` is not a finite number.
    NotANumber,
    /// `exp` has passed (by this many seconds).
    Expired(f64),
    /// It lives this long, more than the cap.
    TooLong {
        /// Seconds from now to `exp`.
        lifetime: f64,
        /// `cache.max_token_lifetime`.
        cap: Duration,
    },
    /// Its expiry cannot be written as a date this service can handle.
    Unrepresentable,
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable => f.write_str("its payload is not a readable JWT payload"),
            Self::NoExp => f.write_str("it has no `exp`, so it would never expire"),
            Self::NotANumber => f.write_str("its `exp` is not a number"),
            Self::Expired(ago) => write!(
                f,
                "it expired {} s before it arrived (clock skew, or a stale answer?)",
                Secs(*ago)
            ),
            Self::TooLong { lifetime, cap } => write!(
                f,
                "it lives {} s, longer than TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS ({} s)",
                Secs(*lifetime),
                cap.as_secs_f64()
            ),
            Self::Unrepresentable => f.write_str("its expiry is out of any usable date range"),
        }
    }
}

/// Seconds for a log line: whole, or in exponent form when absurd.
struct Secs(f64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.abs() < 1e12 {
            write!(f, "{:.0}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// `(exp in whole seconds, lifetime from now)` of a JWT whose `exp` is
/// plausible: present, a finite number, after `now` and at most `cap` away.
/// Compared as `f64` seconds before any conversion, so an `exp` of `1e300`
/// or `-5` is refused rather than overflowing a date or an `Instant`.
pub fn lifetime(jwt: &str, now: SystemTime, cap: Duration) -> Result<(i64, Duration), Implausible> {
    let exp = match payload_exp(jwt).ok_or(Implausible::Unreadable)? {
        None | Some(serde_json::Value::Null) => return Err(Implausible::NoExp),
        Some(v) => v.as_f64().filter(|e| e.is_finite()),
    }
    .ok_or(Implausible::NotANumber)?;
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let left = exp - now;
    if left <= 0.0 {
        return Err(Implausible::Expired(-left));
    }
    if left > cap.as_secs_f64() {
        return Err(Implausible::TooLong {
            lifetime: left,
            cap,
        });
    }
    let lifetime = Duration::try_from_secs_f64(left).map_err(|_| Implausible::Unrepresentable)?;
    // In range: `exp` is within `cap` (a `Duration`) of now.
    Ok((exp.floor() as i64, lifetime))
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

/// The `exp` of a JWT, read without verification (see the module docs);
/// `None` when there is none or it is not a time after 1970 that a
/// `SystemTime` can hold. Never panics.
pub fn token_exp(jwt: &str) -> Option<SystemTime> {
    let exp = payload_exp(jwt)??.as_f64().filter(|e| *e > 0.0)?;
    let since_epoch = Duration::try_from_secs_f64(exp).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(since_epoch)
}

/// `Some(the payload's "exp" member, if any)`, `None` when the payload
/// cannot be read.
fn payload_exp(jwt: &str) -> Option<Option<serde_json::Value>> {
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<serde_json::Value>,
    }
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    Some(serde_json::from_slice::<Exp>(&bytes).ok()?.exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::clock::{Clock, ManualClock, SystemClock};
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
        let t = CachedToken::new(&answer, &tenant, &settings(60, 300), &SystemClock).unwrap();
        for routing in [plain, overridden] {
            let body = t.body(&tenant, &routing_fragment(&routing));
            let v: TokenAnswer = serde_json::from_slice(&body).unwrap();
            assert_eq!(v.external_id, tenant);
            assert_eq!(v.subaccount_id, None);
            assert_eq!(v.routing, routing);
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
        let err = CachedToken::new(
            &answer,
            &ExternalId::from("t"),
            &settings(60, 300),
            &SystemClock,
        )
        .unwrap_err();
        assert_eq!(err.code(), "upstream_misconfigured");
    }

    #[test]
    fn implausible_tokens_are_refused_without_panicking() {
        let s = settings(60, 300);
        let now = SystemTime::now();
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let cases = [
            (r#"{"sub": 1}"#.to_owned(), "no `exp`"),
            (r#"{"exp": null}"#.to_owned(), "no `exp`"),
            (r#"{"exp": "soon"}"#.to_owned(), "not a number"),
            (r#"{"exp": 1e13}"#.to_owned(), "longer than"),
            (r#"{"exp": 1e300}"#.to_owned(), "longer than"),
            (r#"{"exp": 18446744073709551616}"#.to_owned(), "longer than"),
            (r#"{"exp": 253402300800}"#.to_owned(), "longer than"),
            (r#"{"exp": -5}"#.to_owned(), "expired"),
            (r#"{"exp": -1e300}"#.to_owned(), "expired"),
            (format!(r#"{{"exp": {}}}"#, secs - 1), "expired"),
            (format!(r#"{{"exp": {}}}"#, secs + 86_401), "longer than"),
            ("\"x\"".to_owned(), "not a readable"),
        ];
        for (payload, why) in cases {
            let answer = SubaccountToken {
                token: jwt(&payload),
                subaccount_id: None,
                external_id: None,
            };
            let err = CachedToken::checked(&answer, &s, now, Instant::now()).unwrap_err();
            assert!(err.to_string().contains(why), "{payload}: {err}");
            // The doctor's reader copes too.
            let _ = token_exp(&answer.token);
        }
        let garbage = SubaccountToken {
            token: "no dots at all".into(),
            subaccount_id: None,
            external_id: None,
        };
        assert_eq!(
            CachedToken::checked(&garbage, &s, now, Instant::now()).unwrap_err(),
            Implausible::Unreadable
        );
        // Right at the cap is fine; a fractional `exp` too.
        let at_cap = SubaccountToken {
            token: jwt(&format!(r#"{{"exp": {}.5}}"#, secs + 86_399)),
            subaccount_id: None,
            external_id: None,
        };
        let t = CachedToken::checked(&at_cap, &s, now, Instant::now()).unwrap();
        assert!(t.valid_until > Instant::now() + Duration::from_secs(86_000));
        assert!(!t.forced_recently(Instant::now(), Duration::from_secs(5)));
        let t = t.into_forced();
        assert!(t.forced_recently(Instant::now(), Duration::from_secs(5)));
        assert!(!t.forced_recently(Instant::now(), Duration::ZERO));
        assert!(t.is(&at_cap.token) && !t.is("e30.e30.c2ln"));
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
        let t = CachedToken::new(
            &answer,
            &ExternalId::from("acme"),
            &settings(60, 300),
            &SystemClock,
        )
        .unwrap();
        let v: TokenAnswer =
            serde_json::from_slice(&t.body(&ExternalId::from("acme"), &[])).unwrap();
        assert_eq!(v.token, answer.token);
        assert_eq!(v.subaccount_id, Some(SubaccountId(7)));
        assert_eq!(v.external_id.as_str(), "acme");
        assert!(DateTime::parse_from_rfc3339(&v.expires_at).is_ok());
        assert_eq!(v.routing, BrowserRouting::default());
        assert!(!format!("{t:?}").contains(&answer.token));
        assert!(t.claim_refresh(Instant::now() + Duration::from_secs(500)));
        assert!(
            !t.claim_refresh(Instant::now() + Duration::from_secs(500)),
            "claimed once"
        );
    }

    #[test]
    fn validity_refresh_and_the_forced_interval_follow_the_clock() {
        let clock = ManualClock::new();
        let exp = clock.unix_secs() + 1800;
        let answer = SubaccountToken {
            token: jwt(&format!(r#"{{"exp": {exp}}}"#)),
            subaccount_id: None,
            external_id: None,
        };
        let s = settings(60, 300);
        let t = CachedToken::new(&answer, &ExternalId::from("t"), &s, &*clock)
            .unwrap()
            .into_forced();
        let interval = s.forced_refresh_interval;
        assert!(t.is_valid(clock.instant()) && !t.claim_refresh(clock.instant()));
        assert!(t.forced_recently(clock.instant(), interval));
        clock.advance(interval);
        assert!(!t.forced_recently(clock.instant(), interval));
        // `exp` is under 1800 s away (the clock is past a whole second):
        // refresh after at most 1800 - 60 - 300 s, served until before 1740 s.
        clock.advance(Duration::from_secs(1440) - interval);
        assert!(t.claim_refresh(clock.instant()) && t.is_valid(clock.instant()));
        clock.advance(Duration::from_secs(299));
        assert!(t.is_valid(clock.instant()));
        clock.advance(Duration::from_secs(1));
        assert!(!t.is_valid(clock.instant()));
        // Peliqan's `exp` is read against the clock too: now it has passed.
        clock.advance(Duration::from_secs(60));
        let err = CachedToken::checked(&answer, &s, clock.now(), clock.instant()).unwrap_err();
        assert!(matches!(err, Implausible::Expired(_)), "{err}");
    }
}
