//! The control endpoints' contract, in Rust: their paths, the bodies they
//! take and the answers they give, defined once and used by the handlers
//! ([`crate::control`]), by [`crate::Emulator`]'s in-process methods and by
//! [`Control`], which builds the requests for an emulator running in another
//! process and reads their answers.
//!
//! [`Control`] does no I/O: each method returns a [`ControlCall`] (method,
//! URL, JSON body) for whatever HTTP client the caller has (reqwest, the
//! bench's blocking client), and [`ControlCall::answer`] turns the status and
//! body back into the typed answer.
//!
//! ```
//! use peliqan_emulator::{Control, Fault};
//! let control = Control::new("http://127.0.0.1:8900");
//! let call = control.add_fault(&Fault::status("/api/subaccount", 503).probability(0.5));
//! assert_eq!((call.method, call.url.as_str()), ("POST", "http://127.0.0.1:8900/__emulator/faults"));
//! let stats = control.stats().answer(200, r#"{"requests": {"GET /api/servers": 2}}"#).unwrap();
//! assert_eq!(stats.get("GET /api/servers"), 2);
//! ```

use peliqan_api::{Operation, Routes, SubaccountId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The control endpoints' paths.
pub mod paths {
    /// `GET`: the dialect and slash mode ([`super::Info`]).
    pub const INFO: &str = "/__emulator/info";
    /// `GET`: request counts ([`super::Stats`]).
    pub const STATS: &str = "/__emulator/stats";
    /// `POST` a [`super::Fault`], `GET` the list, `DELETE` them all.
    pub const FAULTS: &str = "/__emulator/faults";
    /// `POST`: forget all state.
    pub const RESET: &str = "/__emulator/reset";
    /// `POST` a [`super::NextOauthUrl`].
    pub const NEXT_OAUTH_URL: &str = "/__emulator/next-oauth-url";
    /// `DELETE`: a sub-account, as Peliqan's UI would.
    pub const SUBACCOUNT: &str = "/__emulator/subaccounts/{id}";
    /// `GET ?external_id=X`: the sub-accounts with one external id
    /// ([`super::SubaccountsWithExternalId`]).
    pub const SUBACCOUNTS: &str = "/__emulator/subaccounts";
    /// `POST`: revoke every OAuth access token ([`super::Revoked`]).
    pub const REVOKE_ACCESS_TOKENS: &str = "/__emulator/access-tokens/revoke";
    /// `POST` an [`super::AdvanceClock`] (`--manual-clock` only).
    pub const CLOCK: &str = "/__emulator/clock";
    /// `GET [?external_id=X]`: the tables and scripts created in each
    /// sub-account ([`super::Assets`]).
    pub const ASSETS: &str = "/__emulator/assets";
}

/// `GET /__emulator/stats`: requests counted per `METHOD <path template>`
/// (see the README); control endpoints are never counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// `"GET /api/servers/{id}/"` -> count.
    pub requests: BTreeMap<String, u64>,
}

impl Stats {
    /// The stats key of `op` in `routes` (`METHOD <path template>`), or
    /// `None` when the routes lack it.
    pub fn key(routes: &Routes, op: Operation) -> Option<String> {
        let route = routes.route(op).ok()?;
        Some(format!("{} {}", route.method, route.path_template()))
    }

    /// How often `key` was requested.
    pub fn get(&self, key: &str) -> u64 {
        self.requests.get(key).copied().unwrap_or(0)
    }

    /// How often `op`'s route in `routes` was requested (0 when the routes
    /// lack it). Operations sharing a route share its count.
    pub fn count(&self, routes: &Routes, op: Operation) -> u64 {
        Self::key(routes, op).map_or(0, |k| self.get(&k))
    }

    /// All requests counted.
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// `stats["GET /api/servers"]`: the count of a key, 0 when never requested.
impl std::ops::Index<&str> for Stats {
    type Output = u64;
    fn index(&self, key: &str) -> &u64 {
        self.requests.get(key).unwrap_or(&0)
    }
}

/// One fault rule, as posted to and listed by `/__emulator/faults`: matching
/// requests are answered with `status` and/or after `delay_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Applies to paths starting with this (trailing slash ignored).
    pub path_prefix: String,
    /// Status to answer; `None` means delay only, then handle normally.
    #[serde(default)]
    pub status: Option<u16>,
    /// Chance per matching request, 0.0..=1.0.
    #[serde(default = "always")]
    pub probability: f64,
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// Answer this raw text (`text/html`) with `status` instead of the
    /// dialect's JSON error body; with status 200 it is a success whose body
    /// does not parse (a proxy's page, a truncated answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn always() -> f64 {
    1.0
}

impl Fault {
    /// Every request under `path_prefix` answered `status`.
    pub fn status(path_prefix: impl Into<String>, status: u16) -> Self {
        Self {
            path_prefix: path_prefix.into(),
            status: Some(status),
            probability: 1.0,
            delay_ms: 0,
            body: None,
        }
    }

    /// Every request under `path_prefix` answered `status` (200 allowed)
    /// with `body` as raw `text/html` instead of JSON.
    pub fn garbage(path_prefix: impl Into<String>, status: u16, body: impl Into<String>) -> Self {
        Self {
            body: Some(body.into()),
            ..Self::status(path_prefix, status)
        }
    }

    /// Every request under `path_prefix` delayed by `delay_ms`, then handled.
    pub fn delay(path_prefix: impl Into<String>, delay_ms: u64) -> Self {
        Self {
            path_prefix: path_prefix.into(),
            status: None,
            probability: 1.0,
            delay_ms,
            body: None,
        }
    }

    /// The same rule, firing with this chance per matching request.
    pub fn probability(mut self, probability: f64) -> Self {
        self.probability = probability;
        self
    }

    /// The same rule, also waiting `delay_ms` before answering.
    pub fn delay_ms(mut self, delay_ms: u64) -> Self {
        self.delay_ms = delay_ms;
        self
    }
}

/// The answer of `POST` and `GET /__emulator/faults`: the active rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// In the order they were added; the first that fires wins.
    pub faults: Vec<Fault>,
}

/// `GET /__emulator/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The dialect served (`seed`, `sub-account`, `partner`).
    pub dialect: String,
    /// Whether the wrong trailing-slash form is answered as Django does.
    pub strict_slashes: bool,
    /// Whether a second sub-account with an existing `external_id` is
    /// created instead of refused (`--accept-duplicate-external-ids`).
    /// Absent from older emulators' answers: read as `false`.
    #[serde(default)]
    pub accept_duplicate_external_ids: bool,
}

/// The answer of `GET /__emulator/subaccounts?external_id=X`: every
/// sub-account with that external id. More than one only on an emulator
/// that accepts duplicates (`--accept-duplicate-external-ids`), which is
/// how a test proves a client provisioned a tenant exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubaccountsWithExternalId {
    /// The external id asked about.
    pub external_id: String,
    /// How many sub-accounts have it (`ids.len()`).
    pub count: usize,
    /// Their ids, lowest first; lookups by external id answer the first.
    pub ids: Vec<SubaccountId>,
}

/// The answer of `POST /__emulator/access-tokens/revoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// How many access tokens were live.
    pub revoked: usize,
}

/// The body of `POST /__emulator/next-oauth-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextOauthUrl {
    /// What the next OAuth connection answers as its `oauth_url`, once.
    pub oauth_url: String,
}

/// The body of `POST /__emulator/clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    /// Seconds to move the emulator's manual clock forward.
    pub advance_secs: u64,
}

/// The answer of `POST /__emulator/clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockNow {
    /// The emulator's time after the move, in seconds since the Unix epoch.
    pub unix_secs: u64,
}

/// The answer of `GET /__emulator/assets`: what was created in each
/// sub-account (all of them, or those with one external id), so a test can
/// prove a table or script was created exactly once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assets {
    /// One entry per sub-account, lowest id first.
    pub accounts: Vec<AccountAssets>,
}

/// What one sub-account holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAssets {
    /// The sub-account.
    pub subaccount_id: SubaccountId,
    /// Its external id.
    pub external_id: String,
    /// Query tables created in it, in creation order.
    pub tables: Vec<RecordedTable>,
    /// Scripts created in it, in creation order.
    pub scripts: Vec<RecordedScript>,
}

/// A query table as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTable {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: Option<String>,
    /// Its SQL.
    pub query: Option<String>,
}

/// A scheduled script as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedScript {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: Option<String>,
    /// Seconds between runs.
    pub schedule: Option<u64>,
}

impl Assets {
    /// The first sub-account with `external_id`.
    pub fn of(&self, external_id: &str) -> Option<&AccountAssets> {
        self.accounts.iter().find(|a| a.external_id == external_id)
    }

    /// Every `(external_id, "table NAME" | "script NAME", count)` created
    /// more than once in one sub-account.
    pub fn duplicates(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for a in &self.accounts {
            let mut seen = BTreeMap::<String, usize>::new();
            for t in &a.tables {
                *seen
                    .entry(format!("table {}", t.name.as_deref().unwrap_or("")))
                    .or_default() += 1;
            }
            for s in &a.scripts {
                *seen
                    .entry(format!("script {}", s.name.as_deref().unwrap_or("")))
                    .or_default() += 1;
            }
            out.extend(
                seen.into_iter()
                    .filter(|(_, n)| *n > 1)
                    .map(|(k, n)| (a.external_id.clone(), k, n)),
            );
        }
        out
    }
}

/// A control request the emulator refused, or an answer that did not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// A non-2xx answer (in process: what the endpoint would answer).
    #[error("{method} {path} answered {status}: {body}")]
    Refused {
        /// The request's method.
        method: &'static str,
        /// The control path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The answer's body (an error message in process).
        body: String,
    },
    /// A 2xx answer whose body is not the documented JSON.
    #[error("{method} {path}: unreadable answer ({message}): {body}")]
    Decode {
        /// The request's method.
        method: &'static str,
        /// The control path.
        path: String,
        /// What did not read.
        message: String,
        /// The answer's body.
        body: String,
    },
}

/// Builds control requests for an emulator at a base URL (another process),
/// for any HTTP client: see the module docs.
#[derive(Debug, Clone)]
pub struct Control {
    base: String,
}

/// One control request and how to read its answer.
#[derive(Debug)]
#[must_use = "a ControlCall is sent by the caller's HTTP client"]
pub struct ControlCall<T> {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// The JSON body, sent with `Content-Type: application/json`.
    pub body: Option<String>,
    path: String,
    read: fn(&str) -> Result<T, serde_json::Error>,
}

fn json<T: DeserializeOwned>(body: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(body)
}

fn nothing(_: &str) -> Result<(), serde_json::Error> {
    Ok(())
}

impl<T> ControlCall<T> {
    /// The typed answer of a response with `status` and `body`: an error
    /// unless 2xx and readable.
    pub fn answer(&self, status: u16, body: &str) -> Result<T, ControlError> {
        if !(200..300).contains(&status) {
            return Err(ControlError::Refused {
                method: self.method,
                path: self.path.clone(),
                status,
                body: body.to_owned(),
            });
        }
        (self.read)(body).map_err(|e| ControlError::Decode {
            method: self.method,
            path: self.path.clone(),
            message: e.to_string(),
            body: body.to_owned(),
        })
    }
}

impl Control {
    /// Requests for the emulator at `url` (e.g. `http://127.0.0.1:8900`).
    pub fn new(url: impl Into<String>) -> Self {
        let mut base = url.into();
        while base.ends_with('/') {
            base.pop();
        }
        Self { base }
    }

    fn call<T>(
        &self,
        method: &'static str,
        path: String,
        body: Option<String>,
        read: fn(&str) -> Result<T, serde_json::Error>,
    ) -> ControlCall<T> {
        ControlCall {
            method,
            url: format!("{}{path}", self.base),
            body,
            path,
            read,
        }
    }

    fn body(value: &impl Serialize) -> Option<String> {
        // Plain structs of strings and numbers always serialise.
        Some(serde_json::to_string(value).expect("control bodies serialise"))
    }

    /// `GET /__emulator/info`.
    pub fn info(&self) -> ControlCall<Info> {
        self.call("GET", paths::INFO.into(), None, json)
    }

    /// `GET /__emulator/stats`.
    pub fn stats(&self) -> ControlCall<Stats> {
        self.call("GET", paths::STATS.into(), None, json)
    }

    /// `POST /__emulator/faults`: adds `fault`; answers the active rules.
    pub fn add_fault(&self, fault: &Fault) -> ControlCall<Faults> {
        self.call("POST", paths::FAULTS.into(), Self::body(fault), json)
    }

    /// `GET /__emulator/faults`.
    pub fn faults(&self) -> ControlCall<Faults> {
        self.call("GET", paths::FAULTS.into(), None, json)
    }

    /// `DELETE /__emulator/faults`.
    pub fn clear_faults(&self) -> ControlCall<()> {
        self.call("DELETE", paths::FAULTS.into(), None, nothing)
    }

    /// `POST /__emulator/reset`.
    pub fn reset(&self) -> ControlCall<()> {
        self.call("POST", paths::RESET.into(), None, nothing)
    }

    /// `POST /__emulator/access-tokens/revoke`.
    pub fn revoke_access_tokens(&self) -> ControlCall<Revoked> {
        self.call("POST", paths::REVOKE_ACCESS_TOKENS.into(), None, json)
    }

    /// `DELETE /__emulator/subaccounts/{id}`.
    pub fn delete_subaccount(&self, id: SubaccountId) -> ControlCall<()> {
        let path = paths::SUBACCOUNT.replace("{id}", &id.0.to_string());
        self.call("DELETE", path, None, nothing)
    }

    /// `GET /__emulator/subaccounts?external_id=X`.
    pub fn subaccounts_with_external_id(
        &self,
        external_id: &str,
    ) -> ControlCall<SubaccountsWithExternalId> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("external_id", external_id)
            .finish();
        let path = format!("{}?{query}", paths::SUBACCOUNTS);
        self.call("GET", path, None, json)
    }

    /// `POST /__emulator/next-oauth-url`.
    pub fn next_oauth_url(&self, oauth_url: impl Into<String>) -> ControlCall<()> {
        let body = Self::body(&NextOauthUrl {
            oauth_url: oauth_url.into(),
        });
        self.call("POST", paths::NEXT_OAUTH_URL.into(), body, nothing)
    }

    /// `GET /__emulator/assets`: the tables and scripts of every
    /// sub-account, or of those with `external_id`.
    pub fn assets(&self, external_id: Option<&str>) -> ControlCall<Assets> {
        let path = match external_id {
            None => paths::ASSETS.to_owned(),
            Some(id) => {
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("external_id", id)
                    .finish();
                format!("{}?{query}", paths::ASSETS)
            }
        };
        self.call("GET", path, None, json)
    }

    /// `POST /__emulator/clock`: moves a `--manual-clock` emulator's clock
    /// forward by `by`, rounded up to whole seconds.
    pub fn advance_clock(&self, by: Duration) -> ControlCall<ClockNow> {
        let advance_secs = by.as_millis().div_ceil(1000) as u64;
        let body = Self::body(&AdvanceClock { advance_secs });
        self.call("POST", paths::CLOCK.into(), body, json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_reads_with_defaults_and_refuses_unknown_keys() {
        let f: Fault = serde_json::from_str(r#"{"path_prefix": "/api", "status": 503}"#).unwrap();
        assert_eq!(f, Fault::status("/api", 503));
        assert!(serde_json::from_str::<Fault>(r#"{"path_prefix": "/api", "x": 1}"#).is_err());
    }

    #[test]
    fn calls_name_their_url_and_read_their_answer() {
        let control = Control::new("http://e:1/");
        let call = control.delete_subaccount(SubaccountId(7));
        assert_eq!(call.url, "http://e:1/__emulator/subaccounts/7");
        assert_eq!(call.answer(204, ""), Ok(()));
        let err = call.answer(404, "{}").unwrap_err().to_string();
        assert!(err.contains("404"), "{err}");
        let clock = control.advance_clock(Duration::from_millis(1500));
        assert_eq!(clock.body.as_deref(), Some(r#"{"advance_secs":2}"#));
        assert!(control.stats().answer(200, "nope").is_err());
        let dups = control.subaccounts_with_external_id("a b&c");
        assert_eq!(
            dups.url,
            "http://e:1/__emulator/subaccounts?external_id=a+b%26c"
        );
        let answer = dups
            .answer(200, r#"{"external_id":"a b&c","count":2,"ids":[1,4]}"#)
            .unwrap();
        assert_eq!(answer.ids, [SubaccountId(1), SubaccountId(4)]);
    }

    #[test]
    fn info_from_an_emulator_without_the_duplicate_flag_reads_as_false() {
        let info: Info =
            serde_json::from_str(r#"{"dialect":"seed","strict_slashes":false}"#).unwrap();
        assert!(!info.accept_duplicate_external_ids);
    }
}
