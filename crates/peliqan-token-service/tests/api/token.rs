//! `POST /v1/token` happy path and unknown tenants.

use crate::helpers::*;
use peliqan_client::{Operation, Secret};

#[tokio::test]
async fn a_valid_user_jwt_gets_its_tenants_token_that_works_against_peliqan() {
    let app = spawn_app().await;
    let res = app.token(&jwt(&claims("wood_123"))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: peliqan_api::TokenAnswer = res.json().await.unwrap();
    assert_eq!(body.external_id.as_str(), "wood_123");
    assert!(body.subaccount_id.is_some());
    let expires = chrono::DateTime::parse_from_rfc3339(&body.expires_at).unwrap();
    assert!(expires > chrono::Utc::now());

    // The token is a real sub-account token: the emulator accepts it, in
    // the dialect the answer names.
    assert_eq!(body.dialect.as_deref(), Some(app.routes.dialect().name()));
    let sub = app.peliqan().subaccount(Secret::new(body.token));
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
    assert_eq!(app.upstream_calls(&[Operation::TokenByExternalId]).await, 2);
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 0);
}
