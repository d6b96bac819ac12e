//! The OAuth popup flow with `window.open` replaced by a recording stub, so
//! the tests see exactly when the popup is opened and can play the user:
//! close it, or answer the emulator's consent page (`POST /oauth/decision`,
//! a CORS-safelisted form post) as its Approve/Deny buttons would.

use super::support::*;
use gloo_net::http::{Method, Request};
use js_sys::{Function, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::RequestMode;

/// Replaces `window.open` until dropped; records the URLs it was called with.
pub struct OpenStub {
    original: JsValue,
}

impl OpenStub {
    /// `blocked`: answer `null` like a popup blocker; else a fake window.
    pub fn install(blocked: bool) -> Self {
        let window: JsValue = web_sys::window().unwrap().into();
        let original = get(&window, "open");
        let make = Function::new_with_args(
            "blocked",
            "window.__opened = []; window.__popup = blocked ? null : { closed: false, \
             document: { title: '', body: { innerHTML: '' } }, location: { href: '' }, \
             close() { this.closed = true; } }; \
             window.open = (url) => { window.__opened.push(url); return window.__popup; };",
        );
        make.call1(&JsValue::NULL, &blocked.into()).unwrap();
        Self { original }
    }

    pub fn opened(&self) -> Vec<String> {
        let list = js_sys::Array::from(&global("__opened"));
        list.iter().filter_map(|v| v.as_string()).collect()
    }

    pub fn popup(&self) -> JsValue {
        global("__popup")
    }
}

impl Drop for OpenStub {
    fn drop(&mut self) {
        let window: JsValue = web_sys::window().unwrap().into();
        Reflect::set(&window, &"open".into(), &self.original).unwrap();
    }
}

fn global(name: &str) -> JsValue {
    get(&web_sys::window().unwrap().into(), name)
}

pub async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

/// Waits (up to 15 s, for loaded CI machines) until the SDK navigated the
/// fake popup; returns the OAuth URL.
pub async fn navigated(stub: &OpenStub) -> String {
    for _ in 0..300 {
        let href = get(&get(&stub.popup(), "location"), "href")
            .as_string()
            .unwrap_or_default();
        if !href.is_empty() {
            return href;
        }
        sleep(50).await;
    }
    panic!("the popup was never navigated");
}

/// Answers the consent page like its Approve or Deny button. The server
/// acts on the post; Chromium then hides the HTML answer from this
/// cross-origin no-cors fetch (Opaque Response Blocking turns it into a
/// network error), so the fetch's own result says nothing and is ignored.
async fn decide(oauth_url: &str, decision: &str) {
    let state = oauth_url
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let post = Request::post(&[emulator(), "/oauth/decision"].concat())
        .mode(RequestMode::NoCors)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(["state=", state, "&decision=", decision].concat())
        .unwrap();
    let _ = post.send().await;
}

#[wasm_bindgen_test]
async fn popup_opens_synchronously_before_any_request_with_the_notice() {
    let (embed, calls) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let attempt = embed.connect(124.into(), obj(&[]), obj(&[("graceMs", 300.into())]));
    // Still inside the "click": the popup exists, no token was even asked for.
    assert_eq!(stub.opened(), ["about:blank"]);
    assert_eq!(calls.get(), 0);
    let doc = get(&stub.popup(), "document");
    assert_eq!(
        get(&doc, "title").as_string().as_deref(),
        Some("Powered by Peliqan")
    );
    assert!(
        get(&get(&doc, "body"), "innerHTML")
            .as_string()
            .unwrap()
            .contains("HubSpot")
    );
    let url = navigated(&stub).await;
    assert!(
        url.starts_with(&[emulator(), "/oauth/authorize?"].concat()),
        "{url}"
    );
    // The user closes the popup without deciding: cancelled after the grace period.
    Reflect::set(&stub.popup(), &"closed".into(), &true.into()).unwrap();
    let e = err(attempt).await;
    assert_eq!(code(&e), "cancelled");
}

#[wasm_bindgen_test]
async fn a_blocked_popup_is_popup_blocked_and_nothing_is_created() {
    let (embed, calls) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let _stub = OpenStub::install(true);
    let e = err(embed.connect(124.into(), obj(&[]), JsValue::UNDEFINED)).await;
    assert_eq!(code(&e), "popup_blocked");
    assert_eq!(calls.get(), 0);
    assert_eq!(len(&ok(embed.connections()).await), 0);
}

#[wasm_bindgen_test]
async fn approval_after_closed_reads_true_is_connected_not_cancelled() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let (on_status, seen) = status_recorder();
    let opts = obj(&[("graceMs", 8000.into()), ("onStatus", on_status.into())]);
    let attempt = embed.connect(124.into(), obj(&[]), opts);
    let url = navigated(&stub).await;
    // Cross-Origin-Opener-Policy makes `closed` read true while the user is busy.
    Reflect::set(&stub.popup(), &"closed".into(), &true.into()).unwrap();
    // Approve only once the SDK has seen `closed` and entered its grace period.
    for _ in 0..300 {
        if seen.borrow().iter().any(|s| s == "confirming") {
            break;
        }
        sleep(50).await;
    }
    decide(&url, "approve").await;
    let server = ok(attempt).await;
    assert_eq!(
        get(&server, "status").as_string().as_deref(),
        Some("connected")
    );
    let seen = seen.borrow();
    assert_eq!(seen.first().map(String::as_str), Some("creating"));
    assert!(seen.contains(&"confirming".to_owned()), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("connected"));
}

#[wasm_bindgen_test]
async fn a_denied_grant_fails_with_the_providers_reason() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let attempt = embed.connect(124.into(), obj(&[]), JsValue::UNDEFINED);
    decide(&navigated(&stub).await, "deny").await;
    let e = err(attempt).await;
    assert_eq!(code(&e), "connection_failed");
    assert!(
        get(&e, "message")
            .as_string()
            .unwrap()
            .contains("access_denied")
    );
}

#[wasm_bindgen_test]
async fn a_connector_without_auth_that_is_oauth_gets_its_popup_inside_the_click() {
    let (embed, calls) = embed(&new_tenant()).await;
    let zoho = connector(&ok(embed.connectors()).await, "zoho_crm");
    assert!(
        get(&zoho, "auth").is_undefined(),
        "zoho_crm has no auth field"
    );
    let stub = OpenStub::install(false);
    let (on_status, seen) = status_recorder();
    let opts = obj(&[("onStatus", on_status.into())]);
    let attempt = embed.connect(zoho, obj(&[]), opts);
    // Opened in the click, before the token or Peliqan were asked anything.
    assert_eq!(stub.opened(), ["about:blank"]);
    assert_eq!(calls.get(), 0);
    let doc = get(&stub.popup(), "document");
    assert_eq!(
        get(&doc, "title").as_string().as_deref(),
        Some("Powered by Peliqan")
    );
    let url = navigated(&stub).await;
    assert!(
        url.starts_with(&[emulator(), "/oauth/authorize?"].concat()),
        "{url}"
    );
    decide(&url, "approve").await;
    let server = ok(attempt).await;
    assert_eq!(
        get(&server, "status").as_string().as_deref(),
        Some("connected")
    );
    assert!(seen.borrow().contains(&"authorizing".to_owned()));
}

#[wasm_bindgen_test]
async fn a_connector_without_auth_that_is_not_oauth_closes_its_popup_at_once() {
    let (embed, calls) = embed(&new_tenant()).await;
    let airtable = connector(&ok(embed.connectors()).await, "airtable");
    assert!(
        get(&airtable, "auth").is_undefined(),
        "airtable has no auth field"
    );
    let stub = OpenStub::install(false);
    let (on_status, seen) = status_recorder();
    let fields = obj(&[("api_key", "key-from-the-browser-test".into())]);
    let attempt = embed.connect(airtable, fields, obj(&[("onStatus", on_status.into())]));
    assert_eq!(stub.opened(), ["about:blank"], "opened inside the click");
    assert_eq!(calls.get(), 0);
    let server = ok(attempt).await;
    assert_eq!(
        get(&server, "status").as_string().as_deref(),
        Some("connected")
    );
    assert_eq!(get(&stub.popup(), "closed").as_bool(), Some(true));
    let href = get(&get(&stub.popup(), "location"), "href");
    assert_eq!(href.as_string().as_deref(), Some(""), "never navigated");
    assert_eq!(*seen.borrow(), ["creating", "checking", "connected"]);
    let live = ok(embed.connection(get(&server, "id"))).await;
    assert_eq!(
        get(&live, "status").as_string().as_deref(),
        Some("connected")
    );
    assert_eq!(len(&ok(embed.connections()).await), 1);
}

#[wasm_bindgen_test]
async fn a_known_api_key_connector_opens_no_popup() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let stub = OpenStub::install(false);
    let fields = obj(&[("api_token", "secret-token".into())]);
    ok(embed.connect(123.into(), fields, JsValue::UNDEFINED)).await;
    assert!(stub.opened().is_empty());
}

#[wasm_bindgen_test]
async fn a_javascript_oauth_url_is_never_opened_and_its_popup_is_closed() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    // The emulator answers the next OAuth connection with this oauth_url,
    // as a broken or hostile Peliqan might.
    let next = r#"{"oauth_url":"javascript:alert(document.domain)"}"#;
    let set = control(Method::POST, "/__emulator/next-oauth-url", Some(next)).await;
    assert_eq!(set, 204);
    let stub = OpenStub::install(false);
    // A short timeout, so that an SDK that navigates anyway fails fast.
    let opts = obj(&[("timeoutMs", 3000.into())]);
    let e = err(embed.connect(124.into(), obj(&[]), opts)).await;
    assert_eq!(code(&e), "upstream", "{}", message(&e));
    assert!(message(&e).contains("`javascript:`"), "{}", message(&e));
    assert!(
        !message(&e).contains("document.domain"),
        "the URL is not repeated"
    );
    assert!(get(&get(&e, "details"), "connectionId").as_f64().is_some());
    assert_eq!(stub.opened(), ["about:blank"]);
    let href = get(&get(&stub.popup(), "location"), "href");
    assert_eq!(href.as_string().as_deref(), Some(""), "never navigated");
    assert_eq!(get(&stub.popup(), "closed").as_bool(), Some(true));
}
