//! `POST /v1/token` happy path and unknown tenants.

use crate::helpers::*;
use peliqan_client::{Operation, Secret};
use std::time::Duration;

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
    assert_eq!(
        body.routing.dialect.as_deref(),
        Some(app.routes.dialect().name())
    );
    let sub = app.peliqan().subaccount(Secret::new(body.token));
    let connections = sub
        .connections()
        .await
        .expect("sub-account token works upstream");
    assert!(connections.is_empty());
}

#[tokio::test]
async fn an_unknown_tenant_gets_a_404_problem_when_provisioning_is_off() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_AUTO_PROVISION".into(), "false".into());
    })
    .await;
    let res = app.token(&jwt(&claims("nobody_here"))).await;
    assert_problem(res, 404, "unknown_tenant").await;
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 0);
}

#[tokio::test]
async fn an_unknown_tenant_is_remembered_so_repeats_make_no_upstream_call() {
    // The default memory, 30 s: far longer than this test takes.
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_AUTO_PROVISION".into(), "false".into());
    })
    .await;
    let user = jwt(&claims("not_yet"));
    let answers = futures::future::join_all((0..20).map(|_| app.token(&user))).await;
    for res in answers {
        assert_problem(res, 404, "unknown_tenant").await;
    }
    // Most of the 20 shared one flight; one scheduled after that flight
    // ended is already answered from the memory, so count from here.
    let remembered_before =
        metric(&app, "token_service_token_unknown_tenant_cache_hits_total").await;
    for _ in 0..5 {
        assert_problem(app.token(&user).await, 404, "unknown_tenant").await;
    }
    assert_eq!(app.upstream_token_calls().await, 1);
    // Created elsewhere (the partner's backend): not seen until the mark
    // expires, as the README says.
    app.provision("not_yet").await;
    assert_problem(app.token(&user).await, 404, "unknown_tenant").await;
    assert_eq!(app.upstream_token_calls().await, 1);
    assert_eq!(
        metric(&app, "token_service_token_unknown_tenant_cache_hits_total").await
            - remembered_before,
        6.0,
        "the 6 requests after the first answer were all remembered"
    );
}

#[tokio::test]
async fn a_tenant_created_elsewhere_is_seen_once_the_unknown_mark_expires() {
    let app = spawn_app_with_clock(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_AUTO_PROVISION".into(), "false".into());
        s.insert(
            "TOKEN_SERVICE_UNKNOWN_TENANT_CACHE_SECS".into(),
            "30".into(),
        );
    })
    .await;
    let user = jwt(&app.claims("later_on"));
    assert_problem(app.token(&user).await, 404, "unknown_tenant").await;
    app.provision("later_on").await;
    app.advance(Duration::from_secs(29));
    assert_problem(app.token(&user).await, 404, "unknown_tenant").await;
    assert_eq!(app.upstream_token_calls().await, 1, "still remembered");
    app.advance(Duration::from_secs(1));
    let res = app.token(&user).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(app.upstream_token_calls().await, 2);
}

#[tokio::test]
async fn with_the_unknown_tenant_cache_off_every_request_asks_peliqan() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_AUTO_PROVISION".into(), "false".into());
        s.insert("TOKEN_SERVICE_UNKNOWN_TENANT_CACHE_SECS".into(), "0".into());
    })
    .await;
    for _ in 0..2 {
        let res = app.token(&jwt(&claims("nobody_at_all"))).await;
        assert_problem(res, 404, "unknown_tenant").await;
    }
    assert_eq!(app.upstream_calls(&[Operation::TokenByExternalId]).await, 2);
}
