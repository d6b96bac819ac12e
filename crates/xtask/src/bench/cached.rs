//! Phase 1: throughput and latency of the cached `POST /v1/token` path
//! against a bare actix handler with a same-sized body, alternating runs so
//! that background load hits both alike, in one core layout.
//!
//! Two kinds of load, side by side in the same rounds: **one JWT** repeated
//! on every request (the figure this phase always measured; the service's
//! memo of verified JWTs answers every request), and the **mix**: many
//! distinct user JWTs over many warm tenants, wrk picking one at random per
//! request, as real traffic does (one token request per user per page
//! load). Each is compared with a bare handler answering as many bytes,
//! driven by the very same wrk script, so wrk's own cost per request weighs
//! on both sides alike.

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
    /// The mix of distinct users, if measured.
    pub mix: Option<Mix<'a>>,
    /// Extra settings of the service (the shared tier's, with `--replicas`).
    pub env: &'a [(&'a str, &'a str)],
}

/// Many users over many tenants.
pub struct Mix<'a> {
    /// The user JWTs, one per line, all signed before the timed runs.
    pub tokens: &'a Path,
    /// One JWT of each tenant, sent once each before timing (which
    /// provisions and caches every tenant).
    pub warm: &'a [String],
    /// How many users and tenants, for the report.
    pub users: usize,
    pub tenants: usize,
    /// wrk script picking a random JWT from `tokens` per request.
    pub lua: &'a Path,
}

/// Runs the rounds with fresh service and bare processes placed per
/// `layout`, and returns the report lines.
pub fn measure(setup: &Setup, layout: &Layout) -> anyhow::Result<Vec<String>> {
    let (_svc, svc, _) = service(setup.emulator, setup.partner, setup.env, layout)?;
    let token_url = format!("{svc}/v1/token");
    let warm = |jwt: &str| -> anyhow::Result<String> {
        let auth = format!("Bearer {jwt}");
        let (status, body) = http::request("POST", &token_url, &[("Authorization", &auth)], "")?;
        anyhow::ensure!(status == 200, "warm-up answered {status}: {body}");
        Ok(body)
    };
    let body = warm(setup.jwt)?;
    let mut mix_body = 0;
    if let Some(mix) = &setup.mix {
        for jwt in mix.warm {
            mix_body = warm(jwt)?.len();
        }
    }
    let (_bare, bare_url) = bare(body.len(), layout)?;
    let bare_url = format!("{bare_url}/v1/token");
    // The mix's answers name other tenants: its bare handler answers as
    // many bytes as they do.
    let mix_bare = match setup.mix {
        Some(_) => Some(bare(mix_body, layout)?),
        None => None,
    };
    let mix_bare_url = mix_bare
        .as_ref()
        .map_or_else(String::new, |(_, url)| format!("{url}/v1/token"));
    let (mut s, mut b) = (Rounds::default(), Rounds::default());
    let (mut ms, mut mb) = (Rounds::default(), Rounds::default());
    for _ in 0..setup.rounds {
        let run =
            |url: &str| wrk::wrk(url, 64, setup.secs, Some(setup.jwt), setup.lua, &[], layout);
        s.measured(&svc, || run(&token_url))?;
        b.push(&run(&bare_url)?);
        if let Some(mix) = &setup.mix {
            let tokens = mix.tokens.display().to_string();
            let run = |url: &str| {
                let env = [("BENCH_TOKENS", tokens.as_str())];
                wrk::wrk(url, 64, setup.secs, None, mix.lua, &env, layout)
            };
            ms.measured(&svc, || run(&token_url))?;
            mb.push(&run(&mix_bare_url)?);
        }
    }
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
    let mut out = vec![format!(
        "  {}, body {} bytes:",
        layout.describe(),
        body.len()
    )];
    out.extend(lines(&s, &b, ratio_note, p99_note));
    if let Some(mix) = &setup.mix {
        out.push(format!(
            "   mix: {} user JWTs over {} warm tenants, a random one per request (body {mix_body} bytes), \
            against a bare handler answering {mix_body} bytes, driven by the same script:",
            mix.users, mix.tenants
        ));
        out.extend(lines(&ms, &mb, ratio_note, p99_note));
        out.push(format!(
            "   ratios side by side: one JWT {:.2}, mix {:.2}",
            s.ratio(&b),
            ms.ratio(&mb)
        ));
    }
    Ok(out)
}

/// The report lines of one kind of load: `s` the service, `b` the bare handler.
fn lines(s: &Rounds, b: &Rounds, ratio_note: &str, p99_note: &str) -> Vec<String> {
    let inside = 100.0 * s.fast / s.served.max(1.0);
    vec![
        format!(
            "    service {:.0} req/s vs bare actix handler {:.0} req/s (medians): ratio {:.2} ({ratio_note})",
            median(s.rps.clone()),
            median(b.rps.clone()),
            s.ratio(b),
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
    ]
}

#[derive(Default)]
struct Rounds {
    rps: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    errors: u64,
    /// Requests the service counted during these rounds, and how many of
    /// those took under 0.1 ms.
    served: f64,
    fast: f64,
}

impl Rounds {
    fn push(&mut self, r: &wrk::Report) {
        self.rps.push(r.requests_per_sec);
        self.p50.push(r.p50_ms);
        self.p99.push(r.p99_ms);
        self.errors += r.errors;
    }

    /// Runs `run` against the service at `svc`, also reading its own
    /// histogram before and after.
    fn measured(
        &mut self,
        svc: &str,
        run: impl FnOnce() -> anyhow::Result<wrk::Report>,
    ) -> anyhow::Result<()> {
        let (count_before, fast_before) = served(svc)?;
        self.push(&run()?);
        let (count_after, fast_after) = served(svc)?;
        self.served += count_after - count_before;
        self.fast += fast_after - fast_before;
        Ok(())
    }

    /// Median throughput against that of `bare`.
    fn ratio(&self, bare: &Rounds) -> f64 {
        median(self.rps.clone()) / median(bare.rps.clone())
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
