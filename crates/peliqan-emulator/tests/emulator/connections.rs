//! Connect-form validation, the emulated credential check and logs, and
//! the table/script endpoints' validation.

use crate::helpers::{expect_json, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn connect_forms_report_each_missing_or_mistyped_field_by_name() {
    let app = spawn_app().await;
    let (_, token) = app.tenant("wood_123").await;
    let post = |b: Value| {
        app.with_token(Method::POST, "/api/servers", &token)
            .json(&b)
            .send()
    };
    let body = expect_json(
        post(json!({"servertype_id": 125, "host": 7, "port": "abc"}))
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(body["host"], json!(["Not a valid string."]));
    assert_eq!(body["port"], json!(["A valid integer is required."]));
    assert_eq!(body["password"], json!(["This field is required."]));
    let body = expect_json(post(json!({"servertype_id": 999999})).await.unwrap(), 400).await;
    assert!(body.get("servertype_id").is_some());
    let body = expect_json(post(json!({"login": "x"})).await.unwrap(), 400).await;
    assert_eq!(body["servertype_id"], json!(["This field is required."]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_form_connects_at_once_and_the_logs_tell_what_happened() {
    let app = spawn_app().await;
    let (_, token) = app.tenant("wood_123").await;
    let form = json!({"servertype_id": 125, "host": "db", "port": "5433", "database": "crm", "user": "u", "password": "s3cret-pw"});
    let res = app
        .with_token(Method::POST, "/api/servers", &token)
        .json(&form)
        .send()
        .await
        .unwrap();
    let created = expect_json(res, 201).await;
    assert_eq!(created["status"], "connected");
    assert!(created.get("oauth_url").is_none());
    let id = created["id"].as_u64().unwrap();
    let res = app
        .with_token(Method::GET, &format!("/api/server/{id}/logs"), &token)
        .send()
        .await
        .unwrap();
    let logs = expect_json(res, 200).await;
    let text = logs.to_string();
    assert!(
        text.contains("db:5433") && !text.contains("s3cret-pw"),
        "{text}"
    );
    for entry in logs.as_array().unwrap() {
        chrono::DateTime::parse_from_rfc3339(entry["timestamp"].as_str().unwrap()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn magic_values_make_a_connection_fail_and_credentials_are_never_echoed() {
    let app = spawn_app().await;
    let (_, token) = app.tenant("wood_123").await;
    for form in [
        json!({"servertype_id": 123, "api_token": "invalid"}),
        json!({"servertype_id": 128, "host": "h", "login": "john", "password": "wrong"}),
    ] {
        let res = app
            .with_token(Method::POST, "/api/servers", &token)
            .json(&form)
            .send()
            .await
            .unwrap();
        let created = expect_json(res, 201).await;
        assert_eq!(created["status"], "failed", "{form}");
        assert!(created["status_message"].is_string());
        let id = created["id"].as_u64().unwrap();
        let res = app
            .with_token(Method::GET, &format!("/api/server/{id}"), &token)
            .send()
            .await
            .unwrap();
        let server = expect_json(res, 200).await;
        assert_eq!(server["status"], "failed");
        assert!(server.get("password").is_none() && server.get("api_token").is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_script_schedule_must_be_a_positive_integer() {
    let app = spawn_app().await;
    let (_, token) = app.tenant("wood_123").await;
    for schedule in [json!(0), json!(-5), json!("soon"), json!(1.5)] {
        let b = json!({"name": "Sync script", "raw_code": "print(1)", "schedule": schedule});
        let res = app
            .with_token(Method::POST, "/interface", &token)
            .json(&b)
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect_json(res, 400).await,
            json!({"schedule": ["Ensure this value is a positive integer."]})
        );
    }
    let b = json!({"name": "Sync script", "raw_code": "print(1)", "schedule": 3600});
    let res = app
        .with_token(Method::POST, "/api/interface/", &token)
        .json(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 201).await["schedule"], 3600);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_needs_a_name_and_a_query() {
    let app = spawn_app().await;
    let (_, token) = app.tenant("wood_123").await;
    let res = app
        .with_token(Method::POST, "/table", &token)
        .json(&json!({"query": "select 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 400).await,
        json!({"name": ["This field is required."]})
    );
    let b = json!({"name": "deals", "query": "select * from deals"});
    let res = app
        .with_token(Method::POST, "/table", &token)
        .json(&b)
        .send()
        .await
        .unwrap();
    let table = expect_json(res, 201).await;
    assert!(table["id"].is_u64() && table["name"] == "deals");
}

#[tokio::test(flavor = "multi_thread")]
async fn connectors_without_an_auth_field_still_behave_as_oauth_or_api_key() {
    let app = spawn_app().await;
    let res = app
        .as_partner(Method::GET, "/api/servertypes")
        .send()
        .await
        .unwrap();
    let all = expect_json(res, 200).await;
    let find = |name: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    let (zoho, airtable) = (find("zoho_crm"), find("airtable"));
    for st in [&zoho, &airtable] {
        assert!(st.get("auth").is_none(), "{st}");
    }
    assert_eq!(airtable["connect_form"]["fields"][0]["name"], "api_key");
    assert_eq!(airtable["connect_form"]["fields"][0]["required"], true);

    let (_, token) = app.tenant("wood_123").await;
    let post = |b: Value| {
        app.with_token(Method::POST, "/api/servers", &token)
            .json(&b)
            .send()
    };
    let created = expect_json(
        post(json!({"servertype_id": zoho["id"]})).await.unwrap(),
        201,
    )
    .await;
    assert_eq!(created["status"], "pending");
    assert!(
        created["oauth_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/oauth/authorize?state=", app.emulator.url()))
    );
    let res = post(json!({"servertype_id": airtable["id"]}))
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, 400).await,
        json!({"api_key": ["This field is required."]})
    );
    let created = expect_json(
        post(json!({"servertype_id": airtable["id"], "api_key": "pat123"}))
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(created["status"], "connected");
    assert!(created.get("oauth_url").is_none(), "{created}");
}
