//! Identity from trusted proxy headers: accepted only from a TCP peer in
//! `TOKEN_SERVICE_TRUSTED_PROXIES`. The service listens on all of loopback
//! (127.0.0.0/8 reaches it), trusts 127.0.0.2 only, and the tests connect
//! from 127.0.0.2 (the "proxy") and from 127.0.0.1 (anyone else).

use crate::helpers::*;
use peliqan_api::TokenAnswer;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

fn proxy(map: &mut BTreeMap<String, String>, trusted: &str) {
    for k in [
        "TOKEN_SERVICE_JWT_HS256_SECRET",
        "TOKEN_SERVICE_JWT_ISSUER",
        "TOKEN_SERVICE_JWT_AUDIENCE",
    ] {
        map.remove(k);
    }
    for (k, v) in [
        ("TOKEN_SERVICE_TRUSTED_PROXIES", trusted),
        ("TOKEN_SERVICE_PROXY_TENANT_HEADER", "X-Auth-Request-Tenant"),
    ] {
        map.insert(k.into(), v.into());
    }
}

/// A client whose connections come from `ip`.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .build()
        .unwrap()
}

async fn post(
    http: &reqwest::Client,
    app: &TestApp,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = http.post(format!("{}/v1/token", app.url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

const IDENTITY: &[(&str, &str)] = &[
    ("x-auth-request-user", "alice@acme.test"),
    ("x-auth-request-email", "alice@acme.test"),
    ("x-auth-request-tenant", "proxy_acme"),
];

#[tokio::test]
async fn headers_from_the_trusted_proxy_are_accepted_and_from_anyone_else_refused() {
    let app = spawn_app_with(Duration::from_secs(1800), |map| {
        proxy(map, "127.0.0.2/32");
    })
    .await;
    let from_proxy = client_from([127, 0, 0, 2]);
    let res = post(&from_proxy, &app, IDENTITY).await;
    assert_eq!(res.status(), 200);
    let answer: TokenAnswer = res.json().await.unwrap();
    assert_eq!(answer.external_id.as_str(), "proxy_acme");
    // The same headers straight from a client, not through the proxy.
    let calls = app.upstream_token_calls().await;
    let direct = client_from([127, 0, 0, 1]);
    let res = post(&direct, &app, IDENTITY).await;
    assert_problem(res, 401, "proxy_untrusted").await;
    assert_eq!(app.upstream_token_calls().await, calls, "nothing minted");
    // The proxy itself must name a user and a tenant.
    let res = post(&from_proxy, &app, &IDENTITY[1..]).await;
    assert_problem(res, 401, "proxy_no_user").await;
    let res = post(&from_proxy, &app, &IDENTITY[..2]).await;
    assert_problem(res, 403, "proxy_no_tenant").await;
    let bad = [IDENTITY[0], ("x-auth-request-tenant", "proxy\tacme")];
    let res = post(&from_proxy, &app, &bad).await;
    assert_problem(res, 403, "invalid_tenant_claim").await;
}

#[tokio::test]
async fn a_trusted_range_not_containing_the_peer_refuses_its_headers() {
    let app = spawn_app_with(Duration::from_secs(1800), |map| {
        proxy(map, "10.0.0.0/8, fd00::/8");
    })
    .await;
    let res = post(&app.http, &app, IDENTITY).await;
    assert_problem(res, 401, "proxy_untrusted").await;
    assert_eq!(app.upstream_token_calls().await, 0);
}
