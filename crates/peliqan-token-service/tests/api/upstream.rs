//! Peliqan failing: retries, Retry-After, timeouts, a rejected partner token.

use crate::helpers::*;
use peliqan_client::Operation;
use peliqan_emulator::Fault;
use std::time::{Duration, Instant};

/// Whether the token route is retried: a GET is (seed), a POST never is
/// (`sub-account`, `partner`: `integrate/`).
fn token_route_is_idempotent(app: &TestApp) -> bool {
    app.routes
        .route(Operation::TokenByExternalId)
        .unwrap()
        .method
        .is_idempotent()
}

#[tokio::test]
async fn upstream_5xx_is_retried_then_reported_and_never_cached() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_UPSTREAM_MAX_RETRIES".into(), "2".into());
    })
    .await;
    app.fault(Fault::status(app.token_prefix(), 503)).await;
    let res = app.token(&jwt(&claims("flaky"))).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "upstream_unavailable").await;
    let (calls, why) = if token_route_is_idempotent(&app) {
        (3, "1 try + 2 retries")
    } else {
        (1, "a POST is never repeated")
    };
    assert_eq!(
        app.upstream_calls(&[Operation::TokenByExternalId]).await,
        calls,
        "{why}"
    );
    assert_eq!(
        app.upstream_calls(&[Operation::CreateSubaccount]).await,
        0,
        "a 503 is not an unknown tenant"
    );
    app.clear_faults().await;
    app.token_for("flaky").await;
}

#[tokio::test]
async fn an_upstream_429_is_retried_after_its_retry_after() {
    let app = spawn_app().await;
    // The token route where it is a GET; else the connector catalogue, a
    // GET in every dialect.
    let (op, path) = if token_route_is_idempotent(&app) {
        (Operation::TokenByExternalId, "/v1/token")
    } else {
        (Operation::Servertypes, "/v1/connectors")
    };
    app.fault(Fault::status(app.path_prefix(&[op]), 429)).await;
    let started = Instant::now();
    let pending = tokio::spawn({
        let (http, url, token) = (app.http.clone(), app.url.clone(), jwt(&claims("busy_too")));
        let method = if op == Operation::Servertypes {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        async move {
            http.request(method, format!("{url}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    });
    // Clear the fault once the first attempt has had its 429.
    until_upstream_saw(&app.emulator, &app.stats_key(op)).await;
    app.clear_faults().await;
    let res = pending.await.unwrap();
    // The emulator's 429 says `Retry-After: 1`; the client waited that long.
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_upstream_429_on_a_token_post_passes_its_retry_after_to_the_caller() {
    let app = spawn_app().await;
    if token_route_is_idempotent(&app) {
        return; // The test above covers a GET token route.
    }
    app.fault(Fault::status(app.token_prefix(), 429)).await;
    let res = app.token(&jwt(&claims("busy_post"))).await;
    assert_eq!(res.headers()["retry-after"], "1");
    assert_problem(res, 503, "upstream_unavailable").await;
    assert_eq!(app.upstream_token_calls().await, 1);
}

#[tokio::test]
async fn a_hanging_upstream_hits_the_timeout_and_gets_upstream_unavailable() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS".into(), "0.3".into());
        s.insert("TOKEN_SERVICE_UPSTREAM_MAX_RETRIES".into(), "1".into());
    })
    .await;
    app.fault(Fault::delay(app.token_prefix(), 5000)).await;
    let started = Instant::now();
    let res = app.token(&jwt(&claims("slow"))).await;
    assert_problem(res, 503, "upstream_unavailable").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_rejected_partner_token_is_a_configuration_error_not_retried_and_fails_readiness() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert(
            "PELIQAN_PARTNER_TOKEN".into(),
            "not-the-partner-token".into(),
        );
    })
    .await;
    let res = app.token(&jwt(&claims("anyone"))).await;
    let body = assert_problem(res, 502, "upstream_misconfigured").await;
    assert!(!format!("{body:?}").contains("not-the-partner-token"));
    assert_eq!(
        app.upstream_calls(&[Operation::TokenByExternalId]).await,
        1,
        "401 is not retried"
    );
    let ready = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    let ready = assert_problem(ready, 503, "not_ready").await;
    let why = ready.detail.as_str();
    assert!(
        why.contains("refused the partner token (check PELIQAN_PARTNER_TOKEN)"),
        "{why}"
    );
    assert!(!why.contains("not-the-partner-token"));
    assert!(logs().contains("REJECTED THE PARTNER TOKEN"));
}
