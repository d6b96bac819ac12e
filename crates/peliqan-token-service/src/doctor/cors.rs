//! Will a browser on each allowed origin be let through to Peliqan?
//!
//! The SDK calls Peliqan directly from the partner's page, so Peliqan must
//! answer the CORS preflight of a sub-account-side route (the dialect's
//! `list_connections`) with that very origin; the seed says Peliqan sets it
//! per partner domain. The preflight is what a browser sends before
//! `GET` with an `Authorization` header; no credential is sent with it.
//! A redirect is a failure: browsers refuse redirected preflights.

use super::partner::method;
use super::probe::{PartnerAuth, Probe};
use super::report::Check;
use peliqan_api::dialect::Vars;
use peliqan_client::{Operation, Routes};

const NAME: &str = "cors";

/// One line per configured origin (a warning when none is configured).
pub(super) async fn preflights(probe: &Probe, routes: &Routes, origins: &[String]) -> Vec<Check> {
    if origins.is_empty() {
        return vec![Check::warn(
            NAME,
            "TOKEN_SERVICE_ALLOWED_ORIGINS is empty: no browser page may call the token \
             service, and no origin was checked against Peliqan",
            "set TOKEN_SERVICE_ALLOWED_ORIGINS to your web app's origin(s), e.g. \
             https://app.example.com",
        )];
    }
    let target = match routes.target(Operation::ListConnections, &Vars::default()) {
        Ok(t) => t,
        Err(e) => {
            let fix = format!("set {}", Operation::ListConnections.config_key());
            return vec![Check::fail(NAME, e.to_string(), fix)];
        }
    };
    let url = probe.url(&target.path_and_query());
    let shown = format!("{} {}", target.method, target.path);
    let mut checks = Vec::with_capacity(origins.len());
    for origin in origins {
        let req = probe
            .request(reqwest::Method::OPTIONS, &url, &PartnerAuth::None)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method(&target).as_str())
            .header("Access-Control-Request-Headers", "authorization");
        checks.push(match probe.send(req).await {
            Ok(answer) => judge(origin, &shown, &answer),
            Err(why) => Check::fail(
                NAME,
                format!("{origin}: the preflight of {shown} got no answer: {why}"),
                "check that Peliqan is up and reachable from here, then run the doctor again",
            ),
        });
    }
    checks
}

fn judge(origin: &str, shown: &str, answer: &super::probe::Answer) -> Check {
    let ask = format!(
        "ask Peliqan to allow the origin {origin} for your partner account (Peliqan sets CORS \
         per partner domain), or remove it from TOKEN_SERVICE_ALLOWED_ORIGINS"
    );
    let s = answer.status;
    if (300..400).contains(&s) {
        return Check::fail(
            NAME,
            format!(
                "{origin}: the preflight of {shown} was redirected ({s}), and browsers refuse \
                 redirected preflights"
            ),
            format!(
                "set PELIQAN_API_DIALECT (or {}) so the route has the trailing slash Peliqan wants",
                Operation::ListConnections.config_key()
            ),
        );
    }
    if !(200..300).contains(&s) {
        return Check::fail(
            NAME,
            format!(
                "{origin}: the preflight of {shown} was answered {s} ({})",
                answer.message()
            ),
            ask,
        );
    }
    let allowed = answer.header("access-control-allow-origin");
    if allowed != Some(origin) && allowed != Some("*") {
        let got = allowed.map_or_else(
            || "no Access-Control-Allow-Origin".to_owned(),
            |a| format!("Access-Control-Allow-Origin `{a}`"),
        );
        return Check::fail(
            NAME,
            format!(
                "{origin}: Peliqan answers the preflight of {shown} with {got}, so browsers on \
                 this origin cannot call Peliqan"
            ),
            ask,
        );
    }
    let lists = |header: &str, want: &str| {
        answer.header(header).map(|v| {
            v.split(',')
                .any(|item| item.trim() == "*" || item.trim().eq_ignore_ascii_case(want))
        })
    };
    // Authorization is not a CORS-safelisted header: without it listed, the
    // browser blocks the real request. GET is a safelisted method: a missing
    // Allow-Methods is fine for it.
    if lists("access-control-allow-headers", "authorization") != Some(true) {
        return Check::fail(
            NAME,
            format!("{origin}: Peliqan's preflight answer does not allow the Authorization header"),
            "ask Peliqan to allow the Authorization header in its CORS settings",
        );
    }
    if lists("access-control-allow-methods", "GET") == Some(false) {
        return Check::fail(
            NAME,
            format!("{origin}: Peliqan's preflight answer does not allow GET"),
            "ask Peliqan to allow GET, POST and PATCH in its CORS settings",
        );
    }
    Check::pass(
        NAME,
        format!("{origin} may call {shown} with an Authorization header (preflight {s})"),
    )
}
