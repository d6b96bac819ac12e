//! external_id -> sub-account id, kept longer than tokens, so later fetches
//! use the by-id endpoint and a tenant is never provisioned twice.
//!
//! A plain sharded map (about 60 bytes per tenant) rather than a second moka
//! cache (several hundred): the mapping never changes while the sub-account
//! exists, so it needs no expiry, only a bound. When a shard is full an
//! arbitrary entry goes; the worst case is one by-external-id lookup later.

use parking_lot::Mutex;
use peliqan_api::{ExternalId, SubaccountId};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

const SHARDS: usize = 16;

type Shard = Mutex<HashMap<Box<str>, SubaccountId>>;

/// The bounded mapping.
pub struct TenantIds {
    shards: Box<[Shard; SHARDS]>,
    per_shard: usize,
    hasher: RandomState,
}

impl TenantIds {
    /// A map holding up to about `capacity` tenants.
    pub fn new(capacity: u64) -> Self {
        let per_shard = usize::try_from(capacity)
            .unwrap_or(usize::MAX)
            .div_ceil(SHARDS)
            .max(1);
        Self {
            shards: Box::new(std::array::from_fn(|_| Mutex::default())),
            per_shard,
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, tenant: &ExternalId) -> &Shard {
        &self.shards[(self.hasher.hash_one(tenant.as_str()) as usize) % SHARDS]
    }

    /// The known sub-account of `tenant`.
    pub fn get(&self, tenant: &ExternalId) -> Option<SubaccountId> {
        self.shard(tenant).lock().get(tenant.as_str()).copied()
    }

    /// Remembers the sub-account of `tenant`.
    pub fn insert(&self, tenant: &ExternalId, id: SubaccountId) {
        let mut map = self.shard(tenant).lock();
        if map.len() >= self.per_shard
            && !map.contains_key(tenant.as_str())
            && let Some(victim) = map.keys().next().cloned()
        {
            map.remove(&victim);
        }
        map.insert(tenant.as_str().into(), id);
    }

    /// Forgets `tenant` (its sub-account was deleted).
    pub fn remove(&self, tenant: &ExternalId) {
        self.shard(tenant).lock().remove(tenant.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_bounded_and_forgets_on_request() {
        let ids = TenantIds::new(32);
        for i in 0..1000 {
            ids.insert(&ExternalId(format!("t{i}")), SubaccountId(i));
        }
        let kept: usize = ids.shards.iter().map(|s| s.lock().len()).sum();
        assert!(kept <= 32, "{kept}");
        ids.insert(&ExternalId::from("x"), SubaccountId(7));
        assert_eq!(ids.get(&ExternalId::from("x")), Some(SubaccountId(7)));
        ids.remove(&ExternalId::from("x"));
        assert_eq!(ids.get(&ExternalId::from("x")), None);
    }
}
