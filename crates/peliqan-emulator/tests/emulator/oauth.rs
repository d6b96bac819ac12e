//! The emulated OAuth provider: consent page, decision, COOP.

use crate::helpers::{TestApp, expect_json, spawn_app, spawn_app_with};
use peliqan_emulator::Config;
use reqwest::Method;
use serde_json::json;

/// Starts a HubSpot connection; returns (token, connection id, oauth_url).
async fn start_oauth(app: &TestApp) -> (String, u64, String) {
    let (_, token) = app.tenant("wood_123").await;
    let res = app
        .with_token(Method::POST, "/api/servers", &token)
        .json(&json!({"servertype_id": 124}))
        .send()
        .await
        .unwrap();
    let created = expect_json(res, 201).await;
    assert_eq!(created["status"], "pending");
    let url = created["oauth_url"].as_str().unwrap().to_owned();
    (token, created["id"].as_u64().unwrap(), url)
}

fn state_of(oauth_url: &str) -> String {
    let url = url::Url::parse(oauth_url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

async fn decide(app: &TestApp, state: &str, decision: &str) -> reqwest::Response {
    app.request(Method::POST, "/oauth/decision")
        .form(&[("state", state), ("decision", decision)])
        .send()
        .await
        .unwrap()
}

async fn status(app: &TestApp, token: &str, id: u64) -> serde_json::Value {
    let res = app
        .with_token(Method::GET, &format!("/api/server/{id}"), token)
        .send()
        .await
        .unwrap();
    expect_json(res, 200).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consent_page_has_approve_and_deny_buttons_and_no_coop_by_default() {
    let app = spawn_app().await;
    let (_, _, oauth_url) = start_oauth(&app).await;
    assert!(oauth_url.starts_with(&format!("{}/oauth/authorize?", app.emulator.url())));
    let res = app.http.get(&oauth_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("cross-origin-opener-policy").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"id="approve""#) && html.contains(r#"id="deny""#));
    assert!(html.contains(r#"action="/oauth/decision""#));
    assert!(html.contains("Authorize Peliqan to access HubSpot (emulated)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_coop_both_oauth_pages_send_cross_origin_opener_policy() {
    let app = spawn_app_with(Config {
        coop: true,
        ..Config::default()
    })
    .await;
    let (_, _, oauth_url) = start_oauth(&app).await;
    let res = app.http.get(&oauth_url).send().await.unwrap();
    assert_eq!(res.headers()["cross-origin-opener-policy"], "same-origin");
    let res = decide(&app, &state_of(&oauth_url), "approve").await;
    assert_eq!(res.headers()["cross-origin-opener-policy"], "same-origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn approving_makes_the_connection_live_and_the_page_closes_itself() {
    let app = spawn_app().await;
    let (token, id, oauth_url) = start_oauth(&app).await;
    let res = decide(&app, &state_of(&oauth_url), "approve").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("window.close()") && html.contains("You can close this window"));
    assert_eq!(status(&app, &token, id).await["status"], "connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn denying_fails_the_connection_with_access_denied() {
    let app = spawn_app().await;
    let (token, id, oauth_url) = start_oauth(&app).await;
    assert_eq!(
        decide(&app, &state_of(&oauth_url), "deny").await.status(),
        200
    );
    let server = status(&app, &token, id).await;
    assert_eq!(server["status"], "failed");
    assert_eq!(
        server["status_message"],
        "access_denied: the user denied access"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_used_or_unknown_state_is_a_400_page() {
    let app = spawn_app().await;
    let (_, _, oauth_url) = start_oauth(&app).await;
    let state = state_of(&oauth_url);
    assert_eq!(decide(&app, &state, "approve").await.status(), 200);
    for res in [
        decide(&app, &state, "approve").await,
        app.http.get(&oauth_url).send().await.unwrap(),
        app.request(Method::GET, "/oauth/authorize?state=nope")
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("unknown or was already used")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_next_oauth_url_is_answered_once_by_the_next_oauth_connection() {
    let app = spawn_app().await;
    let hostile = "javascript:alert(document.domain)";
    let set = || app.send(app.control().next_oauth_url(hostile));
    set().await.unwrap();
    let token = app.tenant("acme").await.1;
    // A connection that is not OAuth leaves it for the next OAuth one.
    let res = app
        .with_token(Method::POST, "/api/servers", &token)
        .json(&json!({"servertype_id": 123, "api_token": "k"}))
        .send()
        .await
        .unwrap();
    assert!(expect_json(res, 201).await.get("oauth_url").is_none());
    let add = || {
        app.with_token(Method::POST, "/api/servers", &token)
            .json(&json!({"servertype_id": 124}))
            .send()
    };
    let first = expect_json(add().await.unwrap(), 201).await;
    assert_eq!(first["oauth_url"], hostile);
    let second = expect_json(add().await.unwrap(), 201).await;
    let consent = format!("{}/oauth/authorize?", app.emulator.url());
    assert!(second["oauth_url"].as_str().unwrap().starts_with(&consent));
    // Wrong bodies are refused; a reset forgets a URL set and not used.
    let empty = app.send(app.control().next_oauth_url("")).await;
    assert!(empty.unwrap_err().to_string().contains("answered 400"));
    // Bodies that are no `NextOauthUrl` at all.
    for bad in [json!({"url": "x"}), json!({"oauth_url": 1})] {
        let res = app
            .request(Method::POST, "/__emulator/next-oauth-url")
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_json(res, 400).await;
    }
    set().await.unwrap();
    app.send(app.control().reset()).await.unwrap();
    let token = app.tenant("acme").await.1;
    let res = app
        .with_token(Method::POST, "/api/servers", &token)
        .json(&json!({"servertype_id": 124}))
        .send()
        .await
        .unwrap();
    let after = expect_json(res, 201).await;
    assert!(after["oauth_url"].as_str().unwrap().starts_with(&consent));
}
