//! A minimal blocking HTTP/1.1 client over `std::net`, enough for the bench
//! to read emulator stats, service metrics and to provision sub-accounts,
//! without pulling an HTTP client crate into the xtask.

use anyhow::{Context, bail};
use peliqan_api::{Dialect, Operation};
use peliqan_emulator::{Control, ControlCall, Stats};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `(status, body)` of one request; `url` is `http://host:port/path`.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let rest = url.strip_prefix("http://").context("only http:// URLs")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).with_context(|| format!("connect {host}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("no HTTP answer from {url}")
    };
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        bail!("chunked answer from {url} is not supported here");
    }
    Ok((status, body.to_owned()))
}

/// GET expecting 2xx, returning the body.
pub fn get(url: &str) -> anyhow::Result<String> {
    let (status, body) = request("GET", url, &[], "")?;
    if !(200..300).contains(&status) {
        bail!("GET {url} answered {status}: {body}");
    }
    Ok(body)
}

/// Sends a typed emulator control call (`peliqan_emulator::Control`) and
/// reads its typed answer.
pub fn control<T>(call: ControlCall<T>) -> anyhow::Result<T> {
    let body = call.body.as_deref().unwrap_or("");
    let (status, text) = request(call.method, &call.url, &[], body)?;
    Ok(call.answer(status, &text)?)
}

/// The emulator's request counts.
pub fn emulator_stats(emulator: &str) -> anyhow::Result<Stats> {
    control(Control::new(emulator).stats())
}

/// The emulator's count of upstream token calls (both token endpoints of
/// the dialect the bench's emulator speaks, the seed's).
pub fn upstream_token_calls(emulator: &str) -> anyhow::Result<u64> {
    let stats = emulator_stats(emulator)?;
    let routes = Dialect::Seed.routes();
    Ok(stats.count(&routes, Operation::TokenByExternalId)
        + stats.count(&routes, Operation::TokenById))
}

/// A counter or gauge from the service's `/metrics`.
pub fn metric(service: &str, name: &str) -> anyhow::Result<f64> {
    let text = get(&format!("{service}/metrics"))?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0))
}
