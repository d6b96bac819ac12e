//! Forced refresh: `POST /v1/token` with `{"rejected_token": ...}`, sent by
//! the SDK when Peliqan answered 401 to that token. The service refetches
//! only when the rejected token is the one it has cached, once per flight,
//! and at most once per tenant per `TOKEN_SERVICE_FORCED_REFRESH_INTERVAL_SECS`.

use crate::helpers::*;
use peliqan_api::TokenAnswer;
use peliqan_client::Secret;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// `POST /v1/token` with `body` as JSON.
async fn post(app: &TestApp, user: &str, body: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/token", app.url))
        .bearer_auth(user)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// A forced refresh reporting `rejected`; expects a 200.
async fn forced(app: &TestApp, user: &str, rejected: &str) -> TokenAnswer {
    let body = json!({ "rejected_token": rejected }).to_string();
    let res = post(app, user, &body).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    res.json().await.unwrap()
}

fn interval(secs: &'static str) -> impl FnOnce(&mut BTreeMap<String, String>) {
    move |s| {
        s.insert(
            "TOKEN_SERVICE_FORCED_REFRESH_INTERVAL_SECS".into(),
            secs.into(),
        );
    }
}

#[tokio::test]
async fn a_rejected_cached_token_is_replaced_with_exactly_one_upstream_call() {
    let app = spawn_app().await;
    let user = jwt(&claims("rejected_once"));
    let first = app.token_for("rejected_once").await;
    let before = app.upstream_token_calls().await;
    let second = forced(&app, &user, &first.token).await;
    assert_ne!(second.token, first.token);
    assert_eq!(second.external_id.as_str(), "rejected_once");
    assert_eq!(app.upstream_token_calls().await, before + 1);
    // The new token is the cached one now.
    assert_eq!(app.token_for("rejected_once").await.token, second.token);
    assert_eq!(app.upstream_token_calls().await, before + 1);
    assert_eq!(
        metric(
            &app,
            "token_service_token_forced_refreshes_total{outcome=\"refetched\"}"
        )
        .await,
        1.0
    );
}

#[tokio::test]
async fn a_second_forced_refresh_within_the_interval_answers_the_cached_token() {
    // The default interval, 5 s, on a clock that stands still.
    let app = spawn_app_with_clock(Duration::from_secs(1800), |_| {}).await;
    let user = jwt(&app.claims("rejected_twice"));
    let first = app.token_for("rejected_twice").await;
    let second = forced(&app, &user, &first.token).await;
    let calls = app.upstream_token_calls().await;
    // The new token is reported rejected at once: inside the interval the
    // service answers it again and does not ask Peliqan.
    for _ in 0..3 {
        let again = forced(&app, &user, &second.token).await;
        assert_eq!(again.token, second.token);
    }
    assert_eq!(app.upstream_token_calls().await, calls);
    assert_eq!(
        metric(
            &app,
            "token_service_token_forced_refreshes_total{outcome=\"throttled\"}"
        )
        .await,
        3.0
    );
}

#[tokio::test]
async fn once_the_interval_has_passed_a_rejection_is_honoured_again() {
    let app = spawn_app_with_clock(Duration::from_secs(1800), interval("20")).await;
    let user = jwt(&app.claims("rejected_later"));
    let first = app.token_for("rejected_later").await;
    let second = forced(&app, &user, &first.token).await;
    let calls = app.upstream_token_calls().await;
    app.advance(Duration::from_millis(19_999));
    assert_eq!(forced(&app, &user, &second.token).await.token, second.token);
    assert_eq!(app.upstream_token_calls().await, calls, "throttled");
    app.advance(Duration::from_millis(1));
    let third = forced(&app, &user, &second.token).await;
    assert_ne!(third.token, second.token);
    assert_eq!(app.upstream_token_calls().await, calls + 1);
}

#[tokio::test]
async fn a_rejected_token_that_is_not_the_cached_one_makes_no_upstream_call() {
    // No interval: only the comparison with the cached token decides.
    let app = spawn_app_with(Duration::from_secs(1800), interval("0")).await;
    let user = jwt(&claims("stale_report"));
    let first = app.token_for("stale_report").await;
    let second = forced(&app, &user, &first.token).await;
    let calls = app.upstream_token_calls().await;
    // A browser that still held the first token reports it late.
    assert_eq!(forced(&app, &user, &first.token).await.token, second.token);
    // Nor does a token the service never handed out.
    assert_eq!(
        forced(&app, &user, "e30.e30.c2ln").await.token,
        second.token
    );
    assert_eq!(forced(&app, &user, "").await.token, second.token);
    assert_eq!(app.upstream_token_calls().await, calls);
    // Another tenant's token, even a real one, refreshes nothing here.
    let other = app.token_for("stale_other").await;
    let calls = app.upstream_token_calls().await;
    assert_eq!(forced(&app, &user, &other.token).await.token, second.token);
    assert_eq!(app.upstream_token_calls().await, calls);
}

#[tokio::test]
async fn a_body_that_is_not_a_forced_refresh_request_is_an_invalid_request() {
    let app = spawn_app().await;
    let user = jwt(&claims("bad_bodies"));
    for body in [
        "not json",
        "[1]",
        "\"rejected_token\"",
        r#"{"rejected_token": 5}"#,
        r#"{"rejected_token": ["a"]}"#,
        r#"{"rejected_token": "a""#,
    ] {
        let res = post(&app, &user, body).await;
        let problem = assert_problem(res, 400, "invalid_request").await;
        assert!(problem.detail.contains("rejected_token"), "{problem:?}");
    }
    assert_eq!(app.upstream_token_calls().await, 0);
    // No body, or a JSON object without the field, is a plain request.
    assert_eq!(post(&app, &user, "").await.status(), 200);
    let calls = app.upstream_token_calls().await;
    for body in ["{}", r#"{"rejected_token": null}"#, "  \n"] {
        assert_eq!(post(&app, &user, body).await.status(), 200, "{body:?}");
    }
    assert_eq!(
        app.upstream_token_calls().await,
        calls,
        "served from the cache"
    );
}

#[tokio::test]
async fn fifty_simultaneous_forced_refreshes_make_one_upstream_call() {
    let app = spawn_app().await;
    let user = jwt(&claims("rejected_by_many"));
    let first = app.token_for("rejected_by_many").await;
    let before = app.upstream_token_calls().await;
    let answers =
        futures::future::join_all((0..50).map(|_| forced(&app, &user, &first.token))).await;
    let tokens: std::collections::HashSet<_> = answers.into_iter().map(|a| a.token).collect();
    assert_eq!(tokens.len(), 1, "everyone got the one new token");
    assert!(!tokens.contains(&first.token));
    assert_eq!(app.upstream_token_calls().await, before + 1);
}

#[tokio::test]
async fn after_the_sub_account_is_deleted_and_recreated_a_forced_refresh_gets_a_working_token() {
    let app = spawn_app().await;
    let user = jwt(&claims("recreated"));
    let first = app.token_for("recreated").await;
    // As someone would in Peliqan's UI (the `partner` API has no delete route).
    let id = first.subaccount_id.unwrap();
    app.emulator.delete_subaccount(id).unwrap();
    app.provision("recreated").await;
    let peliqan = app.peliqan();
    let old = peliqan.subaccount(Secret::new(first.token.clone()));
    let status = old.connections().await.unwrap_err().status();
    assert_eq!(status, Some(401), "Peliqan rejects the cached token");
    // Without a forced refresh the service keeps answering it.
    assert_eq!(app.token_for("recreated").await.token, first.token);
    let fresh = forced(&app, &user, &first.token).await;
    assert_ne!(fresh.subaccount_id, first.subaccount_id);
    let new = peliqan.subaccount(Secret::new(fresh.token));
    new.connections().await.expect("the new token works");
}
