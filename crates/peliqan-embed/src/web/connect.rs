//! `connect()`: add a connection and wait until it is live.
//!
//! Order matters. Everything that can fail without the network (resolving
//! the connector, validating the form, opening the OAuth popup) happens in
//! [`start`], synchronously, inside the caller's click handler; only then
//! is the async part ([`run`]) started: `POST /api/servers`, navigate the
//! popup to `oauth_url`, and poll `GET /api/server/{id}` as [`Poller`]
//! decides, reporting progress to `onStatus`.

use super::embed::{Inner, call, parse};
use super::js::{self, invalid};
use super::popup::Popup;
use super::{now_ms, sleep};
use crate::error::{EmbedError, ErrorCode};
use crate::form::validate;
use crate::poll::{Observation, Outcome, PollPolicy, Poller, Step};
use gloo_net::http::Method;
use peliqan_api::{
    ConnectionLogEntry, CreatedConnection, NewConnection, Server, Servertype, paths,
};
use serde::Serialize;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// What `onStatus` receives.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusEvent<'a> {
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

struct Attempt {
    inner: Rc<Inner>,
    body: NewConnection,
    popup: Option<Popup>,
    on_status: Option<js_sys::Function>,
    policy: PollPolicy,
}

impl Attempt {
    fn status(&self, state: &str, connection_id: Option<u64>, message: Option<&str>) {
        let Some(f) = &self.on_status else { return };
        if let Ok(ev) = js::to_value(&StatusEvent {
            state,
            connection_id,
            message,
        }) {
            // A throwing partner callback must not break the flow.
            let _ = f.call1(&JsValue::NULL, &ev);
        }
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
    match prepare(inner, connector, fields, options) {
        Ok(attempt) => call(run(attempt)),
        Err(e) => call(async move { Err(e) }),
    }
}

fn prepare(
    inner: Rc<Inner>,
    connector: JsValue,
    fields: JsValue,
    options: JsValue,
) -> Result<Attempt, EmbedError> {
    let servertype: Servertype = match connector.as_f64() {
        Some(id) => inner
            .connectors
            .borrow()
            .iter()
            .find(|s| s.id.0 as f64 == id)
            .cloned()
            .ok_or_else(|| {
                invalid(
                    "unknown connector id: call connectors() first or pass the connector object",
                )
            })?,
        None => js::from_value(&connector, "connector")?,
    };
    let fields = if fields.is_object() {
        js::from_value(&fields, "fields")?
    } else {
        Default::default()
    };
    let fields = validate(&servertype.connect_form, &fields).map_err(EmbedError::validation)?;
    let on_status = js::function(&options, "onStatus");
    let oauth = servertype.is_oauth();
    let policy = PollPolicy {
        timeout_ms: js::number(&options, "timeoutMs").unwrap_or(if oauth {
            300_000.0
        } else {
            60_000.0
        }),
        grace_ms: js::number(&options, "graceMs").unwrap_or(PollPolicy::default().grace_ms),
        ..PollPolicy::default()
    };
    // Before any await, so the browser still sees the user's click.
    let popup = if oauth {
        let title = servertype.title.as_deref().unwrap_or(&servertype.name);
        Some(Popup::open(
            inner.config.powered_by_notice.then_some(title),
        )?)
    } else {
        None
    };
    let name = js::string(&options, "name");
    let body = NewConnection {
        servertype_id: servertype.id,
        name,
        fields,
    };
    Ok(Attempt {
        inner,
        body,
        popup,
        on_status,
        policy,
    })
}

async fn run(mut a: Attempt) -> Result<JsValue, EmbedError> {
    a.status("creating", None, None);
    let body = serde_json::to_string(&a.body).ok();
    let created = a.inner.peliqan(Method::POST, paths::SERVERS, body).await;
    let created: CreatedConnection = match created.and_then(|text| parse(&text)) {
        Ok(c) => c,
        Err(e) => {
            a.close_popup();
            return Err(e);
        }
    };
    let id = created.id.0;
    match (&created.oauth_url, &a.popup) {
        (Some(url), Some(p)) => p.navigate(url),
        // The connector said "not OAuth" but Peliqan wants a grant: try a late popup.
        (Some(url), None) => {
            let p = Popup::open(None).map_err(|e| e.with_connection(id))?;
            p.navigate(url);
            a.popup = Some(p);
        }
        (None, Some(p)) => {
            p.close();
            a.popup = None;
        }
        (None, None) => {}
    }
    a.status(
        if a.popup.is_some() {
            "authorizing"
        } else {
            "checking"
        },
        Some(id),
        None,
    );
    wait_until_done(&a, id).await
}

async fn wait_until_done(a: &Attempt, id: u64) -> Result<JsValue, EmbedError> {
    let mut poller = Poller::new(a.policy.clone(), now_ms());
    let path = paths::server(created_id(id));
    loop {
        let polled = a.inner.peliqan(Method::GET, &path, None).await;
        let (obs, server) = match polled.and_then(|text| Ok((parse::<Server>(&text)?, text))) {
            Ok((s, text)) => (Observation::Status(s.status, s.status_message), Some(text)),
            Err(e) if e.is_transient() => (Observation::TransientError, None),
            Err(e) => {
                a.close_popup();
                return Err(e.with_connection(id));
            }
        };
        let closed = a.popup.as_ref().is_some_and(Popup::closed);
        let was_in_grace = poller.in_grace();
        let outcome = match poller.observe(now_ms(), obs, closed) {
            Step::Wait(ms) => {
                if poller.in_grace() && !was_in_grace {
                    a.status("confirming", Some(id), None);
                }
                sleep(ms).await;
                continue;
            }
            Step::Done(o) => o,
        };
        a.close_popup();
        return match (outcome, server) {
            (Outcome::Connected, Some(text)) => {
                a.status("connected", Some(id), None);
                js::parse_json(&text)
            }
            (Outcome::Failed(msg), _) => {
                let logs = a
                    .inner
                    .peliqan(Method::GET, &paths::server_logs(created_id(id)), None)
                    .await;
                let logs: Vec<ConnectionLogEntry> =
                    logs.and_then(|t| parse(&t)).unwrap_or_default();
                let reason = crate::failure_reason(msg, &logs)
                    .unwrap_or_else(|| "the connection failed".into());
                a.status("failed", Some(id), Some(&reason));
                Err(EmbedError::new(ErrorCode::ConnectionFailed, reason).with_connection(id))
            }
            (Outcome::Cancelled, _) => {
                a.status("cancelled", Some(id), None);
                Err(EmbedError::new(
                    ErrorCode::Cancelled,
                    "the OAuth popup was closed before access was granted",
                )
                .with_connection(id))
            }
            (Outcome::TimedOut, _) | (Outcome::Connected, None) => {
                a.status("timeout", Some(id), None);
                Err(EmbedError::new(
                    ErrorCode::Timeout,
                    "the connection did not become live in time",
                )
                .with_connection(id))
            }
        };
    }
}

fn created_id(id: u64) -> peliqan_api::ServerId {
    peliqan_api::ServerId(id)
}
