//! Trailing slashes: Django's answers to the wrong form with
//! `strict_slashes`, both forms served without it.

use crate::helpers::{body, expect_html_404, expect_json, spawn_dialect};
use peliqan_api::Dialect;
use reqwest::Method;
use serde_json::json;

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_get_without_the_slash_is_a_301_to_the_slashed_path_keeping_the_query() {
    let app = spawn_dialect(Dialect::Partner, true).await;
    for (sent, location) in [
        ("/api/servertypes", "/api/servertypes/"),
        (
            "/api/partner/sub-accounts?page=2&per_page=5",
            "/api/partner/sub-accounts/?page=2&per_page=5",
        ),
        (
            "/api/partner/sub-accounts/3/info",
            "/api/partner/sub-accounts/3/info/",
        ),
    ] {
        for method in [Method::GET, Method::HEAD] {
            let res = app.as_partner(method.clone(), sent).send().await.unwrap();
            assert_eq!(res.status(), 301, "{method} {sent}");
            assert_eq!(header(&res, "location").as_deref(), Some(location));
        }
    }
    // The wrong form is counted as sent, apart from the route's own key.
    let stats = app.stats().await;
    assert_eq!(stats["GET /api/servertypes"], 1, "{stats:?}");
    assert!(
        !stats.requests.contains_key("GET /api/servertypes/"),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_post_without_the_slash_is_djangos_500_page() {
    let app = spawn_dialect(Dialect::Partner, true).await;
    let res = app
        .as_partner(
            Method::POST,
            "/api/partner/sub-account/integrate?external_id=a",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains("You called this URL via POST, but the URL doesn't end in a slash"),
        "{text}"
    );
    assert!(
        text.contains("/api/partner/sub-account/integrate/ (note the trailing slash)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_slashed_request_to_a_slashless_route_is_a_404() {
    let app = spawn_dialect(Dialect::Seed, true).await;
    let id = app.create_subaccount("wood_123").await;
    for (method, path) in [
        (Method::GET, "/api/servertypes/".to_owned()),
        (Method::GET, format!("/api/subaccount/{id}/")),
        (Method::POST, "/api/subaccount/".into()),
        (
            Method::GET,
            "/api/subaccount/token/?external_id=wood_123".into(),
        ),
        (Method::GET, "/api//servertypes".into()),
    ] {
        let res = app
            .as_partner(method, &path)
            .json(&json!({"external_id": "x"}))
            .send()
            .await
            .unwrap();
        expect_html_404(res).await;
    }
    // The right form still works, and the emulator's own endpoints take both.
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .request(Method::GET, "/__emulator/info/")
        .send()
        .await
        .unwrap();
    assert_eq!(body(res).await["strict_slashes"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn lenient_mode_serves_both_forms_and_counts_them_under_the_route() {
    let app = spawn_dialect(Dialect::Partner, false).await;
    for path in ["/api/partner/sub-accounts", "/api/partner/sub-accounts/"] {
        let res = app
            .as_partner(Method::POST, path)
            .json(&json!({"external_id": path}))
            .send()
            .await
            .unwrap();
        expect_json(res, 200).await;
    }
    for path in ["/api/servertypes", "/api/servertypes/"] {
        let res = app.as_partner(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let stats = app.stats().await;
    assert_eq!(stats["POST /api/partner/sub-accounts/"], 2, "{stats:?}");
    assert_eq!(stats["GET /api/servertypes/"], 2, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_path_with_a_wrong_method_is_a_json_405_in_every_mode() {
    for strict in [false, true] {
        let app = spawn_dialect(Dialect::Partner, strict).await;
        let res = app
            .as_partner(Method::DELETE, "/api/servertypes/")
            .send()
            .await
            .unwrap();
        let b = expect_json(res, 405).await;
        assert_eq!(b["detail"], "Method \"DELETE\" not allowed.");
        assert_eq!(b["error"], "method_not_allowed");
    }
}
