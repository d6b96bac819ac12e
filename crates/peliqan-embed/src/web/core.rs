//! The decisions `js/sdk.js` asks of Rust, as synchronous calls: token
//! answers and expiry ([`Tok`]), routes, request bodies, form validation,
//! error mapping, the polling policy ([`Poll`]) and URL safety. Nothing
//! here awaits: the I/O and its sequencing are JavaScript's (see the
//! module doc of `js/sdk.js` for why), so each call compiles to a plain
//! function instead of an async state machine.
//!
//! Errors thrown to JavaScript are `PeliqanError`s ([`to_js`]).

use super::js::{self, invalid_config};
use super::js_error::to_js;
use crate::answers;
use crate::config::{Config, Credentials};
use crate::error::{EmbedError, ErrorCode, from_peliqan, from_token_service};
use crate::event_names::TYPES;
use crate::form::{new_connection_body, validate};
use crate::poll::{Observation, Outcome, PollPolicy, Poller, Step};
use crate::routing::Endpoint;
use crate::safe_url;
use crate::token::{Token, expiry_ms, rejected_body};
use peliqan_api::dialect::Vars;
use peliqan_api::{NewConnection, NewInterface, NewTable, Operation, Servertype};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;

type Thrown<T> = Result<T, JsValue>;

fn thrown(e: EmbedError) -> JsValue {
    to_js(&e)
}

/// The Rust half of one `PeliqanEmbed`: its checked options and the
/// connectors of its last `connectors()` call.
#[wasm_bindgen]
pub struct Core {
    config: Config,
    /// So `connect(id)` can validate and open the popup without awaiting.
    connectors: RefCell<Vec<Servertype>>,
}

impl Core {
    fn token(&self, value: String, exp: Option<f64>, answer: &Value, source: &str) -> Thrown<Tok> {
        let routing = answers::token_routing(answer).map_err(|what| {
            thrown(EmbedError::new(
                ErrorCode::TokenService,
                [source, "'s answer is unusable: ", &what].concat(),
            ))
        })?;
        let endpoint = Endpoint::resolve(&self.config.routing, &routing, source).map_err(thrown)?;
        let token = Token::new(value, exp.filter(|ms| ms.is_finite()), super::now_ms());
        Ok(Tok(token.for_endpoint(endpoint)))
    }
}

fn bad_answer(from: &str) -> JsValue {
    thrown(EmbedError::new(
        ErrorCode::TokenService,
        [from, " did not answer {token, expires_at}"].concat(),
    ))
}

/// Milliseconds since the epoch of an RFC 3339 text, if it parses.
fn parse_time(text: &str) -> Option<f64> {
    Some(js_sys::Date::parse(text)).filter(|ms| ms.is_finite())
}

/// `{name, query, databaseId?, schemaId?}`, checked.
fn read_table(input: &JsValue) -> Result<NewTable, EmbedError> {
    let (name, query) = (js::string(input, "name"), js::string(input, "query"));
    let mut errs = BTreeMap::new();
    require_text(&mut errs, "name", &name);
    require_text(&mut errs, "query", &query);
    let database_id = optional_whole_number(&mut errs, input, "databaseId");
    let schema_id = optional_whole_number(&mut errs, input, "schemaId");
    fail_on_field_errors(errs)?;
    Ok(NewTable {
        name: name.unwrap_or_default(),
        query: query.unwrap_or_default(),
        database_id,
        schema_id,
    })
}

/// `{name, rawCode, schedule}` (seconds), checked.
fn read_script(input: &JsValue) -> Result<NewInterface, EmbedError> {
    let (name, raw_code) = (js::string(input, "name"), js::string(input, "rawCode"));
    let schedule = js::number(input, "schedule").filter(|s| *s >= 1.0 && s.fract() == 0.0);
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
    Ok(NewInterface {
        name: name.unwrap_or_default(),
        raw_code: raw_code.unwrap_or_default(),
        schedule: schedule.unwrap_or_default() as u64,
    })
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

/// The known event type `ty`, or `invalid_config` naming the known ones.
fn known(ty: &str) -> Thrown<()> {
    if TYPES.contains(&ty) {
        return Ok(());
    }
    let known = TYPES.join(", ");
    let msg = ["unknown event type `", ty, "`; known types: ", &known].concat();
    Err(thrown(invalid_config(&msg)))
}

#[wasm_bindgen]
impl Core {
    /// Checks the options of `new PeliqanEmbed(options)`; throws a
    /// `PeliqanError` (`invalid_config`) if wrong.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Thrown<Core> {
        Ok(Self {
            config: Config::read(options).map_err(thrown)?,
            connectors: RefCell::default(),
        })
    }

    /// What `js/sdk.js` needs of the checked options: `{tokenUrl?,
    /// connectorsUrl?, credentials, headers, poweredByNotice}`.
    pub fn settings(&self) -> JsValue {
        let config = &self.config;
        let headers: Vec<(&str, JsValue)> = config
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), JsValue::from_str(v)))
            .collect();
        let credentials = match config.credentials {
            Credentials::Omit => "omit",
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        };
        let url = |u: &Option<String>| u.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
        js::object(&[
            ("tokenUrl", url(&config.token_url)),
            ("connectorsUrl", url(&config.connectors_url)),
            ("credentials", credentials.into()),
            ("headers", js::object(&headers)),
            ("poweredByNotice", config.powered_by_notice.into()),
        ])
    }

    /// Checks an event type of `on`/`off` against [`TYPES`]: a typo
    /// throws `invalid_config` naming the known types.
    pub fn event(&self, ty: &str) -> Thrown<()> {
        known(ty)
    }

    /// The token of the token service's answer (`status`, body `text`).
    #[wasm_bindgen(js_name = serviceToken)]
    pub fn service_token(&self, status: u16, text: &str) -> Thrown<Tok> {
        let answer = js::json_value(text);
        if !(200..300).contains(&status) {
            return Err(thrown(from_token_service(status, &answer)));
        }
        let (token, exp) =
            answers::token_and_expiry(&answer).ok_or_else(|| bad_answer("the token service"))?;
        let exp = exp.and_then(parse_time);
        self.token(token.to_owned(), exp, &answer, "the token service")
    }

    /// The token of `getToken`'s answer: `{token, expiresAt?, peliqanUrl?,
    /// dialect?, routes?}` where `expiresAt` is RFC 3339 text,
    /// milliseconds (or seconds) since the epoch or a `Date` (the
    /// snake_case names of the token service's answer are read too).
    #[wasm_bindgen(js_name = callbackToken)]
    pub fn callback_token(&self, value: &JsValue) -> Thrown<Tok> {
        let token = js::string(value, "token").ok_or_else(|| bad_answer("getToken"))?;
        let mut exp = js::get(value, "expiresAt");
        if exp.is_undefined() {
            exp = js::get(value, "expires_at");
        }
        let exp = match exp.dyn_ref::<js_sys::Date>() {
            Some(d) => Some(d.get_time()),
            None => exp
                .as_f64()
                .and_then(expiry_ms)
                .or_else(|| exp.as_string().as_deref().and_then(parse_time)),
        };
        self.token(token, exp, &js::to_json(value), "getToken")
    }

    /// The body of a token request: none, or the token Peliqan rejected.
    #[wasm_bindgen(js_name = tokenBody)]
    pub fn token_body(&self, rejected: Option<String>) -> Option<String> {
        rejected.map(|t| js::stringify(&js::from_json(&rejected_body(&t))))
    }

    /// The error of a non-2xx answer from Peliqan.
    #[wasm_bindgen(js_name = peliqanError)]
    pub fn peliqan_error(&self, status: u16, text: &str) -> JsValue {
        thrown(from_peliqan(status, &js::json_value(text)))
    }

    /// The error of a non-2xx answer from the token service.
    #[wasm_bindgen(js_name = serviceError)]
    pub fn service_error(&self, status: u16, text: &str) -> JsValue {
        thrown(from_token_service(status, &js::json_value(text)))
    }

    /// Keeps the connectors of a `connectors()` answer for `connect(id)`.
    #[wasm_bindgen(js_name = setConnectors)]
    pub fn set_connectors(&self, list: &JsValue) {
        self.connectors
            .replace(answers::servertypes(&js::to_json(list)));
    }

    /// The checks of `connect()` before the popup: the connector (an id
    /// from the last `connectors()`, or the object) and its form fields.
    /// Answers `{id, body, oauth, title}`: the connector id, the
    /// `add_connection` body text, whether it may be OAuth, its title.
    pub fn prepare(
        &self,
        connector: &JsValue,
        fields: &JsValue,
        options: &JsValue,
    ) -> Thrown<JsValue> {
        // Borrowed, not cloned: a `Servertype` clone is kilobytes of wasm.
        let (list, parsed);
        let servertype: &Servertype = match connector.as_f64() {
            Some(id) => {
                list = self.connectors.borrow();
                list.iter().find(|s| s.id.0 as f64 == id).ok_or_else(|| {
                    thrown(invalid_config(
                        "unknown connector id: call connectors() first or pass the connector object",
                    ))
                })?
            }
            None => {
                parsed = answers::servertype(&js::to_json(connector)).ok_or_else(|| {
                    thrown(invalid_config(
                        "connector must be a connector object or its id",
                    ))
                })?;
                &parsed
            }
        };
        let fields = match js::to_json(fields) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let fields = validate(&servertype.connect_form, &fields)
            .map_err(|f| thrown(EmbedError::validation(f)))?;
        let title = servertype.title.as_deref().unwrap_or(&servertype.name);
        let body = new_connection_body(NewConnection {
            servertype_id: servertype.id,
            name: js::string(options, "name"),
            fields,
        });
        Ok(js::object(&[
            ("id", (servertype.id.0 as f64).into()),
            (
                "body",
                js::stringify(&js::from_json(&Value::Object(body))).into(),
            ),
            ("oauth", servertype.may_be_oauth().into()),
            ("title", title.into()),
        ]))
    }

    /// `[id, oauthUrl?]` of Peliqan's answer to `add_connection`. The popup
    /// runs what it is sent to with this page's opener: an `oauth_url`
    /// that is not [`safe_url::allowed`] (a `javascript:` one would run as
    /// this page) is an `upstream` error.
    pub fn created(&self, text: &str) -> Thrown<js_sys::Array> {
        let (id, url) = answers::created_connection(&js::json_value(text)).ok_or_else(|| {
            thrown(EmbedError::new(
                ErrorCode::Upstream,
                "Peliqan's answer has no connection id",
            ))
        })?;
        if let Some(u) = url.as_deref().filter(|u| !safe_url::allowed(u)) {
            let e = EmbedError::new(
                ErrorCode::Upstream,
                safe_url::refusal("Peliqan's oauth_url", u),
            );
            return Err(thrown(e.with_connection(id)));
        }
        let url = url.map_or(JsValue::UNDEFINED, JsValue::from);
        Ok(js_sys::Array::of2(&(id as f64).into(), &url))
    }

    /// The polling state of one `connect()` (`graceMs`, the timeout).
    pub fn poll(&self, grace_ms: Option<f64>, timeout_ms: f64, now_ms: f64) -> Poll {
        let policy = PollPolicy {
            grace_ms: grace_ms.unwrap_or(PollPolicy::default().grace_ms),
            timeout_ms,
            ..PollPolicy::default()
        };
        Poll {
            poller: Poller::new(policy, now_ms),
            message: None,
        }
    }

    /// Checks `createTable`'s input (before any token is fetched).
    #[wasm_bindgen(js_name = checkTable)]
    pub fn check_table(&self, input: &JsValue) -> Thrown<()> {
        read_table(input).map(drop).map_err(thrown)
    }

    /// `createTable`'s body in the dialect of `token`.
    pub fn table(&self, input: &JsValue, token: &Tok) -> Thrown<String> {
        let table = read_table(input).map_err(thrown)?;
        Ok(js::stringify(&js::from_json(
            &table.body(token.endpoint().routes.body_shape()),
        )))
    }

    /// Checks `addScheduledScript`'s input (before any token is fetched).
    #[wasm_bindgen(js_name = checkScript)]
    pub fn check_script(&self, input: &JsValue) -> Thrown<()> {
        read_script(input).map(drop).map_err(thrown)
    }

    /// `addScheduledScript`'s body in the dialect of `token`.
    pub fn script(&self, input: &JsValue, token: &Tok) -> Thrown<String> {
        let script = read_script(input).map_err(thrown)?;
        Ok(js::stringify(&js::from_json(
            &script.body(token.endpoint().routes.body_shape()),
        )))
    }

    /// The input's `groupId`, when a whole number.
    #[wasm_bindgen(js_name = inputGroup)]
    pub fn input_group(&self, input: &JsValue) -> Option<f64> {
        js::number(input, "groupId").filter(|n| n.fract() == 0.0 && *n >= 0.0)
    }

    /// The script group named by the input's `groupName` (else the first)
    /// in Peliqan's `list_groups` answer, as Peliqan's own SDK chooses.
    #[wasm_bindgen(js_name = scriptGroup)]
    pub fn script_group(&self, input: &JsValue, list: &str) -> Thrown<f64> {
        let name = js::string(input, "groupName");
        answers::script_group_id(&js::json_value(list), name.as_deref())
            .map(|id| id as f64)
            .ok_or_else(|| {
                let msg = match &name {
                    Some(n) => ["this Peliqan account has no script group named `", n, "`"].concat(),
                    None => "this Peliqan account has no script group to add the script to; create one in Peliqan first".into(),
                };
                thrown(EmbedError::new(ErrorCode::NotFound, msg))
            })
    }
}

/// A sub-account token and where its calls go.
#[wasm_bindgen]
pub struct Tok(Token);

impl Tok {
    fn endpoint(&self) -> &Endpoint {
        // Every `Tok` is made by `Core::token`, with its endpoint.
        self.0.endpoint.as_deref().unwrap_or_else(|| unreachable!())
    }
}

#[wasm_bindgen]
impl Tok {
    /// The token itself (for `Authorization: JWT <token>`).
    #[wasm_bindgen(getter)]
    pub fn value(&self) -> String {
        self.0.value.clone()
    }

    /// When it expires, in milliseconds since the epoch, if known.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.0.expires_at_ms
    }

    /// Whether it is time to fetch a new one (see [`Token::needs_refresh`]).
    pub fn stale(&self, now_ms: f64) -> bool {
        self.0.needs_refresh(now_ms)
    }

    /// `[method, url]` of operation `op` (its peliqan-api name) for
    /// connection `id` and script group `group`; `invalid_config` when the
    /// dialect lacks it.
    pub fn route(&self, op: &str, id: Option<f64>, group: Option<f64>) -> Thrown<js_sys::Array> {
        let op: Operation = op.parse().map_err(|e: String| thrown(invalid_config(&e)))?;
        let vars = Vars {
            id: id.map(|n| n as u64),
            group_id: group.map(|n| n as u64),
            ..Vars::default()
        };
        let (method, url) = self.endpoint().url(op, &vars).map_err(thrown)?;
        Ok(js_sys::Array::of2(&method.as_str().into(), &url.into()))
    }

    /// Whether this dialect puts a new script in a group
    /// (`partner`: `POST /api/interfaces/group/{group_id}/`).
    #[wasm_bindgen(js_name = needsGroup)]
    pub fn needs_group(&self) -> bool {
        self.endpoint()
            .routes
            .route(Operation::CreateScript)
            .is_ok_and(|r| r.uses("group_id"))
    }
}

/// The polling of one `connect()`: [`Poller`] and the failure message.
#[wasm_bindgen]
pub struct Poll {
    poller: Poller,
    message: Option<String>,
}

#[wasm_bindgen]
impl Poll {
    /// Whether the popup has been seen closed (the grace period runs).
    #[wasm_bindgen(getter, js_name = inGrace)]
    pub fn in_grace(&self) -> bool {
        self.poller.in_grace()
    }

    /// The next step after one poll: `server` is Peliqan's connection
    /// (undefined after a transient failure), `closed` the popup's hint.
    /// Answers milliseconds to wait, or the outcome: `connected`,
    /// `failed` (then see [`Poll::reason`]), `cancelled` or `timeout`.
    pub fn observe(&mut self, now_ms: f64, server: &JsValue, closed: bool) -> JsValue {
        let obs = if server.is_undefined() {
            Observation::TransientError
        } else {
            let (status, message) = answers::connection_status(&js::to_json(server));
            Observation::Status(status, message)
        };
        match self.poller.observe(now_ms, obs, closed) {
            Step::Wait(ms) => ms.into(),
            Step::Done(Outcome::Connected) => "connected".into(),
            Step::Done(Outcome::Failed(message)) => {
                self.message = message;
                "failed".into()
            }
            Step::Done(Outcome::Cancelled) => "cancelled".into(),
            Step::Done(Outcome::TimedOut) => "timeout".into(),
        }
    }

    /// Why the connection failed: Peliqan's status message, else the
    /// newest error of its logs (`connection_logs`' answer, if read).
    pub fn reason(&self, logs: Option<String>) -> String {
        let logs = logs
            .map(|t| answers::connection_logs(&js::json_value(&t)))
            .unwrap_or_default();
        crate::failure_reason(self.message.clone(), &logs)
            .unwrap_or_else(|| "the connection failed".into())
    }
}
