//! `cargo xtask soak`: the token service under steady load while Peliqan
//! (the release-built emulator) misbehaves in turn, with a table of what
//! callers saw. Loopback only, bounded (about 2.5 minutes by default), not
//! part of `cargo xtask test`.
//!
//! Set-up: emulator (sub-account tokens living `--token-ttl` s) ← a TCP
//! relay the soak can close ([`relay`]) ← the token service (short
//! upstream timeouts, refresh-ahead a third of the token's life) ← the
//! load ([`load`]): `--connections` keep-alive connections sending
//! `--rate` `POST /v1/token` per second in all, for two users of each of
//! `--tenants` tenants in turn, `--cold-rate` of them for tenants the
//! service has never seen (a miss each). After a warm-up that caches every
//! steady tenant,
//! each phase ([`phases`]) runs `--phase-secs` with its fault in bursts:
//! none, 503s, answers slower than the service's timeout, 429s with
//! `Retry-After`, refused connections, and 200s whose body is an HTML page
//! instead of JSON. Per phase the soak reads the emulator's
//! token-call count, the service's refresh counters and its RSS, and books
//! every answer by code. It prints a markdown table ([`report`]) and fails
//! if the service caused a 5xx itself, left a request unanswered, gave an
//! error to a tenant it had a servable token for, or grew in memory.

mod client;
mod load;
mod phases;
mod relay;
mod report;

use crate::bench::cores::Layout;
use crate::bench::http;
use crate::bench::setup::{emulator, rss_mb, service};
use crate::cmd::{cargo, run};
use anyhow::Context;
use std::net::ToSocketAddrs;
use std::time::Duration;

/// Options of `cargo xtask soak`.
#[derive(clap::Args)]
pub struct Args {
    /// Length of each phase, in seconds (at least one refresh period,
    /// about half the token lifetime, so every tenant refreshes in it).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(5..=600))]
    phase_secs: u64,
    /// Seconds a fault stays on, then off as long (shorter than a third
    /// of the token lifetime, the service's refresh window).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=60))]
    burst_secs: u64,
    /// Lifetime of the emulator's sub-account tokens, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(9..=3600))]
    token_ttl: u32,
    /// Tenants; each has two users (distinct JWTs).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    tenants: u64,
    /// Requests per second, all connections together.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Cold tenants (never asked for before) per second, mixed into the
    /// rate; 0 for none.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=1000))]
    cold_rate: u32,
    /// Concurrent connections to the service.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1000))]
    connections: u64,
    /// Run only this phase (repeatable; baseline, 5xx, slow, 429, refused,
    /// garbage), e.g. to reproduce one.
    #[arg(long = "phase", value_name = "NAME")]
    only: Vec<String>,
}

/// The service's upstream timeouts during the soak (seconds), and how much
/// longer the slow phase's answers take.
const UPSTREAM_TIMEOUT: f64 = 1.0;
const CONNECT_TIMEOUT: f64 = 0.5;
const SLOW_DELAY_MS: u64 = 1500;

/// Runs the soak.
pub fn run_soak(args: Args) -> anyhow::Result<()> {
    let burst = Duration::from_secs(args.burst_secs);
    if let Some(bad) = args
        .only
        .iter()
        .find(|k| !phases::all(0).iter().any(|p| p.key == *k))
    {
        anyhow::bail!("no phase `{bad}`: baseline, 5xx, slow, 429, refused or garbage");
    }
    let (margin, ahead) = (u64::from(args.token_ttl / 15).max(1), args.token_ttl / 3);
    anyhow::ensure!(
        args.burst_secs < u64::from(ahead),
        "--burst-secs must be shorter than the refresh window, a third of --token-ttl ({ahead} s)"
    );
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "peliqan-emulator",
        "-p",
        "peliqan-token-service",
        "--bin",
        "peliqan-emulator",
        "--bin",
        "peliqan-token-service",
    ]))?;
    let (_emu, emu, partner) = emulator(args.token_ttl)?;
    let target = emu
        .trim_start_matches("http://")
        .to_socket_addrs()?
        .next()
        .context("emulator address")?;
    let mut relay = relay::Relay::start(target)?;
    let env = [
        ("TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS", margin.to_string()),
        ("TOKEN_SERVICE_CACHE_REFRESH_AHEAD_SECS", ahead.to_string()),
        (
            "TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS",
            UPSTREAM_TIMEOUT.to_string(),
        ),
        (
            "TOKEN_SERVICE_UPSTREAM_CONNECT_TIMEOUT_SECS",
            CONNECT_TIMEOUT.to_string(),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_svc, svc, pid) = service(&relay.url(), &partner, &env, &Layout::shared())?;

    let mut phases = phases::all(SLOW_DELAY_MS);
    if !args.only.is_empty() {
        phases.retain(|p| args.only.iter().any(|k| k == p.key));
    }
    let running = phases.len() as u64;
    let tenants = args.tenants as usize;
    // Enough for every phase, and some over for a run that goes faster.
    let cold = (u64::from(args.cold_rate) * args.phase_secs * running * 11 / 10) as usize;
    eprintln!("xtask soak: creating {cold} cold tenants in the emulator");
    provision(&emu, &partner, cold)?;
    let people = load::Population {
        steady: load::users("soak-tenant", tenants, 2),
        tenants,
        cold: load::users("soak-cold", cold, 1),
        cold_rate: args.cold_rate,
    };
    // First requests spread over one refresh period, so that refreshes
    // (and the failures they meet) are spread over every burst.
    let spread = Duration::from_secs(u64::from(args.token_ttl - ahead) - margin);
    eprintln!(
        "xtask soak: warming up {tenants} tenants over {} s",
        spread.as_secs()
    );
    let mut load = load::Load::warm(&svc, people, margin as i64, spread)?;
    let rss_warm = rss_mb(pid)?;
    load.start(args.connections as usize, args.rate)?;
    let mut outcomes = Vec::new();
    let mut indices = Vec::new();
    for phase in &phases {
        let mut o = report::Outcome::ran(phase, phase.describe(burst, UPSTREAM_TIMEOUT), tenants);
        eprintln!("xtask soak: phase `{}`: {}", phase.name, o.fault);
        let (calls, before, rss) = (
            http::upstream_token_calls(&emu)?,
            refreshes(&svc)?,
            rss_mb(pid)?,
        );
        let index = load.begin();
        phase.drive(
            &emu,
            &mut relay,
            Duration::from_secs(args.phase_secs),
            burst,
        )?;
        let after = refreshes(&svc)?;
        o.token_calls = http::upstream_token_calls(&emu)? - calls;
        o.refreshes = (after.0 - before.0, after.1 - before.1);
        o.rss_mb = (rss, rss_mb(pid)?);
        o.entries = http::metric(&svc, "token_service_token_cache_entries")?;
        let (requests, failed, cached_failed) = load.progress(index);
        println!(
            "xtask soak: phase `{}`: {} requests, {failed} non-2xx, {cached_failed} cached tenant(s) \
             with an error, {} upstream token calls, RSS {:.1} -> {:.1} MB",
            phase.name,
            report::thousands(requests),
            o.token_calls,
            o.rss_mb.0,
            o.rss_mb.1
        );
        outcomes.push(o);
        indices.push(index);
    }
    let mut tallies = load.finish();
    for ((o, phase), i) in outcomes.iter_mut().zip(&phases).zip(indices) {
        o.judge(phase, std::mem::take(&mut tallies[i]));
    }

    println!(
        "\n== cargo xtask soak: {tenants} tenants ({} user JWTs), {} req/s on {} connections, \
         {} s per phase; token TTL {} s, service margin {margin} s, refresh ahead {ahead} s, \
         upstream timeout {UPSTREAM_TIMEOUT} s (connect {CONNECT_TIMEOUT} s); RSS {rss_warm:.1} MB \
         after the warm-up ==\n",
        2 * tenants,
        args.rate,
        args.connections,
        args.phase_secs,
        args.token_ttl
    );
    println!("{}", report::table(&outcomes));
    let missed = report::missed(&outcomes, rss_warm);
    if missed.is_empty() {
        println!(
            "All goals met: no self-caused 5xx, no unanswered request, no error for a cached tenant, \
            RSS within {} MB of the warm-up's.",
            report::RSS_GROWTH_MB
        );
        Ok(())
    } else {
        for m in &missed {
            println!("GOAL MISSED: {m}");
        }
        anyhow::bail!("{} soak goal(s) missed (see above)", missed.len())
    }
}

/// Creates the sub-accounts `soak-cold-0 ..` directly in the emulator.
fn provision(emu: &str, partner: &str, n: usize) -> anyhow::Result<()> {
    let mut conn = client::Conn::new(emu)?;
    let auth = format!("JWT {partner}");
    for i in 0..n {
        let body = serde_json::json!({"external_id": format!("soak-cold-{i}")}).to_string();
        let answer = conn.request(
            "POST",
            "/api/subaccount",
            &[("Authorization", &auth)],
            &body,
        )?;
        anyhow::ensure!(
            (200..300).contains(&answer.status),
            "creating a cold tenant answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
    Ok(())
}

/// The service's background refreshes so far: ok, failed.
fn refreshes(svc: &str) -> anyhow::Result<(f64, f64)> {
    let series = |o: &str| format!("token_service_token_cache_refreshes_total{{outcome=\"{o}\"}}");
    Ok((
        http::metric(svc, &series("ok"))?,
        http::metric(svc, &series("error"))?,
    ))
}
