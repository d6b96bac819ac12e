//! `/__emulator`: request counts, fault injection and reset.

use crate::helpers::{ORIGIN, body, expect_json, spawn_app};
use peliqan_emulator::{Fault, Stats};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_requests_by_method_and_path_template() {
    let app = spawn_app().await;
    let (id, token) = app.tenant("wood_123").await;
    app.as_partner(Method::GET, "/api/subaccount/token/?external_id=wood_123")
        .send()
        .await
        .unwrap();
    app.as_partner(
        Method::GET,
        "/api/subaccount/token?external_id=wood_123&expire=false",
    )
    .send()
    .await
    .unwrap();
    app.with_token(Method::GET, "/api/server/1234", &token)
        .send()
        .await
        .unwrap();
    app.with_token(Method::GET, "/api/server/5678/", &token)
        .send()
        .await
        .unwrap();
    app.stats().await;
    let stats = app.stats().await;
    assert_eq!(stats["GET /api/subaccount/token"], 2);
    assert_eq!(stats["GET /api/subaccount/{id}/token"], 1, "token for {id}");
    assert_eq!(stats["GET /api/server/{id}"], 2);
    assert_eq!(stats["POST /api/subaccount"], 1);
    assert!(
        stats.requests.keys().all(|k| !k.contains("__emulator")),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_fault_answers_matching_requests_and_they_are_still_counted() {
    let app = spawn_app().await;
    let id = app.create_subaccount("wood_123").await;
    app.add_fault(Fault::status("/api/subaccount", 503).probability(1.0))
        .await;
    let path = format!("/api/subaccount/{id}/token");
    for _ in 0..3 {
        let res = app
            .as_partner(Method::GET, &path)
            .header("Origin", ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
        assert_eq!(
            expect_json(res, 503).await,
            json!({"detail": "Injected fault"})
        );
    }
    // Other paths and the control endpoints are untouched.
    assert_eq!(
        app.as_partner(Method::GET, "/api/servertypes")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.stats().await["GET /api/subaccount/{id}/token"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_fault_carries_retry_after() {
    let app = spawn_app().await;
    app.add_fault(Fault::status("/api/servertypes/", 429)).await;
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    expect_json(res, 429).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbage_fault_answers_a_success_whose_body_is_not_json() {
    let app = spawn_app().await;
    app.add_fault(Fault::garbage(
        "/api/servertypes",
        200,
        "<html>502 Bad Gateway</html>",
    ))
    .await;
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = res.text().await.unwrap();
    assert_eq!(body, "<html>502 Bad Gateway</html>");
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn clearing_faults_restores_normal_answers() {
    let app = spawn_app().await;
    app.add_fault(Fault::status("/api", 500)).await;
    assert_eq!(
        app.as_partner(Method::GET, "/api/servertypes")
            .send()
            .await
            .unwrap()
            .status(),
        500
    );
    app.send(app.control().clear_faults()).await.unwrap();
    assert!(
        app.send(app.control().faults())
            .await
            .unwrap()
            .faults
            .is_empty()
    );
    assert_eq!(
        app.as_partner(Method::GET, "/api/servertypes")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delay_only_fault_delays_then_handles_normally() {
    let app = spawn_app().await;
    app.add_fault(Fault::delay("/api/servertypes", 300)).await;
    let started = Instant::now();
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(expect_json(res, 200).await.as_array().unwrap().len() >= 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_with_probability_zero_never_fires_and_odd_rules_are_refused() {
    let app = spawn_app().await;
    app.add_fault(Fault::status("/api", 503).probability(0.0))
        .await;
    for _ in 0..5 {
        assert_eq!(
            app.as_partner(Method::GET, "/api/servertypes")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    for bad in [Fault::delay("/api", 0), Fault::status("/api", 200)] {
        let err = app.send(app.control().add_fault(&bad)).await.unwrap_err();
        assert!(err.to_string().contains("answered 400"), "{err}");
        // The same rule in process is refused the same way.
        let err = app.emulator.add_fault(bad).unwrap_err();
        assert!(err.to_string().contains("answered 400"), "{err}");
    }
    // A body that is no rule at all (no path_prefix).
    let res = app
        .request(Method::POST, "/__emulator/faults")
        .json(&json!({"status": 503}))
        .send()
        .await
        .unwrap();
    expect_json(res, 400).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_forgets_state_but_keeps_the_partner_token_valid() {
    let app = spawn_app().await;
    let (id, token) = app.tenant("wood_123").await;
    app.add_fault(Fault::status("/api/servers", 503)).await;
    app.send(app.control().reset()).await.unwrap();
    assert_eq!(app.stats().await, Stats::default());
    let res = app
        .as_partner(Method::GET, "/api/subaccount")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 200).await, json!([]));
    // The old tenant's token died with its account, and no fault fires any more.
    assert_eq!(
        app.with_token(Method::GET, "/api/servers", &token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let new_id = app.create_subaccount("wood_123").await;
    assert_ne!(new_id, id, "ids are not reused after a reset");
}

#[actix_web::test]
async fn the_emulator_also_runs_inside_an_actix_web_test() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/").send().await.unwrap();
    assert_eq!(body(res).await["name"], "peliqan-emulator");
    app.emulator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_in_process_control_methods_act_like_the_endpoints() {
    let app = spawn_app().await;
    let (id, _) = app.tenant("wood_123").await;
    let emulator = &app.emulator;
    assert_eq!(emulator.stats(), app.stats().await);
    assert_eq!(emulator.stats()["POST /api/subaccount"], 1);
    assert_eq!(
        emulator.info(),
        app.send(app.control().info()).await.unwrap()
    );
    emulator
        .add_fault(Fault::status("/api/servertypes", 503))
        .unwrap();
    assert_eq!(
        app.send(app.control().faults()).await.unwrap().faults,
        emulator.faults()
    );
    let app = &app;
    let status = || async move {
        let res = app.as_partner(Method::GET, "/api/servertypes").send();
        res.await.unwrap().status()
    };
    assert_eq!(status().await, 503);
    emulator.clear_faults();
    assert_eq!(status().await, 200);
    assert_eq!(emulator.revoke_access_tokens().revoked, 0);
    emulator
        .delete_subaccount(peliqan_api::SubaccountId(id))
        .unwrap();
    let gone = emulator.delete_subaccount(peliqan_api::SubaccountId(id));
    assert!(gone.unwrap_err().to_string().contains("404"));
    assert!(emulator.next_oauth_url("").is_err(), "empty URL refused");
    emulator.reset();
    assert_eq!(emulator.stats().total(), 0);
    // On the system clock, time cannot be moved.
    let err = emulator.advance_clock(Duration::from_secs(1)).unwrap_err();
    assert!(err.to_string().contains("--manual-clock"), "{err}");
    let err = app
        .send(app.control().advance_clock(Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("answered 400"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_counted_request_keeps_its_fault_when_the_rules_are_cleared() {
    let app = spawn_app().await;
    app.emulator
        .add_fault(Fault::delay("/api/servertypes", 300))
        .unwrap();
    let started = Instant::now();
    let pending = tokio::spawn({
        let req = app.as_partner(Method::GET, "/api/servertypes");
        async move { req.send().await.unwrap().status() }
    });
    while app.emulator.stats()["GET /api/servertypes"] == 0 {
        tokio::task::yield_now().await;
    }
    // The rule was chosen with the count: clearing now changes nothing for it.
    app.emulator.clear_faults();
    assert_eq!(pending.await.unwrap(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_list_each_accounts_tables_and_scripts_and_find_duplicates() {
    let app = spawn_app().await;
    let (_, wood) = app.tenant("wood_123").await;
    let (acme_id, acme) = app.tenant("acme_456").await;
    for (token, table) in [(&wood, "orders"), (&wood, "orders"), (&acme, "deals")] {
        let res = app
            .with_token(Method::POST, "/table", token)
            .json(&json!({"name": table, "query": "SELECT 1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let res = app
        .with_token(Method::POST, "/interface", &acme)
        .json(&json!({"name": "sync", "raw_code": "print(1)", "schedule": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let all = app.send(app.control().assets(None)).await.unwrap();
    assert_eq!(all.accounts.len(), 2);
    assert_eq!(
        all.duplicates(),
        [("wood_123".to_owned(), "table orders".to_owned(), 2)]
    );
    let one = app
        .send(app.control().assets(Some("acme_456")))
        .await
        .unwrap();
    let acme_assets = one.of("acme_456").unwrap();
    assert_eq!(one.accounts.len(), 1);
    assert_eq!(acme_assets.subaccount_id.0, acme_id);
    assert_eq!(acme_assets.tables[0].name.as_deref(), Some("deals"));
    assert_eq!(acme_assets.tables[0].query.as_deref(), Some("SELECT 1"));
    assert_eq!(acme_assets.scripts[0].schedule, Some(60));
    assert!(
        app.stats()
            .await
            .requests
            .keys()
            .all(|k| !k.contains("assets")),
        "not counted"
    );
}
