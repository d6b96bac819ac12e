//! Token caching: one upstream call per cold tenant, refresh-ahead, and
//! serving the cached token while Peliqan fails.

use crate::helpers::*;
use peliqan_emulator::Fault;
use std::time::Duration;

fn expiry(answer: &peliqan_api::TokenAnswer) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&answer.expires_at)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[tokio::test]
async fn two_hundred_concurrent_cold_requests_make_one_upstream_call() {
    let app = spawn_app().await;
    app.provision("cold_tenant").await;
    let token = jwt(&claims("cold_tenant"));
    let answers = futures::future::join_all((0..200).map(|_| app.token(&token))).await;
    let mut tokens = std::collections::HashSet::new();
    for res in answers {
        assert_eq!(res.status(), 200);
        let body: peliqan_api::TokenAnswer = res.json().await.unwrap();
        tokens.insert(body.token);
    }
    assert_eq!(tokens.len(), 1, "every caller got the one fetched token");
    assert_eq!(app.upstream_token_calls().await, 1);
}

/// Counter of background refreshes ending with `outcome`.
fn refreshes(outcome: &str) -> String {
    format!("token_service_token_cache_refreshes_total{{outcome=\"{outcome}\"}}")
}

// The emulator's tokens live 1800 s (real time) and the service runs on a
// manual clock with the default timing: a 60 s safety margin, so a token is
// served until 1740 s, and a refresh due 300 s before that, made up to 25 %
// earlier by jitter: between 1365 s and 1440 s (plus the moment the
// emulator took to answer, as the manual clock stood still meanwhile).

#[tokio::test]
async fn refresh_ahead_replaces_a_token_before_expiry_without_a_client_waiting() {
    let app = spawn_app_with_clock(Duration::from_secs(1800), |_| {}).await;
    let first = app.token_for("hot_tenant").await;
    assert_eq!(app.token_for("hot_tenant").await.token, first.token);
    app.advance(Duration::from_secs(1300));
    assert_eq!(app.token_for("hot_tenant").await.token, first.token);
    assert_eq!(metric(&app, &refreshes("ok")).await, 0.0, "not due yet");
    app.advance(Duration::from_secs(200));
    // This hit starts the refresh and is answered from the cache at once.
    assert_eq!(app.token_for("hot_tenant").await.token, first.token);
    until_metric(&app, &refreshes("ok"), 1.0).await;
    let replaced = app.token_for("hot_tenant").await;
    assert_ne!(replaced.token, first.token, "the token was refreshed");
    let service_now = chrono::DateTime::<chrono::Utc>::from(app.clock().now());
    assert!(
        service_now < expiry(&first),
        "replaced before the old token expired"
    );
    // Only the very first request waited for Peliqan.
    assert_eq!(
        metric(&app, "token_service_token_cache_misses_total").await,
        1.0
    );
    assert_eq!(metric(&app, &refreshes("ok")).await, 1.0);
}

#[tokio::test]
async fn a_failing_upstream_during_refresh_keeps_serving_the_valid_token() {
    let app = spawn_app_with_clock(Duration::from_secs(1800), |_| {}).await;
    let first = app.token_for("steady_tenant").await;
    let calls_before = app.upstream_token_calls().await;
    app.fault(Fault::status(app.token_prefix(), 503)).await;
    // Refresh due; each failed one is retried 10 s later (a quarter of what
    // is left, at most 10 s) while the cached token is still served.
    app.advance(Duration::from_secs(1500));
    for failed in 1..=3 {
        let body = app.token_for("steady_tenant").await;
        assert_eq!(body.token, first.token);
        until_metric(&app, &refreshes("error"), f64::from(failed)).await;
        app.advance(Duration::from_secs(10));
    }
    assert_eq!(metric(&app, &refreshes("error")).await, 3.0);
    assert!(
        app.upstream_token_calls().await > calls_before,
        "a refresh was attempted"
    );
    app.clear_faults().await;
    assert_eq!(app.token_for("steady_tenant").await.token, first.token);
    until_metric(&app, &refreshes("ok"), 1.0).await;
    let fresh = app.token_for("steady_tenant").await;
    assert_ne!(
        fresh.token, first.token,
        "a new token once Peliqan recovers"
    );
    assert_eq!(
        metric(&app, "token_service_token_cache_misses_total").await,
        1.0,
        "nobody waited"
    );
}

#[tokio::test]
async fn a_token_is_not_served_past_its_safety_margin() {
    let app = spawn_app_with_clock(Duration::from_secs(1800), |_| {}).await;
    let first = app.token_for("late_tenant").await;
    app.fault(Fault::status(app.token_prefix(), 503)).await;
    // No hit in between, so no refresh: by 1745 s the entry is dropped and
    // the request waits for Peliqan, which fails.
    app.advance(Duration::from_secs(1745));
    let res = app.token(&jwt(&app.claims("late_tenant"))).await;
    assert_eq!(res.status(), 503, "{:?}", res.text().await);
    assert_eq!(
        metric(&app, "token_service_token_cache_misses_total").await,
        2.0
    );
    app.clear_faults().await;
    assert_ne!(app.token_for("late_tenant").await.token, first.token);
}
