//! Starting the processes under test and preparing their inputs: the
//! release-built emulator, token service and bare handler, user JWTs, and
//! sub-accounts.

use super::cores::{Layout, pinned};
use super::http;
use crate::cmd::root;
use crate::procs::Proc;
use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The HS256 secret the bench's user JWTs are signed with.
pub const SECRET: &str = "bench-user-jwt-secret-of-at-least-32-bytes";

fn bin(name: &str) -> PathBuf {
    root().join("target/release").join(name)
}

/// Starts an emulator whose sub-account tokens live `ttl` seconds;
/// returns it with its URL and partner token.
pub fn emulator(ttl: u32) -> anyhow::Result<(Proc, String, String)> {
    let mut cmd = Command::new(bin("peliqan-emulator"));
    cmd.args(["--listen", "127.0.0.1:0", "--token-ttl", &ttl.to_string()])
        .env("RUST_LOG", "warn");
    let mut p = Proc::spawn("emulator", cmd)?;
    let (url, partner) = p.wait_for(Duration::from_secs(30), crate::procs::emulator_ready)?;
    Ok((p, url, partner))
}

/// Starts the service; `sh` prints its pid first, then `exec`s it (same
/// pid), so its memory can be read from /proc.
pub fn service(
    emulator: &str,
    partner: &str,
    extra: &[(&str, &str)],
    layout: &Layout,
) -> anyhow::Result<(Proc, String, u32)> {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo \"pid $$\"; exec \"$@\"", "sh"]);
    if let Some(cpus) = &layout.server_cpus {
        cmd.args(["taskset", "-c", cpus]);
    }
    cmd.arg(bin("peliqan-token-service"));
    if let Some(n) = layout.workers {
        cmd.env("TOKEN_SERVICE_WORKERS", n.to_string());
    }
    cmd.env("PELIQAN_API_URL", emulator)
        .env("PELIQAN_PARTNER_TOKEN", partner)
        .env("TOKEN_SERVICE_LISTEN", "127.0.0.1:0")
        .env("TOKEN_SERVICE_JWT_HS256_SECRET", SECRET)
        .env("TOKEN_SERVICE_AUTO_PROVISION", "true")
        // The limiter stays on the path, but must not throttle the load generator.
        .env("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE", "1000000000")
        .env("TOKEN_SERVICE_CACHE_CAPACITY", "200000")
        .env("TOKEN_SERVICE_SHUTDOWN_TIMEOUT_SECS", "1")
        .env("RUST_LOG", "warn,peliqan_token_service::startup=info");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut p = Proc::spawn("token-service", cmd)?;
    let mut pid = None;
    let url = p.wait_for(Duration::from_secs(30), |l| {
        if let Some(n) = l.strip_prefix("pid ") {
            pid = n.trim().parse().ok();
        }
        listening(l)
    })?;
    Ok((p, url, pid.context("service pid")?))
}

/// Starts the bare actix handler answering `body_bytes` of JSON.
pub fn bare(body_bytes: usize, layout: &Layout) -> anyhow::Result<(Proc, String)> {
    let program = root().join("target/release/examples/bare");
    let mut cmd = pinned(&program, layout.server_cpus.as_deref());
    cmd.args(["127.0.0.1:0", &body_bytes.to_string()]);
    if let Some(n) = layout.workers {
        cmd.arg(n.to_string());
    }
    let mut p = Proc::spawn("bare", cmd)?;
    let url = p.wait_for(Duration::from_secs(30), listening)?;
    Ok((p, url))
}

fn listening(line: &str) -> Option<String> {
    let at = line.find("listening on http://")? + "listening on ".len();
    Some(
        line[at..]
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()?
            .to_owned(),
    )
}

/// A user JWT for `tenant`, valid for three hours.
pub fn mint(tenant: &str) -> String {
    mint_user(&format!("user-{tenant}"), tenant)
}

/// A JWT of user `sub` of `tenant`, valid for three hours.
pub fn mint_user(sub: &str, tenant: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3 * 3600;
    let claims = json!({"sub": sub, "external_id": tenant, "exp": exp});
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("HS256 signs")
}

/// Writes JWTs for tenants `{prefix}-0 .. {prefix}-{n-1}`, one per line.
pub fn write_tokens(file: &Path, prefix: &str, n: usize) -> anyhow::Result<()> {
    let lines: Vec<String> = (0..n).map(|i| mint(&format!("{prefix}-{i}"))).collect();
    std::fs::write(file, lines.join("\n") + "\n").context("writing JWTs")
}

/// Creates the sub-account of `tenant` directly in the emulator.
pub fn provision(emulator: &str, partner: &str, tenant: &str) -> anyhow::Result<()> {
    let body = json!({"external_id": tenant}).to_string();
    let auth = format!("JWT {partner}");
    let (status, text) = http::request(
        "POST",
        &format!("{emulator}/api/subaccount"),
        &[("Authorization", &auth)],
        &body,
    )?;
    anyhow::ensure!(
        (200..300).contains(&status),
        "provisioning answered {status}: {text}"
    );
    Ok(())
}

/// Resident memory of `pid`, in MB.
pub fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("VmRSS")?;
    Ok(kb / 1024.0)
}
