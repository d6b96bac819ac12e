//! A short positive cache of identity answers (introspection, who-am-I),
//! keyed by a SHA-256 of the credential: the token or cookie itself is
//! never kept. Only successes are stored; an entry is never used after its
//! `until` (unix seconds, on the service's clock).

use crate::auth::VerifiedUser;
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Distinct credentials remembered; about 0.5 KB each.
const CAPACITY: usize = 4096;

/// See the module docs.
pub(crate) struct Memo {
    cache: Cache<[u8; 32], (Arc<VerifiedUser>, u64)>,
}

impl Memo {
    pub(crate) fn new() -> Self {
        Self {
            cache: Cache::new(CAPACITY),
        }
    }

    /// The key of `credential` (a hash: the cache holds no secret).
    pub(crate) fn key(credential: &str) -> [u8; 32] {
        Sha256::digest(credential.as_bytes()).into()
    }

    /// The user remembered for `key`, if its entry still holds at `now`.
    pub(crate) fn get(&self, key: &[u8; 32], now: u64) -> Option<Arc<VerifiedUser>> {
        let (user, until) = self.cache.get(key)?;
        if now >= until {
            self.cache.remove(key);
            return None;
        }
        Some(user)
    }

    /// Remembers `user` for `key` until unix second `until` (exclusive).
    pub(crate) fn insert(&self, key: [u8; 32], user: Arc<VerifiedUser>, until: u64, now: u64) {
        if until > now {
            self.cache.insert(key, (user, until));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Profile;
    use peliqan_api::ExternalId;

    #[test]
    fn an_entry_holds_until_its_end_and_only_for_its_credential() {
        let m = Memo::new();
        let user = Arc::new(VerifiedUser {
            subject: "u".into(),
            tenant: ExternalId("t".into()),
            profile: Profile::default(),
        });
        m.insert(Memo::key("cookie=a"), user.clone(), 110, 100);
        assert!(m.get(&Memo::key("cookie=a"), 109).is_some());
        assert!(m.get(&Memo::key("cookie=b"), 100).is_none());
        assert!(m.get(&Memo::key("cookie=a"), 110).is_none());
        m.insert(Memo::key("past"), user, 100, 100);
        assert!(m.get(&Memo::key("past"), 99).is_none(), "never stored");
    }
}
