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

use super::embed::{Inner, into_promise, vars_with_id};
use super::js::{self, invalid_config};
use super::popup::Popup;
use super::{now_ms, sleep};
use crate::answers;
use crate::error::{EmbedError, ErrorCode};
use crate::form::{new_connection_body, validate};
use crate::poll::{Observation, Outcome, PollPolicy, Poller, Step};
use crate::safe_url;
use peliqan_api::dialect::Vars;
use peliqan_api::{NewConnection, Operation, Servertype};
use serde_json::{Map, Value};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

struct Attempt {
    inner: Rc<Inner>,
    /// The `add_connection` body ([`NewConnection`]'s JSON).
    body: Map<String, Value>,
    popup: Option<Popup>,
    on_status: Option<js_sys::Function>,
    policy: PollPolicy,
    /// The caller's `timeoutMs`; else the default once OAuth or not is known.
    timeout_ms: Option<f64>,
}

impl Attempt {
    /// Reports `{state, connectionId?, message?}` to `onStatus`.
    fn emit_status(&self, state: &str, connection_id: Option<u64>, message: Option<&str>) {
        let Some(f) = &self.on_status else { return };
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
    match prepare_in_click(inner, &connector, &fields, &options) {
        Ok(attempt) => into_promise(add_and_wait_until_live(attempt)),
        Err(e) => into_promise(async move { Err(e) }),
    }
}

fn prepare_in_click(
    inner: Rc<Inner>,
    connector: &JsValue,
    fields: &JsValue,
    options: &JsValue,
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
    let policy = PollPolicy {
        grace_ms: js::number(options, "graceMs").unwrap_or(PollPolicy::default().grace_ms),
        ..PollPolicy::default()
    };
    // Before any await, so the browser still sees the user's click.
    let popup = if servertype.may_be_oauth() {
        let title = servertype.title.as_deref().unwrap_or(&servertype.name);
        Some(Popup::open(
            inner.config.powered_by_notice.then_some(title),
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
        inner,
        body,
        popup,
        on_status: js::function(options, "onStatus"),
        policy,
        timeout_ms: js::number(options, "timeoutMs"),
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
    let (id, oauth_url) = match created {
        Ok(c) => c,
        Err(e) => {
            a.close_popup();
            return Err(e);
        }
    };
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
