//! The SDK's `tokenUrl` mode against the project's real token service
//! (started by `cargo xtask browser-test` in front of the emulator): tokens and
//! connectors come from it, with the signed-in user's bearer JWT, and a
//! token Peliqan rejects is replaced through it without a reload.

use super::support::*;
use crate::sdk::PeliqanEmbed;
use gloo_net::http::{Method, RequestBuilder};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
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

#[wasm_bindgen_test]
async fn a_headers_function_is_called_for_every_token_service_request() {
    let calls = Rc::new(Cell::new(0u32));
    let c = Rc::clone(&calls);
    // Async, as a partner reading a fresh login JWT would write it.
    let headers = Closure::<dyn FnMut() -> js_sys::Promise>::new(move || {
        c.set(c.get() + 1);
        let bearer = ["Bearer ", given(option_env!("PELIQAN_USER_JWT"))].concat();
        js_sys::Promise::resolve(&obj(&[("Authorization", bearer.into())]))
    });
    let options = obj(&[
        ("tokenUrl", [token_service(), "/v1/token"].concat().into()),
        ("headers", headers.into_js_value()),
    ]);
    let embed = PeliqanEmbed::new(options).expect("valid options");
    ok(embed.connectors()).await;
    ok(embed.connections()).await;
    // One for the connectors, one for the token; none per Peliqan call.
    assert_eq!(calls.get(), 2);
    ok(embed.connectors()).await;
    assert_eq!(calls.get(), 3, "called again for each request");

    let throwing = js_sys::Function::new_no_args("throw new Error('login expired')");
    let options = obj(&[
        ("tokenUrl", [token_service(), "/v1/token"].concat().into()),
        ("headers", throwing.into()),
    ]);
    let embed = PeliqanEmbed::new(options).expect("valid options");
    let e = err(embed.connections()).await;
    assert_eq!(code(&e), "token_service");
    assert!(message(&e).contains("login expired"), "{}", message(&e));
}

#[wasm_bindgen_test]
async fn an_unreachable_token_service_is_announced_as_such() {
    let options = obj(&[("tokenUrl", "http://127.0.0.1:9/v1/token".into())]);
    let embed = PeliqanEmbed::new(options).expect("valid options");
    let seen = Rc::new(Cell::new(0u32));
    let s = Rc::clone(&seen);
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        assert_eq!(
            get(&ev, "service").as_string().as_deref(),
            Some("token_service")
        );
        s.set(s.get() + 1);
    });
    embed
        .on("unreachable", listener.into_js_value().unchecked_into())
        .unwrap();
    assert_eq!(code(&err(embed.connections()).await), "network");
    assert_eq!(seen.get(), 1);
}
