//! Authentication and scopes: bad headers, foreign signatures, partner vs
//! sub-account tokens, and what a sub-account token may reach.

use crate::helpers::{body, expect_json, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_or_malformed_authorization_header_is_a_401_with_a_drf_message() {
    let app = spawn_app().await;
    let cases = [
        (None, "Authentication credentials were not provided."),
        (
            Some("JWT"),
            "Invalid Authorization header. No credentials provided.",
        ),
        (
            Some("JWT a b"),
            "Invalid Authorization header. Credentials string should not contain spaces.",
        ),
        (Some("JWT not.a.token"), "Error decoding signature."),
        (
            Some("Bearer abc"),
            "Authentication credentials were not provided.",
        ),
    ];
    for (header, message) in cases {
        let mut req = app.request(Method::GET, "/api/servertypes");
        if let Some(h) = header {
            req = req.header("Authorization", h);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.headers()["www-authenticate"], r#"JWT realm="api""#);
        let detail = expect_json(res, 401).await["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.starts_with(message), "{header:?}: {detail}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_signed_by_another_emulator_is_rejected() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    let res = app
        .with_token(
            Method::GET,
            "/api/servertypes",
            other.emulator.partner_token(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 401).await["detail"],
        "Error decoding signature."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_partner_token_on_a_subaccount_endpoint_is_a_403() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/servers"),
        (Method::POST, "/table"),
        (Method::GET, "/api/server/1001"),
    ] {
        let res = app
            .as_partner(method, path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(expect_json(res, 403).await["detail"].is_string(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subaccount_token_on_a_partner_endpoint_is_a_403() {
    let app = spawn_app().await;
    let (id, token) = app.tenant("wood_123").await;
    for path in [
        "/api/subaccount".to_owned(),
        format!("/api/subaccount/{id}/token"),
        "/api/servertypes".into(),
    ] {
        let res = app
            .with_token(Method::GET, &path, &token)
            .send()
            .await
            .unwrap();
        assert!(expect_json(res, 403).await["detail"].is_string(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_external_id_is_a_400_naming_external_id() {
    let app = spawn_app().await;
    app.create_subaccount("wood_123").await;
    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .json(&json!({"external_id": "wood_123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 400).await,
        json!({"external_id": ["sub-account with this external_id already exists."]})
    );
    for bad in [json!({}), json!({"external_id": "  "})] {
        let res = app
            .as_partner(Method::POST, "/api/subaccount")
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert!(
            expect_json(res, 400).await.get("external_id").is_some(),
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subaccount_cannot_see_another_subaccounts_connection() {
    let app = spawn_app().await;
    let (_, alice) = app.tenant("alice").await;
    let (_, bob) = app.tenant("bob").await;
    let res = app
        .with_token(Method::POST, "/api/servers", &alice)
        .json(&json!({"servertype_id": 123, "api_token": "k"}))
        .send()
        .await
        .unwrap();
    let id = expect_json(res, 201).await["id"].as_u64().unwrap();
    for path in [
        format!("/api/server/{id}"),
        format!("/api/server/{id}/logs"),
    ] {
        let res = app
            .with_token(Method::GET, &path, &bob)
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(res, 404).await, json!({"detail": "Not found."}));
        let res = app
            .with_token(Method::GET, &path, &alice)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = app
        .with_token(Method::GET, "/api/servers", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(body(res).await, json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_subaccount_revokes_its_tokens() {
    let app = spawn_app().await;
    let (id, token) = app.tenant("wood_123").await;
    let res = app
        .as_partner(Method::DELETE, &format!("/api/subaccount/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .with_token(Method::GET, "/api/servers", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
