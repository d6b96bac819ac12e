//! Opaque bearer tokens checked by RFC 7662 introspection, against a fake
//! introspection endpoint over real HTTP.

use crate::helpers::*;
use crate::identity_fake::{CLIENT_ID, CLIENT_SECRET, FakeIdp, closed_url};
use peliqan_api::TokenAnswer;
use peliqan_api::clock::{Clock, ManualClock};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// The test settings with introspection at `url` instead of user JWTs; the
/// tenant in the answer's `org_id`.
pub fn introspection(map: &mut BTreeMap<String, String>, url: &str) {
    for k in [
        "TOKEN_SERVICE_JWT_HS256_SECRET",
        "TOKEN_SERVICE_JWT_ISSUER",
        "TOKEN_SERVICE_JWT_AUDIENCE",
    ] {
        map.remove(k);
    }
    for (k, v) in [
        (
            "TOKEN_SERVICE_INTROSPECTION_URL",
            format!("{url}/introspect"),
        ),
        ("TOKEN_SERVICE_INTROSPECTION_CLIENT_ID", CLIENT_ID.into()),
        (
            "TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET",
            CLIENT_SECRET.into(),
        ),
        ("TOKEN_SERVICE_INTROSPECTION_CACHE_SECS", "30".into()),
        ("TOKEN_SERVICE_TENANT_CLAIM", "org_id".into()),
    ] {
        map.insert(k.into(), v);
    }
}

async fn spawn(idp: &FakeIdp, clock: Option<std::sync::Arc<ManualClock>>) -> TestApp {
    let url = idp.url.clone();
    spawn_app_on_clock(
        emulator_config(Duration::from_secs(1800)),
        clock,
        move |map, _| introspection(map, &url),
    )
    .await
}

fn active(tenant: &str, exp: u64) -> serde_json::Value {
    json!({"active": true, "sub": format!("user-of-{tenant}"), "org_id": tenant,
           "exp": exp, "email": format!("owner@{tenant}.test"), "client_id": "spa"})
}

#[tokio::test]
async fn an_active_token_gets_its_tenants_token_and_is_introspected_once() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp, None).await;
    idp.token("opaque-acme", active("intro_acme", now() + 300));
    for _ in 0..3 {
        let res = app.token("opaque-acme").await;
        assert_eq!(res.status(), 200);
        let answer: TokenAnswer = res.json().await.unwrap();
        assert_eq!(answer.external_id.as_str(), "intro_acme");
    }
    assert_eq!(idp.introspections(), 1, "the active answer is cached");
    let logs = logs();
    assert!(!logs.contains("opaque-acme") && !logs.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn an_inactive_or_unknown_token_is_401_and_mints_nothing() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp, None).await;
    idp.token("revoked", json!({"active": false}));
    for token in ["revoked", "never-issued"] {
        let res = app.token(token).await;
        assert!(res.headers().contains_key("www-authenticate"));
        assert_problem(res, 401, "introspection_inactive").await;
    }
    assert_problem(
        app.http
            .post(format!("{}/v1/token", app.url))
            .send()
            .await
            .unwrap(),
        401,
        "missing_credentials",
    )
    .await;
    assert_eq!(app.upstream_token_calls().await, 0);
    // A negative answer is not cached: the next try asks again.
    app.token("revoked").await;
    assert_eq!(idp.introspections(), 3);
}

#[tokio::test]
async fn an_expired_token_is_401_and_an_answer_is_cached_no_longer_than_its_exp_or_the_bound() {
    let idp = FakeIdp::start().await;
    let clock = ManualClock::new();
    let app = spawn(&idp, Some(clock.clone())).await;
    let now = clock.unix_secs();
    idp.token("expired", active("intro_exp", now - 1));
    assert_problem(app.token("expired").await, 401, "introspection_inactive").await;
    // Active, expiring in 5 s (cache bound 30 s): reused for 5 s only.
    idp.token("short", active("intro_short", now + 5));
    assert_eq!(app.token("short").await.status(), 200);
    clock.advance(Duration::from_secs(4));
    assert_eq!(app.token("short").await.status(), 200);
    assert_eq!(idp.introspections(), 2, "reused within its exp");
    clock.advance(Duration::from_secs(1));
    assert_problem(app.token("short").await, 401, "introspection_inactive").await;
    assert_eq!(idp.introspections(), 3, "asked again at its exp");
    // Active for an hour: reused for the 30 s bound only.
    let now = clock.unix_secs();
    idp.token("long", active("intro_long", now + 3600));
    assert_eq!(app.token("long").await.status(), 200);
    clock.advance(Duration::from_secs(29));
    assert_eq!(app.token("long").await.status(), 200);
    assert_eq!(idp.introspections(), 4);
    clock.advance(Duration::from_secs(1));
    idp.token("long", json!({"active": false}));
    assert_problem(app.token("long").await, 401, "introspection_inactive").await;
}

#[tokio::test]
async fn an_answer_without_the_configured_tenant_field_is_403() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp, None).await;
    idp.token(
        "wrong-field",
        json!({"active": true, "sub": "u", "tenant": "intro_other", "exp": now() + 300}),
    );
    let p = assert_problem(
        app.token("wrong-field").await,
        403,
        "introspection_no_tenant",
    )
    .await;
    assert!(p.detail.contains("`org_id`"), "{p:?}");
    assert_eq!(app.upstream_token_calls().await, 0);
}

#[tokio::test]
async fn an_endpoint_that_is_down_or_refuses_the_service_is_503_not_401() {
    let idp = FakeIdp::start().await;
    idp.token("fine", active("intro_down", now() + 300));
    let down = closed_url();
    let app = spawn_app_with(Duration::from_secs(1800), |map| introspection(map, &down)).await;
    let res = app.token("fine").await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "introspection_unavailable").await;
    // The endpoint is up but refuses the service's client secret.
    let url = idp.url.clone();
    let app = spawn_app_with(Duration::from_secs(1800), |map| {
        introspection(map, &url);
        map.insert(
            "TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET".into(),
            "wrong-secret".into(),
        );
    })
    .await;
    assert_problem(app.token("fine").await, 503, "introspection_unavailable").await;
    assert!(logs().contains("REFUSED THE SERVICE'S CLIENT CREDENTIALS"));
    assert!(!logs().contains("wrong-secret"));
}
