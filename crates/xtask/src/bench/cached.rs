//! Phase 1: throughput and latency of the cached `POST /v1/token` path
//! against a bare actix handler with a same-sized body, alternating runs so
//! that background load hits both alike, in one core layout.

use super::cores::Layout;
use super::setup::{bare, service};
use super::{http, median, wrk};
use std::path::Path;

/// Fixed inputs of the phase.
pub struct Setup<'a> {
    pub emulator: &'a str,
    pub partner: &'a str,
    /// A user JWT of an already provisioned tenant.
    pub jwt: &'a str,
    /// wrk script sending a POST.
    pub lua: &'a Path,
    pub secs: u32,
    pub rounds: usize,
}

/// Runs the rounds with fresh service and bare processes placed per
/// `layout`, and returns the report lines.
pub fn measure(setup: &Setup, layout: &Layout) -> anyhow::Result<Vec<String>> {
    let (_svc, svc, _) = service(setup.emulator, setup.partner, &[], layout)?;
    let token_url = format!("{svc}/v1/token");
    let auth = format!("Bearer {}", setup.jwt);
    let (status, body) = http::request("POST", &token_url, &[("Authorization", &auth)], "")?;
    anyhow::ensure!(status == 200, "warm-up answered {status}: {body}");
    let (_bare, bare_url) = bare(body.len(), layout)?;
    let bare_url = format!("{bare_url}/v1/token");
    let (count_before, fast_before) = served(&svc)?;
    let (mut s, mut b) = (Rounds::default(), Rounds::default());
    for _ in 0..setup.rounds {
        let run =
            |url: &str| wrk::wrk(url, 64, setup.secs, Some(setup.jwt), setup.lua, &[], layout);
        s.push(&run(&token_url)?);
        b.push(&run(&bare_url)?);
    }
    let (count_after, fast_after) = served(&svc)?;
    let inside = 100.0 * (fast_after - fast_before) / (count_after - count_before).max(1.0);
    let ratio = median(s.rps.clone()) / median(b.rps.clone());
    // Each target is checked where it measures the server (see cores.rs):
    // throughput with every core busy, tail latency with wrk on its own cores.
    let (ratio_note, p99_note) = if layout.is_split() {
        (
            "not the target's layout: half the cores may not saturate either server",
            "target p99 < 2 ms",
        )
    } else {
        (
            "target >= 0.75",
            "not the target's layout: the scheduler sets the tail, see the bare handler",
        )
    };
    Ok(vec![
        format!("  {}, body {} bytes:", layout.describe(), body.len()),
        format!(
            "    service {:.0} req/s vs bare actix handler {:.0} req/s (medians): ratio {ratio:.2} ({ratio_note})",
            median(s.rps.clone()),
            median(b.rps.clone())
        ),
        format!(
            "    latency p50 / p99 (medians of rounds): service {:.3} / {:.3} ms ({p99_note}), bare {:.3} / {:.3} ms; \
            service errors {}",
            median(s.p50.clone()),
            median(s.p99.clone()),
            median(b.p50.clone()),
            median(b.p99.clone()),
            s.errors
        ),
        format!(
            "    inside the service, {inside:.2} % of these requests took under 0.1 ms (its own histogram)"
        ),
        format!(
            "    rounds: service {:.0?} req/s, p99 {:.2?} ms; bare {:.0?} req/s, p99 {:.2?} ms",
            s.rps, s.p99, b.rps, b.p99
        ),
    ])
}

#[derive(Default)]
struct Rounds {
    rps: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    errors: u64,
}

impl Rounds {
    fn push(&mut self, r: &wrk::Report) {
        self.rps.push(r.requests_per_sec);
        self.p50.push(r.p50_ms);
        self.p99.push(r.p99_ms);
        self.errors += r.errors;
    }
}

/// The service's own view of its token requests: how many it served and
/// how many of those took under 0.1 ms (handler time, without the kernel
/// and scheduler queues that wrk also sees).
fn served(svc: &str) -> anyhow::Result<(f64, f64)> {
    let series = |s: &str| format!("token_service_http_request_duration_seconds_{s}");
    Ok((
        http::metric(svc, &series("count{route=\"/v1/token\"}"))?,
        http::metric(svc, &series("bucket{le=\"0.0001\",route=\"/v1/token\"}"))?,
    ))
}
