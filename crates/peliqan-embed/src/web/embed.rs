//! `PeliqanEmbed`, the class partners construct, and its data calls.
//!
//! Each method returns a Promise at once; the work runs on a clone of the
//! shared [`Inner`]. Peliqan calls go through [`Inner::send_replaying_401`], which
//! routes an [`Operation`] by the token's endpoint (base URL and API
//! dialect, see [`crate::routing`]), adds the sub-account token and
//! replays a call once after a 401 with a refreshed token. Answers reach
//! JavaScript as Peliqan sent them.
//!
//! Lifecycle: `on`/`off` (see [`super::events`]), and `destroy()`, which
//! cancels every `connect()` in flight (closing its popup, stopping its
//! polling) and makes later calls reject with `invalid_config`.

use super::events::{Events, Service};
use super::http::{Auth, fetch_method, send};
use super::js::{self, invalid_config};
use super::js_error::to_js;
use super::token_source::Partner;
use super::{connect, token_source};
use crate::answers;
use crate::config::{Config, key};
use crate::error::{EmbedError, ErrorCode, from_peliqan, from_token_service};
use crate::token::Token;
use crate::token_cache::TokenCache;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use gloo_net::http::Method;
use peliqan_api::dialect::Vars;
use peliqan_api::{NewInterface, NewTable, Operation, Servertype};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// State shared by one `PeliqanEmbed` and its in-flight calls.
pub(crate) struct Inner {
    /// Options and the way to the partner's token service.
    pub partner: Rc<Partner>,
    pub tokens: TokenCache,
    /// Connectors from the last `connectors()` call, so `connect(id)` can
    /// validate and open the OAuth popup without awaiting anything.
    pub connectors: RefCell<Vec<Servertype>>,
    pub events: Rc<Events>,
    /// Set by `destroy()`.
    pub destroyed: Cell<bool>,
    /// Resolvers that cancel the `connect()` calls in flight (`destroy()`
    /// calls each with [`DESTROYED`]).
    pub cancels: RefCell<Vec<js_sys::Function>>,
}

/// What `destroy()` resolves the cancel resolvers with.
pub(crate) const DESTROYED: &str = "destroyed";

/// The error of any call on a destroyed instance.
pub(crate) fn destroyed_error() -> EmbedError {
    invalid_config("this PeliqanEmbed was destroyed; create a new one")
}

/// Runs `fut` as a Promise that rejects with a `PeliqanError`. The future
/// is boxed so `future_to_promise` is compiled once, not once per method.
pub(crate) fn into_promise(
    fut: impl Future<Output = Result<JsValue, EmbedError>> + 'static,
) -> js_sys::Promise {
    let fut: LocalBoxFuture<'static, _> = fut.boxed_local();
    future_to_promise(async move { fut.await.map_err(|e| to_js(&e)) })
}

/// `Vars` with only `{id}` set.
pub(crate) fn vars_with_id(id: u64) -> Vars<'static> {
    Vars {
        id: Some(id),
        ..Vars::default()
    }
}

impl Inner {
    /// Calls Peliqan's `op` with the sub-account token and answers the body
    /// text; after a 401, refreshes the token once and replays the call once
    /// (routed anew: the new token may come with another endpoint).
    pub async fn send_replaying_401(
        &self,
        op: Operation,
        vars: Vars<'_>,
        body: Option<String>,
    ) -> Result<String, EmbedError> {
        let mut token = self.tokens.get().await?;
        let mut answer = self
            .send_once_with(&token, op, &vars, body.as_deref())
            .await?;
        if answer.0 == 401 {
            self.tokens.invalidate(&token);
            token = self.tokens.get().await?;
            answer = self
                .send_once_with(&token, op, &vars, body.as_deref())
                .await?;
        }
        match answer {
            (200..=299, text) => Ok(text),
            (status, text) => Err(from_peliqan(status, &js::json_value(&text))),
        }
    }

    /// A Peliqan call whose answer goes to JavaScript as is.
    async fn send_replaying_401_parsed(
        &self,
        op: Operation,
        vars: Vars<'_>,
        body: Option<String>,
    ) -> Result<JsValue, EmbedError> {
        js::parse_json(&self.send_replaying_401(op, vars, body).await?)
    }

    /// Where the current token's calls go (fetching a token if needed).
    async fn current_endpoint(&self) -> Result<std::rc::Rc<crate::routing::Endpoint>, EmbedError> {
        let token = self.tokens.get().await?;
        token
            .endpoint
            .clone()
            .ok_or_else(|| invalid_config("no Peliqan endpoint for this token"))
    }

    /// The script group a new script goes in, for dialects whose route
    /// names one (`partner`: `POST /api/interfaces/group/{group_id}/`):
    /// `groupId`, else the group named `groupName`, else the first group,
    /// as Peliqan's own SDK chooses.
    async fn script_group(&self, input: &JsValue) -> Result<Option<u64>, EmbedError> {
        let endpoint = self.current_endpoint().await?;
        let needs_group = endpoint
            .routes
            .route(Operation::CreateScript)
            .is_ok_and(|r| r.uses("group_id"));
        if !needs_group {
            return Ok(None);
        }
        if let Some(id) = js::number(input, "groupId").filter(|n| n.fract() == 0.0 && *n >= 0.0) {
            return Ok(Some(id as u64));
        }
        let name = js::string(input, "groupName");
        let list = self
            .send_replaying_401(Operation::ListGroups, Vars::default(), None)
            .await?;
        answers::script_group_id(&js::json_value(&list), name.as_deref())
            .map(Some)
            .ok_or_else(|| {
                let msg = match &name {
                    Some(n) => ["this Peliqan account has no script group named `", n, "`"].concat(),
                    None => "this Peliqan account has no script group to add the script to; create one in Peliqan first".into(),
                };
                EmbedError::new(ErrorCode::NotFound, msg)
            })
    }

    /// Sends `op` with `token`, routed by the token's endpoint.
    async fn send_once_with(
        &self,
        token: &Token,
        op: Operation,
        vars: &Vars<'_>,
        body: Option<&str>,
    ) -> Result<(u16, String), EmbedError> {
        let endpoint = token
            .endpoint
            .as_deref()
            .ok_or_else(|| invalid_config("no Peliqan endpoint for this token"))?;
        let (m, url) = endpoint.url(op, vars)?;
        let answer = send(fetch_method(m), &url, Auth::Jwt(&token.value), body).await;
        self.events.observe(Service::Peliqan, &answer);
        answer
    }

    async fn connectors(&self) -> Result<JsValue, EmbedError> {
        let url = self
            .partner
            .config
            .connectors_url
            .as_deref()
            .ok_or_else(|| {
                invalid_config("connectorsUrl is needed: it could not be derived from tokenUrl")
            })?;
        let text = match self.partner.send(Method::GET, url, None).await? {
            (200..=299, text) => text,
            (status, text) => return Err(from_token_service(status, &js::json_value(&text))),
        };
        let list = js::parse_json(&text)?;
        self.connectors
            .replace(answers::servertypes(&js::to_json(&list)));
        Ok(list)
    }
}

fn require_text(errs: &mut BTreeMap<String, String>, name: &str, value: &Option<String>) {
    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
        errs.insert(name.to_owned(), "This field is required.".to_owned());
    }
}

fn fail_on_field_errors(errs: BTreeMap<String, String>) -> Result<(), EmbedError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(EmbedError::validation(errs))
    }
}

fn connection_id_vars(id: &JsValue) -> Result<Vars<'static>, EmbedError> {
    match id.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..9e15).contains(&n) => Ok(vars_with_id(n as u64)),
        _ => Err(invalid_config(
            "a connection id is a non-negative whole number",
        )),
    }
}

/// An optional whole-number input such as `databaseId`; a wrong one is a
/// field error.
fn optional_whole_number(
    errs: &mut BTreeMap<String, String>,
    input: &JsValue,
    name: &str,
) -> Option<u64> {
    let v = js::get(input, name);
    if v.is_undefined() || v.is_null() {
        return None;
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..9e15).contains(&n) => Some(n as u64),
        _ => {
            errs.insert(name.into(), "Must be a non-negative whole number.".into());
            None
        }
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
        let config = Config::read(&options).map_err(|e| to_js(&e))?;
        let events = Rc::new(Events::default());
        let partner = Rc::new(Partner {
            config,
            headers_fn: js::function(&options, key::HEADERS),
            events: Rc::clone(&events),
        });
        let tokens = token_source::token_cache(&partner, js::function(&options, key::GET_TOKEN));
        Ok(Self {
            inner: Rc::new(Inner {
                partner,
                tokens,
                connectors: RefCell::default(),
                events,
                destroyed: Cell::new(false),
                cancels: RefCell::default(),
            }),
        })
    }

    /// Runs `work` on the shared state as a Promise; rejects at once when
    /// the instance was destroyed.
    fn call<F, Fut>(&self, work: F) -> js_sys::Promise
    where
        F: FnOnce(Rc<Inner>) -> Fut,
        Fut: Future<Output = Result<JsValue, EmbedError>> + 'static,
    {
        if self.inner.destroyed.get() {
            return into_promise(async { Err(destroyed_error()) });
        }
        into_promise(work(Rc::clone(&self.inner)))
    }

    /// Adds an event listener: `on('connected', ({connection}) => ...)`.
    /// Throws `invalid_config` for an unknown event type.
    pub fn on(&self, event_type: &str, listener: js_sys::Function) -> Result<(), JsValue> {
        self.inner
            .events
            .on(event_type, listener)
            .map_err(|e| to_js(&e))
    }

    /// Removes an event listener added with `on`.
    pub fn off(&self, event_type: &str, listener: js_sys::Function) -> Result<(), JsValue> {
        self.inner
            .events
            .off(event_type, &listener)
            .map_err(|e| to_js(&e))
    }

    /// Cancels every `connect()` in flight (its popup closes, its polling
    /// stops, it rejects with `cancelled` and sends its `cancelled` event),
    /// and makes later calls reject with `invalid_config`. Safe to call
    /// twice.
    pub fn destroy(&self) {
        if self.inner.destroyed.replace(true) {
            return;
        }
        let cancels = std::mem::take(&mut *self.inner.cancels.borrow_mut());
        for resolve in cancels {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(DESTROYED));
        }
    }

    /// The connectors (servertypes with connect forms), via the token service.
    pub fn connectors(&self) -> js_sys::Promise {
        self.call(|inner| async move { inner.connectors().await })
    }

    /// The end-customer's connections.
    pub fn connections(&self) -> js_sys::Promise {
        self.call(|inner| async move {
            inner
                .send_replaying_401_parsed(Operation::ListConnections, Vars::default(), None)
                .await
        })
    }

    /// One connection with its current status.
    pub fn connection(&self, id: JsValue) -> js_sys::Promise {
        self.call(|inner| async move {
            inner
                .send_replaying_401_parsed(Operation::GetConnection, connection_id_vars(&id)?, None)
                .await
        })
    }

    /// The log lines of one connection.
    #[wasm_bindgen(js_name = connectionLogs)]
    pub fn connection_logs(&self, id: JsValue) -> js_sys::Promise {
        self.call(|inner| async move {
            inner
                .send_replaying_401_parsed(
                    Operation::ConnectionLogs,
                    connection_id_vars(&id)?,
                    None,
                )
                .await
        })
    }

    /// Creates a query table: `{name, query, databaseId?, schemaId?}`.
    #[wasm_bindgen(js_name = createTable)]
    pub fn create_table(&self, input: JsValue) -> js_sys::Promise {
        self.call(|inner| async move {
            let (name, query) = (js::string(&input, "name"), js::string(&input, "query"));
            let mut errs = BTreeMap::new();
            require_text(&mut errs, "name", &name);
            require_text(&mut errs, "query", &query);
            let database_id = optional_whole_number(&mut errs, &input, "databaseId");
            let schema_id = optional_whole_number(&mut errs, &input, "schemaId");
            fail_on_field_errors(errs)?;
            let table = NewTable {
                name: name.unwrap_or_default(),
                query: query.unwrap_or_default(),
                database_id,
                schema_id,
            };
            let shape = inner.current_endpoint().await?.routes.body_shape();
            let body = Some(js::stringify(&js::from_json(&table.body(shape))));
            inner
                .send_replaying_401_parsed(Operation::CreateTable, Vars::default(), body)
                .await
        })
    }

    /// Adds a scheduled Python script: `{name, rawCode, schedule}` (seconds),
    /// and `groupId` or `groupName` in dialects that put scripts in groups.
    #[wasm_bindgen(js_name = addScheduledScript)]
    pub fn add_scheduled_script(&self, input: JsValue) -> js_sys::Promise {
        self.call(|inner| async move {
            let (name, raw_code) = (js::string(&input, "name"), js::string(&input, "rawCode"));
            let schedule = js::number(&input, "schedule").filter(|s| *s >= 1.0 && s.fract() == 0.0);
            let mut errs = BTreeMap::new();
            require_text(&mut errs, "name", &name);
            require_text(&mut errs, "rawCode", &raw_code);
            if schedule.is_none() {
                errs.insert(
                    "schedule".into(),
                    "Must be a positive whole number of seconds.".into(),
                );
            }
            fail_on_field_errors(errs)?;
            let script = NewInterface {
                name: name.unwrap_or_default(),
                raw_code: raw_code.unwrap_or_default(),
                schedule: schedule.unwrap_or_default() as u64,
            };
            let vars = Vars {
                group_id: inner.script_group(&input).await?,
                ..Vars::default()
            };
            let shape = inner.current_endpoint().await?.routes.body_shape();
            let body = Some(js::stringify(&js::from_json(&script.body(shape))));
            inner
                .send_replaying_401_parsed(Operation::CreateScript, vars, body)
                .await
        })
    }

    /// Adds a connection and waits until it is live. For connectors that are
    /// or may be OAuth it opens the popup synchronously (call it straight
    /// from a click handler).
    pub fn connect(
        &self,
        connector: JsValue,
        fields: JsValue,
        options: JsValue,
    ) -> js_sys::Promise {
        connect::start(Rc::clone(&self.inner), connector, fields, options)
    }
}
