//! A bounded cache of user JWTs that already passed every check, keyed by
//! their exact text.
//!
//! A browser presents the same JWT again and again (each page load, each SDK
//! refresh), and verifying it (base64, JSON, the HMAC or public-key
//! signature, the claims) is most of the cached path's own CPU. An entry
//! matches only the identical string that was verified, so the cache cannot
//! widen what is accepted. Expiry is still enforced on every use, with the
//! same leeway, and an entry is dropped after [`MAX_AGE_SECS`] at the
//! latest, and for a JWKS key once that key set is due for a refetch (see
//! [`super::jwks`]), so a signing key removed from a JWKS stops being
//! honoured within the JWKS TTL.
//! Failures are never cached: a rejected JWT is verified (and rejected)
//! again each time, with its precise error.

use super::claims::VerifiedUser;
use quick_cache::sync::Cache;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Longest time a verified JWT is trusted without verifying it again.
pub const MAX_AGE_SECS: u64 = 60;

/// How many distinct JWTs are remembered. Hot users are few (a JWT seen
/// once is evicted first), and at about 0.5 KB an entry this bounds the
/// cache near 1 MB.
pub const CAPACITY: usize = 2048;

/// See the module docs.
pub struct VerifiedJwts {
    cache: Cache<Box<str>, Entry>,
}

#[derive(Clone)]
struct Entry {
    user: Arc<VerifiedUser>,
    /// Unix seconds after which the entry must not be used.
    until: u64,
    /// When the key that verified it must be checked again, if it must.
    trust_until: Option<Instant>,
}

impl Default for VerifiedJwts {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl VerifiedJwts {
    /// A cache for up to about `capacity` JWTs.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            cache: Cache::new(capacity.max(1)),
        }
    }

    /// The user of an earlier verification of exactly `jwt`, if it still holds.
    pub fn get(&self, jwt: &str) -> Option<Arc<VerifiedUser>> {
        self.get_at(jwt, now())
    }

    /// Remembers that `jwt` verified as `user`; `accepted_until` is the last
    /// unix second its `exp` (plus leeway) allows, `trust_until` when the
    /// key that verified it is due for a check (a JWKS key), if ever.
    pub fn insert(
        &self,
        jwt: &str,
        user: Arc<VerifiedUser>,
        accepted_until: u64,
        trust_until: Option<Instant>,
    ) {
        if trust_until.is_some_and(|t| t <= Instant::now()) {
            return;
        }
        self.insert_at(jwt, user, accepted_until, now(), trust_until);
    }

    fn get_at(&self, jwt: &str, now: u64) -> Option<Arc<VerifiedUser>> {
        let entry = self.cache.get(jwt)?;
        if now > entry.until || entry.trust_until.is_some_and(|t| t <= Instant::now()) {
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Profile;
    use peliqan_api::ExternalId;

    fn user(tenant: &str) -> Arc<VerifiedUser> {
        Arc::new(VerifiedUser {
            subject: format!("user-{tenant}"),
            tenant: ExternalId(tenant.into()),
            profile: Profile::default(),
        })
    }

    #[test]
    fn only_the_identical_jwt_matches() {
        let c = VerifiedJwts::with_capacity(16);
        c.insert_at("a.b.c", user("acme"), 1_000, 500, None);
        assert_eq!(c.get_at("a.b.c", 500).unwrap().tenant.as_str(), "acme");
        assert!(c.get_at("a.b.d", 500).is_none());
        assert!(c.get_at("a.b.c ", 500).is_none());
        assert!(c.get_at("A.b.c", 500).is_none());
    }

    #[test]
    fn an_entry_ends_at_expiry_or_max_age_whichever_comes_first() {
        let c = VerifiedJwts::with_capacity(16);
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
        let c = VerifiedJwts::with_capacity(16);
        c.insert_at("old", user("t"), 499, 500, None);
        assert!(c.get_at("old", 499).is_none());
    }

    #[test]
    fn an_entry_ends_when_its_key_is_due_for_a_check() {
        let c = VerifiedJwts::with_capacity(16);
        let soon = Instant::now() + std::time::Duration::from_millis(30);
        c.insert_at("jwks", user("t"), 1_000, 500, Some(soon));
        assert!(c.get_at("jwks", 500).is_some());
        std::thread::sleep(std::time::Duration::from_millis(40));
        assert!(c.get_at("jwks", 500).is_none());
        c.insert("past", user("t"), u64::MAX, Some(Instant::now()));
        assert!(c.get("past").is_none(), "not stored at all");
    }

    #[test]
    fn capacity_is_bounded() {
        let c = VerifiedJwts::with_capacity(64);
        for i in 0..10_000 {
            c.insert_at(&format!("jwt-{i}"), user("t"), 1_000, 500, None);
        }
        assert!(c.cache.len() <= 128, "{} entries", c.cache.len());
    }
}
