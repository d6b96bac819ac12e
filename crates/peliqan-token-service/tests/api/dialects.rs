//! The service against a Peliqan speaking another API dialect (or one route
//! written differently): Peliqan's "no such route" answers are never read as
//! "no such tenant". The caller gets `502 upstream_misconfigured` naming the
//! configured dialect, nothing is provisioned, and the operator gets one
//! loud log line. Route overrides are what the service calls.

use crate::helpers::*;
use peliqan_client::{Dialect, Operation};
use peliqan_emulator::Config;
use std::time::Duration;

/// An emulator strictly speaking `peliqan`, and the service configured
/// for `service` (plus `overrides`).
async fn spawn_mismatched(
    service: Dialect,
    peliqan: Dialect,
    overrides: &[(Operation, String)],
) -> TestApp {
    let config = Config {
        dialect: peliqan,
        strict_slashes: true,
        ..emulator_config(Duration::from_secs(1800))
    };
    spawn_app_on(config, |s, _| {
        s.insert("PELIQAN_API_DIALECT".into(), service.name().into());
        for (op, route) in overrides {
            s.insert(op.config_key(), route.clone());
        }
    })
    .await
}

/// Three token requests for fresh tenants named `{prefix}_N`: each is a 502
/// naming `service` and `key`, none provisions, one log line says it loudly.
async fn assert_mismatch_reported(app: &TestApp, service: Dialect, key: &str, prefix: &str) {
    for n in 0..3 {
        let res = app.token(&jwt(&claims(&format!("{prefix}_{n}")))).await;
        let body = assert_problem(res, 502, "upstream_misconfigured").await;
        let detail = body.detail.as_str();
        for part in [
            format!("the API dialect `{service}` is likely not the one this Peliqan speaks"),
            format!("set PELIQAN_API_DIALECT (or {key})"),
            "run `peliqan-token-service doctor`".to_owned(),
        ] {
            assert!(detail.contains(&part), "{part}: {detail}");
        }
    }
    // Not one provisioning call, counted by the service and seen by Peliqan.
    let created = r#"token_service_upstream_calls_total{operation="create_subaccount"}"#;
    assert_eq!(metric(app, created).await, 0.0);
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 0);
    assert!(app.partner().list_subaccounts().await.unwrap().is_empty());
    let errors = r#"token_service_upstream_errors_total{operation="token",kind="route_mismatch"}"#;
    assert_eq!(metric(app, errors).await, 3.0);
    // Logged loudly once, not once per request (the lines carry the
    // tenant of their request's span).
    let loud = logs()
        .lines()
        .filter(|l| l.contains("HAS NO ROUTE") && l.contains(&format!("{prefix}_")))
        .count();
    assert_eq!(loud, 1, "one loud line for three failed requests");
}

#[tokio::test]
async fn a_seed_service_against_a_strict_partner_peliqan_names_its_dialect_and_provisions_nothing()
{
    let app = spawn_mismatched(Dialect::Seed, Dialect::Partner, &[]).await;
    let key = Operation::TokenByExternalId.config_key();
    assert_mismatch_reported(&app, Dialect::Seed, &key, "seed_on_partner").await;
}

#[tokio::test]
async fn a_partner_service_against_a_strict_seed_peliqan_names_its_dialect_and_provisions_nothing()
{
    let app = spawn_mismatched(Dialect::Partner, Dialect::Seed, &[]).await;
    let key = Operation::TokenByExternalId.config_key();
    assert_mismatch_reported(&app, Dialect::Partner, &key, "partner_on_seed").await;
}

#[tokio::test]
async fn a_mismatched_dialect_fails_readiness_with_the_dialect_named() {
    let app = spawn_mismatched(Dialect::Seed, Dialect::Partner, &[]).await;
    let res = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 503, "not_ready").await;
    let detail = body.detail.as_str();
    assert!(detail.contains("API dialect `seed`"), "{detail}");
}

/// `op`'s route in `dialect`, with its trailing slash added or removed.
fn other_slash(dialect: Dialect, op: Operation) -> String {
    let mut route = dialect.routes().route(op).unwrap().clone();
    route.trailing_slash = !route.trailing_slash;
    route.to_string()
}

#[tokio::test]
async fn an_override_is_what_the_service_calls_and_a_wrong_slash_is_a_route_mismatch() {
    // Seed, strict: a slashed path is an unknown one (HTML 404).
    let op = Operation::TokenByExternalId;
    let slashed = other_slash(Dialect::Seed, op);
    let app = spawn_mismatched(Dialect::Seed, Dialect::Seed, &[(op, slashed)]).await;
    assert_mismatch_reported(&app, Dialect::Seed, &op.config_key(), "slashed_seed").await;
    // Partner, strict: a POST without its slash gets Django's 500 page,
    // which is configuration, not Peliqan being unavailable.
    let bare = other_slash(Dialect::Partner, op);
    let app = spawn_mismatched(Dialect::Partner, Dialect::Partner, &[(op, bare)]).await;
    assert_mismatch_reported(&app, Dialect::Partner, &op.config_key(), "bare_partner").await;
}

#[tokio::test]
async fn overrides_let_a_seed_service_serve_tokens_from_a_sub_account_peliqan() {
    // Every route the token service calls, taken from the other dialect.
    let peliqan = Dialect::SubAccount.routes();
    let overrides: Vec<(Operation, String)> = [
        Operation::TokenByExternalId,
        Operation::TokenById,
        Operation::CreateSubaccount,
        Operation::Servertypes,
    ]
    .into_iter()
    .map(|op| (op, peliqan.route(op).unwrap().to_string()))
    .collect();
    let app = spawn_mismatched(Dialect::Seed, Dialect::SubAccount, &overrides).await;
    let answer = app.token_for("overridden_routes").await;
    assert_eq!(answer.routing.dialect.as_deref(), Some("seed"));
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 1);
    let again = app.token_for("overridden_routes").await;
    assert_eq!(again.token, answer.token, "cached");
    let res = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
}
