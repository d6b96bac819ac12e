//! Operations endpoints, fallbacks and limits; readiness decided by the
//! partner-credentials probe alone, answered with a fixed text; `/metrics`
//! on its own listener when configured.

use crate::helpers::*;
use peliqan_client::Operation;
use peliqan_emulator::Emulator;
use peliqan_emulator::Fault;
use peliqan_token_service::routes::ENDPOINTS;
use peliqan_token_service::{Application, Settings};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn health_readiness_and_metrics_answer_without_tenant_labels() {
    let app = spawn_app().await;
    assert_eq!(
        app.http
            .get(format!("{}/healthz", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.http
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.token_for("metered_tenant").await;
    let text = app.metrics_text().await;
    assert!(text.contains("token_service_http_requests_total{route=\"/v1/token\",method=\"POST\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("token_service_http_request_duration_seconds_bucket"));
    assert!(text.contains("token_service_upstream_calls_total{operation=\"token\"}"));
    assert!(!text.contains("metered_tenant"), "no per-tenant labels");
}

#[tokio::test]
async fn connectors_need_a_user_and_come_with_their_connect_forms() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/v1/connectors", app.url))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "missing_credentials").await;
    for _ in 0..3 {
        let res = app
            .http
            .get(format!("{}/v1/connectors", app.url))
            .bearer_auth(jwt(&claims("c")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let list: Vec<peliqan_api::Servertype> = res.json().await.unwrap();
        assert!(list.iter().any(|s| !s.connect_form.fields.is_empty()));
    }
    assert_eq!(
        app.upstream_calls(&[Operation::Servertypes]).await,
        1,
        "cached"
    );
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_big_bodies_get_problems() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/nowhere", app.url))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
    let res = app
        .http
        .get(format!("{}/v1/token", app.url))
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
    let big = "x".repeat(64 * 1024);
    let res = app
        .http
        .post(format!("{}/v1/token", app.url))
        .bearer_auth(jwt(&claims("b")))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_problem(res, 413, "payload_too_large").await;
}

async fn readyz(app: &TestApp) -> reqwest::Response {
    app.http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_tenants_refused_token_call_does_not_take_the_replica_out() {
    let app = spawn_app().await;
    assert_eq!(readyz(&app).await.status(), 200);
    // Peliqan refuses the token calls (a deleted sub-account, a revoked
    // token look the same): that tenant's problem, not the replica's.
    for (status, tenant) in [(403, "refused_403"), (401, "refused_401")] {
        app.fault(Fault::status(app.token_prefix(), status)).await;
        let res = app.token(&jwt(&claims(tenant))).await;
        assert!(!res.status().is_success(), "{tenant}: {}", res.status());
        app.clear_faults().await;
        let res = readyz(&app).await;
        assert_eq!(res.status(), 200, "{tenant}: {:?}", res.text().await);
    }
    assert_eq!(
        app.upstream_calls(&[Operation::Servertypes]).await,
        1,
        "the probe's result still holds for READINESS_CACHE_SECS"
    );
}

#[tokio::test]
async fn readyz_answers_a_fixed_text_and_peliqans_answer_goes_to_the_log() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_UPSTREAM_MAX_RETRIES".into(), "0".into());
    })
    .await;
    let probe_path = app.path_prefix(&[Operation::Servertypes]);
    app.fault(Fault::status(probe_path.as_str(), 503)).await;
    let body = assert_problem(readyz(&app).await, 503, "not_ready").await;
    assert_eq!(
        body.detail,
        "not ready: Peliqan could not be reached or failed; see the service's log"
    );
    let logs = logs();
    let logged = logs
        .lines()
        .filter(|l| l.contains("not ready: Peliqan could not be reached"))
        .any(|l| l.contains(probe_path.trim_end_matches('/')) && l.contains("503"));
    assert!(logged, "the cause is in the log");
}

#[tokio::test]
async fn with_a_metrics_listener_metrics_are_served_there_only() {
    let emulator = Emulator::start(emulator_config(Duration::from_secs(1800)))
        .await
        .unwrap();
    let mut map = base_settings(&emulator);
    map.insert("TOKEN_SERVICE_METRICS_LISTEN".into(), "127.0.0.1:0".into());
    let app = Application::build(Settings::from_map(&map).unwrap())
        .await
        .unwrap();
    let (url, metrics_url) = (app.url(), app.metrics_url().expect("a metrics listener"));
    assert_ne!(url, metrics_url);
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let public = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_problem(public, 404, "not_found").await;
    let res = http
        .get(format!("{metrics_url}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("token_service_http_requests_total")
    );
    for path in ["/v1/token", "/readyz", "/healthz"] {
        let res = http
            .get(format!("{metrics_url}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path} on the metrics listener");
    }
    // Both stop with the main server's handle.
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    assert!(
        http.get(format!("{metrics_url}/metrics"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_wrong_method_on_each_route_names_exactly_that_routes_methods() {
    let app = spawn_app().await;
    let expected = [
        ("/v1/token", "POST, OPTIONS"),
        ("/v1/connectors", "GET, OPTIONS"),
        ("/healthz", "GET"),
        ("/readyz", "GET"),
        ("/metrics", "GET"),
    ];
    let registered: Vec<&str> = ENDPOINTS.iter().map(|e| e.path).collect();
    let listed: Vec<&str> = expected.iter().map(|(path, _)| *path).collect();
    assert_eq!(registered, listed, "every route is checked here");
    for (path, allow) in expected {
        let wrong = if allow.starts_with("POST") {
            [reqwest::Method::GET, reqwest::Method::DELETE]
        } else {
            [reqwest::Method::POST, reqwest::Method::DELETE]
        };
        for method in wrong {
            let res = app
                .http
                .request(method.clone(), format!("{}{path}", app.url))
                .send()
                .await
                .unwrap();
            assert_eq!(res.headers()["allow"], allow, "{method} {path}");
            assert_problem(res, 405, "method_not_allowed").await;
        }
    }
}

#[tokio::test]
async fn every_route_has_its_own_metric_label() {
    let app = spawn_app().await;
    for endpoint in ENDPOINTS {
        let method = reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
        let res = app
            .http
            .request(method, format!("{}{}", app.url, endpoint.path))
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), 404, "{}", endpoint.path);
    }
    let text = app.metrics_text().await;
    for endpoint in ENDPOINTS {
        let label = format!("route=\"{}\",method=\"{}\"", endpoint.path, endpoint.method);
        assert!(text.contains(&label), "{label}: {text}");
    }
    assert!(!text.contains("unmatched"), "{text}");
    app.http
        .get(format!("{}/nowhere", app.url))
        .send()
        .await
        .unwrap();
    assert!(app.metrics_text().await.contains("route=\"unmatched\""));
}

/// A stand-in Peliqan answering every path with `body` as JSON (the
/// emulator's servertypes carry only the fields we model).
async fn spawn_servertypes(body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().default_service(actix_web::web::to(move || async move {
            actix_web::HttpResponse::Ok()
                .content_type("application/json")
                .body(body)
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    url
}

/// `GET /v1/connectors` of the service in front of a stand-in answering `body`.
async fn connectors_from(body: &'static str) -> reqwest::Response {
    let url = spawn_servertypes(body).await;
    let app = spawn_app_with(Duration::from_secs(1800), move |s| {
        s.insert("PELIQAN_API_URL".into(), url);
    })
    .await;
    app.http
        .get(format!("{}/v1/connectors", app.url))
        .bearer_auth(jwt(&claims("c")))
        .send()
        .await
        .unwrap()
}

const SERVERTYPE_WITH_UNKNOWN_FIELDS: &str = r#"{"id": 123, "name": "pipedrive",
    "title": "Pipedrive", "beta": {"since": "2026-01"},
    "connect_form": {"fields": [{"name": "api_token", "kind": "password",
        "required": true, "secret_hint": "Settings > API"}]}}"#;

#[tokio::test]
async fn connectors_pass_peliqans_servertypes_through_with_fields_we_do_not_model() {
    let array: &'static str = format!("[{SERVERTYPE_WITH_UNKNOWN_FIELDS}]").leak();
    let page: &'static str =
        format!(r#"{{"count": 1, "next": null, "results": [{SERVERTYPE_WITH_UNKNOWN_FIELDS}]}}"#)
            .leak();
    let item: serde_json::Value = serde_json::from_str(SERVERTYPE_WITH_UNKNOWN_FIELDS).unwrap();
    for body in [array, page] {
        let res = connectors_from(body).await;
        assert_eq!(res.status(), 200, "{body}");
        let list: serde_json::Value = res.json().await.unwrap();
        assert_eq!(list, json!([item]), "unchanged, from {body}");
    }
}

#[tokio::test]
async fn servertypes_without_an_id_or_a_name_are_an_upstream_error() {
    // An answer that does not read is Peliqan having a bad moment.
    for body in [
        r#"[{"name": "x"}]"#,
        r#"[{"id": 1}]"#,
        r#"{"id": 1, "name": "x"}"#,
    ] {
        let res = connectors_from(body).await;
        assert_problem(res, 503, "upstream_unavailable").await;
    }
}
