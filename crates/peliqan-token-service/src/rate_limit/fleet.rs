//! The fleet's part of a user's entry: requests counted per clock minute,
//! reported to Redis by [`crate::shared::rate`] (whose docs say what is
//! reported when, and the overshoot that buys), and the mark of a user the
//! fleet let through `per_minute` times this minute.

use super::{RateLimiter, shard_of};
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::time::UNIX_EPOCH;

/// The bit of [`super::User::minute`] that marks a user blocked for it.
pub(super) const BLOCKED: u32 = 1 << 31;

/// The fleet-wide limit's parameters.
pub(super) struct Fleet {
    per_minute: u64,
    report_from: u32,
}

/// A user's requests in one minute not yet added in Redis: the user's key,
/// the minute and how many.
pub type Unreported = (u64, u32, u32);

/// Requests of one user on one replica in one minute that are not
/// reported to Redis: see [`crate::shared::rate`].
pub fn report_from(per_minute: u32) -> u32 {
    per_minute / 16
}

/// The clock minute (below [`BLOCKED`] for the next 4,000 years), and
/// seconds into it.
pub(super) fn minute(clock: &SharedClock) -> (u32, u64) {
    let secs = clock
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let minute = u32::try_from(secs / 60).unwrap_or(u32::MAX) & !BLOCKED;
    (minute, secs % 60)
}

impl Fleet {
    pub(super) fn new(per_minute: u32) -> Self {
        Self {
            per_minute: u64::from(per_minute),
            report_from: report_from(per_minute),
        }
    }

    /// Counts one request of the user `key` in `minute`, of which it has
    /// now made `seen`; past the threshold it is to be reported, and on
    /// crossing it the requests held back until now go too.
    pub(super) fn count(
        &self,
        key: u64,
        minute: u32,
        seen: &mut u32,
        unreported: &mut HashMap<(u64, u32), u32>,
    ) {
        *seen = seen.saturating_add(1);
        if *seen > self.report_from {
            let n = if *seen == self.report_from + 1 {
                *seen
            } else {
                1
            };
            let count = unreported.entry((key, minute)).or_default();
            *count = count.saturating_add(n);
        }
    }
}

impl RateLimiter {
    fn fleet_shards(&self) -> impl Iterator<Item = &parking_lot::Mutex<super::Shard>> {
        self.shards.iter().flat_map(|s| s.iter())
    }

    /// The requests to report, each user's counts starting again from zero.
    /// (Counts of a minute that just ended still go with that minute.)
    pub fn take_unreported(&self) -> Vec<Unreported> {
        let mut batch = Vec::new();
        for shard in self.fleet_shards() {
            let mut shard = shard.lock();
            batch.extend(shard.unreported.drain().map(|((k, m), n)| (k, m, n)));
        }
        batch
    }

    /// Puts back counts Redis did not take, for users still in that minute.
    pub fn restore(&self, batch: &[Unreported]) {
        let Some(shards) = &self.shards else { return };
        for &(key, minute, n) in batch {
            let mut shard = shards[shard_of(key)].lock();
            let shard = &mut *shard;
            if shard
                .users
                .get(&key)
                .is_some_and(|u| u.minute & !BLOCKED == minute)
            {
                let count = shard.unreported.entry((key, minute)).or_default();
                *count = count.saturating_add(n);
            }
        }
    }

    /// Marks the users whose fleet-wide count (`totals`, in the order of
    /// `batch`) for the minute of their entry went over the limit.
    pub fn over_limit(&self, batch: &[Unreported], totals: &[u64]) {
        let (Some(shards), Some(fleet)) = (&self.shards, &self.fleet) else {
            return;
        };
        for (&(key, minute, _), &total) in batch.iter().zip(totals) {
            if total > fleet.per_minute
                && let Some(user) = shards[shard_of(key)].lock().users.get_mut(&key)
                && user.minute & !BLOCKED == minute
            {
                user.minute |= BLOCKED;
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use peliqan_api::clock::{Clock, ManualClock};
    use std::sync::Arc;
    use std::time::Duration;

    /// A manual clock at the start of a clock minute, so a test's requests
    /// all fall in one minute.
    pub fn at_minute_start() -> Arc<ManualClock> {
        let clock = ManualClock::new();
        let since = clock.now().duration_since(UNIX_EPOCH).unwrap();
        let into = Duration::from_nanos((since.as_nanos() % 60_000_000_000) as u64);
        clock.advance(Duration::from_secs(60) - into);
        clock
    }

    fn reported(limit: &RateLimiter) -> u32 {
        limit.take_unreported().iter().map(|(_, _, n)| n).sum()
    }

    #[test]
    fn only_users_near_their_limit_are_reported_then_all_their_requests() {
        let limit = RateLimiter::for_fleet(1600, at_minute_start());
        assert_eq!(report_from(1600), 100);
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
        assert_eq!(
            reported(&RateLimiter::new(1600, at_minute_start())),
            0,
            "nothing is counted without a fleet"
        );
    }

    #[test]
    fn a_small_limit_is_counted_exactly_and_a_blocked_user_waits_for_the_next_minute() {
        let clock = at_minute_start();
        let limit = RateLimiter::for_fleet(5, clock.clone());
        limit.check("t", "alice").unwrap();
        limit.check("t", "alice").unwrap();
        limit.check("t", "bob").unwrap();
        let batch = limit.take_unreported();
        assert_eq!(batch.iter().map(|(_, _, n)| n).sum::<u32>(), 3);
        let clock_dyn: SharedClock = clock.clone();
        let (now, _) = minute(&clock_dyn);
        assert!(batch.iter().all(|(_, m, _)| *m == now));
        // The fleet's totals: alice over the limit, bob not.
        let alice = limit.key("t", "alice");
        let totals: Vec<u64> = batch
            .iter()
            .map(|(k, _, _)| if *k == alice { 6 } else { 1 })
            .collect();
        limit.over_limit(&batch, &totals);
        clock.advance(Duration::from_secs(20));
        assert_eq!(
            limit.check("t", "alice"),
            Err(Duration::from_secs(40)),
            "blocked until the minute ends"
        );
        // Counts Redis did not take go with the next flush.
        limit.restore(&batch);
        assert_eq!(reported(&limit), 3);
        assert!(limit.check("t", "bob").is_ok());
        assert!(limit.check("u", "alice").is_ok(), "another tenant's alice");
        // A minute's last counts go with that minute, after it ended.
        clock.advance(Duration::from_secs(40));
        let late = limit.take_unreported();
        assert_eq!(late.len(), 2);
        assert!(late.iter().all(|(_, m, _)| *m == now));
        assert!(limit.check("t", "alice").is_ok(), "a new minute");
        let fresh = limit.take_unreported();
        assert_eq!(fresh, vec![(alice, now + 1, 1)]);
    }

    #[test]
    fn every_replica_keys_a_user_alike() {
        let clock = at_minute_start();
        let one = RateLimiter::for_fleet(5, clock.clone());
        let two = RateLimiter::for_fleet(5, clock);
        assert_eq!(one.key("t", "alice"), two.key("t", "alice"));
        assert_ne!(one.key("t", "alice"), one.key("ta", "lice"));
    }
}
