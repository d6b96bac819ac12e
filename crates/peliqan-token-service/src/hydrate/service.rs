//! Hydration inside the service: a tenant the service provisions gets the
//! blueprint applied right after its sub-account is created, inside the
//! flight that created it (so once; fleet-wide under the shared tier's
//! lock). The user's token never waits on a failure, and on a slow
//! attempt for 3 s at most: a failed attempt is retried in a background
//! task with capped exponential backoff and jitter, while the token is
//! answered. Each attempt is one log line and
//! one `token_service_tenant_hydrations{outcome}` count; the ledger keeps
//! the tenant's state for `tenants show`.
//!
//! A replica that stops while retrying leaves the tenant `failed` in the
//! ledger; `hydrate --all` (or `--tenant`) finishes it.

use super::apply::{Hydrator, Options, Outcome, Report, Target};
use crate::metrics::Metrics;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

/// First retry delay; doubled per attempt up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(300);
/// Longest a new tenant's first token waits for its first hydration attempt.
const INLINE_WAIT: Duration = Duration::from_secs(3);
/// Attempts in the background before leaving it to the operator (about an
/// hour with the delays above).
const MAX_ATTEMPTS: u32 = 16;

/// The service's hydration of newly provisioned tenants.
pub struct Hydration {
    hydrator: Arc<Hydrator>,
    metrics: Arc<Metrics>,
}

/// The wait before retry number `attempt` (1-based): full jitter over the
/// upper half of the capped exponential step, so retries of many tenants
/// failing together spread out.
fn backoff(attempt: u32) -> Duration {
    let step = FIRST_DELAY
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_DELAY);
    step.mul_f64(rand::rng().random_range(0.5..=1.0))
}

impl Hydration {
    /// Hydration with `hydrator`, counted in `metrics`.
    pub fn new(hydrator: Arc<Hydrator>, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self { hydrator, metrics })
    }

    /// The blueprint's version, for logs.
    pub fn version(&self) -> u32 {
        self.hydrator.blueprint.version
    }

    /// `target` was just created: apply the blueprint now (with the
    /// account's `token` when there is one), and on failure keep trying in
    /// the background. Returns once the first attempt ended, or after
    /// [`INLINE_WAIT`] at most: a slow Peliqan must not hold the user's
    /// token, and the attempt goes on in its own task (never cancelled
    /// half-way, which would leave a step uncertain).
    pub async fn provisioned(self: &Arc<Self>, target: Target, token: Option<&str>) {
        let (first_done, first) = tokio::sync::oneshot::channel();
        let (this, token) = (self.clone(), token.map(str::to_owned));
        tokio::spawn(async move {
            let report = this
                .hydrator
                .apply(&target, token.as_deref(), Options::default())
                .await;
            let again = this.observe(&report, 1);
            let _ = first_done.send(());
            if again {
                this.retry(target).await;
            }
        });
        if tokio::time::timeout(INLINE_WAIT, first).await.is_err() {
            tracing::info!(
                "hydration is taking longer than {} s; the token is answered meanwhile",
                INLINE_WAIT.as_secs()
            );
        }
    }

    async fn retry(&self, target: Target) {
        for attempt in 2..=MAX_ATTEMPTS {
            tokio::time::sleep(backoff(attempt - 1)).await;
            let report = self.hydrator.apply(&target, None, Options::default()).await;
            if !self.observe(&report, attempt) {
                return;
            }
        }
        tracing::error!(
            tenant = %target.external_id,
            subaccount_id = target.subaccount_id.0,
            attempts = MAX_ATTEMPTS,
            "tenant hydration GAVE UP after {MAX_ATTEMPTS} attempts; finish it with \
             `peliqan-token-service hydrate --tenant {}`",
            target.external_id
        );
    }

    /// Logs and counts an attempt; whether it should be retried.
    fn observe(&self, report: &Report, attempt: u32) -> bool {
        let outcome = report.outcome;
        self.metrics.hydration(outcome.as_str());
        let version = self.version();
        match outcome {
            Outcome::Hydrated | Outcome::Unchanged | Outcome::Planned => {
                tracing::info!(
                    tenant = %report.external_id,
                    subaccount_id = report.subaccount_id,
                    blueprint_version = version,
                    attempt,
                    created = ?report.created,
                    outcome = outcome.as_str(),
                    "tenant hydrated"
                );
                false
            }
            Outcome::Failed if attempt < MAX_ATTEMPTS => {
                tracing::warn!(
                    tenant = %report.external_id,
                    subaccount_id = report.subaccount_id,
                    blueprint_version = version,
                    attempt,
                    created = ?report.created,
                    error = report.error.as_deref().unwrap_or_default(),
                    "tenant hydration failed; the token was answered, retrying in the background"
                );
                true
            }
            Outcome::Failed => false,
            Outcome::Uncertain => {
                tracing::error!(
                    tenant = %report.external_id,
                    subaccount_id = report.subaccount_id,
                    blueprint_version = version,
                    attempt,
                    uncertain = ?report.uncertain,
                    error = report.error.as_deref().unwrap_or_default(),
                    "tenant hydration UNCERTAIN: a create got no answer, so it may exist; check \
                     the account, then run `hydrate --tenant ... --uncertain exists|missing`"
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        for _ in 0..50 {
            let first = backoff(1);
            assert!(first >= FIRST_DELAY / 2 && first <= FIRST_DELAY);
            let third = backoff(3);
            assert!(third >= FIRST_DELAY * 2 && third <= FIRST_DELAY * 4);
            assert!(backoff(40) <= MAX_DELAY && backoff(40) >= MAX_DELAY / 2);
        }
    }
}
