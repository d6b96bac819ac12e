//! The control endpoints refuse cross-site callers: a foreign `Origin` is a
//! 403, a body that is not JSON a 415, and nothing changes; reads, the
//! emulator's own origin, allowed origins and clients without an `Origin`
//! (tests, curl, the project's tools) keep working.

use crate::helpers::{ORIGIN, TestApp, expect_json, spawn_app};
use peliqan_api::SubaccountId;
use peliqan_emulator::{ControlCall, Fault};
use reqwest::Method;
use std::time::Duration;

const EVIL: &str = "https://evil.example";

/// The tenants the emulator knows, as external ids.
async fn tenants(app: &TestApp) -> Vec<String> {
    let res = app
        .as_partner(Method::GET, "/api/subaccount")
        .send()
        .await
        .unwrap();
    let list = expect_json(res, 200).await;
    let ids = list.as_array().unwrap().iter();
    ids.map(|a| a["external_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn faults(app: &TestApp) -> usize {
    app.send(app.control().faults()).await.unwrap().faults.len()
}

/// A control call as a plain request: `(method, url, JSON body)`.
fn raw<T>(call: ControlCall<T>) -> (Method, String, Option<String>) {
    let method = Method::from_bytes(call.method.as_bytes()).unwrap();
    (method, call.url, call.body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_site_text_plain_post_to_reset_is_refused_and_state_survives() {
    let app = spawn_app().await;
    let (_, token) = app.tenant("wood_123").await;
    app.add_fault(Fault::status("/api/nothing", 503)).await;
    // What a hostile page's <form enctype="text/plain"> or no-cors fetch sends.
    let res = app
        .request(Method::POST, "/__emulator/reset")
        .header("Origin", EVIL)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let refused = expect_json(res, 403).await;
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("--allowed-origin") && detail.contains(EVIL),
        "{detail}"
    );
    // Without an Origin (a non-browser client), text/plain is still not JSON.
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let res = app
            .request(Method::POST, "/__emulator/reset")
            .header("Content-Type", ct)
            .body("a=b")
            .send()
            .await
            .unwrap();
        let refused = expect_json(res, 415).await;
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
    }
    assert_eq!(tenants(&app).await, ["wood_123"]);
    assert_eq!(faults(&app).await, 1);
    let res = app
        .with_token(Method::GET, "/api/servers", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the tenant's token still works");

    // The callers it is meant for still reset: no Origin and no body, or JSON.
    let res = app
        .request(Method::POST, "/__emulator/reset")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(tenants(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_state_changing_control_endpoint_refuses_a_foreign_origin_and_reads_do_not() {
    let app = spawn_app().await;
    let id = app.create_subaccount("acme").await;
    let rule = Fault::status("/api/nothing", 503);
    let control = app.control();
    let calls = [
        raw(control.add_fault(&rule)),
        raw(control.clear_faults()),
        raw(control.reset()),
        raw(control.next_oauth_url("https://provider.example/authorize")),
        raw(control.delete_subaccount(SubaccountId(id))),
        raw(control.revoke_access_tokens()),
        raw(control.advance_clock(Duration::from_secs(1))),
    ];
    for (method, url, json) in calls {
        let mut req = app.http.request(method, &url).header("Origin", EVIL);
        if let Some(json) = json {
            req = req.header("Content-Type", "application/json").body(json);
        }
        let res = req.send().await.unwrap();
        expect_json(res, 403).await;
    }
    assert_eq!(tenants(&app).await, ["acme"], "nothing changed");
    for path in [
        "/__emulator/stats",
        "/__emulator/info",
        "/__emulator/faults",
    ] {
        let res = app
            .request(Method::GET, path)
            .header("Origin", EVIL)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}: reads stay open");
    }
    // The emulator's own origin and an --allowed-origin may change state.
    for origin in [app.emulator.url(), ORIGIN] {
        let res = app
            .request(Method::POST, "/__emulator/faults")
            .header("Origin", origin)
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{origin}");
    }
    assert_eq!(faults(&app).await, 2);
}
