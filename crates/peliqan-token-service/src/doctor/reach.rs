//! Can this machine reach Peliqan safely, and do the two clocks agree?
//!
//! One unauthenticated `GET` of the base URL: any HTTP answer proves the
//! host, the port and (for https) the TLS handshake; its `Date` header gives
//! Peliqan's clock. Plain http is accepted only for a loopback host (the
//! emulator): anywhere else the partner credentials would cross the network
//! in clear text, so nothing carrying them is sent.

use super::probe::{Answer, PartnerAuth, Probe, shown_url};
use super::report::Check;
use chrono::DateTime;
use std::time::{Duration, UNIX_EPOCH};
use url::{Host, Url};

/// Skew above which a warning is printed: tokens then look shorter or
/// longer-lived to the service than they are.
const SKEW_WARN: Duration = Duration::from_secs(5);

/// The URL check; `Some(answer)` when the other network checks may run.
pub(super) async fn url(probe: &Probe) -> (Check, Option<Answer>) {
    let base = probe.base();
    let shown = shown_url(base);
    let secure = match base.scheme() {
        "https" => true,
        "http" if is_loopback(base) => false,
        "http" => {
            return (
                Check::fail(
                    "url",
                    format!(
                        "{shown} is plain http to a host that is not loopback: the partner \
                         credentials would cross the network unencrypted, so no further \
                         request was sent"
                    ),
                    "use https:// in PELIQAN_API_URL (e.g. https://app.eu.peliqan.io)",
                ),
                None,
            );
        }
        other => {
            return (
                Check::fail(
                    "url",
                    format!("{shown} has the scheme `{other}`"),
                    "use an https:// URL in PELIQAN_API_URL",
                ),
                None,
            );
        }
    };
    let req = probe.request(reqwest::Method::GET, base.as_str(), &PartnerAuth::None);
    match probe.send(req).await {
        Ok(answer) => {
            let detail = if secure {
                format!("{shown} answers over TLS (HTTP {})", answer.status)
            } else {
                format!(
                    "{shown} answers over plain http (HTTP {}), allowed for a loopback host such \
                     as the emulator only",
                    answer.status
                )
            };
            (Check::pass("url", detail), Some(answer))
        }
        Err(why) => {
            let host = base.host_str().unwrap_or("the host");
            (
                Check::fail(
                    "url",
                    format!("{shown} did not answer: {why}"),
                    format!(
                        "check PELIQAN_API_URL and that this machine can reach {host} \
                         (DNS, firewall, proxy, certificate)"
                    ),
                ),
                None,
            )
        }
    }
}

/// `localhost`, `*.localhost` and loopback addresses.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Clock skew between this machine and Peliqan's `Date` header.
pub(super) fn clock(answer: &Answer, leeway_secs: u64) -> Check {
    const FIX: &str = "synchronise this machine's clock with NTP (e.g. `timedatectl set-ntp true`)";
    let Some(date) = answer
        .header("date")
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
    else {
        return Check::warn(
            "clock",
            "Peliqan's answer has no readable Date header, so clock skew was not measured",
            FIX,
        );
    };
    let ours = answer
        .received
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    // `Date` has whole seconds, cut down: +0.5 s centres the estimate.
    let skew = date.timestamp() as f64 + 0.5 - ours;
    let size = skew.abs();
    let way = if skew >= 0.0 { "ahead of" } else { "behind" };
    let leeway = leeway_secs as f64;
    let detail = if size < 1.0 {
        "Peliqan's clock agrees with this machine's to within a second".to_owned()
    } else {
        format!("Peliqan's clock is {size:.0} s {way} this machine's")
    };
    if size > leeway {
        Check::fail(
            "clock",
            format!(
                "{detail}, more than the JWT leeway of {leeway:.0} s \
                 (TOKEN_SERVICE_JWT_LEEWAY_SECS): token lifetimes and user JWTs are misjudged"
            ),
            FIX,
        )
    } else if size > SKEW_WARN.as_secs_f64() {
        Check::warn(
            "clock",
            format!("{detail}: token lifetimes are misjudged by that much"),
            FIX,
        )
    } else {
        Check::pass("clock", detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use std::time::SystemTime;

    fn answered_with_date(offset_secs: i64) -> Answer {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + offset_secs;
        let date = DateTime::from_timestamp(secs, 0).unwrap().to_rfc2822();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("date", date.parse().unwrap());
        Answer {
            status: 200,
            headers,
            received: now,
            body: String::new(),
        }
    }

    #[test]
    fn clock_skew_warns_above_a_few_seconds_and_fails_above_the_leeway() {
        assert_eq!(clock(&answered_with_date(0), 30).status, Status::Pass);
        let c = clock(&answered_with_date(-10), 30);
        assert_eq!(c.status, Status::Warn, "{}", c.detail);
        assert!(c.detail.contains("behind"), "{}", c.detail);
        let c = clock(&answered_with_date(90), 30);
        assert_eq!(c.status, Status::Fail, "{}", c.detail);
        assert!(
            c.detail.contains("ahead of") && c.detail.contains("30 s"),
            "{}",
            c.detail
        );
        let mut none = answered_with_date(0);
        none.headers.clear();
        assert_eq!(clock(&none, 30).status, Status::Warn);
    }

    #[test]
    fn only_loopback_hosts_may_use_plain_http() {
        for (url, want) in [
            ("http://127.0.0.1:8000", true),
            ("http://[::1]:8000", true),
            ("http://localhost:8000", true),
            ("http://emu.localhost", true),
            ("http://10.0.0.5", false),
            ("http://app.eu.peliqan.io", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).unwrap()), want, "{url}");
        }
    }
}
