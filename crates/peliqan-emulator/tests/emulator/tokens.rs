//! Token issuance: claims, `expire=false`, expiry, lookup by external id.

use crate::helpers::{claims, expect_json, spawn_app, spawn_app_with};
use peliqan_api::clock::ManualClock;
use peliqan_emulator::Config;
use reqwest::Method;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn every_token_issuance_is_unique_and_names_its_scope_and_account() {
    let app = spawn_app().await;
    let id = app.create_subaccount("wood_123").await;
    let (a, b) = (
        app.subaccount_token(id).await,
        app.subaccount_token(id).await,
    );
    assert_ne!(a, b);
    let c = claims(&a);
    assert_eq!(
        (c["scope"].as_str(), c["subaccount_id"].as_u64()),
        (Some("subaccount"), Some(id))
    );
    assert_eq!(c["external_id"], "wood_123");
    let ttl = c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap();
    assert_eq!(ttl, 1800);
    assert_eq!(claims(app.emulator.partner_token())["scope"], "partner");
    assert!(claims(app.emulator.partner_token()).get("exp").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_asked_with_expire_false_has_no_exp_claim() {
    let app = spawn_app().await;
    let id = app.create_subaccount("wood_123").await;
    for path in [
        format!("/api/subaccount/{id}/token?expire=false"),
        "/api/subaccount/token?external_id=wood_123&expire=false".into(),
    ] {
        let res = app.as_partner(Method::GET, &path).send().await.unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store");
        let answer = expect_json(res, 200).await;
        assert_eq!(
            (
                answer["subaccount_id"].as_u64(),
                answer["external_id"].as_str()
            ),
            (Some(id), Some("wood_123"))
        );
        let c = claims(answer["token"].as_str().unwrap());
        assert!(c.get("exp").is_none(), "{c}");
        assert!(c.get("iat").is_some() && c.get("jti").is_some());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subaccount_token_is_refused_once_its_ttl_has_passed() {
    let app = spawn_app_with(Config {
        token_ttl: Duration::from_secs(1),
        manual_clock: Some(ManualClock::new()),
        ..Config::default()
    })
    .await;
    let (_, token) = app.tenant("wood_123").await;
    let res = app
        .with_token(Method::GET, "/api/servers", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Expiry is in whole seconds, checked with zero leeway: still valid
    // through its `exp` second, refused after it.
    app.emulator.advance_clock(Duration::from_secs(1)).unwrap();
    let res = app
        .with_token(Method::GET, "/api/servers", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.emulator.advance_clock(Duration::from_secs(1)).unwrap();
    let res = app
        .with_token(Method::GET, "/api/servers", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 401).await["detail"],
        "Signature has expired."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_by_external_id_needs_the_parameter_and_a_known_id() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::GET, "/api/subaccount/token")
        .send()
        .await
        .unwrap();
    assert!(expect_json(res, 400).await.get("external_id").is_some());
    let res = app
        .as_partner(Method::GET, "/api/subaccount/token?external_id=nobody")
        .send()
        .await
        .unwrap();
    assert!(expect_json(res, 404).await["detail"].is_string());
    let res = app
        .as_partner(Method::GET, "/api/subaccount/4242/token")
        .send()
        .await
        .unwrap();
    assert!(expect_json(res, 404).await["detail"].is_string());
}
