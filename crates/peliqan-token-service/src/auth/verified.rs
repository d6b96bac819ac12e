//! A bounded cache of user JWTs that already passed every check, keyed by
//! their exact text.
//!
//! A browser presents the same JWT again and again (each page load, each SDK
//! refresh), and verifying a public-key signature (RSA or ECDSA, tens of
//! microseconds) would be most of the cached path's own CPU. HS256 JWTs are
//! not remembered: their check costs about what this cache's lookup and
//! insert cost (see [`super::UserVerifier`]). An entry
//! matches only the identical string that was verified, so the cache cannot
//! widen what is accepted. Expiry is still enforced on every use, with the
//! same leeway, and an entry is dropped after [`MAX_AGE_SECS`] at the
//! latest, and for a JWKS key once that key set is due for a refetch (see
//! [`super::jwks`]), so a signing key removed from a JWKS stops being
//! honoured within the JWKS TTL.
//! Failures are never cached: a rejected JWT is verified (and rejected)
//! again each time, with its precise error. All of it on the service's
//! clock ([`peliqan_api::clock`]).

use super::claims::VerifiedUser;
use peliqan_api::clock::SharedClock;
use quick_cache::sync::Cache;
use std::sync::Arc;
use std::time::Instant;

/// Longest time a verified JWT is trusted without verifying it again.
pub const MAX_AGE_SECS: u64 = 60;

/// How many distinct JWTs are remembered. Hot users are few (a JWT seen
/// once is evicted first), and at about 0.5 KB an entry this bounds the
/// cache near 1 MB.
pub const CAPACITY: usize = 2048;

/// See the module docs.
pub struct VerifiedJwts {
    cache: Cache<Box<str>, Entry>,
    clock: SharedClock,
}

#[derive(Clone)]
struct Entry {
    user: Arc<VerifiedUser>,
    /// Unix seconds after which the entry must not be used.
    until: u64,
    /// When the key that verified it must be checked again, if it must.
    trust_until: Option<Instant>,
}

impl VerifiedJwts {
    /// A cache for up to [`CAPACITY`] JWTs, on `clock`'s time.
    pub fn new(clock: SharedClock) -> Self {
        Self::with_capacity(CAPACITY, clock)
    }

    /// A cache for up to about `capacity` JWTs.
    pub fn with_capacity(capacity: usize, clock: SharedClock) -> Self {
        Self {
            cache: Cache::new(capacity.max(1)),
            clock,
        }
    }

    /// The user of an earlier verification of exactly `jwt`, if it still holds.
    #[cfg(test)]
    pub fn get(&self, jwt: &str) -> Option<Arc<VerifiedUser>> {
        self.get_at(jwt, self.clock.unix_secs())
    }

    /// Remembers that `jwt` verified as `user`; `accepted_until` is the last
    /// unix second its `exp` (plus leeway) allows, `trust_until` when the
    /// key that verified it is due for a check (a JWKS key), if ever.
    #[cfg(test)]
    pub fn insert(
        &self,
        jwt: &str,
        user: Arc<VerifiedUser>,
        accepted_until: u64,
        trust_until: Option<Instant>,
    ) {
        self.insert_checked(
            jwt,
            user,
            accepted_until,
            trust_until,
            self.clock.unix_secs(),
        );
    }

    /// [`Self::insert`], `now` being the clock's unix second as the caller
    /// read it (verifying reads it once for every check).
    pub fn insert_checked(
        &self,
        jwt: &str,
        user: Arc<VerifiedUser>,
        accepted_until: u64,
        trust_until: Option<Instant>,
        now: u64,
    ) {
        if trust_until.is_some_and(|t| t <= self.clock.instant()) {
            return;
        }
        self.insert_at(jwt, user, accepted_until, now, trust_until);
    }

    /// [`Self::get`] at the clock's unix second `now`, as the caller read it.
    pub fn get_at(&self, jwt: &str, now: u64) -> Option<Arc<VerifiedUser>> {
        let entry = self.cache.get(jwt)?;
        if now > entry.until || entry.trust_until.is_some_and(|t| t <= self.clock.instant()) {
            self.cache.remove(jwt);
            return None;
        }
        Some(entry.user)
    }

    fn insert_at(
        &self,
        jwt: &str,
        user: Arc<VerifiedUser>,
        accepted_until: u64,
        now: u64,
        trust_until: Option<Instant>,
    ) {
        let until = accepted_until.min(now.saturating_add(MAX_AGE_SECS));
        if until >= now {
            let entry = Entry {
                user,
                until,
                trust_until,
            };
            self.cache.insert(jwt.into(), entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Profile;
    use peliqan_api::ExternalId;
    use peliqan_api::clock::{Clock, ManualClock, SystemClock};
    use std::time::Duration;

    fn cache(capacity: usize) -> VerifiedJwts {
        VerifiedJwts::with_capacity(capacity, SystemClock::shared())
    }

    fn user(tenant: &str) -> Arc<VerifiedUser> {
        Arc::new(VerifiedUser {
            subject: format!("user-{tenant}"),
            tenant: ExternalId(tenant.into()),
            profile: Profile::default(),
        })
    }

    #[test]
    fn only_the_identical_jwt_matches() {
        let c = cache(16);
        c.insert_at("a.b.c", user("acme"), 1_000, 500, None);
        assert_eq!(c.get_at("a.b.c", 500).unwrap().tenant.as_str(), "acme");
        assert!(c.get_at("a.b.d", 500).is_none());
        assert!(c.get_at("a.b.c ", 500).is_none());
        assert!(c.get_at("A.b.c", 500).is_none());
    }

    #[test]
    fn an_entry_ends_at_expiry_or_max_age_whichever_comes_first() {
        let c = cache(16);
        c.insert_at("short", user("t"), 510, 500, None);
        assert!(c.get_at("short", 510).is_some());
        assert!(c.get_at("short", 511).is_none());
        assert!(c.get_at("short", 505).is_none(), "removed once expired");
        c.insert_at("long", user("t"), 1_000_000, 500, None);
        assert!(c.get_at("long", 500 + MAX_AGE_SECS).is_some());
        assert!(c.get_at("long", 501 + MAX_AGE_SECS).is_none());
    }

    #[test]
    fn an_already_expired_verification_is_not_stored() {
        let c = cache(16);
        c.insert_at("old", user("t"), 499, 500, None);
        assert!(c.get_at("old", 499).is_none());
    }

    #[test]
    fn an_entry_ends_when_its_key_is_due_for_a_check() {
        let clock = ManualClock::new();
        let c = VerifiedJwts::with_capacity(16, clock.clone());
        let soon = clock.instant() + Duration::from_secs(30);
        c.insert_at("jwks", user("t"), 1_000, 500, Some(soon));
        clock.advance(Duration::from_secs(29));
        assert!(c.get_at("jwks", 500).is_some());
        clock.advance(Duration::from_secs(1));
        assert!(c.get_at("jwks", 500).is_none());
        c.insert("past", user("t"), u64::MAX, Some(clock.instant()));
        assert!(c.get("past").is_none(), "not stored at all");
    }

    #[test]
    fn the_max_age_and_exp_are_read_on_the_clock() {
        let clock = ManualClock::new();
        let c = VerifiedJwts::with_capacity(16, clock.clone());
        let now = clock.unix_secs();
        c.insert("long", user("t"), u64::MAX, None);
        c.insert("short", user("t"), now + 10, None);
        clock.advance(Duration::from_secs(10));
        assert!(c.get("short").is_some() && c.get("long").is_some());
        clock.advance(Duration::from_secs(1));
        assert!(c.get("short").is_none(), "past its exp (with leeway)");
        clock.advance(Duration::from_secs(MAX_AGE_SECS - 11));
        assert!(c.get("long").is_some());
        clock.advance(Duration::from_secs(1));
        assert!(c.get("long").is_none(), "past the max age");
    }

    #[test]
    fn capacity_is_bounded() {
        let c = cache(64);
        for i in 0..10_000 {
            c.insert_at(&format!("jwt-{i}"), user("t"), 1_000, 500, None);
        }
        assert!(c.cache.len() <= 128, "{} entries", c.cache.len());
    }
}
