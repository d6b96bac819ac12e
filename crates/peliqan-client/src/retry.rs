//! When to retry a failed call and how long to wait first.
//!
//! Only idempotent calls (`GET`, `PUT`, `DELETE`) are retried: a `POST` that
//! timed out may have created a sub-account or a connection already, and a
//! second one would duplicate it. Retryable failures are transport errors,
//! timeouts, `429` and `502`/`503`/`504`. The wait is capped exponential
//! backoff with *full jitter* (see
//! <https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>),
//! except that a `Retry-After` from the server is honoured as given (capped by
//! [`RetryPolicy::max_retry_after`]), since that is what a rate limiter asks.

use crate::error::Error;
use rand::Rng;
use std::time::Duration;

/// How failed idempotent calls are retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2, so at most 3 attempts).
    pub max_retries: u32,
    /// Backoff before the first retry, doubled for each further one
    /// (default 100 ms). The actual sleep is random in `0..=backoff`.
    pub base_delay: Duration,
    /// Upper bound of the backoff (default 2 s).
    pub max_delay: Duration,
    /// Upper bound of a server's `Retry-After` that is honoured (default 10 s).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The backoff ceiling before retry number `attempt + 1` (`attempt` counts
    /// from 0 for the first attempt): `min(max_delay, base_delay * 2^attempt)`.
    pub fn backoff_cap(&self, attempt: u32) -> Duration {
        let factor = 2u32.checked_pow(attempt).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Whether a call that failed with `error` after attempt number
    /// `attempt` (from 0) gets another attempt.
    pub fn should_retry(&self, idempotent: bool, error: &Error, attempt: u32) -> bool {
        idempotent && attempt < self.max_retries && error.is_retryable()
    }

    /// How long to wait before the next attempt: the server's `Retry-After`
    /// (capped) when it sent one, else a full-jitter backoff.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let cap = self.backoff_cap(attempt);
        let cap_micros = u64::try_from(cap.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rng.random_range(0..=cap_micros))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api {
            status,
            method: "GET",
            path: "/api/servertypes".into(),
            body: Box::default(),
            retry_after,
        }
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_retries, 2);
        assert_eq!(p.base_delay, Duration::from_millis(100));
        assert_eq!(p.max_delay, Duration::from_secs(2));
        assert_eq!(p.max_retry_after, Duration::from_secs(10));
        assert_eq!(RetryPolicy::none().max_retries, 0);
    }

    #[test]
    fn backoff_doubles_and_stops_at_max_delay() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_cap(0), Duration::from_millis(100));
        assert_eq!(p.backoff_cap(1), Duration::from_millis(200));
        assert_eq!(p.backoff_cap(4), Duration::from_millis(1600));
        assert_eq!(p.backoff_cap(5), Duration::from_secs(2));
        assert_eq!(p.backoff_cap(200), Duration::from_secs(2));
    }

    #[test]
    fn jittered_delay_stays_between_zero_and_the_cap_and_varies() {
        let p = RetryPolicy::default();
        let mut rng = rand::rng();
        let delays: Vec<Duration> = (0..200).map(|_| p.delay(3, None, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 50, "full jitter should spread the delays");
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(3),
            ..Default::default()
        };
        let mut rng = rand::rng();
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(1)), &mut rng),
            Duration::from_secs(1)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(60)), &mut rng),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn only_idempotent_calls_with_retryable_failures_are_retried() {
        let p = RetryPolicy::default();
        for status in [429, 502, 503, 504] {
            assert!(p.should_retry(true, &api(status, None), 0), "{status}");
            assert!(
                !p.should_retry(false, &api(status, None), 0),
                "POST {status}"
            );
        }
        for status in [400, 401, 403, 404, 409, 422, 500] {
            assert!(!p.should_retry(true, &api(status, None), 0), "{status}");
        }
        let timeout = Error::Timeout {
            method: "GET",
            path: "/x".into(),
        };
        assert!(p.should_retry(true, &timeout, 1));
        assert!(!p.should_retry(true, &timeout, 2), "max_retries reached");
        assert!(!RetryPolicy::none().should_retry(true, &timeout, 0));
    }
}
