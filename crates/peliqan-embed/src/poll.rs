//! When a new connection counts as done: the status-polling decisions.
//!
//! After `POST /api/servers`, the SDK polls `GET /api/server/{id}` and feeds
//! every observation into [`Poller::observe`], which answers "wait N ms and
//! poll again" or an [`Outcome`]. Rules, learned from OAuth popup bug
//! reports (Nango, Paragon, Plaid):
//! - A live connection is `Connected`, whatever the popup says: never
//!   report "cancelled" for a connection that went live.
//! - `popup.closed` is only a hint. Providers sending
//!   `Cross-Origin-Opener-Policy` make it read `true` while the user is still
//!   logging in (<https://developer.mozilla.org/docs/Web/HTTP/Headers/Cross-Origin-Opener-Policy>),
//!   so after it first reads closed we keep polling for a grace period and
//!   only then answer `Cancelled`.
//! - While the popup is open, poll with capped exponential backoff; the user
//!   may take minutes, so the overall timeout is long.

use peliqan_api::ConnectionStatus;

/// Timing of the polling loop, all in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// First delay between polls.
    pub initial_ms: f64,
    /// Each delay is the previous one times this.
    pub factor: f64,
    /// Delays never exceed this.
    pub max_ms: f64,
    /// How long to keep polling after the popup first reads closed.
    pub grace_ms: f64,
    /// Delay between polls during the grace period.
    pub grace_interval_ms: f64,
    /// Give up after this long in total.
    pub timeout_ms: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial_ms: 500.0,
            factor: 1.5,
            max_ms: 3_000.0,
            grace_ms: 10_000.0,
            grace_interval_ms: 1_000.0,
            timeout_ms: 300_000.0,
        }
    }
}

/// How a connect attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The connection is live.
    Connected,
    /// Peliqan marked it failed; the reason when it gave one.
    Failed(Option<String>),
    /// The popup was closed and the connection did not go live in the grace period.
    Cancelled,
    /// Neither live nor failed before the timeout.
    TimedOut,
}

/// What the caller should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Sleep this many milliseconds, then poll again.
    Wait(f64),
    /// Stop: the attempt ended.
    Done(Outcome),
}

/// One poll's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// `GET /api/server/{id}` answered this status (and message).
    Status(ConnectionStatus, Option<String>),
    /// The poll failed in a way worth retrying (network, 5xx).
    TransientError,
}

/// The polling state of one connect attempt.
#[derive(Debug, Clone)]
pub struct Poller {
    policy: PollPolicy,
    started_ms: f64,
    closed_at_ms: Option<f64>,
    next_delay_ms: f64,
}

impl Poller {
    /// Starts polling at `now_ms`.
    pub fn new(policy: PollPolicy, now_ms: f64) -> Self {
        let next_delay_ms = policy.initial_ms;
        Self {
            policy,
            started_ms: now_ms,
            closed_at_ms: None,
            next_delay_ms,
        }
    }

    /// Whether the popup has been seen closed (the grace period is running).
    pub fn in_grace(&self) -> bool {
        self.closed_at_ms.is_some()
    }

    /// Decides the next step from one observation. `popup_closed` is the
    /// current `popup.closed` hint (always `false` without a popup).
    pub fn observe(&mut self, now_ms: f64, obs: Observation, popup_closed: bool) -> Step {
        if let Observation::Status(status, message) = obs {
            match status {
                ConnectionStatus::Connected => return Step::Done(Outcome::Connected),
                ConnectionStatus::Failed => return Step::Done(Outcome::Failed(message)),
                _ => {}
            }
        }
        let until_timeout = self.started_ms + self.policy.timeout_ms - now_ms;
        if until_timeout <= 0.0 {
            return Step::Done(Outcome::TimedOut);
        }
        if popup_closed && self.closed_at_ms.is_none() {
            self.closed_at_ms = Some(now_ms);
        }
        let delay = match self.closed_at_ms {
            Some(closed) => {
                let grace_left = closed + self.policy.grace_ms - now_ms;
                if grace_left <= 0.0 {
                    return Step::Done(Outcome::Cancelled);
                }
                self.policy.grace_interval_ms.min(grace_left)
            }
            None => {
                let d = self.next_delay_ms;
                self.next_delay_ms = (d * self.policy.factor).min(self.policy.max_ms);
                d
            }
        };
        Step::Wait(delay.min(until_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionStatus::{Connected, Failed, Pending};

    fn pending() -> Observation {
        Observation::Status(Pending, None)
    }

    #[test]
    fn backs_off_exponentially_up_to_the_cap_while_the_popup_is_open() {
        let mut p = Poller::new(PollPolicy::default(), 0.0);
        let delays: Vec<Step> = (0..7).map(|_| p.observe(0.0, pending(), false)).collect();
        let want = [500.0, 750.0, 1125.0, 1687.5, 2531.25, 3000.0, 3000.0];
        assert_eq!(delays, want.map(Step::Wait).to_vec());
    }

    #[test]
    fn live_connection_wins_even_when_the_popup_reads_closed() {
        let mut p = Poller::new(PollPolicy::default(), 0.0);
        assert_eq!(p.observe(100.0, pending(), true), Step::Wait(1000.0));
        assert_eq!(
            p.observe(9_000.0, Observation::Status(Connected, None), true),
            Step::Done(Outcome::Connected)
        );
    }

    #[test]
    fn closed_popup_is_cancelled_only_after_the_grace_period() {
        let mut p = Poller::new(PollPolicy::default(), 0.0);
        assert_eq!(p.observe(1_000.0, pending(), true), Step::Wait(1000.0));
        assert!(p.in_grace());
        // COOP made `closed` read true, then the user is still busy: keep polling.
        assert_eq!(p.observe(10_500.0, pending(), true), Step::Wait(500.0));
        assert_eq!(
            p.observe(11_000.0, pending(), true),
            Step::Done(Outcome::Cancelled)
        );
    }

    #[test]
    fn failed_status_ends_with_its_message() {
        let mut p = Poller::new(PollPolicy::default(), 0.0);
        let obs = Observation::Status(Failed, Some("access denied".into()));
        assert_eq!(
            p.observe(0.0, obs, false),
            Step::Done(Outcome::Failed(Some("access denied".into())))
        );
    }

    #[test]
    fn times_out_and_never_sleeps_past_the_deadline() {
        let policy = PollPolicy {
            timeout_ms: 2_000.0,
            ..PollPolicy::default()
        };
        let mut p = Poller::new(policy, 0.0);
        assert_eq!(p.observe(0.0, pending(), false), Step::Wait(500.0));
        assert_eq!(
            p.observe(1_800.0, Observation::TransientError, false),
            Step::Wait(200.0)
        );
        assert_eq!(
            p.observe(2_000.0, pending(), false),
            Step::Done(Outcome::TimedOut)
        );
    }

    #[test]
    fn transient_errors_keep_polling_and_unknown_statuses_count_as_pending() {
        let mut p = Poller::new(PollPolicy::default(), 0.0);
        assert_eq!(
            p.observe(0.0, Observation::TransientError, false),
            Step::Wait(500.0)
        );
        let syncing = Observation::Status(ConnectionStatus::Other("syncing".into()), None);
        assert_eq!(p.observe(500.0, syncing, false), Step::Wait(750.0));
    }
}
