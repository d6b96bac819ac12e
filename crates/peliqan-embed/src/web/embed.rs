//! `PeliqanEmbed`, the class partners construct, and its data calls.
//!
//! Each method returns a Promise at once; the work runs on a clone of the
//! shared [`Inner`]. Peliqan calls go through [`Inner::peliqan`], which
//! adds the sub-account token and replays a call once after a 401 with a
//! refreshed token. Answers reach JavaScript as Peliqan sent them.

use super::http::{Auth, send};
use super::js::{self, invalid};
use super::js_error::to_js;
use super::{connect, token_source};
use crate::config::{Config, Credentials, RawOptions};
use crate::error::{EmbedError, from_peliqan, from_token_service};
use crate::read;
use crate::token_cache::TokenCache;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use gloo_net::http::Method;
use peliqan_api::{ServerId, Servertype, paths};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// State shared by one `PeliqanEmbed` and its in-flight calls.
pub(crate) struct Inner {
    pub config: Config,
    pub tokens: TokenCache,
    /// Connectors from the last `connectors()` call, so `connect(id)` can
    /// validate and open the OAuth popup without awaiting anything.
    pub connectors: RefCell<Vec<Servertype>>,
}

/// Runs `fut` as a Promise that rejects with a `PeliqanError`. The future
/// is boxed so `future_to_promise` is compiled once, not once per method.
pub(crate) fn call(
    fut: impl Future<Output = Result<JsValue, EmbedError>> + 'static,
) -> js_sys::Promise {
    let fut: LocalBoxFuture<'static, _> = fut.boxed_local();
    future_to_promise(async move { fut.await.map_err(|e| to_js(&e)) })
}

impl Inner {
    /// Calls Peliqan with the sub-account token and answers the body text;
    /// after a 401, refreshes the token once and replays the call once.
    pub async fn peliqan(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<String, EmbedError> {
        let url = self.config.peliqan(path);
        let mut token = self.tokens.get().await?;
        let mut answer = send(
            method.clone(),
            &url,
            Auth::Jwt(&token.value),
            body.as_deref(),
        )
        .await?;
        if answer.0 == 401 {
            self.tokens.invalidate(&token);
            token = self.tokens.get().await?;
            answer = send(method, &url, Auth::Jwt(&token.value), body.as_deref()).await?;
        }
        match answer {
            (200..=299, text) => Ok(text),
            (status, text) => Err(from_peliqan(status, &js::json_value(&text))),
        }
    }

    /// A Peliqan call whose answer goes to JavaScript as is.
    async fn peliqan_js(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<JsValue, EmbedError> {
        js::parse_json(&self.peliqan(method, path, body).await?)
    }

    async fn connectors(&self) -> Result<JsValue, EmbedError> {
        let url = self.config.connectors_url.as_deref().ok_or_else(|| {
            invalid("connectorsUrl is needed: it could not be derived from tokenUrl")
        })?;
        let auth = Auth::Partner(self.config.credentials, &self.config.headers);
        let text = match send(Method::GET, url, auth, None).await? {
            (200..=299, text) => text,
            (status, text) => return Err(from_token_service(status, &js::json_value(&text))),
        };
        let list = js::parse_json(&text)?;
        self.connectors
            .replace(read::servertypes(&js::to_json(&list)));
        Ok(list)
    }
}

fn required(errs: &mut BTreeMap<String, String>, name: &str, value: &Option<String>) {
    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
        errs.insert(name.to_owned(), "This field is required.".to_owned());
    }
}

fn checked(errs: BTreeMap<String, String>) -> Result<(), EmbedError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(EmbedError::validation(errs))
    }
}

fn server_id(id: &JsValue) -> Result<ServerId, EmbedError> {
    match id.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..9e15).contains(&n) => Ok(ServerId(n as u64)),
        _ => Err(invalid("a connection id is a non-negative whole number")),
    }
}

/// The Peliqan Embed SDK. One instance per signed-in end-customer.
#[wasm_bindgen]
pub struct PeliqanEmbed {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl PeliqanEmbed {
    /// Checks the options; throws a `PeliqanError` (`invalid_config`) if wrong.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<PeliqanEmbed, JsValue> {
        let callback = js::function(&options, "getToken");
        let credentials = match js::string(&options, "credentials") {
            None => Some(Credentials::default()),
            Some(c) => Credentials::parse(&c),
        };
        let credentials = credentials
            .ok_or_else(|| to_js(&invalid("credentials must be omit, same-origin or include")))?;
        let raw = RawOptions {
            peliqan_url: js::string(&options, "peliqanUrl"),
            token_url: js::string(&options, "tokenUrl"),
            connectors_url: js::string(&options, "connectorsUrl"),
            credentials,
            headers: js::string_entries(&options, "headers")
                .into_iter()
                .collect(),
            powered_by_notice: js::boolean(&options, "poweredByNotice"),
        };
        let config = Config::from_raw(raw, callback.is_some()).map_err(|e| to_js(&e))?;
        let tokens = token_source::cache(&config, callback);
        Ok(Self {
            inner: Rc::new(Inner {
                config,
                tokens,
                connectors: RefCell::default(),
            }),
        })
    }

    /// The connectors (servertypes with connect forms), via the token service.
    pub fn connectors(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        call(async move { inner.connectors().await })
    }

    /// The end-customer's connections.
    pub fn connections(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        call(async move { inner.peliqan_js(Method::GET, paths::SERVERS, None).await })
    }

    /// One connection with its current status.
    pub fn connection(&self, id: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        call(async move {
            inner
                .peliqan_js(Method::GET, &paths::server(server_id(&id)?), None)
                .await
        })
    }

    /// The log lines of one connection.
    #[wasm_bindgen(js_name = connectionLogs)]
    pub fn connection_logs(&self, id: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        call(async move {
            inner
                .peliqan_js(Method::GET, &paths::server_logs(server_id(&id)?), None)
                .await
        })
    }

    /// Creates a query table: `{name, query, databaseId?}`.
    #[wasm_bindgen(js_name = createTable)]
    pub fn create_table(&self, input: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        call(async move {
            let (name, query) = (js::string(&input, "name"), js::string(&input, "query"));
            let mut errs = BTreeMap::new();
            required(&mut errs, "name", &name);
            required(&mut errs, "query", &query);
            checked(errs)?;
            // The body of peliqan_api::NewTable, written by the browser.
            let body = js::object(&[
                ("name", name.into()),
                ("query", query.into()),
                ("database_id", js::get(&input, "databaseId")),
            ]);
            let body = Some(js::stringify(&body));
            inner.peliqan_js(Method::POST, paths::TABLE, body).await
        })
    }

    /// Adds a scheduled Python script: `{name, rawCode, schedule}` (seconds).
    #[wasm_bindgen(js_name = addScheduledScript)]
    pub fn add_scheduled_script(&self, input: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        call(async move {
            let (name, raw_code) = (js::string(&input, "name"), js::string(&input, "rawCode"));
            let schedule = js::number(&input, "schedule").filter(|s| *s >= 1.0 && s.fract() == 0.0);
            let mut errs = BTreeMap::new();
            required(&mut errs, "name", &name);
            required(&mut errs, "rawCode", &raw_code);
            if schedule.is_none() {
                errs.insert(
                    "schedule".into(),
                    "Must be a positive whole number of seconds.".into(),
                );
            }
            checked(errs)?;
            // The body of peliqan_api::NewInterface, written by the browser.
            let body = js::object(&[
                ("name", name.into()),
                ("raw_code", raw_code.into()),
                ("schedule", schedule.into()),
            ]);
            let body = Some(js::stringify(&body));
            inner.peliqan_js(Method::POST, paths::INTERFACE, body).await
        })
    }

    /// Adds a connection; for OAuth connectors opens the popup synchronously
    /// (call it straight from a click handler) and waits until it is live.
    pub fn connect(
        &self,
        connector: JsValue,
        fields: JsValue,
        options: JsValue,
    ) -> js_sys::Promise {
        connect::start(Rc::clone(&self.inner), connector, fields, options)
    }
}
