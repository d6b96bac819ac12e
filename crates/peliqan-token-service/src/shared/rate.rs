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
use super::crypto::Kind;
use parking_lot::Mutex;
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// How often local counts go to Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// What the hot path touches, under one lock.
#[derive(Default)]
struct Counts {
    /// Requests per user not yet added in Redis.
    pending: HashMap<u64, u64>,
    /// Users over the limit, with the minute they are blocked for.
    blocked: HashMap<u64, u64>,
}

/// The fleet-wide per-user limit.
pub struct FleetLimit {
    per_minute: u64,
    counts: Mutex<Counts>,
    clock: SharedClock,
}

/// A user's id in Redis: the same in every replica (std's SipHash with its
/// fixed keys; every replica of a fleet runs the same build), so their
/// counts meet; a hash, so no user or tenant id is written to Redis.
fn user_key(tenant: &str, user: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (tenant, user).hash(&mut h);
    h.finish()
}

impl FleetLimit {
    /// A limit of `per_minute` per user, counted in `tier`; starts the
    /// flushing task (it ends when the limit is dropped).
    pub fn start(per_minute: u32, tier: Arc<SharedTier>, clock: SharedClock) -> Arc<Self> {
        let limit = Arc::new(Self {
            per_minute: u64::from(per_minute),
            counts: Mutex::default(),
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

    /// Seconds since the epoch, on the service's clock.
    fn unix_secs(&self) -> u64 {
        let now = self.clock.now();
        now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
    }

    /// `Ok` to go ahead, or `Err(wait)` until the next minute when the
    /// fleet already let this user through `per_minute` times in this one.
    /// No allocation once the user is counted in this flush interval.
    pub fn check(&self, tenant: &str, user: &str) -> Result<(), Duration> {
        let key = user_key(tenant, user);
        let secs = self.unix_secs();
        let mut counts = self.counts.lock();
        if counts.blocked.get(&key) == Some(&(secs / 60)) {
            return Err(Duration::from_secs(60 - secs % 60));
        }
        *counts.pending.entry(key).or_insert(0) += 1;
        Ok(())
    }

    /// Adds the local counts to Redis; marks users over the limit.
    async fn flush(&self, tier: &SharedTier) {
        let minute = self.unix_secs() / 60;
        let batch = {
            let mut counts = self.counts.lock();
            counts.blocked.retain(|_, m| *m == minute);
            // As large as the last batch, so the map does not regrow from
            // nothing every interval under steady traffic.
            let room = HashMap::with_capacity(counts.pending.len());
            std::mem::replace(&mut counts.pending, room)
        };
        if batch.is_empty() {
            return;
        }
        let (keys, counts): (Vec<u64>, Vec<(String, u64)>) = batch
            .into_iter()
            .map(|(k, n)| {
                let name = format!("peliqan-embed:{}:{k:016x}:{minute}", Kind::Rate.as_str());
                (k, (name, n))
            })
            .unzip();
        let Some(totals) = tier.add_counts(&counts, Duration::from_secs(61)).await else {
            return;
        };
        let mut guard = self.counts.lock();
        for (key, total) in keys.into_iter().zip(totals) {
            if total > self.per_minute {
                guard.blocked.insert(key, minute);
            }
        }
    }
}
