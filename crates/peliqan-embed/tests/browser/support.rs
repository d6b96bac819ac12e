//! Helpers of the browser tests: the emulator's address (given at compile
//! time by `cargo xtask test`), sub-account tokens fetched from it with the
//! partner token (a stand-in for the partner's token service), and
//! `PeliqanEmbed` instances whose `getToken` callback counts its calls.

use gloo_net::http::Request;
use js_sys::{Array, Function, Object, Promise, Reflect};
use peliqan_embed::PeliqanEmbed;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// A value `cargo xtask test` passes at compile time. A missing one fails
/// the test that needs it (not the build, so clippy and `cargo check` work).
pub fn given(value: Option<&'static str>) -> &'static str {
    match value {
        Some(v) => v,
        None => panic!("run the browser tests through `cargo xtask test`"),
    }
}

/// The emulator that allows this test page's origin.
pub fn emulator() -> &'static str {
    given(option_env!("PELIQAN_EMULATOR_URL"))
}

/// An emulator started with a different `--allowed-origin`.
pub fn emulator_without_cors() -> &'static str {
    given(option_env!("PELIQAN_NOCORS_URL"))
}

fn partner_auth() -> String {
    ["JWT ", given(option_env!("PELIQAN_PARTNER_TOKEN"))].concat()
}

/// A fresh tenant id, so tests never see each other's connections.
pub fn new_tenant() -> String {
    ["t", &js_sys::Math::random().to_string()[2..12]].concat()
}

/// Creates the sub-account `tenant` (once) and returns a token for it.
pub async fn tenant_token(tenant: &str) -> String {
    let body = ["{\"external_id\":\"", tenant, "\"}"].concat();
    let created = Request::post(&[emulator(), "/api/subaccount"].concat())
        .header("Authorization", &partner_auth())
        .header("Content-Type", "application/json")
        .body(body)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert!(
        created.status() < 500,
        "create sub-account: {}",
        created.status()
    );
    let url = [emulator(), "/api/subaccount/token?external_id=", tenant].concat();
    let answer = Request::get(&url)
        .header("Authorization", &partner_auth())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// How `getToken` should answer its n-th call (1-based).
pub type Answers = Rc<dyn Fn(u32, String) -> (String, f64)>;

/// A `PeliqanEmbed` for `tenant` at `peliqan_url`; `answers` shapes the
/// callback's `{token, expiresAt}`; the counter counts callback calls.
pub fn embed_at(
    peliqan_url: &str,
    tenant: &str,
    answers: Answers,
) -> (PeliqanEmbed, Rc<Cell<u32>>) {
    let calls = Rc::new(Cell::new(0u32));
    let (c, tenant) = (Rc::clone(&calls), tenant.to_owned());
    let callback = Closure::<dyn FnMut() -> Promise>::new(move || {
        c.set(c.get() + 1);
        let (n, tenant, answers) = (c.get(), tenant.clone(), Rc::clone(&answers));
        future_to_promise(async move {
            let real = tenant_token(&tenant).await;
            let (token, expires_at) = answers(n, real);
            let o = Object::new();
            Reflect::set(&o, &"token".into(), &token.into())?;
            Reflect::set(&o, &"expiresAt".into(), &expires_at.into())?;
            Ok(o.into())
        })
    });
    let options = obj(&[
        ("peliqanUrl", peliqan_url.into()),
        ("getToken", callback.into_js_value()),
        (
            "connectorsUrl",
            [emulator(), "/api/servertypes"].concat().into(),
        ),
        ("headers", obj(&[("Authorization", partner_auth().into())])),
    ]);
    let embed = PeliqanEmbed::new(options).expect("valid options");
    (embed, calls)
}

/// A `PeliqanEmbed` on the CORS-allowing emulator with tokens valid 30 min.
pub fn embed(tenant: &str) -> (PeliqanEmbed, Rc<Cell<u32>>) {
    embed_at(
        emulator(),
        tenant,
        Rc::new(|_, t| (t, js_sys::Date::now() + 1_800_000.0)),
    )
}

/// A plain object from key/value pairs.
pub fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

/// `v[key]`.
pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

/// Awaits a Promise that must resolve.
pub async fn ok(p: Promise) -> JsValue {
    match JsFuture::from(p).await {
        Ok(v) => v,
        Err(e) => panic!(
            "expected success, got {:?} {:?}",
            get(&e, "code"),
            get(&e, "message")
        ),
    }
}

/// Awaits a Promise that must reject with a `PeliqanError`; returns it.
pub async fn err(p: Promise) -> JsValue {
    let e = JsFuture::from(p)
        .await
        .expect_err("expected a PeliqanError");
    assert!(
        e.is_instance_of::<js_sys::Error>(),
        "rejections are Error objects"
    );
    assert_eq!(get(&e, "name").as_string().as_deref(), Some("PeliqanError"));
    e
}

/// The `code` of a `PeliqanError`.
pub fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_default()
}

/// Array length.
pub fn len(v: &JsValue) -> u32 {
    v.dyn_ref::<Array>().expect("an array").length()
}

/// A collector for `onStatus` events: the callback and the states seen.
pub fn status_recorder() -> (Function, Rc<std::cell::RefCell<Vec<String>>>) {
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let s = Rc::clone(&seen);
    let f = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        s.borrow_mut()
            .push(get(&ev, "state").as_string().unwrap_or_default());
    });
    (f.into_js_value().unchecked_into(), seen)
}
