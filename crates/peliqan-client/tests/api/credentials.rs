//! Partner OAuth client credentials: exchanged once for an access token,
//! reused, shared by concurrent calls, renewed before it expires, renewed
//! once when Peliqan rejects it, and never printed. Against the emulator in
//! the `partner` dialect (the only one with an `oauth_token` route), and a
//! raw server for what goes on the wire.

use crate::helpers::{
    RawAnswer, TestApp, client_for, fast_retries, input, spawn_app_with, spawn_raw_server,
    spawn_raw_server_seq,
};
use peliqan_api::clock::ManualClock;
use peliqan_client::{Dialect, Error, Operation, PartnerApi, PartnerCredentials, Secret};
use peliqan_emulator::Config;
use std::time::Duration;

const EXCHANGE: &str = "POST /api/oauth2/token/";

/// The emulator and the app's client run on one manual clock
/// (`app.emulator.advance_clock` moves both).
async fn partner_emulator(access_token_ttl: Duration) -> TestApp {
    spawn_app_with(Config {
        dialect: Dialect::Partner,
        strict_slashes: true,
        access_token_ttl,
        manual_clock: Some(ManualClock::new()),
        ..Config::default()
    })
    .await
}

/// A partner API on `app` that authenticates with the emulator's client
/// credentials (`secret` replaces the right one when given).
fn with_credentials(app: &TestApp, secret: Option<&str>) -> PartnerApi {
    app.client
        .partner_with(PartnerCredentials::ClientCredentials {
            client_id: app.emulator.client_id().to_owned(),
            client_secret: Secret::new(secret.unwrap_or(app.emulator.client_secret())),
        })
}

#[tokio::test]
async fn client_credentials_are_exchanged_once_and_the_access_token_reused() {
    let app = partner_emulator(Duration::from_secs(3600)).await;
    let partner = with_credentials(&app, None);

    let account = partner.create_subaccount(&input("wood")).await.unwrap();
    let listed = partner.list_subaccounts().await.unwrap();
    partner.clone().servertypes().await.unwrap();

    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![account.id]
    );
    assert_eq!(app.count_key(EXCHANGE), 1, "one exchange, reused by clones");
    let debug = format!("{partner:?}");
    assert!(!debug.contains(app.emulator.client_secret()), "{debug}");
    assert!(debug.contains(app.emulator.client_id()), "{debug}");
}

#[tokio::test]
async fn concurrent_calls_share_one_exchange() {
    let app = partner_emulator(Duration::from_secs(3600)).await;
    let partner = with_credentials(&app, None);

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let partner = partner.clone();
        calls.spawn(async move { partner.servertypes().await });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap().unwrap();
    }

    assert_eq!(app.count_key(EXCHANGE), 1);
    assert_eq!(app.count(Operation::Servertypes), 8);
}

#[tokio::test]
async fn an_access_token_is_renewed_before_it_expires() {
    // A 60 s lifetime is renewed min(30 s, 60 s / 2) = 30 s early.
    let app = partner_emulator(Duration::from_secs(60)).await;
    let partner = with_credentials(&app, None);
    partner.servertypes().await.unwrap();
    assert_eq!(app.count_key(EXCHANGE), 1);

    // Just before the renewal point the token is reused...
    let clock = app.emulator.clock();
    app.emulator.advance_clock(Duration::from_secs(29)).unwrap();
    partner.servertypes().await.unwrap();
    assert_eq!(app.count_key(EXCHANGE), 1, "not due yet at {clock:?}");
    // ...past it, and before expiry, a new one is fetched first.
    app.emulator.advance_clock(Duration::from_secs(2)).unwrap();
    partner.servertypes().await.unwrap();

    assert_eq!(app.count_key(EXCHANGE), 2, "renewed ahead of expiry");
    assert_eq!(
        app.count(Operation::Servertypes),
        3,
        "no call was rejected first"
    );
}

#[tokio::test]
async fn a_revoked_access_token_is_renewed_once_and_the_call_replayed() {
    let app = partner_emulator(Duration::from_secs(3600)).await;
    let partner = with_credentials(&app, None);
    partner.servertypes().await.unwrap();
    assert_eq!(app.emulator.revoke_access_tokens().revoked, 1);

    partner.servertypes().await.unwrap();
    // A POST is replayed too: the 401 means it was not carried out.
    app.emulator.revoke_access_tokens();
    partner.create_subaccount(&input("wood")).await.unwrap();

    assert_eq!(app.count_key(EXCHANGE), 3);
    assert_eq!(app.count(Operation::Servertypes), 1 + 2);
    assert_eq!(app.count(Operation::CreateSubaccount), 2);
    assert_eq!(partner.list_subaccounts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_clear_error_that_never_shows_the_secret() {
    let app = partner_emulator(Duration::from_secs(3600)).await;
    let partner = with_credentials(&app, Some("not-the-secret-1234"));

    let err = partner.servertypes().await.unwrap_err();

    let Error::ClientCredentials { ref source, .. } = err else {
        panic!("expected a client-credentials error, got {err:?}")
    };
    assert!(matches!(**source, Error::Api { .. }), "{source:?}");
    let status = err.status().expect("the exchange's status");
    assert!(matches!(status, 400 | 401), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(EXCHANGE) && text.contains(&status.to_string()),
        "{text}"
    );
    assert!(text.contains(app.emulator.client_id()), "{text}");
    for shown in [text, format!("{err:?}")] {
        assert!(!shown.contains("not-the-secret-1234"), "{shown}");
    }
    assert_eq!(err.route_mismatch(), None);
    assert_eq!(app.count_key(EXCHANGE), 1, "a refusal is not retried");
    assert_eq!(
        app.count(Operation::Servertypes),
        0,
        "no call without a token"
    );
}

#[tokio::test]
async fn the_exchange_is_form_encoded_and_the_access_token_sent_as_bearer() {
    let server = spawn_raw_server_seq(vec![
        RawAnswer::json(
            200,
            r#"{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "scope": "partner"}"#,
        ),
        RawAnswer::json(200, "[]"),
    ])
    .await;
    let partner = client_for(&server.url, |b| b.dialect(Dialect::Partner)).partner_with(
        PartnerCredentials::ClientCredentials {
            client_id: "app 1".into(),
            client_secret: Secret::new("s&cret"),
        },
    );

    partner.servertypes().await.unwrap();

    let exchange = server.request(0);
    assert!(
        exchange.starts_with("post /api/oauth2/token/ "),
        "{exchange}"
    );
    assert!(
        exchange.contains("content-type: application/x-www-form-urlencoded"),
        "{exchange}"
    );
    assert!(!exchange.contains("authorization:"), "{exchange}");
    assert_eq!(
        server.body_text(0),
        "grant_type=client_credentials&client_id=app+1&client_secret=s%26cret"
    );
    let call = server.request(1);
    assert!(call.starts_with("get /api/servertypes/ "), "{call}");
    assert!(call.contains("authorization: bearer at-1\r\n"), "{call}");
}

#[tokio::test]
async fn a_token_rejected_again_after_renewal_is_returned_not_retried_forever() {
    let token = RawAnswer::json(200, r#"{"access_token": "at", "expires_in": 3600}"#);
    let rejected = RawAnswer::json(401, r#"{"detail": "Invalid token."}"#);
    let server = spawn_raw_server_seq(vec![token.clone(), rejected.clone(), token, rejected]).await;
    let partner = client_for(&server.url, |b| {
        b.dialect(Dialect::Partner).retry(fast_retries(2))
    })
    .partner_with(PartnerCredentials::ClientCredentials {
        client_id: "app".into(),
        client_secret: Secret::new("s"),
    });

    let err = partner.servertypes().await.unwrap_err();

    assert!(matches!(err, Error::Api { status: 401, .. }), "{err:?}");
    assert_eq!(
        server.request_count(),
        4,
        "exchange, call, exchange, replay"
    );
}

#[tokio::test]
async fn a_dialect_without_an_oauth_route_names_the_key_to_add_one() {
    let server = spawn_raw_server(200, "[]").await;
    let partner =
        client_for(&server.url, |b| b).partner_with(PartnerCredentials::ClientCredentials {
            client_id: "app".into(),
            client_secret: Secret::new("s"),
        });

    let err = partner.servertypes().await.unwrap_err();

    let text = err.to_string();
    assert!(matches!(err, Error::ClientCredentials { .. }), "{err:?}");
    assert!(
        text.contains("`seed`") && text.contains("PELIQAN_API_ROUTE_OAUTH_TOKEN"),
        "{text}"
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_partner_token_is_still_sent_as_jwt_through_partner_with() {
    let server = spawn_raw_server(200, "[]").await;
    let partner = client_for(&server.url, |b| b.dialect(Dialect::Partner))
        .partner_with(PartnerCredentials::Token(Secret::new("partner-jwt")));

    partner.servertypes().await.unwrap();

    assert!(
        server
            .request(0)
            .contains("authorization: jwt partner-jwt\r\n"),
        "{}",
        server.request(0)
    );
}
