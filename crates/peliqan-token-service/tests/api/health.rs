//! Operations endpoints, fallbacks and limits.

use crate::helpers::*;
use peliqan_client::Operation;

#[tokio::test]
async fn health_readiness_and_metrics_answer_without_tenant_labels() {
    let app = spawn_app().await;
    assert_eq!(
        app.http
            .get(format!("{}/healthz", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.http
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.token_for("metered_tenant").await;
    let text = app.metrics_text().await;
    assert!(text.contains("token_service_http_requests_total{route=\"/v1/token\",method=\"POST\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("token_service_http_request_duration_seconds_bucket"));
    assert!(text.contains("token_service_upstream_calls_total{operation=\"token\"}"));
    assert!(!text.contains("metered_tenant"), "no per-tenant labels");
}

#[tokio::test]
async fn connectors_need_a_user_and_come_with_their_connect_forms() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/v1/connectors", app.url))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "missing_credentials").await;
    for _ in 0..3 {
        let res = app
            .http
            .get(format!("{}/v1/connectors", app.url))
            .bearer_auth(jwt(&claims("c")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let list: Vec<peliqan_api::Servertype> = res.json().await.unwrap();
        assert!(list.iter().any(|s| !s.connect_form.fields.is_empty()));
    }
    assert_eq!(
        app.upstream_calls(&[Operation::Servertypes]).await,
        1,
        "cached"
    );
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_big_bodies_get_problems() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/nowhere", app.url))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
    let res = app
        .http
        .get(format!("{}/v1/token", app.url))
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
    let big = "x".repeat(64 * 1024);
    let res = app
        .http
        .post(format!("{}/v1/token", app.url))
        .bearer_auth(jwt(&claims("b")))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_problem(res, 413, "payload_too_large").await;
}
