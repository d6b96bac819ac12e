//! Authentication and scopes: bad headers, foreign signatures, partner vs
//! sub-account tokens, what a sub-account token may reach, and that it dies
//! with its account in every dialect.

use crate::helpers::{TestApp, body, expect_json, spawn_app, spawn_dialect};
use peliqan_api::dialect::Vars;
use peliqan_api::{Dialect, Operation, SubaccountId};
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

/// Creates `external_id`'s sub-account in `dialect`; returns its id and a token.
async fn account_and_token(app: &TestApp, dialect: Dialect, external_id: &str) -> (u64, String) {
    let partner = app.emulator.partner_token().to_owned();
    let new = json!({"external_id": external_id, "email": "ann@acme.test"});
    let res = app
        .call(
            dialect,
            Operation::CreateSubaccount,
            Vars::default(),
            Some(&partner),
            Some(new),
        )
        .await;
    assert!(
        res.status().is_success(),
        "{dialect}: create {}",
        res.status()
    );
    let id = body(res).await["id"].as_u64().unwrap();
    let vars = Vars {
        external_id: Some(external_id),
        ..Vars::default()
    };
    let res = app
        .call(
            dialect,
            Operation::TokenByExternalId,
            vars,
            Some(&partner),
            None,
        )
        .await;
    let token = body(res).await["token"].as_str().unwrap().to_owned();
    (id, token)
}

async fn list_status(app: &TestApp, dialect: Dialect, token: &str) -> u16 {
    let res = app
        .call(
            dialect,
            Operation::ListConnections,
            Vars::default(),
            Some(token),
            None,
        )
        .await;
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_subaccounts_token_is_refused_in_every_dialect_and_its_successor_has_a_new_id() {
    for &dialect in Dialect::ALL {
        let app = spawn_dialect(dialect, true).await;
        let (id, token) = account_and_token(&app, dialect, "acme").await;
        assert_eq!(list_status(&app, dialect, &token).await, 200, "{dialect}");
        // Deleted through the API where the dialect has the route, else as
        // in Peliqan's UI (the control endpoint).
        if dialect.routes().has(Operation::DeleteSubaccount) {
            let partner = app.emulator.partner_token().to_owned();
            let by_id = Vars {
                id: Some(id),
                ..Vars::default()
            };
            let res = app
                .call(
                    dialect,
                    Operation::DeleteSubaccount,
                    by_id,
                    Some(&partner),
                    None,
                )
                .await;
            assert_eq!(res.status(), 204, "{dialect}");
        } else {
            let delete = app.control().delete_subaccount(SubaccountId(id));
            app.send(delete).await.unwrap();
        }
        assert_eq!(list_status(&app, dialect, &token).await, 401, "{dialect}");

        let (again, new_token) = account_and_token(&app, dialect, "acme").await;
        assert_ne!(again, id, "{dialect}: a re-created account gets a new id");
        assert_eq!(list_status(&app, dialect, &token).await, 401, "{dialect}");
        assert_eq!(
            list_status(&app, dialect, &new_token).await,
            200,
            "{dialect}"
        );

        // The control endpoint works in every dialect; an unknown id is a 404.
        let delete = || app.control().delete_subaccount(SubaccountId(again));
        app.send(delete()).await.unwrap();
        assert_eq!(
            list_status(&app, dialect, &new_token).await,
            401,
            "{dialect}"
        );
        let err = app.send(delete()).await.unwrap_err();
        assert!(err.to_string().contains("answered 404"), "{dialect}: {err}");
    }
}
