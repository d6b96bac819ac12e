//! One fetch, with transport failures told apart as `network` or `cors`.
//!
//! A browser reports a CORS refusal and an unreachable server with the same
//! bare `TypeError: Failed to fetch`, on purpose. To still give partners a
//! useful code, a failed request is followed by one `mode: "no-cors"` probe
//! of the same URL: if that opaque request gets through, the server is up
//! and refused this origin (`cors`); if it fails too, it is `network`, with
//! a CORS hint in the message, because on a cross-origin-isolated page
//! (served with COOP/COEP) the probe fails too: its opaque answer carries no
//! `Cross-Origin-Resource-Policy` header, so the browser blocks it.
//!
//! The Fetch API is bound directly (`Request`, `Headers`, the global
//! `fetch`), not through gloo-net's request builder: its URL rewriting,
//! error type and `Debug` formatting cost the bundle about 3 KB gzipped
//! for nothing the SDK uses. A request the browser cannot even build (an
//! invalid URL, header name or value) is `invalid_config` naming why.

use super::js;
use crate::config::Credentials;
use crate::error::{EmbedError, ErrorCode};
use gloo_net::http::Method;
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The Fetch API's `Request`.
    type Request;
    #[wasm_bindgen(constructor, catch)]
    fn new(url: &str, init: &JsValue) -> Result<Request, JsValue>;

    /// The Fetch API's `Headers`.
    type Headers;
    #[wasm_bindgen(constructor)]
    fn new() -> Headers;
    #[wasm_bindgen(method, catch)]
    fn set(this: &Headers, name: &str, value: &str) -> Result<(), JsValue>;

    /// The global `fetch` (windows and workers alike).
    #[wasm_bindgen(js_name = fetch)]
    fn fetch(request: &Request) -> js_sys::Promise;

    /// The Fetch API's `Response`.
    type Response;
    #[wasm_bindgen(method, getter)]
    fn status(this: &Response) -> u16;
    #[wasm_bindgen(method, catch)]
    fn text(this: &Response) -> Result<js_sys::Promise, JsValue>;
}

/// How to authenticate one request.
pub enum Auth<'a> {
    /// A Peliqan call: `Authorization: JWT <token>`, never cookies.
    Jwt(&'a str),
    /// A call to the partner's own token service: its cookies and headers.
    Partner(Credentials, &'a BTreeMap<String, String>),
}

/// The Fetch method of a dialect route's method.
pub fn fetch_method(m: peliqan_api::dialect::Method) -> Method {
    use peliqan_api::dialect::Method as M;
    match m {
        M::Get => Method::GET,
        M::Post => Method::POST,
        M::Put => Method::PUT,
        M::Patch => Method::PATCH,
        M::Delete => Method::DELETE,
    }
}

/// `name: message` of a JavaScript exception (the browser's own words,
/// e.g. `TypeError: Failed to construct 'Request': Invalid URL`).
fn exception_text(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(e) => [String::from(e.name()), String::from(e.message())].join(": "),
        None => e.as_string().unwrap_or_else(|| "unknown error".to_owned()),
    }
}

/// The request, or `invalid_config` when the browser refuses to build it.
fn request(
    url: &str,
    auth: Auth<'_>,
    method: &Method,
    json_body: Option<&str>,
) -> Result<Request, EmbedError> {
    let bad = |e: JsValue| {
        EmbedError::new(
            ErrorCode::InvalidConfig,
            ["bad request: ", &exception_text(&e)].concat(),
        )
    };
    let headers = Headers::new();
    headers.set("Accept", "application/json").map_err(bad)?;
    let credentials = match auth {
        Auth::Jwt(token) => {
            headers
                .set("Authorization", &["JWT ", token].concat())
                .map_err(bad)?;
            "omit"
        }
        Auth::Partner(creds, extra) => {
            for (k, v) in extra {
                headers.set(k, v).map_err(bad)?;
            }
            match creds {
                Credentials::Omit => "omit",
                Credentials::SameOrigin => "same-origin",
                Credentials::Include => "include",
            }
        }
    };
    if json_body.is_some() {
        headers
            .set("Content-Type", "application/json")
            .map_err(bad)?;
    }
    let init = js::object(&[
        ("method", method.as_str().into()),
        ("headers", headers.into()),
        ("credentials", credentials.into()),
        (
            "body",
            json_body.map_or(JsValue::UNDEFINED, JsValue::from_str),
        ),
    ]);
    Request::new(url, &init).map_err(bad)
}

/// Sends one request; answers the status and body text of any HTTP answer.
pub async fn send(
    method: Method,
    url: &str,
    auth: Auth<'_>,
    json_body: Option<&str>,
) -> Result<(u16, String), EmbedError> {
    let request = request(url, auth, &method, json_body)?;
    let response: Response = match JsFuture::from(fetch(&request)).await {
        Ok(r) => r.unchecked_into(),
        Err(_) => return Err(transport_error(url).await),
    };
    let status = response.status();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    let text = text.ok_or_else(|| network(url))?;
    Ok((status, text))
}

fn network(url: &str) -> EmbedError {
    EmbedError::new(
        ErrorCode::Network,
        [
            "could not reach ",
            url,
            " (offline, server down, or a CORS refusal: is this page's origin allowed?)",
        ]
        .concat(),
    )
}

/// Classifies a failed fetch by probing the URL without CORS.
async fn transport_error(url: &str) -> EmbedError {
    let init = js::object(&[("mode", "no-cors".into()), ("credentials", "omit".into())]);
    let reached = match Request::new(url, &init) {
        Ok(probe) => JsFuture::from(fetch(&probe)).await.is_ok(),
        Err(_) => false,
    };
    if reached {
        EmbedError::new(
            ErrorCode::Cors,
            [url, " answered without CORS headers for this page's origin; add the origin to the server's allow-list"]
                .concat(),
        )
    } else {
        network(url)
    }
}
