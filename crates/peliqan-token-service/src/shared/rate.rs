//! The per-user rate limit across the fleet.
//!
//! Each replica keeps its own limiter ([`crate::rate_limit`]) on the hot
//! path; with a shared tier, every replica also counts each user's requests
//! per clock minute in Redis, without a Redis round trip per request: the
//! hot path only bumps a local counter and checks a local "over the limit
//! this minute" set, and a background task adds the counts to Redis every
//! [`FLUSH_EVERY`] (one pipelined `INCRBY` and `PEXPIRE` per active user)
//! and marks the users whose fleet-wide count went over the limit. So a
//! user gets at most `per_minute` requests per minute from the whole fleet,
//! give or take what arrives within one flush interval. With Redis
//! unavailable, only the per-replica limit applies.

use super::SharedTier;
use super::crypto::{Kind, digest};
use parking_lot::Mutex;
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// How often local counts go to Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// A user's requests not yet counted in Redis.
struct Pending {
    tenant: String,
    user: String,
    count: u64,
}

/// The fleet-wide per-user limit.
pub struct FleetLimit {
    per_minute: u64,
    hasher: RandomState,
    pending: Mutex<HashMap<u64, Pending>>,
    /// Users over the limit, with the minute they are blocked for.
    blocked: Mutex<HashMap<u64, u64>>,
    clock: SharedClock,
}

impl FleetLimit {
    /// A limit of `per_minute` per user, counted in `tier`; starts the
    /// flushing task (it ends when the limit is dropped).
    pub fn start(per_minute: u32, tier: Arc<SharedTier>, clock: SharedClock) -> Arc<Self> {
        let limit = Arc::new(Self {
            per_minute: u64::from(per_minute),
            hasher: RandomState::new(),
            pending: Mutex::default(),
            blocked: Mutex::default(),
            clock,
        });
        let weak = Arc::downgrade(&limit);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                let Some(limit) = weak.upgrade() else { return };
                limit.flush(&tier).await;
            }
        });
        limit
    }

    fn minute(&self) -> u64 {
        let now = self.clock.now();
        now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 60
    }

    /// `Ok` to go ahead, or `Err(wait)` until the next minute when the
    /// fleet already let this user through `per_minute` times in this one.
    pub fn check(&self, tenant: &str, user: &str) -> Result<(), Duration> {
        let key = self.hasher.hash_one((tenant, user));
        let minute = self.minute();
        if self.blocked.lock().get(&key) == Some(&minute) {
            let secs = self
                .clock
                .now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            return Err(Duration::from_secs(60 - secs % 60));
        }
        self.pending
            .lock()
            .entry(key)
            .or_insert_with(|| Pending {
                tenant: tenant.to_owned(),
                user: user.to_owned(),
                count: 0,
            })
            .count += 1;
        Ok(())
    }

    /// Adds the local counts to Redis; marks users over the limit.
    async fn flush(&self, tier: &SharedTier) {
        let batch = std::mem::take(&mut *self.pending.lock());
        let minute = self.minute();
        self.blocked.lock().retain(|_, m| *m == minute);
        if batch.is_empty() {
            return;
        }
        let (keys, counts): (Vec<u64>, Vec<(String, u64)>) = batch
            .into_iter()
            .map(|(k, p)| {
                let name = [
                    "peliqan-embed:",
                    Kind::Rate.as_str(),
                    ":",
                    &digest(&[&p.tenant, &p.user]),
                    ":",
                    &minute.to_string(),
                ]
                .concat();
                (k, (name, p.count))
            })
            .unzip();
        let Some(totals) = tier.add_counts(&counts, Duration::from_secs(61)).await else {
            return;
        };
        let mut blocked = self.blocked.lock();
        for (key, total) in keys.into_iter().zip(totals) {
            if total > self.per_minute {
                blocked.insert(key, minute);
            }
        }
    }
}
