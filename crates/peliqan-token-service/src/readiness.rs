//! `/readyz`: can the service hand out tokens right now?
//!
//! Ready means the configuration loaded (it did, or the process would not
//! run) and Peliqan accepts the partner credentials (the partner token, or
//! the OAuth client credentials). A probe calls Peliqan at most once per
//! `readiness_cache`, so an orchestrator polling every second does not
//! become Peliqan load; any real call's outcome updates the same state, so a
//! 401/403 seen while serving makes `/readyz` fail at once.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// The last known state of the partner credentials.
#[derive(Default)]
pub struct PartnerHealth {
    last: Mutex<Option<(Instant, Result<(), String>)>>,
    /// Coalesces concurrent probes into one upstream call.
    probing: tokio::sync::Mutex<()>,
}

impl PartnerHealth {
    /// A call with the partner credentials succeeded.
    pub fn credentials_work(&self) {
        *self.last.lock() = Some((Instant::now(), Ok(())));
    }

    /// Peliqan refused the partner credentials; `why` names them (never
    /// their secret).
    pub fn credentials_rejected(&self, why: String) {
        *self.last.lock() = Some((Instant::now(), Err(why)));
    }

    /// The cached result, if younger than `max_age`.
    pub fn cached(&self, max_age: Duration) -> Option<Result<(), String>> {
        let last = self.last.lock();
        last.as_ref()
            .filter(|(at, _)| at.elapsed() < max_age)
            .map(|(_, r)| r.clone())
    }

    /// The state, probing with `probe` when the cached one is too old.
    pub async fn check<F, Fut>(&self, max_age: Duration, probe: F) -> Result<(), String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        if let Some(r) = self.cached(max_age) {
            return r;
        }
        let _guard = self.probing.lock().await;
        if let Some(r) = self.cached(max_age) {
            return r;
        }
        let result = probe().await;
        *self.last.lock() = Some((Instant::now(), result.clone()));
        result
    }
}
