//! The load generator: `wrk` from Debian, installed when missing, and the
//! parsing of its report.

use super::cores::{Layout, pinned};
use crate::cmd::run;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;

/// Installs wrk with apt-get if it is not on PATH.
pub fn ensure() -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("xtask: wrk not found; installing it with apt-get");
    if run(Command::new("apt-get").args(["install", "-y", "wrk"])).is_err() {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get").args(["install", "-y", "wrk"]))?;
    }
    Ok(())
}

/// Lua for POSTs cycling over the JWTs in `$BENCH_TOKENS` (one per line),
/// threads taking turns; with `BENCH_ONCE=1` each JWT is sent once, then
/// the last one repeats (wrk's main thread still waits for `-d`, hence
/// [`spawn`] for such runs).
pub const CYCLE_LUA: &str = r#"
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local once = os.getenv("BENCH_ONCE") == "1"
local threads = tonumber(os.getenv("BENCH_THREADS"))
local next_id = 0
local i = 0
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function request()
  local n = id + i * threads
  i = i + 1
  if n >= #tokens then
    if once then n = #tokens - 1 else n = n % #tokens end
  end
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. tokens[n + 1]}, nil)
end
"#;

/// Lua for POSTs each carrying a user JWT picked at random from the ones
/// in `$BENCH_TOKENS` (one per line): what real traffic looks like, one
/// token request per user per page load, so that the service's memo of
/// verified JWTs answers only by chance. The requests are formatted once per
/// thread in `init`, before the timed run, so wrk's own cost per request is
/// one table lookup and a random number (the bare handler is measured with
/// this same script, so that cost weighs on both sides alike).
pub const MIX_LUA: &str = r#"
local requests = {}
local next_id = 0
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function init(args)
  math.randomseed(os.time() * 16 + id)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    requests[#requests + 1] = wrk.format("POST", nil, {["Authorization"] = "Bearer " .. line}, nil)
  end
end
function request() return requests[math.random(#requests)] end
"#;

/// Starts wrk in the background (output discarded) for runs that end on a
/// condition rather than a duration; the caller kills it.
pub fn spawn(
    url: &str,
    connections: u32,
    lua: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<std::process::Child> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        "-d3600s",
        "--timeout",
        "10s",
    ])
    .arg("-s")
    .arg(lua)
    .arg(url);
    cmd.env("BENCH_THREADS", "2")
        .stdout(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().context("could not start wrk")
}

/// What one wrk run measured.
#[derive(Debug, Default)]
pub struct Report {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub requests: u64,
    pub errors: u64,
}

/// Runs wrk with `connections` for `secs` against `url`, with the threads
/// and CPUs of `layout`.
pub fn wrk(
    url: &str,
    connections: u32,
    secs: u32,
    auth: Option<&str>,
    lua: &Path,
    env: &[(&str, &str)],
    layout: &Layout,
) -> anyhow::Result<Report> {
    let threads = layout.wrk_threads.to_string();
    let mut cmd = pinned(Path::new("wrk"), layout.wrk_cpus.as_deref());
    cmd.args([
        &format!("-t{threads}"),
        &format!("-c{connections}"),
        &format!("-d{secs}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    cmd.arg("-s").arg(lua);
    if let Some(jwt) = auth {
        cmd.args(["-H", &format!("Authorization: Bearer {jwt}")]);
    }
    cmd.arg(url).env("BENCH_THREADS", &threads);
    for (k, v) in env {
        cmd.env(k, v);
    }
    eprintln!("xtask: wrk -t{threads} -c{connections} -d{secs}s {url} ({layout:?})");
    let out = cmd.output().context("could not run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("{text}");
    parse(&text)
}

fn parse(text: &str) -> anyhow::Result<Report> {
    let mut r = Report::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => r.requests_per_sec = v.parse()?,
            ["Latency", _avg, _dev, max, ..] => r.max_ms = millis(max)?,
            ["50%", v] => r.p50_ms = millis(v)?,
            ["99%", v] => r.p99_ms = millis(v)?,
            [n, "requests", "in", ..] => r.requests = n.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => r.errors += n.parse::<u64>()?,
            ["Socket", "errors:", ..] => {
                r.errors += line
                    .split(',')
                    .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    Ok(r)
}

fn millis(v: &str) -> anyhow::Result<f64> {
    let (num, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix("m") {
        (n, 60_000.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unknown latency unit in `{v}`")
    };
    Ok(num.parse::<f64>()? * factor)
}
