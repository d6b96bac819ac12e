//! Raw HTTP probes of the configured Peliqan: what the typed client cannot
//! show (a redirect, an HTML 404, CORS and `Date` headers).
//!
//! Redirects are never followed (a redirect is itself the finding: a wrong
//! trailing slash), every request has the service's connect and total
//! timeouts, and the partner credential goes in a header marked sensitive.
//! Only status, a few headers and a short, parsed error message are kept
//! from an answer; a success body is never printed.

use crate::settings::UpstreamSettings;
use peliqan_api::ApiErrorBody;
use peliqan_client::Secret;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use std::time::SystemTime;
use url::Url;

/// Largest part of an answer's body kept (enough for an error envelope).
const BODY_KEPT: usize = 16 * 1024;

/// How the partner is authenticated on a probe.
pub(super) enum PartnerAuth {
    /// `Authorization: JWT <partner token>`.
    Jwt(Secret),
    /// `Authorization: Bearer <access token>` from the client-credentials exchange.
    Bearer(Secret),
    /// No credential (the exchange failed): route existence can still be told.
    None,
}

impl PartnerAuth {
    fn header(&self) -> Option<HeaderValue> {
        let text = match self {
            Self::Jwt(t) => format!("JWT {}", t.expose()),
            Self::Bearer(t) => format!("Bearer {}", t.expose()),
            Self::None => return None,
        };
        let mut value = HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// The raw HTTP side of the doctor.
pub(super) struct Probe {
    http: reqwest::Client,
    base: Url,
}

/// What an answer was, kept small.
pub(super) struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// When the answer arrived, by this machine's clock.
    pub received: SystemTime,
    /// The start of the body (lossy UTF-8).
    pub body: String,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is a JSON object (what a DRF view answers; Django's
    /// own 404 page for an unknown path is HTML).
    pub fn is_json_object(&self) -> bool {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&self.body).is_ok()
    }

    /// Peliqan's message in a short, printable form.
    pub fn message(&self) -> String {
        if self.is_json_object() {
            let m = ApiErrorBody::parse(&self.body).message();
            shorten(&m, 160)
        } else if self.body.trim().is_empty() {
            "an empty body".to_owned()
        } else {
            let kind = self.header(CONTENT_TYPE.as_str()).unwrap_or("unknown type");
            format!(
                "a non-JSON page ({})",
                kind.split(';').next().unwrap_or(kind)
            )
        }
    }
}

/// What a probe of one route says about that route.
pub(super) enum RouteAnswer {
    /// Something there answered as an API view would (any 2xx, 401/403,
    /// a JSON 4xx).
    Exists(Answer),
    /// The path (or its slash form, or the method) is not one this Peliqan
    /// has; the text says how it showed.
    Missing(String),
    /// Peliqan failed (5xx): nothing can be told about the route.
    ServerError(Answer),
}

/// Classifies an answer the way the client's `route_mismatch` does: a
/// redirect, a 404 whose body is not a JSON object, a 405 or Django's
/// "doesn't end in a slash" 500 page mean the route is not there.
pub(super) fn classify(answer: Answer) -> RouteAnswer {
    let s = answer.status;
    if (300..400).contains(&s) {
        let to = answer.header("location").unwrap_or("elsewhere");
        return RouteAnswer::Missing(format!(
            "{s} redirect to {to} (a wrong trailing slash or path)"
        ));
    }
    if s == 404 && !answer.is_json_object() {
        return RouteAnswer::Missing(format!("404 with {}: no such route", answer.message()));
    }
    if s == 405 {
        return RouteAnswer::Missing("405: not with this method".to_owned());
    }
    if s == 500 && answer.body.contains("end in a slash") {
        return RouteAnswer::Missing("500 \"the URL doesn't end in a slash\" page".to_owned());
    }
    if s >= 500 {
        return RouteAnswer::ServerError(answer);
    }
    RouteAnswer::Exists(answer)
}

impl Probe {
    /// A probe client with the service's own timeouts.
    pub fn new(upstream: &UpstreamSettings) -> Result<Self, String> {
        let base = Url::parse(&upstream.base_url).map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .connect_timeout(upstream.connect_timeout)
            .timeout(upstream.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "peliqan-token-service-doctor/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| cause_chain(&e))?;
        Ok(Self { http, base })
    }

    /// The configured base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The full URL of `path_and_query` under the base URL (its path prefix kept).
    pub fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{path_and_query}",
            self.base.as_str().trim_end_matches('/')
        )
    }

    /// A request to `url` with the partner credential (if any).
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        auth: &PartnerAuth,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(value) = auth.header() {
            req = req.header(AUTHORIZATION, value);
        }
        req
    }

    /// Sends `req` and keeps what the checks need of the answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Answer, String> {
        let res = req.send().await.map_err(transport)?;
        let received = SystemTime::now();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.map_err(transport)?;
        let body = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEPT)]).into_owned();
        Ok(Answer {
            status,
            headers,
            received,
            body,
        })
    }
}

/// A failed send in one line, without the URL (it may carry a query).
fn transport(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer before the timeout (TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS)".to_owned()
    } else {
        cause_chain(&e.without_url())
    }
}

/// reqwest's own message ("error sending request") hides the reason; the
/// causes say it (connection refused, certificate not trusted...).
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

/// `url` for a report line: without a trailing slash, and without a
/// password should one have been written into it.
pub(super) fn shown_url(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.as_str().trim_end_matches('/').to_owned()
}

/// At most `max` characters of `text`, with `…` when cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
