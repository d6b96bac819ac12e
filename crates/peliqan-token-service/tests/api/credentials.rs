//! OAuth client credentials instead of a partner JWT (`partner` dialect):
//! the service exchanges them for access tokens, renews those before they
//! expire and once on a 401, and speaks of "partner credentials" when
//! Peliqan refuses them, never showing the secret.

use crate::helpers::*;
use peliqan_api::clock::ManualClock;
use peliqan_client::{Dialect, Operation};
use peliqan_emulator::Config;
use std::time::Duration;

/// A strict `partner` emulator whose access tokens live `access_ttl`, and
/// the service holding its client credentials (with `secret` instead of the
/// right one when given) and no partner token.
async fn spawn_with_client_credentials(access_ttl: Duration, secret: Option<&str>) -> TestApp {
    spawn_with_client_credentials_and(access_ttl, secret, |_| {}).await
}

async fn spawn_with_client_credentials_and(
    access_ttl: Duration,
    secret: Option<&str>,
    tweak: impl FnOnce(&mut std::collections::BTreeMap<String, String>),
) -> TestApp {
    // One manual clock for the emulator (access tokens expire on it) and the
    // service (its client renews on it): tests advance it, never sleep.
    let clock = ManualClock::new();
    let config = Config {
        dialect: Dialect::Partner,
        strict_slashes: true,
        access_token_ttl: access_ttl,
        manual_clock: Some(clock.clone()),
        ..emulator_config(Duration::from_secs(1800))
    };
    spawn_app_on_clock(config, Some(clock), |s, emulator| {
        s.remove("PELIQAN_PARTNER_TOKEN");
        s.insert("PELIQAN_CLIENT_ID".into(), emulator.client_id().into());
        let secret = secret.unwrap_or(emulator.client_secret());
        s.insert("PELIQAN_CLIENT_SECRET".into(), secret.into());
        tweak(s);
    })
    .await
}

impl TestApp {
    async fn exchanges(&self) -> u64 {
        self.upstream_calls(&[Operation::OauthToken]).await
    }

    async fn ready(&self) -> reqwest::Response {
        self.http
            .get(format!("{}/readyz", self.url))
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn client_credentials_serve_tokens_connectors_and_readiness_with_one_exchange() {
    let app = spawn_with_client_credentials(Duration::from_secs(3600), None).await;
    // A new tenant: looked up, provisioned, its token minted, all as the partner.
    let answer = app.token_for("cc_tenant").await;
    assert_eq!(answer.routing.dialect.as_deref(), Some("partner"));
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 1);
    let res = app
        .http
        .get(format!("{}/v1/connectors", app.url))
        .bearer_auth(jwt(&claims("cc_tenant")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.ready().await.status(), 200);
    assert_eq!(app.exchanges().await, 1, "one access token for every call");
    let secret = app.emulator.client_secret().to_owned();
    assert!(
        !logs().contains(&secret),
        "a log line leaks the client secret"
    );
}

#[tokio::test]
async fn the_access_token_is_renewed_before_it_expires_and_once_on_a_401() {
    let ttl = Duration::from_secs(2);
    let app = spawn_with_client_credentials(ttl, None).await;
    for tenant in ["renew_a", "renew_b", "renew_c"] {
        app.provision(tenant).await;
    }
    app.token_for("renew_a").await;
    assert_eq!(app.exchanges().await, 1);
    let calls = app.upstream_token_calls().await;
    // Past the first access token's lifetime, on both sides' clock.
    app.advance(ttl);
    app.token_for("renew_b").await;
    assert!(app.exchanges().await >= 2, "renewed");
    assert_eq!(
        app.upstream_token_calls().await,
        calls + 1,
        "the expired access token was never sent (no 401 and retry)"
    );
    // Peliqan revokes it: one 401, one renewal, the call repeated.
    let before = (app.exchanges().await, app.upstream_token_calls().await);
    app.emulator.revoke_access_tokens();
    app.token_for("renew_c").await;
    assert_eq!(app.exchanges().await, before.0 + 1);
    assert_eq!(app.upstream_token_calls().await, before.1 + 2);
}

#[tokio::test]
async fn refused_client_credentials_are_named_as_partner_credentials_without_the_secret() {
    let wrong = "not-the-client-secret";
    let app = spawn_with_client_credentials(Duration::from_secs(3600), Some(wrong)).await;
    let res = app.token(&jwt(&claims("cc_refused"))).await;
    let body = assert_problem(res, 502, "upstream_misconfigured").await;
    assert!(!format!("{body:?}").contains(wrong));
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 0);
    let ready = assert_problem(app.ready().await, 503, "not_ready").await;
    let why = ready.detail.as_str();
    let client_id = app.emulator.client_id();
    assert!(
        why.contains(&format!(
            "refused the partner credentials (check PELIQAN_CLIENT_ID (`{client_id}`) and \
             PELIQAN_CLIENT_SECRET"
        )),
        "{why}"
    );
    assert!(!why.contains(wrong));
    let logs = logs();
    assert!(logs.contains("REJECTED THE PARTNER CREDENTIALS"));
    assert!(!logs.contains(wrong), "a log line leaks the client secret");
}

#[tokio::test]
async fn a_missing_token_endpoint_names_its_own_route_key() {
    let key = Operation::OauthToken.config_key();
    let app = spawn_with_client_credentials_and(Duration::from_secs(3600), None, |s| {
        s.insert(key.clone(), "POST /api/oauth2/tokens/".into());
    })
    .await;
    let res = app.token(&jwt(&claims("cc_no_route"))).await;
    let body = assert_problem(res, 502, "upstream_misconfigured").await;
    let detail = body.detail.as_str();
    assert!(
        detail.contains("API dialect `partner` is likely not")
            && detail.contains(&format!("(or {key})")),
        "{detail}"
    );
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 0);
}
