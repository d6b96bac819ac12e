//! Fault injection: answer matching requests with an error status, a raw
//! non-JSON body, and/or after a delay, to test retries, back-off, timeouts
//! and answers that do not parse.
//!
//! Rules ([`Fault`]) come from `POST /__emulator/faults` or
//! [`crate::Emulator::add_fault`]. Which rule fires is decided when the
//! request is counted ([`crate::stats`], under the same lock), so once a
//! test sees a request counted, clearing the rules no longer changes what
//! that request gets. The middleware that applies it sits inside the CORS
//! layer, so an injected 503 or 429 still carries the CORS headers a
//! browser needs to read its status.

use crate::control_api::Fault;
use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use std::time::Duration;

/// Longest delay a rule may ask for; longer would only hang test suites.
const MAX_DELAY_MS: u64 = 120_000;

impl Fault {
    /// Field errors for a rule that cannot work, DRF-style.
    pub(crate) fn validate(&self) -> Result<(), ApiError> {
        if !self.path_prefix.starts_with('/') {
            return Err(ApiError::field("path_prefix", "Must start with '/'."));
        }
        match self.status {
            Some(s) if self.body.is_some() && !(200..=599).contains(&s) => {
                return Err(ApiError::field(
                    "status",
                    "Must be an HTTP status, 200 to 599, with a body.",
                ));
            }
            None if self.body.is_some() => {
                return Err(ApiError::field("status", "A body needs a status."));
            }
            Some(s) if self.body.is_none() && !(400..=599).contains(&s) => {
                return Err(ApiError::field(
                    "status",
                    "Must be an HTTP error status, 400 to 599.",
                ));
            }
            None if self.delay_ms == 0 => {
                return Err(ApiError::field(
                    "status",
                    "Give a status, a delay_ms, or both.",
                ));
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(ApiError::field(
                "probability",
                "Must be between 0.0 and 1.0.",
            ));
        }
        if self.delay_ms > MAX_DELAY_MS {
            return Err(ApiError::field(
                "delay_ms",
                format!("Must be at most {MAX_DELAY_MS}."),
            ));
        }
        Ok(())
    }

    fn matches(&self, path: &str) -> bool {
        let prefix = self.path_prefix.trim_end_matches('/');
        path.trim_end_matches('/').starts_with(prefix)
    }
}

/// The rule that fired for a request, chosen when it was counted.
pub(crate) struct Fired(pub Fault);

/// The rule that fires for a request to `path`: the first matching rule
/// whose dice roll fires.
pub(crate) fn pick(rules: &[Fault], path: &str) -> Option<Fault> {
    rules
        .iter()
        .find(|r| r.matches(path) && rand::random::<f64>() < r.probability)
        .cloned()
}

/// The middleware; registered with `middleware::from_fn`.
pub(crate) async fn inject(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let fired = req.extensions_mut().remove::<Fired>().map(|f| f.0);
    if let Some(rule) = fired {
        if rule.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(rule.delay_ms)).await;
        }
        if let (Some(status), Some(body)) = (
            rule.status.and_then(|s| StatusCode::from_u16(s).ok()),
            rule.body,
        ) {
            tracing::info!(
                path = req.path(),
                status = status.as_u16(),
                "injected raw body"
            );
            let res = HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(body);
            return Ok(req.into_response(res));
        }
        if let Some(status) = rule.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            tracing::info!(
                path = req.path(),
                status = status.as_u16(),
                "injected fault"
            );
            // Kept as an error on the response, so the partner dialect's
            // envelope applies to it too.
            let res = HttpResponse::from_error(ApiError::Injected(status));
            return Ok(req.into_response(res));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str, status: Option<u16>, delay_ms: u64) -> Fault {
        Fault {
            path_prefix: prefix.into(),
            status,
            probability: 1.0,
            delay_ms,
            body: None,
        }
    }

    #[test]
    fn prefixes_match_with_or_without_trailing_slash() {
        let r = rule("/api/subaccount/", Some(503), 0);
        assert!(r.matches("/api/subaccount"));
        assert!(r.matches("/api/subaccount/3/token"));
        assert!(!r.matches("/api/servers"));
    }

    #[test]
    fn rules_without_effect_or_with_odd_values_are_refused() {
        assert!(rule("/api", None, 0).validate().is_err());
        assert!(rule("api", Some(503), 0).validate().is_err());
        assert!(rule("/api", Some(200), 0).validate().is_err());
        assert!(rule("/api", None, 50).validate().is_ok());
        let mut r = rule("/api", Some(429), 0);
        r.probability = 1.5;
        assert!(r.validate().is_err());
        // A raw body may come with a success status, but needs a status.
        assert!(Fault::garbage("/api", 200, "<html>").validate().is_ok());
        assert!(Fault::garbage("/api", 199, "<html>").validate().is_err());
        let mut no_status = Fault::garbage("/api", 200, "<html>");
        no_status.status = None;
        no_status.delay_ms = 5;
        assert!(no_status.validate().is_err());
    }
}
