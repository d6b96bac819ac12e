//! Token caching: one upstream call per cold tenant, refresh-ahead, and
//! serving the cached token while Peliqan fails.

use crate::helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};

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

fn short_lived(s: &mut std::collections::BTreeMap<String, String>) {
    s.insert(
        "TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS".into(),
        "0.5".into(),
    );
    s.insert(
        "TOKEN_SERVICE_CACHE_REFRESH_AHEAD_SECS".into(),
        "1.5".into(),
    );
}

#[tokio::test]
async fn refresh_ahead_replaces_a_token_before_expiry_without_a_client_waiting() {
    let app = spawn_app_with(Duration::from_secs(4), short_lived).await;
    let first = app.token_for("hot_tenant").await;
    let first_exp = expiry(&first);
    let mut replaced = None;
    for _ in 0..60 {
        // Whether a caller waited is read from the misses metric below,
        // not from a clock.
        let body = app.token_for("hot_tenant").await;
        if body.token != first.token {
            replaced = Some(chrono::Utc::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let replaced = replaced.expect("the token was refreshed");
    assert!(
        replaced < first_exp,
        "replaced before the old token expired"
    );
    // Only the very first request waited for Peliqan.
    assert_eq!(
        metric(&app, "token_service_token_cache_misses_total").await,
        1.0
    );
    assert_eq!(
        metric(
            &app,
            "token_service_token_cache_refreshes_total{outcome=\"ok\"}"
        )
        .await,
        1.0
    );
}

#[tokio::test]
async fn a_failing_upstream_during_refresh_keeps_serving_the_valid_token() {
    let app = spawn_app_with(Duration::from_secs(4), short_lived).await;
    let first = app.token_for("steady_tenant").await;
    let calls_before = app.upstream_token_calls().await;
    app.fault(json!({"path_prefix": app.token_prefix(), "status": 503, "probability": 1.0}))
        .await;
    // Until the cached token is dropped (exp minus the 0.5 s margin), callers
    // get it; stop a little before that (exp has whole-second precision).
    let left = (expiry(&first) - chrono::Utc::now()).to_std().unwrap();
    let until = Instant::now() + left.saturating_sub(Duration::from_millis(900));
    while Instant::now() < until {
        let body = app.token_for("steady_tenant").await;
        assert_eq!(body.token, first.token);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        app.upstream_token_calls().await > calls_before,
        "a refresh was attempted"
    );
    assert!(
        metric(
            &app,
            "token_service_token_cache_refreshes_total{outcome=\"error\"}"
        )
        .await
            >= 1.0
    );
    app.clear_faults().await;
    let mut fresh = None;
    for _ in 0..40 {
        let body = app.token_for("steady_tenant").await;
        if body.token != first.token {
            fresh = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fresh.is_some(), "a new token once Peliqan recovers");
}
