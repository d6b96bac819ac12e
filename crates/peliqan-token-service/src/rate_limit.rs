//! Per-user rate limit (key: the JWT's `sub`), GCRA style.
//!
//! Each user may make `per_minute` requests per minute, in a burst of up to
//! `per_minute`; the state per user is one instant (the "theoretical arrival
//! time"). Users idle for two minutes are forgotten, and the map is bounded,
//! so a flood of distinct `sub`s cannot grow memory without limit (they all
//! need validly signed JWTs anyway).

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The limiter. `per_minute == 0` disables it.
pub struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    users: Option<moka::future::Cache<String, Arc<Mutex<Instant>>>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per user and minute.
    pub fn new(per_minute: u32) -> Self {
        if per_minute == 0 {
            return Self {
                interval: Duration::ZERO,
                tolerance: Duration::ZERO,
                users: None,
            };
        }
        let interval = Duration::from_secs(60) / per_minute;
        let users = moka::future::Cache::builder()
            .max_capacity(1_000_000)
            .time_to_idle(Duration::from_secs(120))
            .build();
        Self {
            interval,
            tolerance: interval * (per_minute - 1),
            users: Some(users),
        }
    }

    /// `Ok` to go ahead, or `Err(wait)` before the next allowed request.
    pub async fn check(&self, user: &str) -> Result<(), Duration> {
        let Some(users) = &self.users else {
            return Ok(());
        };
        let now = Instant::now();
        let cell = match users.get(user).await {
            Some(c) => c,
            None => {
                users
                    .get_with(user.to_owned(), async move { Arc::new(Mutex::new(now)) })
                    .await
            }
        };
        let mut tat = cell.lock();
        let start = (*tat).max(now);
        let ahead = start - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        *tat = start + self.interval;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_user_gets_the_burst_then_waits_while_others_are_unaffected() {
        let limiter = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.check("alice").await.is_ok());
        }
        let wait = limiter.check("alice").await.unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check("bob").await.is_ok());
        assert!(RateLimiter::new(0).check("alice").await.is_ok());
    }
}
