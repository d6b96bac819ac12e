//! CORS: the allow-list decides, exactly as the seed describes.

use crate::helpers::{ORIGIN, spawn_app};
use reqwest::Method;

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn has_cors_headers(res: &reqwest::Response) -> bool {
    res.headers()
        .keys()
        .any(|k| k.as_str().starts_with("access-control-"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowed_origin_is_echoed_with_vary_origin() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .header("Origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(header(&res, "vary").as_deref(), Some("Origin"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_origin_gets_no_cors_headers_at_all() {
    let app = spawn_app().await;
    for origin in [
        "https://evil.test",
        "http://localhost:5173.evil.test",
        "null",
    ] {
        let res = app
            .as_partner(Method::GET, "/api/servertypes")
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(!has_cors_headers(&res), "{origin}: {:?}", res.headers());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preflight_from_an_allowed_origin_lists_methods_headers_and_max_age() {
    let app = spawn_app().await;
    let res = app
        .request(Method::OPTIONS, "/api/servers")
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status() == 200 || res.status() == 204);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(
        header(&res, "access-control-allow-methods").as_deref(),
        Some("GET, POST, PUT, DELETE, OPTIONS")
    );
    assert_eq!(
        header(&res, "access-control-allow-headers").as_deref(),
        Some("Authorization, Content-Type")
    );
    assert!(header(&res, "access-control-max-age").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preflight_from_a_refused_origin_gets_no_allow_headers() {
    let app = spawn_app().await;
    let res = app
        .request(Method::OPTIONS, "/api/servers")
        .header("Origin", "https://evil.test")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.status().as_u16() < 500);
    assert!(!has_cors_headers(&res), "{:?}", res.headers());
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_and_control_endpoints_carry_cors_headers_for_an_allowed_origin() {
    let app = spawn_app().await;
    for path in ["/api/servers", "/no/such/route", "/__emulator/stats"] {
        let res = app
            .request(Method::GET, path)
            .header("Origin", ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some(ORIGIN),
            "{path}"
        );
    }
}
