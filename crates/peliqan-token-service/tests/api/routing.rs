//! The token answer tells the browser where Peliqan is and how to call it:
//! its base URL, its API dialect and any sub-account-side route the operator
//! overrode, so the SDK needs no second copy of that configuration.

use crate::helpers::*;
use peliqan_api::{BrowserRouting, TokenAnswer};
use peliqan_client::Operation;
use std::time::Duration;

/// What the SDK reads from an answer.
fn routing(answer: &TokenAnswer) -> BrowserRouting {
    answer.routing.clone()
}

#[tokio::test]
async fn the_answer_names_peliqans_url_and_dialect_and_no_routes_without_overrides() {
    let app = spawn_app().await;
    let answer = app.token_for("routed_tenant").await;
    assert_eq!(
        answer.routing.peliqan_url.as_deref(),
        Some(app.emulator.url())
    );
    assert_eq!(answer.routing.dialect.as_deref(), Some(dialect().name()));
    assert!(
        answer.routing.routes.is_empty(),
        "{:?}",
        answer.routing.routes
    );
    // From these fields the SDK gets exactly the routes the emulator serves.
    assert_eq!(routing(&answer).routes().unwrap(), app.routes);
    // A cached answer carries them too.
    let again = app.token_for("routed_tenant").await;
    assert_eq!(again, answer);
}

#[tokio::test]
async fn a_sub_account_side_override_is_passed_on_and_a_partner_side_one_is_not() {
    let get_connection = Operation::GetConnection;
    let identity = Operation::NonExpiringTokenById;
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        // A trailing slash on the configured URL does not reach the browser.
        let url = format!("{}/", s["PELIQAN_API_URL"]);
        s.insert("PELIQAN_API_URL".into(), url);
        s.insert(
            get_connection.config_key(),
            "GET /api/v2/servers/{id}/".into(),
        );
        // Partner-side routes stay on the server.
        s.insert(identity.config_key(), "GET /api/v2/identity/{id}/".into());
    })
    .await;
    let answer = app.token_for("overridden_tenant").await;
    assert_eq!(
        answer.routing.peliqan_url.as_deref(),
        Some(app.emulator.url())
    );
    assert_eq!(answer.routing.dialect.as_deref(), Some(dialect().name()));
    let names: Vec<&str> = answer.routing.routes.keys().map(String::as_str).collect();
    assert_eq!(names, [get_connection.name()]);
    let routes = routing(&answer).routes().unwrap();
    assert_eq!(
        routes.route(get_connection).unwrap().to_string(),
        "GET /api/v2/servers/{id}/"
    );
    assert_eq!(routes.route(identity), app.routes.route(identity));
}
