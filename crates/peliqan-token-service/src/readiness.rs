//! `/readyz`: can the service hand out tokens right now?
//!
//! Ready means the configuration loaded (it did, or the process would not
//! run) and Peliqan accepts the partner credentials (the partner token, or
//! the OAuth client credentials). Only a probe decides: a partner call
//! (the connector catalogue), made at most once per `readiness_cache` so an
//! orchestrator polling every second does not become Peliqan load. What
//! other calls see does not count: a 401/403 on one tenant's token call is
//! that tenant's problem (a deleted sub-account, a revoked token), and must
//! not take the replica out of the load balancer.
//!
//! `/readyz` is unauthenticated, so its answer is one of a few fixed
//! sentences ([`not_ready_reason`]), chosen by the kind of failure and
//! naming only the service's own settings; Peliqan's answer (status, path,
//! message) goes to the log.

use crate::upstream::{Credential, UpstreamError};
use parking_lot::Mutex;
use peliqan_api::clock::SharedClock;
use std::time::{Duration, Instant};

/// The last probe's result, shared by every `/readyz` request.
pub struct PartnerHealth {
    last: Mutex<Option<(Instant, Result<(), String>)>>,
    /// Coalesces concurrent probes into one upstream call.
    probing: tokio::sync::Mutex<()>,
    /// Where the probe's age is read.
    clock: SharedClock,
}

impl PartnerHealth {
    /// No probe yet; ages are read on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            last: Mutex::default(),
            probing: tokio::sync::Mutex::default(),
            clock,
        }
    }

    /// The last probe's result, if younger than `max_age`.
    pub fn cached(&self, max_age: Duration) -> Option<Result<(), String>> {
        let now = self.clock.instant();
        let last = self.last.lock();
        last.as_ref()
            .filter(|(at, _)| now.saturating_duration_since(*at) < max_age)
            .map(|(_, r)| r.clone())
    }

    /// The state, probing with `probe` when the last probe is too old.
    /// `probe` answers the fixed sentence to show when not ready.
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
        *self.last.lock() = Some((self.clock.instant(), result.clone()));
        result
    }
}

/// The sentence `/readyz` answers for a failed probe: fixed per kind of
/// failure, naming the settings to check, never Peliqan's own answer.
pub fn not_ready_reason(e: &UpstreamError, credential: &Credential) -> String {
    if let Some(dialect) = e.route_mismatch() {
        format!(
            "Peliqan has no route for `{}` as the API dialect `{dialect}` writes it: check \
             PELIQAN_API_DIALECT (run `peliqan-token-service doctor`)",
            e.failed_operation()
        )
    } else if e.is_unauthorized() {
        format!(
            "Peliqan refused the {} (check {})",
            credential.noun(),
            credential.keys()
        )
    } else {
        "Peliqan could not be reached or failed; see the service's log".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::clock::ManualClock;
    use peliqan_client::{Error, Operation};

    #[test]
    fn a_probe_result_is_kept_for_its_max_age_only() {
        let clock = ManualClock::new();
        let h = PartnerHealth::new(clock.clone());
        assert_eq!(h.cached(Duration::from_secs(60)), None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let probed = rt.block_on(h.check(Duration::from_secs(60), || async { Ok(()) }));
        assert_eq!(probed, Ok(()));
        // Within its age the result is reused: the probe is not run again.
        let again = rt.block_on(h.check(Duration::from_secs(60), || async {
            Err("must not run".to_owned())
        }));
        assert_eq!(again, Ok(()));
        assert_eq!(h.cached(Duration::ZERO), None);
        clock.advance(Duration::from_secs(59));
        assert_eq!(h.cached(Duration::from_secs(60)), Some(Ok(())));
        clock.advance(Duration::from_secs(1));
        assert_eq!(h.cached(Duration::from_secs(60)), None, "aged on the clock");
    }

    #[test]
    fn the_reason_never_carries_peliqans_answer() {
        let e = UpstreamError {
            operation: Operation::Servertypes,
            error: Error::Api {
                status: 503,
                method: "GET",
                path: "/api/servertypes".into(),
                body: Box::new(peliqan_api::ApiErrorBody::detail(
                    "db host pg-7.internal down",
                )),
                retry_after: None,
            },
        };
        let why = not_ready_reason(&e, &Credential::Token);
        assert!(
            !why.contains("pg-7") && !why.contains("/api/servertypes"),
            "{why}"
        );
        let e = UpstreamError {
            operation: Operation::Servertypes,
            error: Error::Api {
                status: 401,
                method: "GET",
                path: "/api/servertypes".into(),
                body: Box::new(peliqan_api::ApiErrorBody::detail("Signature expired.")),
                retry_after: None,
            },
        };
        assert_eq!(
            not_ready_reason(&e, &Credential::Token),
            "Peliqan refused the partner token (check PELIQAN_PARTNER_TOKEN)"
        );
    }
}
