//! The `partner` dialect's own shapes, as Peliqan's Python SDK uses them:
//! create answers 200 with the profile fields, a DRF page of sub-accounts,
//! lookups by query, `info`, `integrate` / `identity`, groups and scripts,
//! tables, and the `{"error", "detail"}` envelope.

use crate::helpers::{TestApp, body, claims, expect_json, spawn_dialect};
use peliqan_api::Dialect;
use reqwest::Method;
use serde_json::{Value, json};

async fn app() -> TestApp {
    spawn_dialect(Dialect::Partner, true).await
}

/// Creates a sub-account the way the SDK's `add_subaccount` does.
async fn add(app: &TestApp, external_id: &str) -> Value {
    let res = app
        .as_partner(Method::POST, "/api/partner/sub-accounts/")
        .json(&json!({
            "first_name": "Ann", "last_name": "Wood", "email": "ann@wood.test",
            "password": "s3cret-pw", "company_name": "Wood", "country": "BE",
            "company_size": null, "language": "en", "timezone": "UTC",
            "verified": true, "license": "free_trial", "expires_on": null,
            "external_id": external_id,
        }))
        .send()
        .await
        .unwrap();
    expect_json(res, 200).await
}

/// A short-lived sub-account token from `integrate`.
async fn integrate(app: &TestApp, query: &str) -> Value {
    let res = app
        .as_partner(
            Method::POST,
            &format!("/api/partner/sub-account/integrate/?{query}"),
        )
        .send()
        .await
        .unwrap();
    expect_json(res, 200).await
}

#[tokio::test(flavor = "multi_thread")]
async fn creating_answers_200_with_the_profile_and_never_the_password() {
    let app = app().await;
    let created = add(&app, "wood_123").await;
    assert!(created["id"].is_u64());
    assert_eq!(created["external_id"], "wood_123");
    assert_eq!(
        (
            &created["country"],
            &created["timezone"],
            &created["verified"]
        ),
        (&json!("BE"), &json!("UTC"), &json!(true))
    );
    assert!(!created.to_string().contains("s3cret-pw"), "{created}");
    let res = app
        .as_partner(Method::POST, "/api/partner/sub-accounts/")
        .json(&json!({"external_id": "x", "verified": "yes", "expires_on": "soon"}))
        .send()
        .await
        .unwrap();
    let errors = expect_json(res, 400).await;
    assert_eq!(errors["verified"], json!(["Must be a valid boolean."]));
    assert!(
        errors["expires_on"][0]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_is_a_drf_page() {
    let app = app().await;
    for ext in ["a", "b", "c"] {
        add(&app, ext).await;
    }
    let page = |n: u32| {
        app.as_partner(
            Method::GET,
            &format!("/api/partner/sub-accounts/?page={n}&per_page=2"),
        )
        .send()
    };
    let first = expect_json(page(1).await.unwrap(), 200).await;
    assert_eq!(first["count"], 3);
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    assert_eq!(first["previous"], Value::Null);
    let next = first["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!(
            "{}/api/partner/sub-accounts/?page=2&per_page=2",
            app.emulator.url()
        )
    );
    let second = expect_json(page(2).await.unwrap(), 200).await;
    assert_eq!(second["results"][0]["external_id"], "c");
    assert_eq!(second["next"], Value::Null);
    assert!(second["previous"].is_string());
    assert_eq!(
        expect_json(page(3).await.unwrap(), 404).await,
        json!({"error": "not_found", "detail": "Invalid page."})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_account_is_read_by_account_id_or_external_id_and_they_must_agree() {
    let app = app().await;
    let id = add(&app, "wood_123").await["id"].as_u64().unwrap();
    add(&app, "other").await;
    for query in [
        format!("account_id={id}"),
        "external_id=wood_123".to_owned(),
        format!("external_id=wood_123&account_id={id}"),
    ] {
        let res = app
            .as_partner(Method::GET, &format!("/api/partner/sub-account/?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(expect_json(res, 200).await["id"], id, "{query}");
    }
    for (query, status) in [
        (format!("external_id=other&account_id={id}"), 404),
        ("external_id=nobody".to_owned(), 404),
        ("account_id=abc".to_owned(), 400),
        (String::new(), 400),
    ] {
        let res = app
            .as_partner(Method::GET, &format!("/api/partner/sub-account/?{query}"))
            .send()
            .await
            .unwrap();
        let b = expect_json(res, status).await;
        assert!(
            b["error"].is_string() || b["account_id"].is_array(),
            "{query}: {b}"
        );
    }
    let res = app
        .as_partner(
            Method::GET,
            &format!("/api/partner/sub-accounts/{id}/info/"),
        )
        .send()
        .await
        .unwrap();
    let info = expect_json(res, 200).await;
    assert_eq!(info["id"], id);
    assert_eq!(
        info["default_dw_name"],
        format!("dw_{}", info["default_dw_id"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn integrate_is_short_lived_and_identity_is_a_bare_non_expiring_token() {
    let app = app().await;
    let id = add(&app, "wood_123").await["id"].as_u64().unwrap();
    for query in [format!("account_id={id}"), "external_id=wood_123".into()] {
        let answer = integrate(&app, &query).await;
        assert_eq!(
            (
                answer["subaccount_id"].as_u64(),
                answer["external_id"].as_str()
            ),
            (Some(id), Some("wood_123"))
        );
        assert!(claims(answer["token"].as_str().unwrap())["exp"].is_u64());
        let res = app
            .as_partner(
                Method::GET,
                &format!("/api/partner/sub-account/identity/?{query}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store");
        let answer = expect_json(res, 200).await;
        assert_eq!(answer.as_object().unwrap().len(), 1, "{answer}");
        assert!(
            claims(answer["token"].as_str().unwrap())
                .get("exp")
                .is_none()
        );
    }
    let res = app
        .as_partner(Method::POST, "/api/partner/sub-account/integrate/")
        .send()
        .await
        .unwrap();
    let b = expect_json(res, 400).await;
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("account_id, external_id"),
        "{b}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_go_into_the_accounts_own_group_with_validated_fields() {
    let app = app().await;
    let id = add(&app, "wood_123").await["id"].as_u64().unwrap();
    let token = integrate(&app, &format!("account_id={id}")).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .with_token(Method::GET, "/api/groups/", &token)
        .send()
        .await
        .unwrap();
    let groups = expect_json(res, 200).await;
    let group = groups[0]["id"].as_u64().unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert!(groups[0]["name"].is_string());
    let post = |group: u64, b: Value| {
        app.with_token(
            Method::POST,
            &format!("/api/interfaces/group/{group}/"),
            &token,
        )
        .json(&b)
        .send()
    };
    let res = post(group, json!({"raw_script": 5, "run_mode": "NIGHTLY"}))
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 400).await,
        json!({
            "name": ["This field is required."],
            "raw_script": ["Not a valid string."],
            "run_mode": ["\"NIGHTLY\" is not a valid choice."],
        })
    );
    let res = post(group + 1, json!({"name": "x", "run_mode": "SHELL"}))
        .await
        .unwrap();
    assert_eq!(expect_json(res, 404).await["error"], "not_found");
    let b = json!({"name": "Sync", "raw_script": "", "run_mode": "STREAMLIT", "type": "streamlit"});
    let made = expect_json(post(group, b).await.unwrap(), 200).await;
    assert_eq!(
        (made["group"].as_u64(), made["run_mode"].as_str()),
        (Some(group), Some("STREAMLIT"))
    );
    let res = app
        .with_token(Method::GET, "/api/interfaces/", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(body(res).await, json!([made]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_table_takes_the_sdks_body() {
    let app = app().await;
    let id = add(&app, "wood_123").await["id"].as_u64().unwrap();
    let token = integrate(&app, &format!("account_id={id}")).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |b: Value| {
        app.with_token(
            Method::POST,
            "/api/database/tables/create-sql-query/",
            &token,
        )
        .json(&b)
        .send()
    };
    let res = post(json!({"table_type": "view", "schema_id": null, "name": "d"}))
        .await
        .unwrap();
    let b = expect_json(res, 400).await;
    assert_eq!(b["table_type"], json!(["\"view\" is not a valid choice."]));
    assert_eq!(b["query"], json!(["This field is required."]));
    let b = json!({"table_type": "query", "schema_id": 12, "name": "deals", "query": "select 1"});
    let made = expect_json(post(b).await.unwrap(), 200).await;
    assert_eq!(
        (made["name"].as_str(), made["schema_id"].as_u64()),
        (Some("deals"), Some(12))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_carry_a_code_and_stats_count_route_templates() {
    let app = app().await;
    let res = app
        .request(Method::GET, "/api/servertypes/")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 401).await["error"], "not_authenticated");
    let id = add(&app, "wood_123").await["id"].as_u64().unwrap();
    let token = integrate(&app, "external_id=wood_123").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .with_token(Method::GET, "/api/servers/999/", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 404).await,
        json!({"error": "not_found", "detail": "Not found."})
    );
    integrate(&app, &format!("account_id={id}")).await;
    let stats = app.stats().await;
    assert_eq!(stats["POST /api/partner/sub-account/integrate/"], 2);
    assert_eq!(stats["GET /api/servers/{id}/"], 1);
    assert_eq!(stats["POST /api/partner/sub-accounts/"], 1);
}
