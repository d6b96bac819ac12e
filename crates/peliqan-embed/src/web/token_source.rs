//! Where new sub-account tokens come from: the partner's token service
//! (`POST tokenUrl`) or the partner's own `getToken` callback. Either way
//! the answer's routing fields (`peliqan_url`, `dialect`, `routes`) are
//! merged with the options into the token's [`Endpoint`], and the result
//! goes into the in-memory [`TokenCache`], never to storage. A refresh
//! because Peliqan answered 401 names the rejected token: in the body of
//! the `POST` ([`crate::token::rejected_body`]), or as `rejectedToken` in
//! the callback's argument, so the source replaces a token it has cached.

use super::events::{Events, Service, TOKEN_REFRESHED};
use super::http::{Auth, send};
use super::js::{self, invalid_config};
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
use std::collections::BTreeMap;
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

/// The partner's side of an instance: its options, its `headers`
/// function if it gave one, and the instance's events.
pub struct Partner {
    pub config: Config,
    /// `headers` given as a function, called for every token-service
    /// request (so an expiring login JWT is fresh each time).
    pub headers_fn: Option<js_sys::Function>,
    pub events: Rc<Events>,
}

impl Partner {
    /// The headers of the next token-service request.
    async fn headers(&self) -> Result<BTreeMap<String, String>, EmbedError> {
        let Some(f) = &self.headers_fn else {
            return Ok(self.config.headers.clone());
        };
        let failed = |e: JsValue| {
            EmbedError::new(
                ErrorCode::TokenService,
                ["the headers function failed: ", &describe(&e)].concat(),
            )
        };
        let value = f.call0(&JsValue::NULL).map_err(failed)?;
        let value = JsFuture::from(js_sys::Promise::resolve(&value))
            .await
            .map_err(failed)?;
        if !value.is_object() {
            return Err(invalid_config(
                "the headers function must return (a Promise of) an object of header names to strings",
            ));
        }
        Ok(js::string_entries_of(&value))
    }

    /// Sends one request to the partner's token service (token or
    /// connectors endpoint); answers status and body text.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
    ) -> Result<(u16, String), EmbedError> {
        let headers = self.headers().await?;
        let auth = Auth::Partner(self.config.credentials, &headers);
        let answer = send(method, url, auth, body).await;
        self.events.observe(Service::TokenService, &answer);
        answer
    }
}

/// The token cache of `partner`, fetching through `callback` if given.
pub fn token_cache(partner: &Rc<Partner>, callback: Option<js_sys::Function>) -> TokenCache {
    let partner = Rc::clone(partner);
    TokenCache::new(
        move |rejected| {
            let partner = Rc::clone(&partner);
            let callback = callback.clone();
            async move {
                let token = match callback {
                    Some(f) => from_callback(f, &partner.config, rejected).await?,
                    None => from_service(&partner, rejected).await?,
                };
                let expires = token
                    .expires_at_ms
                    .map_or(JsValue::UNDEFINED, JsValue::from);
                partner
                    .events
                    .emit(TOKEN_REFRESHED, &[("expiresAt", expires)]);
                Ok(token)
            }
            .boxed_local()
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

async fn from_service(partner: &Partner, rejected: Option<String>) -> Result<Token, EmbedError> {
    let config = &partner.config;
    let url = config.token_url.as_deref().unwrap_or_default();
    let body = rejected.map(|t| js::stringify(&js::from_json(&rejected_body(&t))));
    let (status, body) = partner.send(Method::POST, url, body.as_deref()).await?;
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
    config: &Config,
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
