//! `cargo xtask bench token-service [--quick] [--users N --tenants M]
//! [--rounds N] [--cached-only] [--replicas N]`: the token service's speed and memory
//! figures, from one run, against the release-built emulator. With
//! `--replicas N`, instead: a fleet with and without the shared tier
//! ([`fleet`]), then phase 1 with Redis configured.
//!
//! Phases: (1) cached-path throughput and latency of `POST /v1/token`
//! against a bare actix handler with a same-sized body, alternating runs so
//! that background load hits both alike, once with the cores split between
//! server and wrk and once shared ([`cores`]), each with one JWT repeated
//! and with the mix of `--users` distinct user JWTs over `--tenants` warm
//! tenants, one picked at random per request ([`cached`]); (2) a burst of 1,000 connections
//! for one cold tenant, upstream slowed by 200 ms so they all miss together,
//! counting upstream token calls; (3) RSS with 100,000 cached tenants;
//! (4) 60 s of steady load on 100 tenants whose tokens live 30 s, counting
//! upstream calls and requests that waited on Peliqan. `--quick` shortens
//! every phase for a dry run.

mod cached;
mod fleet;
// Shared with `cargo xtask soak`.
pub(crate) mod cores;
pub(crate) mod http;
pub(crate) mod setup;
mod wrk;

use crate::cmd::{cargo, root, run};
use cores::Layout;
use peliqan_api::{Dialect, Operation};
use peliqan_emulator::{Control, Fault};
use setup::{emulator, mint, mint_user, provision, rss_mb, service, write_tokens};
use std::time::{Duration, Instant};

/// What to benchmark.
#[derive(clap::Subcommand)]
pub enum Target {
    /// The token service (see crates/peliqan-token-service/README.md).
    TokenService {
        /// Shorter phases, for a dry run.
        #[arg(long)]
        quick: bool,
        /// Distinct user JWTs of the cached path's mix (0: no mix).
        #[arg(long, default_value_t = 10_000)]
        users: usize,
        /// Warm tenants those users belong to (user `i` to tenant `i % tenants`).
        #[arg(long, default_value_t = 1_000)]
        tenants: usize,
        /// Only the cached path (phase 1), e.g. to compare two builds.
        #[arg(long)]
        cached_only: bool,
        /// A fleet of N replicas with the shared tier on a real
        /// redis-server, side by side with one replica and with N replicas
        /// alone ([`fleet`]); then the cached path with Redis configured
        /// (only that with `--cached-only`).
        #[arg(long, value_name = "N")]
        replicas: Option<usize>,
        /// Rounds of the cached path (its figures are medians of rounds):
        /// more on a busy machine. Default 3 (1 with --quick).
        #[arg(long, value_name = "N")]
        rounds: Option<usize>,
    },
}

/// Runs the chosen benchmark.
pub fn run_target(target: Target) -> anyhow::Result<()> {
    let Target::TokenService {
        quick,
        users,
        tenants,
        cached_only,
        replicas,
        rounds,
    } = target;
    anyhow::ensure!(rounds != Some(0), "--rounds must be at least 1");
    anyhow::ensure!(
        users == 0 || (1..=users).contains(&tenants),
        "--tenants must be between 1 and --users"
    );
    let mix = (users > 0).then_some((users, tenants));
    let build = [
        "build",
        "--release",
        "-p",
        "peliqan-emulator",
        "-p",
        "peliqan-token-service",
    ];
    run(cargo().args(build).args([
        "--bin",
        "peliqan-emulator",
        "--bin",
        "peliqan-token-service",
        "--example",
        "bare",
    ]))?;
    wrk::ensure()?;
    let mut report = vec![format!(
        "== cargo xtask bench token-service{} --users {users} --tenants {tenants}{}{}{} ==",
        if quick { " --quick" } else { "" },
        if cached_only { " --cached-only" } else { "" },
        replicas.map_or(String::new(), |n| format!(" --replicas {n}")),
        rounds.map_or(String::new(), |n| format!(" --rounds {n}")),
    )];
    if let Some(n) = replicas {
        anyhow::ensure!(n >= 2, "--replicas needs at least 2");
        // With --cached-only: only the cached path with Redis configured.
        if !cached_only {
            fleet::measure(n, quick, &mut report)?;
        }
        // The cached path with the shared tier configured (a first-tier
        // hit never touches Redis): the target is unchanged.
        let (_redis, url) = fleet::redis()?;
        let env = fleet::shared_env(&url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        report.push("with TOKEN_SERVICE_REDIS_URL set:".into());
        cached_burst_memory(quick, mix, rounds, true, &env, &mut report)?;
        println!("\n{}", report.join("\n"));
        return Ok(());
    }
    cached_burst_memory(quick, mix, rounds, cached_only, &[], &mut report)?;
    if !cached_only {
        steady(quick, &mut report)?;
    }
    println!("\n{}", report.join("\n"));
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Phases 1-3, on one service in front of a long-TTL emulator; `mix` is
/// the (users, tenants) of the cached path's mix, `rounds` its rounds when
/// not the default; `cached_only` stops after phase 1.
fn cached_burst_memory(
    quick: bool,
    mix: Option<(usize, usize)>,
    rounds: Option<usize>,
    cached_only: bool,
    env: &[(&str, &str)],
    out: &mut Vec<String>,
) -> anyhow::Result<()> {
    let (secs, default_rounds, tenants) = if quick {
        (3, 1, 10_000)
    } else {
        (10, 3, 100_000)
    };
    let rounds = rounds.unwrap_or(default_rounds);
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("cycle.lua"), wrk::CYCLE_LUA)?;
    let (_emu, emu, partner) = emulator(1800)?;
    let shared = Layout::shared();
    let hot = mint("bench-hot");
    let single = dir.join("single.lua");
    std::fs::write(&single, "wrk.method = \"POST\"\n")?;
    // The mix's JWTs, all signed now: user `i` of tenant `i % tenants`, so
    // the first `tenants` lines name every tenant once (the warm-up).
    let mix_file = dir.join("mix.txt");
    std::fs::write(dir.join("mix.lua"), wrk::MIX_LUA)?;
    let mix_jwts: Vec<String> = mix.map_or_else(Vec::new, |(users, tenants)| {
        (0..users)
            .map(|i| mint_user(&format!("user-{i}"), &format!("bench-mix-{}", i % tenants)))
            .collect()
    });
    std::fs::write(&mix_file, mix_jwts.join("\n") + "\n")?;
    let mix_lua = dir.join("mix.lua");
    let setup = cached::Setup {
        emulator: &emu,
        partner: &partner,
        jwt: &hot,
        lua: &single,
        secs,
        rounds,
        mix: mix.map(|(users, tenants)| cached::Mix {
            tokens: &mix_file,
            warm: &mix_jwts[..tenants],
            users,
            tenants,
            lua: &mix_lua,
        }),
        env,
    };
    out.push(format!(
        "cached POST /v1/token, HS256 user JWT, 64 connections, {rounds} x {secs} s alternating with the bare handler:"
    ));
    // Which target each layout checks: see cores.rs.
    for layout in Layout::split().into_iter().chain([shared.clone()]) {
        out.extend(cached::measure(&setup, &layout)?);
    }
    if cached_only {
        return Ok(());
    }

    let (_svc, svc, _) = service(&emu, &partner, &[], &shared)?;
    let token_url = format!("{svc}/v1/token");
    let cold = "bench-burst-cold";
    provision(&emu, &partner, cold)?;
    let control = Control::new(emu.as_str());
    http::control(control.add_fault(&Fault::delay("/api/subaccount", 200)))?;
    let before = http::upstream_token_calls(&emu)?;
    let burst_url = token_url.clone();
    let burst = wrk::wrk(
        &burst_url,
        1000,
        2,
        Some(&mint(cold)),
        &single,
        &[],
        &shared,
    )?;
    let calls = http::upstream_token_calls(&emu)? - before;
    http::control(control.clear_faults())?;
    out.push(format!(
        "burst: 1,000 connections for one cold tenant, upstream slowed by 200 ms: {calls} upstream \
        token call(s) for {} requests, {} errors (target: exactly 1)",
        burst.requests, burst.errors
    ));

    // A fresh instance, so connection buffers of the load phases do not
    // count: this measures what the cached tenants cost.
    drop(_svc);
    let (_svc, svc, pid) = service(&emu, &partner, &[], &shared)?;
    let token_url = format!("{svc}/v1/token");
    let rss_before = rss_mb(pid)?;
    let file = dir.join("tenants.txt");
    write_tokens(&file, "bench-tenant", tenants)?;
    let started = Instant::now();
    let env = [
        ("BENCH_TOKENS", file.display().to_string()),
        ("BENCH_ONCE", "1".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = |emu: &str| -> anyhow::Result<u64> {
        let stats = http::emulator_stats(emu)?;
        Ok(stats.count(&Dialect::Seed.routes(), Operation::TokenById))
    };
    let (mut last, mut still) = (u64::MAX, Instant::now());
    // Each new tenant ends with one token call by sub-account id.
    let base = created(&emu)?;
    let mut fill = wrk::spawn(&token_url, 64, &dir.join("cycle.lua"), &env)?;
    while created(&emu)? - base < tenants as u64 {
        std::thread::sleep(Duration::from_millis(500));
        let now = created(&emu)?;
        if now != last {
            (last, still) = (now, Instant::now());
        } else if still.elapsed() > Duration::from_secs(10) {
            // A request that failed (e.g. an upstream timeout under load) is
            // not retried by wrk; the count below says how many got cached.
            anyhow::ensure!(
                now - base >= tenants as u64 * 9 / 10,
                "filling the cache stalled at {now}"
            );
            break;
        }
    }
    let fill_secs = started.elapsed().as_secs_f64();
    let _ = fill.kill();
    let _ = fill.wait();
    std::thread::sleep(Duration::from_secs(1));
    let entries = http::metric(&svc, "token_service_token_cache_entries")?;
    out.push(format!("memory: VmRSS {:.1} MB with {entries} cached tenants (target < 100 MB); {rss_before:.1} MB before \
        the fill, which took {fill_secs:.0} s (auto-provisioning each tenant)", rss_mb(pid)?));
    Ok(())
}

/// Phase 4: tokens living `ttl` seconds, refreshed ahead by the service.
fn steady(quick: bool, out: &mut Vec<String>) -> anyhow::Result<()> {
    let (secs, ttl, margin, ahead) = if quick {
        (16, 8, 0.5, 1.5)
    } else {
        (60, 30, 2.0, 5.0)
    };
    let (_emu, emu, partner) = emulator(ttl)?;
    let env = [
        ("TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS", margin.to_string()),
        ("TOKEN_SERVICE_CACHE_REFRESH_AHEAD_SECS", ahead.to_string()),
    ];
    let (_svc, svc, _) = service(
        &emu,
        &partner,
        &env.iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
        &Layout::shared(),
    )?;
    let dir = root().join("target/bench");
    let file = dir.join("steady.txt");
    write_tokens(&file, "bench-steady", 100)?;
    for jwt in std::fs::read_to_string(&file)?.lines() {
        let (status, _) = http::request(
            "POST",
            &format!("{svc}/v1/token"),
            &[("Authorization", &format!("Bearer {jwt}"))],
            "",
        )?;
        anyhow::ensure!(status == 200, "steady warm-up answered {status}");
    }
    let calls_before = http::upstream_token_calls(&emu)?;
    let misses_before = http::metric(&svc, "token_service_token_cache_misses_total")?;
    let file_env = file.display().to_string();
    let run = wrk::wrk(
        &format!("{svc}/v1/token"),
        64,
        secs,
        None,
        &dir.join("cycle.lua"),
        &[("BENCH_TOKENS", &file_env)],
        &Layout::shared(),
    )?;
    let calls = http::upstream_token_calls(&emu)? - calls_before;
    let waits = http::metric(&svc, "token_service_token_cache_misses_total")? - misses_before;
    // Shortest refresh period: lifetime - margin - ahead - jitter (25 % of ahead).
    let period = f64::from(ttl) - margin - ahead * 1.25;
    let windows = (f64::from(secs) / period).ceil();
    out.push(format!("steady: {secs} s on 100 tenants, token TTL {ttl} s: {calls} upstream token calls = {:.2} per \
        tenant (bound: one per refresh window, {windows} windows of >= {period:.1} s); {waits} requests waited on \
        Peliqan (target 0); {:.0} req/s, p99 {:.3} ms, max {:.1} ms, errors {}", calls as f64 / 100.0,
        run.requests_per_sec, run.p99_ms, run.max_ms, run.errors));
    Ok(())
}
