//! OAuth client credentials (`partner` dialect): the token exchange, Bearer
//! access tokens on partner routes, their expiry and their revocation.

use crate::helpers::{TestApp, expect_html_404, expect_json, spawn_app_with, spawn_dialect};
use peliqan_api::Dialect;
use peliqan_api::clock::ManualClock;
use peliqan_emulator::Config;
use reqwest::Method;
use std::time::Duration;

/// A token request's form fields.
type Form<'a> = &'a [(&'a str, &'a str)];

/// GET /api/servertypes/ with `token` as Bearer; the status.
async fn servertypes_status(app: &TestApp, token: &str) -> u16 {
    app.with_bearer(Method::GET, "/api/servertypes/", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_buy_a_bearer_token_that_works_on_partner_routes_only() {
    let app = spawn_dialect(Dialect::Partner, true).await;
    let res = app
        .request(Method::POST, "/api/oauth2/token/")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.emulator.client_id()),
            ("client_secret", app.emulator.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let answer = expect_json(res, 200).await;
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 3600);
    let token = answer["access_token"].as_str().unwrap();
    assert_eq!(servertypes_status(&app, token).await, 200);
    let res = app
        .with_bearer(Method::POST, "/api/partner/sub-accounts/", token)
        .json(&serde_json::json!({"external_id": "acme"}))
        .send()
        .await
        .unwrap();
    expect_json(res, 200).await;
    // The partner's credential is not a sub-account's.
    let res = app
        .with_bearer(Method::GET, "/api/servers/", token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 403).await["error"], "permission_denied");
    // The partner JWT keeps working beside it.
    let res = app
        .as_partner(Method::GET, "/api/servertypes/")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_and_wrong_requests_get_oauth_error_codes() {
    let app = spawn_dialect(Dialect::Partner, true).await;
    let id = app.emulator.client_id().to_owned();
    let cases: [(Form, u16, &str); 4] = [
        (
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", "wrong"),
            ],
            401,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "password"),
                ("client_id", &id),
                ("client_secret", "x"),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            &[("grant_type", "client_credentials")],
            400,
            "invalid_request",
        ),
        (&[("client_id", &id)], 400, "invalid_request"),
    ];
    for (form, status, code) in cases {
        let res = app
            .request(Method::POST, "/api/oauth2/token/")
            .form(form)
            .send()
            .await
            .unwrap();
        let b = expect_json(res, status).await;
        assert_eq!(b["error"], code, "{form:?}");
        assert!(b["detail"].is_string(), "{b}");
        assert!(!b.to_string().contains(app.emulator.client_secret()));
    }
    let res = app
        .request(Method::POST, "/api/oauth2/token/")
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 400).await["error"], "invalid_request");
    assert_eq!(servertypes_status(&app, "made-up").await, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_token_answers_401_once_its_ttl_has_passed() {
    let app = spawn_app_with(Config {
        dialect: Dialect::Partner,
        strict_slashes: true,
        access_token_ttl: Duration::from_secs(60),
        manual_clock: Some(ManualClock::new()),
        ..Config::default()
    })
    .await;
    let token = app.access_token().await;
    assert_eq!(servertypes_status(&app, &token).await, 200);
    // The clock moves only when told: up to the last instant of the
    // lifetime in process, then over it through the control endpoint.
    app.emulator
        .advance_clock(Duration::from_millis(59_999))
        .unwrap();
    assert_eq!(servertypes_status(&app, &token).await, 200, "still live");
    let clock = app.control().advance_clock(Duration::from_secs(1));
    app.send(clock).await.unwrap();
    assert_eq!(servertypes_status(&app, &token).await, 401, "expired");
    let res = app
        .with_bearer(Method::GET, "/api/servertypes/", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="api", error="invalid_token""#
    );
    assert_eq!(
        expect_json(res, 401).await["error"],
        "authentication_failed"
    );
    // A new one works at once.
    assert_eq!(
        servertypes_status(&app, &app.access_token().await).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_makes_every_issued_access_token_answer_401() {
    let app = spawn_dialect(Dialect::Partner, true).await;
    let (a, b) = (app.access_token().await, app.access_token().await);
    assert_eq!(servertypes_status(&app, &a).await, 200);
    let revoked = app.send(app.control().revoke_access_tokens()).await;
    assert_eq!(revoked.unwrap().revoked, 2);
    assert_eq!(servertypes_status(&app, &a).await, 401);
    assert_eq!(servertypes_status(&app, &b).await, 401);
    let fresh = app.access_token().await;
    assert_eq!(servertypes_status(&app, &fresh).await, 200);
    // A reset forgets data, not credentials.
    app.send(app.control().reset()).await.unwrap();
    assert_eq!(servertypes_status(&app, &fresh).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn dialects_without_the_token_endpoint_know_no_bearer_tokens() {
    let app = spawn_dialect(Dialect::Seed, false).await;
    let res = app
        .request(Method::POST, "/api/oauth2/token/")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    expect_html_404(res).await;
    let res = app
        .with_bearer(Method::GET, "/api/servertypes", "anything")
        .send()
        .await
        .unwrap();
    let detail = expect_json(res, 401).await["detail"].to_string();
    assert!(detail.contains("JWT <token>"), "{detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_are_random_per_emulator_and_the_secret_is_never_printed() {
    let (a, b) = (
        spawn_dialect(Dialect::Partner, true).await,
        spawn_dialect(Dialect::Partner, true).await,
    );
    assert_ne!(a.emulator.client_id(), b.emulator.client_id());
    assert_ne!(a.emulator.client_secret(), b.emulator.client_secret());
    let debug = format!("{:?}", a.emulator);
    assert!(debug.contains(a.emulator.client_id()), "{debug}");
    assert!(!debug.contains(a.emulator.client_secret()), "{debug}");
}
