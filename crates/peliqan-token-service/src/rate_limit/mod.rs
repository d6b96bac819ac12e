//! Per-user rate limit, GCRA style. A user is the pair (tenant, `sub`): two
//! tenants' login systems (or one IdP's tenants) may both have a user `1`,
//! and one must not spend the other's budget.
//!
//! Each user may make `per_minute` requests per minute, in a burst of up to
//! `per_minute`. The whole state of a user is one instant, the "theoretical
//! arrival time" (TAT), kept under a 64-bit keyed hash of the pair in sharded
//! maps: with the fleet's count below, 24 bytes per active user. A TAT in
//! the past carries no information (a new user starts at "now" too), so
//! such entries are purged whenever a shard grows, which keeps memory
//! proportional to the users of the last minute. Two users whose hashes
//! collide (odds 2^-64 per pair) would merely share a budget.
//!
//! With a shared tier, the same entry also counts the user's requests in
//! the current clock minute for the fleet-wide limit ([`fleet`], reported
//! to Redis by [`crate::shared::rate`]): one hash, one lock and one map
//! lookup per request serve both limits. (Two maps, one per limit, were
//! measurably slower under the bench's 10,000 users: each request missed
//! the CPU cache twice.)
//!
//! Hand-written on purpose, where a well-kept crate exists (`governor`'s
//! keyed limiter): the service's measured memory target is the reason. The
//! README's benchmark measures about 99 MB resident with 100,000 cached
//! tenants against a target of **< 100 MB**, a headroom under 1 MB. A keyed
//! limiter that stores each key (a tenant and a `sub`, two strings: about
//! 100 bytes with their allocations) would cost about 10 MB more at 100,000
//! users (an estimate, not measured), where this one stores 24 bytes; and a
//! purge of idle users, which this one does as shards grow, is up to the
//! caller there.

pub mod fleet;

use fleet::{BLOCKED, Fleet};
use foldhash::fast::{FixedState, RandomState};
use parking_lot::Mutex;
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

/// Shards of the limiter's map.
pub const SHARDS: usize = 16;

/// Shard size below which nobody is purged.
const MIN_PURGE_AT: usize = 1024;

/// The limiter. `per_minute == 0` disables it.
pub struct RateLimiter {
    /// Nanoseconds between two requests of a user, on average.
    interval: u64,
    /// How far ahead of now a user's TAT may be (the burst).
    tolerance: u64,
    /// Keys users: seeded at random, or for the fleet with [`FLEET_SEED`].
    hasher: Keys,
    shards: Option<Box<[Mutex<Shard>; SHARDS]>>,
    /// The fleet-wide count, with a shared tier.
    fleet: Option<Fleet>,
    /// The instant TATs count from.
    base: Instant,
    clock: SharedClock,
}

/// How users are keyed.
enum Keys {
    Random(RandomState),
    Fleet(FixedState),
}

/// The seed of the fleet's user keys. The same in every replica, so their
/// counts meet in Redis (every replica of a fleet runs the same build:
/// foldhash's output may change with its version); a hash, so no user or
/// tenant id is written there.
const FLEET_SEED: u64 = 0x7065_6c69_7161_6e21;

/// The shard of a user's key: bits the shard's map does not use (hashbrown
/// places a key by its low bits and tags it with its top seven).
fn shard_of(key: u64) -> usize {
    (key >> 32) as usize % SHARDS
}

/// For maps whose keys are already keyed 64-bit hashes: hashing them again
/// would only cost time on every request.
type PreHashed = BuildHasherDefault<PassThrough>;

/// The [`Hasher`] of [`PreHashed`]: a `u64` key is its own hash.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not reached for `u64` keys (they call `write_u64`); correct anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One user's state.
#[derive(Clone, Copy)]
struct User {
    /// The TAT, in nanoseconds since [`RateLimiter::base`].
    tat: u64,
    /// For the fleet: the clock minute `seen` counts, with [`BLOCKED`] set
    /// once the fleet let the user through `per_minute` times in it.
    minute: u32,
    /// For the fleet: requests let through in `minute`.
    seen: u32,
}

struct Shard {
    users: HashMap<u64, User, PreHashed>,
    /// Size at which the next purge happens (doubles when a purge frees
    /// little, so a shard full of active users is not scanned on every
    /// new one).
    purge_at: usize,
    /// For the fleet: requests counted here and not yet added in Redis, by
    /// user and minute. Only users near their limit get here.
    unreported: HashMap<(u64, u32), u32>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per user and minute of
    /// `clock`'s time, on this replica alone.
    pub fn new(per_minute: u32, clock: SharedClock) -> Self {
        let base = clock.instant();
        let mut limiter = Self {
            interval: 0,
            tolerance: 0,
            hasher: Keys::Random(RandomState::default()),
            shards: None,
            fleet: None,
            base,
            clock,
        };
        if per_minute > 0 {
            let interval = Duration::from_secs(60) / per_minute;
            limiter.interval = nanos(interval);
            limiter.tolerance = nanos(interval * (per_minute - 1));
            limiter.shards = Some(Box::new(std::array::from_fn(|_| {
                Mutex::new(Shard {
                    users: HashMap::default(),
                    purge_at: MIN_PURGE_AT,
                    unreported: HashMap::new(),
                })
            })));
        }
        limiter
    }

    /// The same limiter, also counting each user's requests for the
    /// fleet-wide limit ([`fleet`]); the counts are reported by
    /// [`crate::shared::rate`].
    pub fn for_fleet(per_minute: u32, clock: SharedClock) -> Self {
        let mut limiter = Self::new(per_minute, clock);
        if per_minute > 0 {
            limiter.fleet = Some(Fleet::new(per_minute));
            limiter.hasher = Keys::Fleet(FixedState::with_seed(FLEET_SEED));
        }
        limiter
    }

    /// Whether this limiter counts for the fleet.
    pub fn counts_for_fleet(&self) -> bool {
        self.fleet.is_some()
    }

    /// The key of `user` (a `sub`) of `tenant` (see [`Keys`]).
    fn key(&self, tenant: &str, user: &str) -> u64 {
        // `str` hashes with a terminator, so ("a", "bc") and ("ab", "c") differ.
        match &self.hasher {
            Keys::Random(h) => h.hash_one((tenant, user)),
            Keys::Fleet(h) => h.hash_one((tenant, user)),
        }
    }

    /// `Ok` to go ahead, or `Err(wait)` before `user` (a `sub`) of `tenant`
    /// may make the next request.
    pub fn check(&self, tenant: &str, user: &str) -> Result<(), Duration> {
        let Some(shards) = &self.shards else {
            return Ok(());
        };
        let key = self.key(tenant, user);
        let now = nanos(self.clock.instant().saturating_duration_since(self.base));
        let minute = self.fleet.as_ref().map(|_| fleet::minute(&self.clock));
        let mut shard = shards[shard_of(key)].lock();
        let shard = &mut *shard;
        if shard.users.len() >= shard.purge_at && !shard.users.contains_key(&key) {
            // Users with a TAT in the past carry nothing, unless the fleet
            // counts their requests in this minute.
            let current = minute.map(|(m, _)| m);
            shard
                .users
                .retain(|_, u| u.tat > now || Some(u.minute & !BLOCKED) == current);
            shard.purge_at = (shard.users.len() * 2).max(MIN_PURGE_AT);
        }
        let user = shard.users.entry(key).or_insert(User {
            tat: now,
            minute: 0,
            seen: 0,
        });
        if let Some((minute, secs)) = minute {
            if user.minute & !BLOCKED != minute {
                user.minute = minute;
                user.seen = 0;
            }
            if user.minute & BLOCKED != 0 {
                return Err(Duration::from_secs(60 - secs));
            }
        }
        let start = user.tat.max(now);
        let ahead = start - now;
        if ahead > self.tolerance {
            return Err(Duration::from_nanos(ahead - self.tolerance));
        }
        user.tat = start + self.interval;
        if let (Some(fleet), Some((minute, _))) = (&self.fleet, minute) {
            fleet.count(key, minute, &mut user.seen, &mut shard.unreported);
        }
        Ok(())
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::clock::{ManualClock, SystemClock};

    #[test]
    fn a_user_gets_the_burst_then_waits_while_others_are_unaffected() {
        for fleet in [false, true] {
            let clock = ManualClock::new();
            let limiter = if fleet {
                RateLimiter::for_fleet(3, clock.clone())
            } else {
                RateLimiter::new(3, clock.clone())
            };
            for _ in 0..3 {
                assert!(limiter.check("t", "alice").is_ok());
            }
            let wait = limiter.check("t", "alice").unwrap_err();
            assert!(
                wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
                "{wait:?}"
            );
            assert!(limiter.check("t", "bob").is_ok());
            // The same `sub` in another tenant is another user.
            assert!(limiter.check("u", "alice").is_ok());
            assert!(limiter.check("ta", "lice").is_ok());
            // One request's worth of budget comes back every 20 s of the clock.
            clock.advance(wait - Duration::from_millis(1));
            assert!(limiter.check("t", "alice").is_err());
            clock.advance(Duration::from_millis(1));
            assert!(limiter.check("t", "alice").is_ok());
            assert!(limiter.check("t", "alice").is_err());
        }
        for limiter in [
            RateLimiter::new(0, SystemClock::shared()),
            RateLimiter::for_fleet(0, SystemClock::shared()),
        ] {
            assert!(limiter.check("t", "alice").is_ok());
            assert!(!limiter.counts_for_fleet());
        }
    }

    fn kept(limiter: &RateLimiter) -> usize {
        let shards = limiter.shards.as_ref().unwrap();
        shards.iter().map(|s| s.lock().users.len()).sum()
    }

    #[test]
    fn idle_users_are_forgotten_when_a_shard_grows() {
        let clock = ManualClock::new();
        let limiter = RateLimiter::new(6000, clock.clone());
        for i in 0..50_000 {
            limiter.check("t", &format!("user-{i}")).unwrap();
        }
        clock.advance(Duration::from_millis(20));
        for i in 0..50_000 {
            limiter.check("t", &format!("other-{i}")).unwrap();
        }
        assert!(kept(&limiter) < 100_000, "{} entries kept", kept(&limiter));
    }

    #[test]
    fn for_the_fleet_idle_users_stay_for_their_minute_then_go() {
        let clock = fleet::tests::at_minute_start();
        let limiter = RateLimiter::for_fleet(6000, clock.clone());
        for i in 0..50_000 {
            limiter.check("t", &format!("user-{i}")).unwrap();
        }
        clock.advance(Duration::from_millis(20));
        for i in 0..50_000 {
            limiter.check("t", &format!("other-{i}")).unwrap();
        }
        assert_eq!(kept(&limiter), 100_000, "this minute's users are counted");
        clock.advance(Duration::from_secs(60));
        for i in 0..150_000 {
            limiter.check("t", &format!("late-{i}")).unwrap();
        }
        let total = kept(&limiter);
        assert!(
            (150_000..250_000).contains(&total),
            "past minutes' users go, this one's stay: {total} entries kept"
        );
    }
}
