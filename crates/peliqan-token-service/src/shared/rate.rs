//! The per-user rate limit across the fleet.
//!
//! Each replica keeps its own limiter ([`crate::rate_limit`]) on the hot
//! path; with a shared tier, every replica also counts each user's requests
//! per clock minute, and adds them to a count in Redis that all replicas
//! share, without a Redis round trip per request: the hot path only bumps
//! the user's local count (a sharded map, as the local limiter's) and reads
//! the user's "over the limit this minute" mark, and a background task
//! adds the counts to Redis every [`FLUSH_EVERY`] (one pipelined `INCRBY`
//! and `PEXPIRE` per user to report) and marks the users whose fleet-wide
//! count went over the limit.
//!
//! **Only users near their limit are reported.** A user's requests reach
//! Redis once the user has made more than [`report_from`] (`per_minute /
//! 16`) requests on this replica in the current minute, then all of them,
//! the earlier ones included. Real traffic is one token request per user
//! per page load, far below any limit, so a fleet serving thousands of
//! users writes almost nothing to Redis; measured with 10,000 users
//! (`cargo xtask bench token-service --replicas 3`), reporting every user
//! every 200 ms was what made the cached path slower with Redis than
//! without. The price is a bounded overshoot: each replica holds back at
//! most `per_minute / 16` requests of a user per minute, so the fleet lets a
//! user through at most `per_minute + replicas × per_minute / 16` times a
//! minute (a limit under 16 is counted exactly: every request is reported),
//! give or take what arrives within one flush interval. Counts go to the
//! key of the minute they were made in, also when flushed after it ended;
//! counts Redis did not take go with the next flush. With Redis
//! unavailable, only the per-replica limit applies.

use super::SharedTier;
use super::crypto::Kind;
use crate::rate_limit::{PreHashed, SHARDS, shard_of};
use parking_lot::Mutex;
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// How often local counts go to Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Requests of one user on one replica in one minute that are not
/// reported to Redis: see the module docs.
pub fn report_from(per_minute: u32) -> u32 {
    per_minute / 16
}

/// Shard size below which past minutes' users are not purged.
const MIN_PURGE_AT: usize = 4096;

/// One user's state on this replica, for the current minute only.
#[derive(Clone, Copy)]
struct Slot {
    /// The clock minute the counts are for.
    minute: u64,
    /// Requests let through in that minute.
    seen: u32,
    /// Of those, counted here but not yet added in Redis.
    unreported: u32,
    /// The fleet let the user through `per_minute` times in that minute.
    blocked: bool,
}

#[derive(Default)]
struct Shard {
    slots: HashMap<u64, Slot, PreHashed>,
    /// Users with unreported requests, each once.
    dirty: Vec<u64>,
    /// Size at which the next purge happens (doubles when a purge frees
    /// little, so a shard full of this minute's users is not scanned on
    /// every new one).
    purge_at: usize,
}

/// The fleet-wide per-user limit.
pub struct FleetLimit {
    per_minute: u64,
    report_from: u32,
    shards: Box<[Mutex<Shard>; SHARDS]>,
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
        let limit = Arc::new(Self::new(per_minute, clock));
        let weak = Arc::downgrade(&limit);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                let Some(limit) = weak.upgrade() else { return };
                let batch = limit.take_unreported();
                if batch.is_empty() {
                    continue;
                }
                let counts = Self::named(&batch);
                match tier.add_counts(&counts, Duration::from_secs(61)).await {
                    Some(totals) => limit.over_limit(&batch, &totals),
                    // Redis did not take them: they go with the next flush
                    // (while their minute lasts).
                    None => limit.restore(&batch),
                }
            }
        });
        limit
    }

    fn new(per_minute: u32, clock: SharedClock) -> Self {
        Self {
            per_minute: u64::from(per_minute),
            report_from: report_from(per_minute),
            shards: Box::new(std::array::from_fn(|_| Mutex::default())),
            clock,
        }
    }

    /// The clock minute, and seconds into it.
    fn minute(&self) -> (u64, u64) {
        let now = self.clock.now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        (secs / 60, secs % 60)
    }

    fn shard(&self, key: u64) -> &Mutex<Shard> {
        &self.shards[shard_of(key)]
    }

    /// `Ok` to go ahead, or `Err(wait)` until the next minute when the
    /// fleet already let this user through `per_minute` times in this one.
    /// No allocation for a user already seen this minute.
    pub fn check(&self, tenant: &str, user: &str) -> Result<(), Duration> {
        let key = user_key(tenant, user);
        let (minute, secs) = self.minute();
        let mut shard = self.shard(key).lock();
        let shard = &mut *shard;
        if shard.slots.len() >= shard.purge_at.max(MIN_PURGE_AT) && !shard.slots.contains_key(&key)
        {
            // Users of past minutes carry nothing: forget them as the map grows.
            shard.slots.retain(|_, s| s.minute == minute);
            shard.purge_at = (shard.slots.len() * 2).max(MIN_PURGE_AT);
        }
        let slot = shard.slots.entry(key).or_insert(Slot {
            minute,
            seen: 0,
            unreported: 0,
            blocked: false,
        });
        if slot.minute != minute {
            *slot = Slot {
                minute,
                seen: 0,
                unreported: 0,
                blocked: false,
            };
        }
        if slot.blocked {
            return Err(Duration::from_secs(60 - secs));
        }
        slot.seen = slot.seen.saturating_add(1);
        if slot.seen > self.report_from {
            if slot.unreported == 0 {
                shard.dirty.push(key);
            }
            // On crossing, the requests held back until now go too.
            let held_back = if slot.seen == self.report_from + 1 {
                self.report_from
            } else {
                0
            };
            slot.unreported = slot.unreported.saturating_add(1 + held_back);
        }
        Ok(())
    }

    /// The users with unreported requests, with the minute they were made
    /// in and how many; their counts start again from zero. (Counts of a
    /// minute that just ended still go to that minute's key.)
    fn take_unreported(&self) -> Vec<(u64, u64, u32)> {
        let mut batch = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            let shard = &mut *shard;
            for key in shard.dirty.drain(..) {
                if let Some(slot) = shard.slots.get_mut(&key)
                    && slot.unreported > 0
                {
                    batch.push((key, slot.minute, std::mem::take(&mut slot.unreported)));
                }
            }
        }
        batch
    }

    /// The Redis key and count of each user in `batch`.
    fn named(batch: &[(u64, u64, u32)]) -> Vec<(String, u64)> {
        batch
            .iter()
            .map(|(k, minute, n)| {
                let name = format!("peliqan-embed:{}:{k:016x}:{minute}", Kind::Rate.as_str());
                (name, u64::from(*n))
            })
            .collect()
    }

    /// Puts back counts Redis did not take, for users still in that minute.
    fn restore(&self, batch: &[(u64, u64, u32)]) {
        for (key, minute, n) in batch {
            let mut shard = self.shard(*key).lock();
            let shard = &mut *shard;
            if let Some(slot) = shard.slots.get_mut(key)
                && slot.minute == *minute
            {
                if slot.unreported == 0 {
                    shard.dirty.push(*key);
                }
                slot.unreported = slot.unreported.saturating_add(*n);
            }
        }
    }

    /// Marks the users whose fleet-wide count for the minute of their
    /// entry in `batch` went over the limit.
    fn over_limit(&self, batch: &[(u64, u64, u32)], totals: &[u64]) {
        for ((key, minute, _), total) in batch.iter().zip(totals) {
            if *total > self.per_minute
                && let Some(slot) = self.shard(*key).lock().slots.get_mut(key)
                && slot.minute == *minute
            {
                slot.blocked = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::clock::ManualClock;

    fn reported(limit: &FleetLimit) -> u32 {
        limit.take_unreported().iter().map(|(_, _, n)| n).sum()
    }

    #[test]
    fn only_users_near_their_limit_are_reported_then_all_their_requests() {
        let limit = FleetLimit::new(1600, ManualClock::new());
        assert_eq!(limit.report_from, 100);
        for _ in 0..100 {
            limit.check("t", "calm").unwrap();
            limit.check("t", "busy").unwrap();
        }
        assert_eq!(reported(&limit), 0, "both at the threshold");
        limit.check("t", "busy").unwrap();
        assert_eq!(
            reported(&limit),
            101,
            "crossing reports the held-back ones too"
        );
        limit.check("t", "busy").unwrap();
        limit.check("t", "busy").unwrap();
        assert_eq!(reported(&limit), 2);
        assert_eq!(reported(&limit), 0);
    }

    #[test]
    fn a_small_limit_is_counted_exactly_and_a_blocked_user_waits_for_the_next_minute() {
        let clock = ManualClock::new();
        let limit = FleetLimit::new(5, clock.clone());
        limit.check("t", "alice").unwrap();
        limit.check("t", "alice").unwrap();
        limit.check("t", "bob").unwrap();
        let batch = limit.take_unreported();
        assert_eq!(batch.iter().map(|(_, _, n)| n).sum::<u32>(), 3);
        let (minute, _) = limit.minute();
        let at_minute = |counts: &[(String, u64)]| {
            counts
                .iter()
                .all(|(name, _)| name.ends_with(&format!(":{minute}")))
        };
        assert!(at_minute(&FleetLimit::named(&batch)));
        // The fleet's totals: alice over the limit, bob not.
        let totals: Vec<u64> = batch
            .iter()
            .map(|(k, _, _)| if *k == user_key("t", "alice") { 6 } else { 1 })
            .collect();
        limit.over_limit(&batch, &totals);
        assert!(limit.check("t", "alice").is_err());
        // Counts Redis did not take go with the next flush.
        limit.restore(&batch);
        assert_eq!(reported(&limit), 3);
        assert!(limit.check("t", "bob").is_ok());
        assert!(limit.check("u", "alice").is_ok(), "another tenant's alice");
        // A minute's last counts go to that minute's key, after it ended.
        clock.advance(Duration::from_secs(60));
        let late = limit.take_unreported();
        assert_eq!(late.len(), 2);
        assert!(at_minute(&FleetLimit::named(&late)));
        assert!(limit.check("t", "alice").is_ok(), "a new minute");
    }

    #[test]
    fn users_of_past_minutes_are_forgotten_as_a_shard_grows() {
        let clock = ManualClock::new();
        let limit = FleetLimit::new(1600, clock.clone());
        for i in 0..100_000 {
            limit.check("t", &format!("user-{i}")).unwrap();
        }
        clock.advance(Duration::from_secs(60));
        for i in 0..100_000 {
            limit.check("t", &format!("other-{i}")).unwrap();
        }
        let total: usize = limit.shards.iter().map(|s| s.lock().slots.len()).sum();
        assert!(total < 200_000, "{total} users kept");
        assert!(
            total >= 100_000,
            "this minute's users are all kept: {total}"
        );
    }
}
