//! The SDK's lifecycle: events (`on`/`off`), cancelling `connect()` with an
//! `AbortSignal`, and `destroy()`; against the real emulator, with
//! `window.open` stubbed (see [`super::popup`]) where a popup is involved.

use super::popup::{OpenStub, navigated, sleep};
use super::support::*;
use crate::sdk::PeliqanEmbed;
use gloo_net::http::RequestBuilder;
use js_sys::{Array, Function};
use peliqan_api::Operation;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// Every event of `types` that `embed` sends, in order, as `type` plus
/// the event object.
fn record(embed: &PeliqanEmbed, types: &[&str]) -> Rc<RefCell<Vec<(String, JsValue)>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    for ty in types {
        let s = Rc::clone(&seen);
        let f = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let ty = get(&ev, "type").as_string().unwrap_or_default();
            s.borrow_mut().push((ty, ev));
        });
        embed.on(ty, f.into_js_value().unchecked_into()).unwrap();
    }
    seen
}

fn types_of(seen: &Rc<RefCell<Vec<(String, JsValue)>>>) -> Vec<String> {
    seen.borrow().iter().map(|(t, _)| t.clone()).collect()
}

/// How often the emulator answered `op` so far.
async fn requests(op: Operation) -> u64 {
    let url = [emulator(), "/__emulator/stats"].concat();
    let answer = RequestBuilder::new(&url).send().await.unwrap();
    let stats: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    let route = routes().await;
    let route = route.route(op).unwrap();
    let key = format!("{} {}", route.method, route.path_template());
    stats["requests"][&key].as_u64().unwrap_or(0)
}

fn abort_controller() -> (JsValue, Function) {
    let make = Function::new_no_args(
        "const c = new AbortController(); return [c.signal, () => c.abort()];",
    );
    let pair = Array::from(&make.call0(&JsValue::NULL).unwrap());
    (pair.get(0), pair.get(1).unchecked_into())
}

#[wasm_bindgen_test]
async fn a_connection_sends_token_created_and_connected_events_in_order() {
    let (embed, _) = embed(&new_tenant()).await;
    let seen = record(
        &embed,
        &[
            "token-refreshed",
            "connection-created",
            "connected",
            "connection-failed",
        ],
    );
    // A listener removed again hears nothing.
    let removed = Rc::new(RefCell::new(0));
    let r = Rc::clone(&removed);
    let listener: Function = Closure::<dyn FnMut(JsValue)>::new(move |_| *r.borrow_mut() += 1)
        .into_js_value()
        .unchecked_into();
    embed.on("connected", listener.clone()).unwrap();
    embed.off("connected", listener).unwrap();
    ok(embed.connectors()).await;
    let fields = obj(&[("api_token", "secret-token".into())]);
    let server = ok(embed.connect(123.into(), fields, JsValue::UNDEFINED)).await;
    assert_eq!(
        types_of(&seen),
        ["token-refreshed", "connection-created", "connected"]
    );
    let seen = seen.borrow();
    let id = get(&server, "id");
    assert_eq!(
        get(&seen[0].1, "expiresAt")
            .as_f64()
            .map(|ms| ms > js_sys::Date::now()),
        Some(true)
    );
    assert_eq!(get(&seen[1].1, "connectionId"), id);
    assert_eq!(get(&seen[1].1, "connectorId").as_f64(), Some(123.0));
    assert_eq!(get(&get(&seen[2].1, "connection"), "id"), id);
    assert_eq!(*removed.borrow(), 0);
}

#[wasm_bindgen_test]
async fn a_failed_connection_sends_connection_failed_with_the_error() {
    let (embed, _) = embed(&new_tenant()).await;
    let seen = record(&embed, &["connection-failed", "connected"]);
    ok(embed.connectors()).await;
    let fields = obj(&[("api_token", "wrong".into())]);
    let e = err(embed.connect(123.into(), fields, JsValue::UNDEFINED)).await;
    assert_eq!(types_of(&seen), ["connection-failed"]);
    let event = &seen.borrow()[0].1;
    assert_eq!(code(&get(event, "error")), "connection_failed");
    assert_eq!(
        get(event, "connectionId"),
        get(&get(&e, "details"), "connectionId")
    );
}

#[wasm_bindgen_test]
fn an_unknown_event_type_is_invalid_config_naming_the_known_ones() {
    let embed = PeliqanEmbed::new(obj(&[("tokenUrl", "/v1/token".into())])).unwrap();
    let e = embed
        .on("ready", Function::new_no_args(""))
        .expect_err("unknown type");
    assert_eq!(code(&e), "invalid_config");
    assert!(
        message(&e).contains("connection-created"),
        "{}",
        message(&e)
    );
}

#[wasm_bindgen_test]
async fn an_aborted_signal_closes_the_popup_stops_polling_and_rejects_cancelled() {
    let (embed, _) = embed(&new_tenant()).await;
    let seen = record(&embed, &["cancelled", "connection-failed", "connected"]);
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let (signal, abort) = abort_controller();
    let opts = obj(&[("signal", signal)]);
    let attempt = embed.connect(124.into(), obj(&[]), opts);
    navigated(&stub).await;
    abort.call0(&JsValue::NULL).unwrap();
    let e = err(attempt).await;
    assert_eq!(code(&e), "cancelled", "{}", message(&e));
    assert!(message(&e).contains("signal"), "{}", message(&e));
    assert!(get(&get(&e, "details"), "connectionId").as_f64().is_some());
    assert_eq!(get(&stub.popup(), "closed").as_bool(), Some(true));
    assert_eq!(types_of(&seen), ["cancelled"]);
    // No more polling: the connection is not asked for again.
    let polls = requests(Operation::GetConnection).await;
    sleep(2500).await;
    assert_eq!(requests(Operation::GetConnection).await, polls);
}

#[wasm_bindgen_test]
async fn an_already_aborted_signal_opens_nothing_and_sends_nothing() {
    let (embed, calls) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let (signal, abort) = abort_controller();
    abort.call0(&JsValue::NULL).unwrap();
    let e = err(embed.connect(124.into(), obj(&[]), obj(&[("signal", signal)]))).await;
    assert_eq!(code(&e), "cancelled");
    assert!(stub.opened().is_empty());
    assert_eq!(calls.get(), 0, "no token asked for");
    let e = err(embed.connect(124.into(), obj(&[]), obj(&[("signal", 5.into())]))).await;
    assert_eq!(code(&e), "invalid_config");
}

#[wasm_bindgen_test]
async fn destroy_cancels_a_connect_in_flight_and_refuses_later_calls() {
    let (embed, _) = embed(&new_tenant()).await;
    let seen = record(&embed, &["cancelled"]);
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let attempt = embed.connect(124.into(), obj(&[]), JsValue::UNDEFINED);
    navigated(&stub).await;
    embed.destroy();
    embed.destroy();
    let e = err(attempt).await;
    assert_eq!(code(&e), "cancelled");
    assert!(message(&e).contains("destroyed"), "{}", message(&e));
    assert_eq!(get(&stub.popup(), "closed").as_bool(), Some(true));
    assert_eq!(types_of(&seen), ["cancelled"]);
    let e = err(embed.connections()).await;
    assert_eq!(code(&e), "invalid_config");
    assert!(message(&e).contains("destroyed"), "{}", message(&e));
    let e = err(embed.connect(123.into(), obj(&[]), JsValue::UNDEFINED)).await;
    assert_eq!(code(&e), "invalid_config");
}

#[wasm_bindgen_test]
async fn an_unreachable_peliqan_is_announced_once_per_outage() {
    // Nothing listens on port 9 of the loopback interface.
    let (embed, _) = embed_at("http://127.0.0.1:9", &new_tenant(), fresh()).await;
    let seen = record(&embed, &["unreachable"]);
    assert_eq!(code(&err(embed.connections()).await), "network");
    assert_eq!(code(&err(embed.connections()).await), "network");
    assert_eq!(types_of(&seen), ["unreachable"]);
    let event = &seen.borrow()[0].1;
    assert_eq!(
        get(event, "service").as_string().as_deref(),
        Some("peliqan")
    );
    assert_eq!(code(&get(event, "error")), "network");
}
