//! Bad input of every kind gets a clear 4xx in DRF's JSON envelope.

use crate::helpers::{expect_html_404, expect_json, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn paths_answer_the_same_with_and_without_a_trailing_slash() {
    let app = spawn_app().await;
    let id = app.create_subaccount("wood_123").await;
    for path in [
        "/api/servertypes",
        &format!("/api/subaccount/{id}"),
        "/api/subaccount",
    ] {
        let plain = expect_json(app.as_partner(Method::GET, path).send().await.unwrap(), 200).await;
        let slashed = app
            .as_partner(Method::GET, &format!("{path}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(slashed, 200).await, plain, "{path}");
    }
    let res = app
        .as_partner(Method::GET, "/api/subaccount/token/?external_id=wood_123")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 200).await["subaccount_id"], id);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_a_400_with_a_detail() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .header("Content-Type", "application/json")
        .body(r#"{"external_id": "#)
        .send()
        .await
        .unwrap();
    let body = expect_json(res, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_types_are_400s_naming_the_field() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .json(&json!({"external_id": 42, "email": ["x"]}))
        .send()
        .await
        .unwrap();
    let body = expect_json(res, 400).await;
    assert_eq!(
        body,
        json!({"external_id": ["Not a valid string."], "email": ["Not a valid string."]})
    );

    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .json(&json!([1, 2]))
        .send()
        .await
        .unwrap();
    assert!(
        expect_json(res, 400).await["non_field_errors"][0]
            .as_str()
            .unwrap()
            .contains("list")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_a_413_in_json() {
    let app = spawn_app().await;
    let huge = json!({"external_id": "x".repeat(300 * 1024)});
    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .json(&huge)
        .send()
        .await
        .unwrap();
    let body = expect_json(res, 413).await;
    assert!(body["detail"].as_str().unwrap().contains("too large"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .header("Content-Type", "text/plain")
        .body("external_id=wood_123")
        .send()
        .await
        .unwrap();
    assert!(
        expect_json(res, 415).await["detail"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_id_is_a_json_404_and_an_unknown_path_is_djangos_html_404() {
    let app = spawn_app().await;
    for path in [
        "/api/subaccount/99999999999999999999999",
        "/api/subaccount/77",
    ] {
        let res = app.as_partner(Method::GET, path).send().await.unwrap();
        assert_eq!(
            expect_json(res, 404).await,
            json!({"detail": "Not found."}),
            "{path}"
        );
    }
    // Django's `<int:id>` does not match "abc": the path itself is unknown.
    for path in ["/api/nothing", "/api/subaccount/abc"] {
        let res = app.as_partner(Method::GET, path).send().await.unwrap();
        expect_html_404(res).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_method_is_a_405_in_json() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::PATCH, "/api/servertypes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 405).await,
        json!({"detail": "Method \"PATCH\" not allowed."})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_expire_flag_is_a_400_naming_expire() {
    let app = spawn_app().await;
    let id = app.create_subaccount("wood_123").await;
    let res = app
        .as_partner(
            Method::GET,
            &format!("/api/subaccount/{id}/token?expire=maybe"),
        )
        .send()
        .await
        .unwrap();
    assert!(expect_json(res, 400).await.get("expire").is_some());
}
