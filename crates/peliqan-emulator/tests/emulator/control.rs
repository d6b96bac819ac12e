//! `/__emulator`: request counts, fault injection and reset.

use crate::helpers::{ORIGIN, body, expect_json, spawn_app};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_requests_by_method_and_path_template() {
    let app = spawn_app().await;
    let (id, token) = app.tenant("wood_123").await;
    app.as_partner(Method::GET, "/api/subaccount/token/?external_id=wood_123")
        .send()
        .await
        .unwrap();
    app.as_partner(
        Method::GET,
        "/api/subaccount/token?external_id=wood_123&expire=false",
    )
    .send()
    .await
    .unwrap();
    app.with_token(Method::GET, "/api/server/1234", &token)
        .send()
        .await
        .unwrap();
    app.with_token(Method::GET, "/api/server/5678/", &token)
        .send()
        .await
        .unwrap();
    app.request(Method::GET, "/__emulator/stats")
        .send()
        .await
        .unwrap();
    let stats = app.stats().await;
    assert_eq!(stats["GET /api/subaccount/token"], 2);
    assert_eq!(stats["GET /api/subaccount/{id}/token"], 1, "token for {id}");
    assert_eq!(stats["GET /api/server/{id}"], 2);
    assert_eq!(stats["POST /api/subaccount"], 1);
    assert!(
        stats
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.contains("__emulator")),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_fault_answers_matching_requests_and_they_are_still_counted() {
    let app = spawn_app().await;
    let id = app.create_subaccount("wood_123").await;
    app.add_fault(json!({"path_prefix": "/api/subaccount", "status": 503, "probability": 1.0}))
        .await;
    let path = format!("/api/subaccount/{id}/token");
    for _ in 0..3 {
        let res = app
            .as_partner(Method::GET, &path)
            .header("Origin", ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
        assert_eq!(
            expect_json(res, 503).await,
            json!({"detail": "Injected fault"})
        );
    }
    // Other paths and the control endpoints are untouched.
    assert_eq!(
        app.as_partner(Method::GET, "/api/servertypes")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.stats().await["GET /api/subaccount/{id}/token"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_fault_carries_retry_after() {
    let app = spawn_app().await;
    app.add_fault(json!({"path_prefix": "/api/servertypes/", "status": 429}))
        .await;
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    expect_json(res, 429).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clearing_faults_restores_normal_answers() {
    let app = spawn_app().await;
    app.add_fault(json!({"path_prefix": "/api", "status": 500}))
        .await;
    assert_eq!(
        app.as_partner(Method::GET, "/api/servertypes")
            .send()
            .await
            .unwrap()
            .status(),
        500
    );
    let res = app
        .request(Method::DELETE, "/__emulator/faults")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        app.as_partner(Method::GET, "/api/servertypes")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delay_only_fault_delays_then_handles_normally() {
    let app = spawn_app().await;
    app.add_fault(json!({"path_prefix": "/api/servertypes", "delay_ms": 300}))
        .await;
    let started = Instant::now();
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(expect_json(res, 200).await.as_array().unwrap().len() >= 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_with_probability_zero_never_fires_and_odd_rules_are_refused() {
    let app = spawn_app().await;
    app.add_fault(json!({"path_prefix": "/api", "status": 503, "probability": 0.0}))
        .await;
    for _ in 0..5 {
        assert_eq!(
            app.as_partner(Method::GET, "/api/servertypes")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    for bad in [
        json!({"path_prefix": "/api"}),
        json!({"path_prefix": "/api", "status": 200}),
        json!({"status": 503}),
    ] {
        let res = app
            .request(Method::POST, "/__emulator/faults")
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_json(res, 400).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_forgets_state_but_keeps_the_partner_token_valid() {
    let app = spawn_app().await;
    let (id, token) = app.tenant("wood_123").await;
    app.add_fault(json!({"path_prefix": "/api/servers", "status": 503}))
        .await;
    let res = app
        .request(Method::POST, "/__emulator/reset")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(app.stats().await, json!({}));
    let res = app
        .as_partner(Method::GET, "/api/subaccount")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 200).await, json!([]));
    // The old tenant's token died with its account, and no fault fires any more.
    assert_eq!(
        app.with_token(Method::GET, "/api/servers", &token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let new_id = app.create_subaccount("wood_123").await;
    assert_ne!(new_id, id, "ids are not reused after a reset");
}

#[actix_web::test]
async fn the_emulator_also_runs_inside_an_actix_web_test() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/").send().await.unwrap();
    assert_eq!(body(res).await["name"], "peliqan-emulator");
    app.emulator.stop().await;
}
