//! Browser tests: the SDK in headless Chromium and Firefox against a real
//! emulator process, started by `cargo xtask test` with this page's origin
//! allowed.
#![cfg(target_arch = "wasm32")]

mod js_units;
mod lifecycle;
mod popup;
mod real_popup;
mod routing;
mod sdk;
mod support;
mod token_service;

use std::rc::Rc;
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn concurrent_calls_share_one_token_fetch() {
    let (embed, calls) = embed(&new_tenant()).await;
    let (a, b, c) = (
        embed.connections(),
        embed.connections(),
        embed.connections(),
    );
    let lists = futures::future::join3(ok(a), ok(b), ok(c)).await;
    assert_eq!(len(&lists.0) + len(&lists.1) + len(&lists.2), 0);
    assert_eq!(calls.get(), 1);
    ok(embed.connections()).await;
    assert_eq!(calls.get(), 1, "a fresh token is reused");
}

#[wasm_bindgen_test]
async fn a_token_at_its_expiry_is_refreshed_before_use() {
    rejected_tokens();
    let tenant = new_tenant();
    let (embed, calls) = embed_at(
        emulator(),
        &tenant,
        Rc::new(|_, t| (t, js_sys::Date::now())),
    )
    .await;
    ok(embed.connections()).await;
    ok(embed.connections()).await;
    assert_eq!(calls.get(), 2);
    assert!(rejected_tokens().is_empty(), "expiry is no rejection");
}

#[wasm_bindgen_test]
async fn a_401_triggers_one_refresh_naming_the_rejected_token_and_one_replay() {
    rejected_tokens();
    let far = js_sys::Date::now() + 1_800_000.0;
    let answers = Rc::new(move |n, real| {
        if n == 1 {
            ("not.a-valid.jwt".into(), far)
        } else {
            (real, far)
        }
    });
    let (embed, calls) = embed_at(emulator(), &new_tenant(), answers).await;
    ok(embed.connections()).await;
    assert_eq!(calls.get(), 2);
    assert_eq!(rejected_tokens(), ["not.a-valid.jwt"]);
}

#[wasm_bindgen_test]
async fn a_token_peliqan_keeps_refusing_is_unauthorized_after_one_replay() {
    let far = js_sys::Date::now() + 1_800_000.0;
    let (embed, calls) = embed_at(
        emulator(),
        &new_tenant(),
        Rc::new(move |_, _| ("bad.bad.bad".into(), far)),
    )
    .await;
    rejected_tokens();
    let e = err(embed.connections()).await;
    assert_eq!(code(&e), "unauthorized");
    assert_eq!(calls.get(), 2);
    assert_eq!(
        rejected_tokens(),
        ["bad.bad.bad"],
        "one forced refresh, no more"
    );
}

#[wasm_bindgen_test]
async fn connectors_are_listed_with_their_connect_forms() {
    let (embed, _) = embed(&new_tenant()).await;
    let list = ok(embed.connectors()).await;
    assert!(len(&list) >= 2);
    let first = js_sys::Array::from(&list).get(0);
    assert!(get(&get(&first, "connect_form"), "fields").is_array());
}

#[wasm_bindgen_test]
async fn an_api_key_connection_is_added_live_and_listed() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let (on_status, seen) = status_recorder();
    let fields = obj(&[("api_token", "secret-token".into())]);
    let opts = obj(&[("onStatus", on_status.into()), ("name", "Sales".into())]);
    let server = ok(embed.connect(123.into(), fields, opts)).await;
    assert_eq!(
        get(&server, "status").as_string().as_deref(),
        Some("connected")
    );
    assert_eq!(*seen.borrow(), ["creating", "checking", "connected"]);
    let id = get(&server, "id");
    assert_eq!(len(&ok(embed.connections()).await), 1);
    let one = ok(embed.connection(id.clone())).await;
    assert_eq!(get(&one, "name").as_string().as_deref(), Some("Sales"));
    assert!(len(&ok(embed.connection_logs(id)).await) >= 1);
}

#[wasm_bindgen_test]
async fn refused_credentials_fail_with_the_reason() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let fields = obj(&[("api_token", "wrong".into())]);
    let e = err(embed.connect(123.into(), fields, JsValue::UNDEFINED)).await;
    assert_eq!(code(&e), "connection_failed");
    let msg = get(&e, "message").as_string().unwrap();
    assert!(msg.contains("refused the API token"), "{msg}");
    assert!(get(&get(&e, "details"), "connectionId").as_f64().is_some());
}

#[wasm_bindgen_test]
async fn missing_fields_fail_in_the_browser_before_any_request() {
    let (embed, calls) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let e = err(embed.connect(123.into(), obj(&[]), JsValue::UNDEFINED)).await;
    assert_eq!(code(&e), "validation");
    assert!(get(&get(&get(&e, "details"), "fields"), "api_token").is_string());
    assert_eq!(calls.get(), 0, "no token fetched, so no request made");
}

#[wasm_bindgen_test]
async fn peliqan_field_errors_are_surfaced_per_field() {
    let (embed, _) = embed(&new_tenant()).await;
    // A connector object without a form: browser validation passes, Peliqan refuses.
    let bare: JsValue =
        js_sys::JSON::parse(r#"{"id":123,"name":"pipedrive","auth":"api_key"}"#).unwrap();
    let e = err(embed.connect(bare, obj(&[]), JsValue::UNDEFINED)).await;
    assert_eq!(code(&e), "validation");
    assert_eq!(get(&get(&e, "details"), "status").as_f64(), Some(400.0));
    assert!(get(&get(&get(&e, "details"), "fields"), "api_token").is_string());
}

#[wasm_bindgen_test]
async fn a_server_that_refuses_this_origin_is_a_cors_error() {
    let (embed, _) = embed_at(
        emulator_without_cors(),
        &new_tenant(),
        Rc::new(|_, t| (t, 4e12)),
    )
    .await;
    let e = err(embed.connections()).await;
    // Browsers hide why a cross-origin request failed; the SDK's no-cors
    // probe tells a refusal from an unreachable server. Chromium and Firefox
    // both answer it on an ordinary page, which is how `cargo xtask
    // browser-test` serves this one. On a cross-origin isolated page (COEP
    // `require-corp`, the test runner's default) Chromium blocks the probe
    // too, and `network` with a CORS hint is all the SDK can say there.
    assert_eq!(code(&e), "cors", "{}", message(&e));
    assert!(get(&e, "message").as_string().unwrap().contains("CORS"));
}

#[wasm_bindgen_test]
async fn table_and_script_are_created_and_checked() {
    let (embed, _) = embed(&new_tenant()).await;
    let table = obj(&[("name", "deals".into()), ("query", "select 1".into())]);
    assert!(
        get(&ok(embed.create_table(table)).await, "id")
            .as_f64()
            .is_some()
    );
    let script = obj(&[
        ("name", "Sync".into()),
        ("rawCode", "print(1)".into()),
        ("schedule", 3600.into()),
    ]);
    assert!(
        get(&ok(embed.add_scheduled_script(script)).await, "id")
            .as_f64()
            .is_some()
    );
    let bad = obj(&[
        ("name", "Sync".into()),
        ("rawCode", "".into()),
        ("schedule", 0.into()),
    ]);
    let e = err(embed.add_scheduled_script(bad)).await;
    let fields = get(&get(&e, "details"), "fields");
    assert!(get(&fields, "rawCode").is_string() && get(&fields, "schedule").is_string());
}

#[wasm_bindgen_test]
fn wrong_options_throw_invalid_config() {
    for options in [
        obj(&[]),
        obj(&[("tokenUrl", "/v1/token".into()), ("dialect", "v2".into())]),
        obj(&[
            ("tokenUrl", "/v1/token".into()),
            ("routes", obj(&[("get_connection", "FETCH /x".into())])),
        ]),
        obj(&[
            ("tokenUrl", "/v1/token".into()),
            ("peliqanUrl", "app.peliqan.io".into()),
        ]),
        // Only https:, loopback http:, or (for the token service) a path.
        obj(&[("tokenUrl", "http://tokens.example.com/v1/token".into())]),
        obj(&[("tokenUrl", "javascript:alert(1)".into())]),
        obj(&[
            ("tokenUrl", "/v1/token".into()),
            ("connectorsUrl", "data:application/json,[]".into()),
        ]),
        obj(&[
            ("tokenUrl", "/v1/token".into()),
            ("peliqanUrl", "http://peliqan.example.com".into()),
        ]),
    ] {
        let e = crate::sdk::PeliqanEmbed::new(options)
            .err()
            .expect("wrong options");
        assert_eq!(code(&e), "invalid_config", "{}", message(&e));
    }
}
