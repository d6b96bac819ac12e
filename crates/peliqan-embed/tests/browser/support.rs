//! Helpers of the browser tests: the emulator's address (given at compile
//! time by `cargo xtask browser-test`) and its API dialect (read at run
//! time from `GET /__emulator/info`), sub-account tokens fetched from it
//! with the partner token (a stand-in for the partner's token service, in
//! the emulator's dialect), and `PeliqanEmbed` instances whose `getToken`
//! callback counts its calls.

use crate::sdk::PeliqanEmbed;
use gloo_net::http::{Method, RequestBuilder};
use js_sys::{Array, Function, Object, Promise, Reflect};
use peliqan_api::dialect::{self, Vars};
use peliqan_api::{Dialect, Operation, Routes};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// A value `cargo xtask browser-test` passes at compile time. A missing one
/// fails the test that needs it (not the build, so clippy and `cargo
/// check` work).
pub fn given(value: Option<&'static str>) -> &'static str {
    match value {
        Some(v) => v,
        None => panic!("run the browser tests through `cargo xtask browser-test`"),
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

pub fn partner_auth() -> String {
    ["JWT ", given(option_env!("PELIQAN_PARTNER_TOKEN"))].concat()
}

thread_local! {
    static DIALECT: Cell<Option<Dialect>> = const { Cell::new(None) };
    /// `rejectedToken` of every `getToken` call that had one (the tests of
    /// a page run one after another, so one list serves them all).
    static REJECTED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The `rejectedToken`s `getToken` callbacks were given since the last call.
pub fn rejected_tokens() -> Vec<String> {
    REJECTED.with_borrow_mut(std::mem::take)
}

/// The emulator's API dialect, asked once per test page.
pub async fn dialect() -> Dialect {
    if let Some(d) = DIALECT.get() {
        return d;
    }
    let url = [emulator(), "/__emulator/info"].concat();
    let answer = RequestBuilder::new(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200, "GET /__emulator/info");
    let info: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    let d: Dialect = info["dialect"].as_str().unwrap().parse().unwrap();
    DIALECT.set(Some(d));
    d
}

/// The emulator dialect's routes.
pub async fn routes() -> Routes {
    dialect().await.routes()
}

/// The full URL and method of a partner-side operation on the emulator.
fn url(routes: &Routes, op: Operation, vars: &Vars<'_>) -> (Method, String) {
    let t = routes.target(op, vars).unwrap();
    let method = match t.method {
        dialect::Method::Get => Method::GET,
        dialect::Method::Post => Method::POST,
        dialect::Method::Put => Method::PUT,
        dialect::Method::Patch => Method::PATCH,
        dialect::Method::Delete => Method::DELETE,
    };
    (method, [emulator(), &t.path_and_query()].concat())
}

/// Sends `method` to an emulator control endpoint (`/__emulator/...`) with
/// an optional JSON body; answers the status.
pub async fn control(method: Method, path: &str, json: Option<&str>) -> u16 {
    let b = RequestBuilder::new(&[emulator(), path].concat()).method(method);
    let request = match json {
        Some(body) => b.header("Content-Type", "application/json").body(body),
        None => b.build(),
    };
    request.unwrap().send().await.unwrap().status()
}

/// Creates the sub-account `tenant` in the emulator's dialect (a duplicate
/// is a 400, fine for callers that only need it to exist).
pub async fn create_subaccount(tenant: &str) {
    let body = [
        "{\"external_id\":\"",
        tenant,
        "\",\"email\":\"",
        tenant,
        "@example.com\",\"company_name\":\"Browser test\"}",
    ]
    .concat();
    let (method, create) = url(
        &routes().await,
        Operation::CreateSubaccount,
        &Vars::default(),
    );
    let created = RequestBuilder::new(&create)
        .method(method)
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
}

/// The emulator's connector list, as the partner backend would serve it.
pub async fn connectors_url() -> String {
    url(&routes().await, Operation::Servertypes, &Vars::default()).1
}

/// A fresh tenant id, so tests never see each other's connections.
pub fn new_tenant() -> String {
    ["t", &js_sys::Math::random().to_string()[2..12]].concat()
}

/// Creates the sub-account `tenant` (once) and returns a token for it.
pub async fn tenant_token(tenant: &str) -> String {
    create_subaccount(tenant).await;
    let routes = routes().await;
    let vars = Vars {
        external_id: Some(tenant),
        ..Vars::default()
    };
    let (method, token) = url(&routes, Operation::TokenByExternalId, &vars);
    let answer = RequestBuilder::new(&token)
        .method(method)
        .header("Authorization", &partner_auth())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{token}");
    let v: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// How `getToken` should answer its n-th call (1-based).
pub type Answers = Rc<dyn Fn(u32, String) -> (String, f64)>;

/// Where the SDK learns which Peliqan to call and in which dialect.
#[derive(Clone, Copy, PartialEq)]
pub enum Routing {
    /// `peliqanUrl` and `dialect` constructor options.
    Options,
    /// `peliqanUrl` and `dialect` in `getToken`'s answer, no options.
    TokenAnswer,
}

/// A `PeliqanEmbed` for `tenant` at `peliqan_url`; `answers` shapes the
/// callback's `{token, expiresAt}`; the counter counts callback calls, and
/// [`rejected_tokens`] tells which of them named a rejected token.
pub async fn embed_at(
    peliqan_url: &str,
    tenant: &str,
    answers: Answers,
) -> (PeliqanEmbed, Rc<Cell<u32>>) {
    embed_routed(peliqan_url, tenant, answers, Routing::Options).await
}

/// [`embed_at`], with the routing given as `routing` says.
pub async fn embed_routed(
    peliqan_url: &str,
    tenant: &str,
    answers: Answers,
    routing: Routing,
) -> (PeliqanEmbed, Rc<Cell<u32>>) {
    let dialect = dialect().await.name();
    let calls = Rc::new(Cell::new(0u32));
    let (c, tenant, url) = (Rc::clone(&calls), tenant.to_owned(), peliqan_url.to_owned());
    let callback = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |context: JsValue| {
        if let Some(t) = get(&context, "rejectedToken").as_string() {
            REJECTED.with_borrow_mut(|r| r.push(t));
        }
        c.set(c.get() + 1);
        let (n, tenant, answers) = (c.get(), tenant.clone(), Rc::clone(&answers));
        let url = url.clone();
        future_to_promise(async move {
            let real = tenant_token(&tenant).await;
            let (token, expires_at) = answers(n, real);
            let o = Object::new();
            Reflect::set(&o, &"token".into(), &token.into())?;
            Reflect::set(&o, &"expiresAt".into(), &expires_at.into())?;
            if routing == Routing::TokenAnswer {
                Reflect::set(&o, &"peliqanUrl".into(), &url.into())?;
                Reflect::set(&o, &"dialect".into(), &dialect.into())?;
            }
            Ok(o.into())
        })
    });
    let mut options = vec![
        ("getToken", callback.into_js_value()),
        ("connectorsUrl", connectors_url().await.into()),
        ("headers", obj(&[("Authorization", partner_auth().into())])),
    ];
    if routing == Routing::Options {
        options.push(("peliqanUrl", peliqan_url.into()));
        options.push(("dialect", dialect.into()));
    }
    let embed = PeliqanEmbed::new(obj(&options)).expect("valid options");
    (embed, calls)
}

/// Tokens valid 30 min, as the emulator issues them.
pub fn fresh() -> Answers {
    Rc::new(|_, t| (t, js_sys::Date::now() + 1_800_000.0))
}

/// A `PeliqanEmbed` on the CORS-allowing emulator with tokens valid 30 min.
pub async fn embed(tenant: &str) -> (PeliqanEmbed, Rc<Cell<u32>>) {
    embed_at(emulator(), tenant, fresh()).await
}

/// The connector called `name` in a `connectors()` list.
pub fn connector(list: &JsValue, name: &str) -> JsValue {
    Array::from(list)
        .iter()
        .find(|c| get(c, "name").as_string().as_deref() == Some(name))
        .unwrap_or_else(|| panic!("the emulator has no `{name}` connector"))
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

/// The `message` of a `PeliqanError`.
pub fn message(e: &JsValue) -> String {
    get(e, "message").as_string().unwrap_or_default()
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
