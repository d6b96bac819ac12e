//! Where new sub-account tokens come from: the partner's token service
//! (`POST tokenUrl`) or the partner's own `getToken` callback. Either way
//! the answer's routing fields (`peliqan_url`, `dialect`, `routes`) are
//! merged with the options into the token's [`Endpoint`], and the result
//! goes into the in-memory [`TokenCache`], never to storage. A refresh
//! because Peliqan answered 401 names the rejected token: in the body of
//! the `POST` ([`crate::token::rejected_body`]), or as `rejectedToken` in
//! the callback's argument, so the source replaces a token it has cached.

use super::http::{Auth, send};
use super::js;
use super::js_error::describe;
use super::now_ms;
use crate::answers;
use crate::config::Config;
use crate::error::{EmbedError, ErrorCode, from_token_service};
use crate::routing::{Endpoint, RoutingOptions};
use crate::token::{Token, expiry_ms, rejected_body};
use crate::token_cache::TokenCache;
use futures::FutureExt;
use gloo_net::http::Method;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Milliseconds since the epoch of an RFC 3339 text, if it parses.
fn parse_time(text: &str) -> Option<f64> {
    Some(js_sys::Date::parse(text)).filter(|ms| ms.is_finite())
}

fn bad_answer(from: &str) -> EmbedError {
    EmbedError::new(
        ErrorCode::TokenService,
        [from, " did not answer {token, expires_at}"].concat(),
    )
}

/// The token cache for `config`, fetching through `callback` if given.
pub fn token_cache(config: &Config, callback: Option<js_sys::Function>) -> TokenCache {
    let config = Rc::new(config.clone());
    TokenCache::new(
        move |rejected| match &callback {
            Some(f) => from_callback(f.clone(), Rc::clone(&config), rejected).boxed_local(),
            None => from_service(Rc::clone(&config), rejected).boxed_local(),
        },
        now_ms,
    )
}

/// The endpoint of a token `source` answered with `answer` (its JSON).
fn endpoint_for_answer(
    options: &RoutingOptions,
    answer: &serde_json::Value,
    source: &str,
) -> Result<Endpoint, EmbedError> {
    let routing = answers::token_routing(answer).map_err(|what| {
        EmbedError::new(
            ErrorCode::TokenService,
            [source, "'s answer is unusable: ", &what].concat(),
        )
    })?;
    Endpoint::resolve(options, &routing, source)
}

async fn from_service(config: Rc<Config>, rejected: Option<String>) -> Result<Token, EmbedError> {
    let url = config.token_url.as_deref().unwrap_or_default();
    let auth = Auth::Partner(config.credentials, &config.headers);
    let body = rejected.map(|t| js::stringify(&js::from_json(&rejected_body(&t))));
    let (status, body) = send(Method::POST, url, auth, body.as_deref()).await?;
    let answer = js::json_value(&body);
    if !(200..300).contains(&status) {
        return Err(from_token_service(status, &answer));
    }
    let (token, exp) =
        answers::token_and_expiry(&answer).ok_or_else(|| bad_answer("the token service"))?;
    let exp = exp.and_then(parse_time);
    let endpoint = endpoint_for_answer(&config.routing, &answer, "the token service")?;
    Ok(Token::new(token.to_owned(), exp, now_ms()).for_endpoint(endpoint))
}

/// Calls `getToken({rejectedToken?})`; it answers (a Promise of) `{token,
/// expiresAt?, peliqanUrl?, dialect?, routes?}` where `expiresAt` is RFC
/// 3339 text, milliseconds since the epoch or a `Date` (the snake_case
/// names of the token service's answer are read too).
async fn from_callback(
    f: js_sys::Function,
    config: Rc<Config>,
    rejected: Option<String>,
) -> Result<Token, EmbedError> {
    let failed = |e: JsValue| {
        EmbedError::new(
            ErrorCode::TokenService,
            ["getToken failed: ", &describe(&e)].concat(),
        )
    };
    let rejected = rejected.map_or(JsValue::UNDEFINED, |t| JsValue::from_str(&t));
    let context = js::object(&[("rejectedToken", rejected)]);
    let value = f.call1(&JsValue::NULL, &context).map_err(failed)?;
    let value = JsFuture::from(js_sys::Promise::resolve(&value))
        .await
        .map_err(failed)?;
    let token = js::string(&value, "token").ok_or_else(|| bad_answer("getToken"))?;
    // `expires_at` too, so the token service's answer can be passed through.
    let mut exp = js::get(&value, "expiresAt");
    if exp.is_undefined() {
        exp = js::get(&value, "expires_at");
    }
    let exp = match exp.dyn_ref::<js_sys::Date>() {
        Some(d) => Some(d.get_time()),
        None => exp
            .as_f64()
            .and_then(expiry_ms)
            .or_else(|| exp.as_string().as_deref().and_then(parse_time)),
    };
    let endpoint = endpoint_for_answer(&config.routing, &js::to_json(&value), "getToken")?;
    let token = Token::new(token, exp.filter(|ms| ms.is_finite()), now_ms());
    Ok(token.for_endpoint(endpoint))
}
