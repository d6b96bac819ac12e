//! The soak's phases and how each one's fault is switched on and off.
//!
//! Every fault comes in bursts: on for `burst` seconds, off as long, until
//! the phase ends (always off). The service's refresh window (its
//! refresh-ahead time, a third of the token lifetime) is longer than one
//! burst, so a tenant's refresh always meets an off period before its
//! token runs out: a cached tenant that still gets an error is the
//! service's doing, not bad luck.

use super::relay::Relay;
use crate::bench::http;
use peliqan_emulator::Control;
use std::time::{Duration, Instant};

/// The path prefix of both token routes (and the create route) in the
/// emulator's default `seed` dialect, the one the soak runs.
const TOKEN_ROUTES: &str = "/api/subaccount";

/// What a phase injects.
pub enum Fault {
    None,
    /// The emulator answers `status` to this share of token calls.
    Status {
        status: u16,
        probability: f64,
    },
    /// The emulator waits `delay_ms` (past the service's timeout) before
    /// answering this share of token calls.
    Slow {
        delay_ms: u64,
        probability: f64,
    },
    /// The port the service calls refuses connections.
    Refused,
    /// A 200 whose body is not JSON (an HTML page) on this share of token
    /// calls.
    Garbage {
        probability: f64,
    },
}

/// One phase of the soak.
pub struct Phase {
    /// Short name for `--phase`.
    pub key: &'static str,
    pub name: &'static str,
    pub fault: Fault,
}

/// What the garbage phase answers: a page a proxy or a broken deploy sends.
const GARBAGE_BODY: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";

/// The phases in order, with the delay of the slow phase.
pub fn all(slow_delay_ms: u64) -> Vec<Phase> {
    let p = 0.5;
    vec![
        Phase {
            key: "baseline",
            name: "baseline",
            fault: Fault::None,
        },
        Phase {
            key: "5xx",
            name: "5xx bursts",
            fault: Fault::Status {
                status: 503,
                probability: p,
            },
        },
        Phase {
            key: "slow",
            name: "slow answers",
            fault: Fault::Slow {
                delay_ms: slow_delay_ms,
                probability: p,
            },
        },
        Phase {
            key: "429",
            name: "429 + Retry-After",
            fault: Fault::Status {
                status: 429,
                probability: p,
            },
        },
        Phase {
            key: "refused",
            name: "connections refused",
            fault: Fault::Refused,
        },
        Phase {
            key: "garbage",
            name: "garbage bodies",
            fault: Fault::Garbage { probability: p },
        },
    ]
}

impl Phase {
    /// The fault in words, for the table.
    pub fn describe(&self, burst: Duration, timeout: f64) -> String {
        let bursts = format!("{} s on / {} s off", burst.as_secs(), burst.as_secs());
        let share = |p: f64| format!("{:.0} % of token calls", p * 100.0);
        match self.fault {
            Fault::None => "none".into(),
            Fault::Status {
                status: 429,
                probability,
            } => format!(
                "429 with `Retry-After: 1` on {}, {bursts}",
                share(probability)
            ),
            Fault::Status {
                status,
                probability,
            } => format!("{status} on {}, {bursts}", share(probability)),
            Fault::Slow {
                delay_ms,
                probability,
            } => format!(
                "{delay_ms} ms delay (service timeout {timeout} s) on {}, {bursts}",
                share(probability)
            ),
            Fault::Refused => format!("port closed, connections cut, {bursts}"),
            Fault::Garbage { probability } => {
                format!("200 with an HTML body on {}, {bursts}", share(probability))
            }
        }
    }

    /// Whether an answer keyed `"<status> <code>"` is what this phase's
    /// fault should cause: Peliqan failing is a 503 `upstream_unavailable`.
    /// Anything else (a 500, a 502, a 503 in the baseline) is the
    /// service's own.
    pub fn explains(&self, key: &str) -> bool {
        !matches!(self.fault, Fault::None) && key.starts_with("503 upstream_unavailable")
    }

    /// Runs the phase's fault in bursts for `length`, and leaves it off.
    pub fn drive(
        &self,
        emulator: &str,
        relay: &mut Relay,
        length: Duration,
        burst: Duration,
    ) -> anyhow::Result<()> {
        let end = Instant::now() + length;
        let pause =
            |d: Duration| std::thread::sleep(d.min(end.saturating_duration_since(Instant::now())));
        if matches!(self.fault, Fault::None) {
            pause(length);
            return Ok(());
        }
        while Instant::now() < end {
            self.on(emulator, relay)?;
            pause(burst);
            self.off(emulator, relay)?;
            pause(burst);
        }
        Ok(())
    }

    fn on(&self, emulator: &str, relay: &mut Relay) -> anyhow::Result<()> {
        let rule = match self.fault {
            Fault::Status {
                status,
                probability,
            } => peliqan_emulator::Fault::status(TOKEN_ROUTES, status).probability(probability),
            Fault::Slow {
                delay_ms,
                probability,
            } => peliqan_emulator::Fault::delay(TOKEN_ROUTES, delay_ms).probability(probability),
            Fault::Garbage { probability } => {
                peliqan_emulator::Fault::garbage(TOKEN_ROUTES, 200, GARBAGE_BODY)
                    .probability(probability)
            }
            Fault::Refused => {
                relay.stop();
                return Ok(());
            }
            Fault::None => return Ok(()),
        };
        http::control(Control::new(emulator).add_fault(&rule)).map(drop)
    }

    fn off(&self, emulator: &str, relay: &mut Relay) -> anyhow::Result<()> {
        match self.fault {
            Fault::Refused => relay.resume(),
            _ => http::control(Control::new(emulator).clear_faults()),
        }
    }
}
