//! Token caching: one upstream call per cold tenant, refresh-ahead, and
//! serving the cached token while Peliqan fails.

use crate::helpers::*;
use peliqan_api::{ExternalId, SubaccountInput};
use peliqan_client::{PeliqanClient, Secret};
use serde_json::json;
use std::time::{Duration, Instant};

async fn provision(app: &TestApp, tenant: &str) {
    let client = PeliqanClient::builder(app.emulator.url()).build().unwrap();
    let input = SubaccountInput {
        external_id: ExternalId::from(tenant),
        ..Default::default()
    };
    client
        .partner(Secret::new(app.emulator.partner_token()))
        .create_subaccount(&input)
        .await
        .unwrap();
}

/// A counter from `/metrics`, e.g. `token_service_token_cache_misses_total`.
pub async fn metric(app: &TestApp, name: &str) -> f64 {
    app.metrics_text()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn two_hundred_concurrent_cold_requests_make_one_upstream_call() {
    let app = spawn_app().await;
    provision(&app, "cold_tenant").await;
    let token = jwt(&claims("cold_tenant"));
    let answers = futures::future::join_all((0..200).map(|_| app.token(&token))).await;
    let mut tokens = std::collections::HashSet::new();
    for res in answers {
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        tokens.insert(body["token"].as_str().unwrap().to_owned());
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
    let first_exp =
        chrono::DateTime::parse_from_rfc3339(first["expires_at"].as_str().unwrap()).unwrap();
    let mut replaced = None;
    for _ in 0..60 {
        // Whether a caller waited is read from the misses metric below,
        // not from a clock.
        let body = app.token_for("hot_tenant").await;
        if body["token"] != first["token"] {
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
    app.fault(json!({"path_prefix": "/api/subaccount", "status": 503, "probability": 1.0}))
        .await;
    // Until the cached token is dropped (exp minus the 0.5 s margin), callers
    // get it; stop a little before that (exp has whole-second precision).
    let exp = chrono::DateTime::parse_from_rfc3339(first["expires_at"].as_str().unwrap()).unwrap();
    let left = (exp.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap();
    let until = Instant::now() + left.saturating_sub(Duration::from_millis(900));
    while Instant::now() < until {
        let body = app.token_for("steady_tenant").await;
        assert_eq!(body["token"], first["token"]);
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
        if body["token"] != first["token"] {
            fresh = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fresh.is_some(), "a new token once Peliqan recovers");
}
