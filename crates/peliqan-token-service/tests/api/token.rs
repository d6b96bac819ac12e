//! `POST /v1/token` happy path and unknown tenants.

use crate::helpers::*;
use peliqan_client::{PeliqanClient, Secret};

#[tokio::test]
async fn a_valid_user_jwt_gets_its_tenants_token_that_works_against_peliqan() {
    let app = spawn_app().await;
    let res = app.token(&jwt(&claims("wood_123"))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["external_id"], "wood_123");
    assert!(body["subaccount_id"].as_u64().is_some());
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires > chrono::Utc::now());

    // The token is a real sub-account token: the emulator accepts it.
    let client = PeliqanClient::builder(app.emulator.url()).build().unwrap();
    let sub = client.subaccount(Secret::new(body["token"].as_str().unwrap()));
    let connections = sub
        .connections()
        .await
        .expect("sub-account token works upstream");
    assert!(connections.is_empty());
}

#[tokio::test]
async fn an_unknown_tenant_gets_a_404_problem_when_provisioning_is_off() {
    let app = spawn_app_with(std::time::Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_AUTO_PROVISION".into(), "false".into());
    })
    .await;
    let res = app.token(&jwt(&claims("nobody_here"))).await;
    assert_problem(res, 404, "unknown_tenant").await;
    // Not cached: a second request asks Peliqan again.
    let res = app.token(&jwt(&claims("nobody_here"))).await;
    assert_problem(res, 404, "unknown_tenant").await;
    assert_eq!(app.upstream_count("GET /api/subaccount/token").await, 2);
}
