//! The per-user rate limit across the fleet.
//!
//! Each replica keeps its own limiter ([`crate::rate_limit`]) on the hot
//! path; with a shared tier, the limiter's entry of a user also counts the
//! user's requests per clock minute ([`crate::rate_limit::fleet`]), and a
//! background task here adds them to a count in Redis that all replicas
//! share, without a Redis round trip per request: every [`FLUSH_EVERY`],
//! one pipelined `INCRBY` and `PEXPIRE` per user to report, and the users
//! whose fleet-wide count went over the limit are marked in the limiter.
//!
//! **Only users near their limit are reported.** A user's requests reach
//! Redis once the user has made more than
//! [`report_from`](crate::rate_limit::fleet::report_from) (`per_minute /
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
use crate::rate_limit::RateLimiter;
use crate::rate_limit::fleet::Unreported;
use std::sync::Arc;
use std::time::Duration;

/// How often local counts go to Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Starts reporting `limiter`'s counts to `tier` (a limiter made
/// [`RateLimiter::for_fleet`]); the task ends when the limiter is dropped.
pub fn start_reporting(limiter: &Arc<RateLimiter>, tier: Arc<SharedTier>) {
    let weak = Arc::downgrade(limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        loop {
            tick.tick().await;
            let Some(limiter) = weak.upgrade() else {
                return;
            };
            let batch = limiter.take_unreported();
            if batch.is_empty() {
                continue;
            }
            match tier
                .add_counts(&named(&batch), Duration::from_secs(61))
                .await
            {
                Some(totals) => limiter.over_limit(&batch, &totals),
                // Redis did not take them: they go with the next flush
                // (while their minute lasts).
                None => limiter.restore(&batch),
            }
        }
    });
}

/// The Redis key and count of each user in `batch`.
fn named(batch: &[Unreported]) -> Vec<(String, u64)> {
    batch
        .iter()
        .map(|(key, minute, n)| {
            let name = format!("peliqan-embed:{}:{key:016x}:{minute}", Kind::Rate.as_str());
            (name, u64::from(*n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_named_by_user_and_minute() {
        let named = named(&[(0xab, 29_000_000, 3)]);
        assert_eq!(
            named,
            [(
                format!(
                    "peliqan-embed:{}:00000000000000ab:29000000",
                    Kind::Rate.as_str()
                ),
                3
            )]
        );
    }
}
