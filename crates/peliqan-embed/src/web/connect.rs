//! `connect()`: add a connection and wait until it is live.
//!
//! Order matters. Everything that can fail without the network (resolving
//! the connector, validating the form, opening the OAuth popup) happens in
//! [`start`], synchronously, inside the caller's click handler; only then
//! is the async part ([`add_and_wait_until_live`]) started: add the connection, navigate the
//! popup to `oauth_url` (only an https: or loopback one, see
//! [`crate::safe_url`]), and poll the connection as [`Poller`] decides,
//! reporting progress to `onStatus`. Paths come from the dialect's routes
//! (`add_connection`, `get_connection`, `connection_logs`).
//!
//! Whether a connector is OAuth is not trusted to its definition's `auth`
//! field, which some definitions lack: unless it names a known non-OAuth
//! kind ([`Servertype::may_be_oauth`]), the popup is opened in the click
//! anyway, and closed at once when Peliqan answers without an `oauth_url`.
//!
//! Cancellation: the attempt races a cancel Promise, resolved by the
//! caller's `signal` aborting or by `destroy()`. Winning drops the attempt,
//! which stops its polling and closes its popup ([`Attempt`]'s `Drop`).
//! The outcome is also sent as the instance's events ([`super::events`]).

use super::embed::{DESTROYED, Inner, destroyed_error, into_promise, vars_with_id};
use super::events::{
    CANCELLED, CONNECTED, CONNECTION_CREATED, CONNECTION_FAILED, Events, POPUP_BLOCKED,
};
use super::js::{self, invalid_config};
use super::js_error::to_js;
use super::popup::Popup;
use super::{now_ms, sleep};
use crate::answers;
use crate::error::{EmbedError, ErrorCode};
use crate::form::{new_connection_body, validate};
use crate::poll::{Observation, Outcome, PollPolicy, Poller, Step};
use crate::safe_url;
use futures::future::{Either, select};
use peliqan_api::dialect::Vars;
use peliqan_api::{NewConnection, Operation, Servertype};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Reports `{state, connectionId?, message?}` to `onStatus`.
fn emit_status(
    on_status: Option<&js_sys::Function>,
    state: &str,
    connection_id: Option<u64>,
    message: Option<&str>,
) {
    let Some(f) = on_status else { return };
    let ev = js::object(&[
        ("state", state.into()),
        (
            "connectionId",
            connection_id.map_or(JsValue::UNDEFINED, |id| (id as f64).into()),
        ),
        (
            "message",
            message.map_or(JsValue::UNDEFINED, JsValue::from_str),
        ),
    ]);
    // A throwing partner callback must not break the flow.
    let _ = f.call1(&JsValue::NULL, &ev);
}

struct Attempt {
    inner: Rc<Inner>,
    /// The `add_connection` body ([`NewConnection`]'s JSON).
    body: Map<String, Value>,
    popup: Option<Popup>,
    on_status: Option<js_sys::Function>,
    policy: PollPolicy,
    /// The caller's `timeoutMs`; else the default once OAuth or not is known.
    timeout_ms: Option<f64>,
    /// The connector's id, for events.
    connector_id: u64,
    /// The connection's id once Peliqan created it (read after a cancel).
    created: Rc<Cell<Option<u64>>>,
}

impl Drop for Attempt {
    /// A finished, failed or cancelled attempt leaves no popup behind.
    fn drop(&mut self) {
        self.close_popup();
    }
}

impl Attempt {
    fn emit_status(&self, state: &str, connection_id: Option<u64>, message: Option<&str>) {
        emit_status(self.on_status.as_ref(), state, connection_id, message);
    }

    fn close_popup(&self) {
        if let Some(p) = &self.popup {
            p.close();
        }
    }
}

/// The synchronous part of `connect()`; returns the Promise of the rest.
pub fn start(
    inner: Rc<Inner>,
    connector: JsValue,
    fields: JsValue,
    options: JsValue,
) -> js_sys::Promise {
    let connector_id = connector
        .as_f64()
        .or_else(|| js::number(&connector, "id"))
        .map_or(JsValue::UNDEFINED, JsValue::from);
    let prepared = if inner.destroyed.get() {
        Err(destroyed_error())
    } else {
        signal_of(&options).and_then(|signal| {
            Ok((
                prepare_in_click(&inner, &connector, &fields, &options, &signal)?,
                signal,
            ))
        })
    };
    let (attempt, signal) = match prepared {
        Ok(p) => p,
        Err(e) => {
            report(&inner.events, &connector_id, None, &Err(e.clone()));
            return into_promise(async move { Err(e) });
        }
    };
    let (on_status, created) = (attempt.on_status.clone(), Rc::clone(&attempt.created));
    let (cancel, resolve) = cancel_promise(&signal);
    inner.cancels.borrow_mut().push(resolve.clone());
    into_promise(async move {
        let work = Box::pin(add_and_wait_until_live(attempt));
        let outcome = match select(work, JsFuture::from(cancel)).await {
            Either::Left((outcome, _)) => outcome,
            // The attempt is dropped here: no more polling, popup closed.
            Either::Right((why, _)) => {
                let destroyed = why.ok().and_then(|v| v.as_string()).as_deref() == Some(DESTROYED);
                let msg = if destroyed {
                    "connect() was cancelled: the PeliqanEmbed was destroyed"
                } else {
                    "connect() was cancelled: its signal was aborted"
                };
                let id = created.get();
                emit_status(on_status.as_ref(), "cancelled", id, None);
                let e = EmbedError::new(ErrorCode::Cancelled, msg);
                Err(match id {
                    Some(id) => e.with_connection(id),
                    None => e,
                })
            }
        };
        if let Some(signal) = &signal {
            let _ = signal.remove_event_listener_with_callback("abort", &resolve);
        }
        inner.cancels.borrow_mut().retain(|f| {
            let (a, b): (&JsValue, &JsValue) = (f.as_ref(), resolve.as_ref());
            a != b
        });
        report(&inner.events, &connector_id, created.get(), &outcome);
        outcome
    })
}

/// The `signal` option: an `AbortSignal`, or nothing.
fn signal_of(options: &JsValue) -> Result<Option<web_sys::AbortSignal>, EmbedError> {
    let v = js::get(options, "signal");
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<web_sys::AbortSignal>()
        .map(Some)
        .map_err(|_| invalid_config("signal must be an AbortSignal (from new AbortController())"))
}

/// A Promise resolved by `signal`'s abort, and its resolver (which
/// `destroy()` calls with [`DESTROYED`]).
fn cancel_promise(signal: &Option<web_sys::AbortSignal>) -> (js_sys::Promise, js_sys::Function) {
    let mut resolver = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(s) = signal {
            let _ = s.add_event_listener_with_callback("abort", &resolve);
        }
        resolver = Some(resolve);
    });
    // The executor runs synchronously, so the resolver is always set.
    (
        promise,
        resolver.unwrap_or_else(|| js_sys::Function::new_no_args("")),
    )
}

/// Sends the outcome of one `connect()` as the instance's events.
fn report(
    events: &Events,
    connector_id: &JsValue,
    created: Option<u64>,
    outcome: &Result<JsValue, EmbedError>,
) {
    let id = created.map_or(JsValue::UNDEFINED, |id| JsValue::from(id as f64));
    let e = match outcome {
        Ok(connection) => return events.emit(CONNECTED, &[("connection", connection.clone())]),
        Err(e) => e,
    };
    match e.code {
        ErrorCode::ConnectionFailed | ErrorCode::Timeout => events.emit(
            CONNECTION_FAILED,
            &[("connectionId", id), ("error", to_js(e))],
        ),
        ErrorCode::Cancelled => events.emit(
            CANCELLED,
            &[
                ("connectionId", id),
                ("connectorId", connector_id.clone()),
                ("error", to_js(e)),
            ],
        ),
        ErrorCode::PopupBlocked => events.emit(
            POPUP_BLOCKED,
            &[("connectorId", connector_id.clone()), ("error", to_js(e))],
        ),
        _ => {}
    }
}

fn prepare_in_click(
    inner: &Rc<Inner>,
    connector: &JsValue,
    fields: &JsValue,
    options: &JsValue,
    signal: &Option<web_sys::AbortSignal>,
) -> Result<Attempt, EmbedError> {
    let servertype: Servertype = match connector.as_f64() {
        Some(id) => inner
            .connectors
            .borrow()
            .iter()
            .find(|s| s.id.0 as f64 == id)
            .cloned()
            .ok_or_else(|| {
                invalid_config(
                    "unknown connector id: call connectors() first or pass the connector object",
                )
            })?,
        None => answers::servertype(&js::to_json(connector))
            .ok_or_else(|| invalid_config("connector must be a connector object or its id"))?,
    };
    let fields = match js::to_json(fields) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let fields = validate(&servertype.connect_form, &fields).map_err(EmbedError::validation)?;
    if signal.as_ref().is_some_and(web_sys::AbortSignal::aborted) {
        return Err(EmbedError::new(
            ErrorCode::Cancelled,
            "connect() was cancelled: its signal was already aborted",
        ));
    }
    let policy = PollPolicy {
        grace_ms: js::number(options, "graceMs").unwrap_or(PollPolicy::default().grace_ms),
        ..PollPolicy::default()
    };
    // Before any await, so the browser still sees the user's click.
    let popup = if servertype.may_be_oauth() {
        let title = servertype.title.as_deref().unwrap_or(&servertype.name);
        Some(Popup::open(
            inner.partner.config.powered_by_notice.then_some(title),
        )?)
    } else {
        None
    };
    let body = new_connection_body(NewConnection {
        servertype_id: servertype.id,
        name: js::string(options, "name"),
        fields,
    });
    Ok(Attempt {
        inner: Rc::clone(inner),
        body,
        popup,
        on_status: js::function(options, "onStatus"),
        policy,
        timeout_ms: js::number(options, "timeoutMs"),
        created: Rc::default(),
        connector_id: servertype.id.0,
    })
}

async fn add_and_wait_until_live(mut a: Attempt) -> Result<JsValue, EmbedError> {
    a.emit_status("creating", None, None);
    let body = js::stringify(&js::from_json(&Value::Object(a.body.clone())));
    let created = a
        .inner
        .send_replaying_401(Operation::AddConnection, Vars::default(), Some(body))
        .await;
    let created = created.and_then(|text| {
        answers::created_connection(&js::json_value(&text)).ok_or_else(|| {
            EmbedError::new(ErrorCode::Upstream, "Peliqan's answer has no connection id")
        })
    });
    // The popup runs what it is sent to with this page's opener: only a
    // safe URL goes there (a `javascript:` one would run as this page).
    let created = created.and_then(|(id, url)| match url {
        Some(u) if !safe_url::allowed(&u) => Err(EmbedError::new(
            ErrorCode::Upstream,
            safe_url::refusal("Peliqan's oauth_url", &u),
        )
        .with_connection(id)),
        url => Ok((id, url)),
    });
    let (id, oauth_url) = created?;
    a.created.set(Some(id));
    a.inner.events.emit(
        CONNECTION_CREATED,
        &[
            ("connectionId", (id as f64).into()),
            ("connectorId", (a.connector_id as f64).into()),
        ],
    );
    match (&oauth_url, &a.popup) {
        (Some(url), Some(p)) => p.navigate(url),
        // The connector said "not OAuth" but Peliqan wants a grant: try a late popup.
        (Some(url), None) => {
            let p = Popup::open(None).map_err(|e| e.with_connection(id))?;
            p.navigate(url);
            a.popup = Some(p);
        }
        // Not OAuth after all (the connector named no auth kind, or one we
        // do not know): the popup opened just in case goes away at once.
        (None, Some(p)) => {
            p.close();
            a.popup = None;
        }
        (None, None) => {}
    }
    let oauth = oauth_url.is_some();
    a.policy.timeout_ms = a
        .timeout_ms
        .unwrap_or(if oauth { 300_000.0 } else { 60_000.0 });
    a.emit_status(
        if a.popup.is_some() {
            "authorizing"
        } else {
            "checking"
        },
        Some(id),
        None,
    );
    let outcome = wait_until_done(&a, id).await;
    a.close_popup();
    outcome
}

async fn wait_until_done(a: &Attempt, id: u64) -> Result<JsValue, EmbedError> {
    let mut poller = Poller::new(a.policy.clone(), now_ms());
    loop {
        let got = a
            .inner
            .send_replaying_401(Operation::GetConnection, vars_with_id(id), None);
        let (obs, server) = match got.await {
            Ok(text) => {
                let server = js::parse_json(&text)?;
                let (status, message) = answers::connection_status(&js::to_json(&server));
                (Observation::Status(status, message), Some(server))
            }
            Err(e) if e.is_transient() => (Observation::TransientError, None),
            Err(e) => return Err(e.with_connection(id)),
        };
        let closed = a.popup.as_ref().is_some_and(Popup::closed);
        let was_in_grace = poller.in_grace();
        let outcome = match poller.observe(now_ms(), obs, closed) {
            Step::Wait(ms) => {
                if poller.in_grace() && !was_in_grace {
                    a.emit_status("confirming", Some(id), None);
                }
                sleep(ms).await;
                continue;
            }
            Step::Done(o) => o,
        };
        return match (outcome, server) {
            (Outcome::Connected, Some(server)) => {
                a.emit_status("connected", Some(id), None);
                Ok(server)
            }
            (Outcome::Failed(msg), _) => {
                let logs = a
                    .inner
                    .send_replaying_401(Operation::ConnectionLogs, vars_with_id(id), None)
                    .await;
                let logs = logs
                    .map(|t| answers::connection_logs(&js::json_value(&t)))
                    .unwrap_or_default();
                let reason = crate::failure_reason(msg, &logs)
                    .unwrap_or_else(|| "the connection failed".into());
                a.emit_status("failed", Some(id), Some(&reason));
                Err(EmbedError::new(ErrorCode::ConnectionFailed, reason).with_connection(id))
            }
            (Outcome::Cancelled, _) => {
                a.emit_status("cancelled", Some(id), None);
                let msg = "the OAuth popup was closed before access was granted";
                Err(EmbedError::new(ErrorCode::Cancelled, msg).with_connection(id))
            }
            (Outcome::TimedOut, _) | (Outcome::Connected, None) => {
                a.emit_status("timeout", Some(id), None);
                let msg = "the connection did not become live in time";
                Err(EmbedError::new(ErrorCode::Timeout, msg).with_connection(id))
            }
        };
    }
}
