//! `cargo xtask bench token-service --replicas N`: what a fleet of
//! replicas costs Peliqan with and without the shared tier (a real
//! `redis-server`), side by side with one replica:
//!
//! - upstream token calls for a cold burst of 1,000 connections for one
//!   tenant, spread over the replicas (upstream slowed by 200 ms so they all
//!   miss together);
//! - upstream token calls per tenant in 60 s of steady load on 100 tenants
//!   whose tokens live 30 s;
//! - the latency a cold miss gains from the shared tier (p50/p99 over
//!   sequential first requests of pre-provisioned tenants).
//!
//! The cached path with Redis configured is measured by the main bench
//! (`--redis`), since a first-tier hit never touches Redis.

use super::cores::Layout;
use super::http;
use super::setup::{emulator, mint, provision, service, write_tokens};
use super::wrk;
use crate::cmd::root;
use crate::procs::Proc;
use peliqan_emulator::{Control, Fault};
use std::process::Command;
use std::time::{Duration, Instant};

/// A 32-byte cache key for the bench's replicas (not a secret: it seals
/// tokens of the bench's own emulator).
const CACHE_KEY: &str = "6265e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852";

/// Starts Debian's `redis-server` on a free loopback port, without
/// persistence; returns it with its URL once it accepts connections.
pub fn redis() -> anyhow::Result<(Proc, String)> {
    crate::wasm::ensure_apt("/usr/bin/redis-server", &["redis-server"])?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut cmd = Command::new("/usr/bin/redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"]);
    let mut p = Proc::spawn("redis", cmd)?;
    p.wait_for(Duration::from_secs(20), |l| {
        l.contains("Ready to accept connections").then_some(())
    })?;
    Ok((p, format!("redis://127.0.0.1:{port}")))
}

/// The settings that put a replica on `redis`.
pub fn shared_env(redis: &str) -> [(&'static str, String); 2] {
    [
        ("TOKEN_SERVICE_REDIS_URL", redis.to_owned()),
        ("TOKEN_SERVICE_CACHE_KEY", CACHE_KEY.to_owned()),
    ]
}

/// How the replicas of one column are set up.
#[derive(Clone, Copy)]
enum Fleet {
    One,
    Alone(usize),
    Shared(usize),
}

impl Fleet {
    fn replicas(self) -> usize {
        match self {
            Self::One => 1,
            Self::Alone(n) | Self::Shared(n) => n,
        }
    }

    fn label(self) -> String {
        match self {
            Self::One => "1 replica".into(),
            Self::Alone(n) => format!("{n} replicas, no Redis"),
            Self::Shared(n) => format!("{n} replicas + Redis"),
        }
    }
}

/// Starts the replicas of `fleet` in front of `emu`; with extra `env`.
fn replicas(
    fleet: Fleet,
    emu: &str,
    partner: &str,
    redis: &str,
    env: &[(&str, String)],
) -> anyhow::Result<(Vec<Proc>, Vec<String>)> {
    let mut all: Vec<(&str, String)> = env.to_vec();
    if let Fleet::Shared(_) = fleet {
        all.extend(shared_env(redis));
    }
    let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (mut procs, mut urls) = (Vec::new(), Vec::new());
    for _ in 0..fleet.replicas() {
        let (p, url, _) = service(emu, partner, &all, &Layout::shared())?;
        procs.push(p);
        urls.push(url);
    }
    Ok((procs, urls))
}

/// Runs the fleet phases for `n` replicas and appends their lines to `out`.
pub fn measure(n: usize, quick: bool, out: &mut Vec<String>) -> anyhow::Result<()> {
    let (_redis, redis_url) = redis()?;
    let columns = [Fleet::One, Fleet::Alone(n), Fleet::Shared(n)];
    out.push(format!(
        "fleet of {n} replicas (each on all cores), Redis {}:",
        redis_url
    ));
    for fleet in columns {
        out.push(format!(
            "  {:<24} {}",
            fleet.label(),
            cold_burst(fleet, &redis_url)?
        ));
    }
    for fleet in columns {
        out.push(format!(
            "  {:<24} {}",
            fleet.label(),
            steady(fleet, &redis_url, quick)?
        ));
    }
    let cold = if quick { 50 } else { 300 };
    let (p50_one, p99_one) = cold_misses(Fleet::One, &redis_url, cold)?;
    let (p50, p99) = cold_misses(Fleet::Shared(1), &redis_url, cold)?;
    out.push(format!(
        "  cold miss latency over {cold} new tenants: p50 {p50_one:.2} ms / p99 {p99_one:.2} ms without Redis, \
         p50 {p50:.2} ms / p99 {p99:.2} ms with it (the shared tier adds {:.2} ms at p50)",
        p50 - p50_one
    ));
    Ok(())
}

/// 1,000 connections for one cold tenant, spread over the replicas.
fn cold_burst(fleet: Fleet, redis: &str) -> anyhow::Result<String> {
    let (_emu, emu, partner) = emulator(1800)?;
    let (_procs, urls) = replicas(fleet, &emu, &partner, redis, &[])?;
    let tenant = format!("fleet-burst-{}", fleet.replicas());
    provision(&emu, &partner, &tenant)?;
    let control = Control::new(emu.as_str());
    http::control(control.add_fault(&Fault::delay("/api/subaccount", 200)))?;
    let lua = root().join("target/bench/single.lua");
    std::fs::write(&lua, "wrk.method = \"POST\"\n")?;
    let jwt = mint(&tenant);
    let before = http::upstream_token_calls(&emu)?;
    let per = (1000 / urls.len()) as u32;
    let reports = wrk_each(&urls, per, 2, Some(&jwt), &lua, &[])?;
    let calls = http::upstream_token_calls(&emu)? - before;
    let errors: u64 = reports.iter().map(|r| r.errors).sum();
    let requests: u64 = reports.iter().map(|r| r.requests).sum();
    Ok(format!(
        "cold burst, 1,000 connections: {calls} upstream token call(s) for {requests} requests, {errors} errors"
    ))
}

/// Steady load on 100 tenants with short-lived tokens, spread over the
/// replicas; upstream token calls per tenant.
fn steady(fleet: Fleet, redis: &str, quick: bool) -> anyhow::Result<String> {
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
    let (_procs, urls) = replicas(fleet, &emu, &partner, redis, &env)?;
    let dir = root().join("target/bench");
    let file = dir.join("fleet-steady.txt");
    write_tokens(&file, "fleet-steady", 100)?;
    let jwts = std::fs::read_to_string(&file)?;
    for (i, jwt) in jwts.lines().enumerate() {
        let url = format!("{}/v1/token", urls[i % urls.len()]);
        let auth = format!("Bearer {jwt}");
        let (status, _) = http::request("POST", &url, &[("Authorization", &auth)], "")?;
        anyhow::ensure!(status == 200, "steady warm-up answered {status}");
    }
    let before = http::upstream_token_calls(&emu)?;
    let file_env = file.display().to_string();
    let cycle = dir.join("cycle.lua");
    std::fs::write(&cycle, wrk::CYCLE_LUA)?;
    let per = (64 / urls.len()).max(1) as u32;
    let env = [("BENCH_TOKENS", file_env.as_str())];
    let reports = wrk_each(&urls, per, secs, None, &cycle, &env)?;
    let calls = http::upstream_token_calls(&emu)? - before;
    let errors: u64 = reports.iter().map(|r| r.errors).sum();
    let period = f64::from(ttl) - margin - ahead * 1.25;
    let windows = (f64::from(secs) / period).ceil();
    Ok(format!(
        "steady {secs} s, 100 tenants, token TTL {ttl} s: {calls} upstream token calls = {:.2} per tenant \
         ({:.2} per tenant per refresh window of >= {period:.1} s), {errors} errors",
        calls as f64 / 100.0,
        calls as f64 / 100.0 / windows
    ))
}

/// wrk against `/v1/token` of every replica at once, `connections` each.
fn wrk_each(
    urls: &[String],
    connections: u32,
    secs: u32,
    auth: Option<&str>,
    lua: &std::path::Path,
    env: &[(&str, &str)],
) -> anyhow::Result<Vec<wrk::Report>> {
    std::thread::scope(|s| {
        let runs: Vec<_> = urls
            .iter()
            .map(|u| {
                s.spawn(move || {
                    let url = format!("{u}/v1/token");
                    wrk::wrk(&url, connections, secs, auth, lua, env, &Layout::shared())
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("wrk thread"))
            .collect()
    })
}

/// First requests of `n` pre-provisioned tenants, one after another;
/// p50 and p99 in ms.
fn cold_misses(fleet: Fleet, redis: &str, n: usize) -> anyhow::Result<(f64, f64)> {
    let (_emu, emu, partner) = emulator(1800)?;
    let (_procs, urls) = replicas(fleet, &emu, &partner, redis, &[])?;
    let label = fleet.replicas().to_string()
        + if let Fleet::Shared(_) = fleet {
            "r"
        } else {
            ""
        };
    let tenants: Vec<String> = (0..n).map(|i| format!("fleet-cold-{label}-{i}")).collect();
    for t in &tenants {
        provision(&emu, &partner, t)?;
    }
    let url = format!("{}/v1/token", urls[0]);
    let mut ms = Vec::with_capacity(n);
    for t in &tenants {
        let auth = format!("Bearer {}", mint(t));
        let started = Instant::now();
        let (status, _) = http::request("POST", &url, &[("Authorization", &auth)], "")?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status == 200, "a cold request answered {status}");
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[n / 2], ms[(n * 99 / 100).min(n - 1)]))
}
