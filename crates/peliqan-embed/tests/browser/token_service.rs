//! The SDK's `tokenUrl` mode against the project's real token service
//! (started by `cargo xtask browser-test` in front of the emulator): tokens and
//! connectors come from it, with the signed-in user's bearer JWT, and a
//! token Peliqan rejects is replaced through it without a reload.

use super::support::*;
use gloo_net::http::{Method, RequestBuilder};
use peliqan_embed::PeliqanEmbed;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

fn token_service() -> &'static str {
    given(option_env!("PELIQAN_TOKEN_SERVICE_URL"))
}

fn embed_with_bearer(jwt: &str) -> PeliqanEmbed {
    // No peliqanUrl and no dialect: the token service's answer carries
    // both (`peliqan_url`, `dialect`).
    let options = obj(&[
        ("tokenUrl", [token_service(), "/v1/token"].concat().into()),
        (
            "headers",
            obj(&[("Authorization", ["Bearer ", jwt].concat().into())]),
        ),
    ]);
    PeliqanEmbed::new(options).expect("valid options")
}

#[wasm_bindgen_test]
async fn tokens_and_connectors_come_from_the_token_service() {
    let embed = embed_with_bearer(given(option_env!("PELIQAN_USER_JWT")));
    // connectorsUrl is derived: /v1/token -> /v1/connectors.
    let connectors = ok(embed.connectors()).await;
    assert!(len(&connectors) >= 2);
    ok(embed.connections()).await;
}

#[wasm_bindgen_test]
async fn the_token_answers_url_and_dialect_carry_a_whole_connection() {
    let embed = embed_with_bearer(given(option_env!("PELIQAN_USER_JWT")));
    let pipedrive = connector(&ok(embed.connectors()).await, "pipedrive");
    let fields = obj(&[("api_token", "token-via-the-token-service".into())]);
    let server = ok(embed.connect(pipedrive, fields, JsValue::UNDEFINED)).await;
    let id = get(&server, "id");
    let one = ok(embed.connection(id.clone())).await;
    assert_eq!(
        get(&one, "status").as_string().as_deref(),
        Some("connected")
    );
    ok(embed.connection_logs(id)).await;
}

#[wasm_bindgen_test]
async fn a_user_the_token_service_refuses_is_a_token_service_error() {
    let embed = embed_with_bearer("not-a-jwt");
    let e = err(embed.connections()).await;
    assert_eq!(code(&e), "token_service");
    assert_eq!(get(&get(&e, "details"), "status").as_f64(), Some(401.0));
    assert!(get(&get(&e, "details"), "problemCode").is_string());
}

/// The token service's answer for `jwt`'s user, as JSON.
async fn token_answer(jwt: &str) -> serde_json::Value {
    let answer = RequestBuilder::new(&[token_service(), "/v1/token"].concat())
        .method(Method::POST)
        .header("Authorization", &["Bearer ", jwt].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "POST /v1/token");
    serde_json::from_str(&answer.text().await.unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn a_subaccount_recreated_in_peliqan_works_on_the_next_call_without_a_reload() {
    let jwt = given(option_env!("PELIQAN_USER_JWT"));
    let embed = embed_with_bearer(jwt);
    ok(embed.connections()).await;
    // Someone deletes the tenant's sub-account in Peliqan and creates it
    // again: the token the SDK and the token service hold is now refused.
    let answer = token_answer(jwt).await;
    let id = answer["subaccount_id"].as_u64().expect("subaccount_id");
    let tenant = answer["external_id"].as_str().expect("external_id");
    let path = ["/__emulator/subaccounts/", &id.to_string()].concat();
    assert_eq!(control(Method::DELETE, &path, None).await, 204);
    create_subaccount(tenant).await;
    // One 401, one forced refresh through the token service, one replay.
    let list = ok(embed.connections()).await;
    assert_eq!(len(&list), 0, "the new sub-account has no connections yet");
    let renewed = token_answer(jwt).await;
    assert_ne!(renewed["subaccount_id"], answer["subaccount_id"]);
    assert_ne!(renewed["token"], answer["token"]);
}
