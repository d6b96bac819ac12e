//! The clock the native parts (token service, emulator, client) read time
//! from, so tests advance time instead of sleeping through it.
//!
//! Production code holds a [`SharedClock`] that is [`SystemClock`]; a test
//! builds the part with a [`ManualClock`] and calls
//! [`ManualClock::advance`]: every token expiry, cache lifetime, refresh and
//! rate-limit window then moves at once, with no wall-clock wait.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A source of the current time, both monotonic and calendar.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic time, for durations and deadlines.
    fn instant(&self) -> Instant;
    /// Calendar time, for JWT `exp`/`iat` and `Date` headers.
    fn now(&self) -> SystemTime;
    /// Seconds since the Unix epoch (what JWT claims hold).
    fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A clock shared by every part of one process.
pub type SharedClock = Arc<dyn Clock>;

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The real clock, shared.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn instant(&self) -> Instant {
        Instant::now()
    }
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until a test moves it. Starts at the real time
/// of its creation.
#[derive(Debug)]
pub struct ManualClock {
    start_instant: Instant,
    start_time: SystemTime,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A manual clock at the current real time, shared.
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start_instant: Instant::now(),
            start_time: SystemTime::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn instant(&self) -> Instant {
        self.start_instant + self.offset()
    }
    fn now(&self) -> SystemTime {
        self.start_time + self.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_both_times_together() {
        let clock = ManualClock::new();
        let (i, t) = (clock.instant(), clock.now());
        assert_eq!((clock.instant(), clock.now()), (i, t));
        clock.advance(Duration::from_secs(1800));
        assert_eq!(clock.instant() - i, Duration::from_secs(1800));
        assert_eq!(
            clock.now().duration_since(t).unwrap(),
            Duration::from_secs(1800)
        );
        let shared: SharedClock = clock.clone();
        assert_eq!(shared.unix_secs(), clock.unix_secs());
    }
}
