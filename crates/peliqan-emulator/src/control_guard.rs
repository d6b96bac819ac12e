//! Who may change the emulator's state through `/__emulator/*`.
//!
//! The control endpoints take no token, so that tests and tools can drive
//! them directly. Without a guard, any web page the developer visits could
//! reset or fault a local emulator with a cross-site "simple" request (a
//! form post or a `no-cors` fetch: `text/plain`, no CORS preflight). So
//! every control request that is not a read (`GET`, `HEAD`, `OPTIONS`)
//! follows two rules, checked before it reaches its handler:
//!
//! 1. An `Origin` header, when present, must be the emulator's own origin
//!    or an `--allowed-origin`; a foreign one is a 403. Browsers send
//!    `Origin` with every cross-site `POST`/`DELETE`; curl, test clients
//!    and the project's tools send none, and stay allowed.
//! 2. A body must be `Content-Type: application/json`, which no cross-site
//!    request can send without a preflight; anything else is a 415. A
//!    request without a body may omit the type (`curl -X POST .../reset`):
//!    an HTML form always sends one.

use crate::error::ApiError;
use crate::state::EmulatorState;
use crate::stats::CONTROL_PREFIX;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{Error, web};

/// The middleware; registered with `middleware::from_fn`, inside the error
/// envelope layer so a refusal is shaped like every other error.
pub(crate) async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let refused = match req.app_data::<web::Data<EmulatorState>>() {
        Some(emu) if !reads && req.path().starts_with(CONTROL_PREFIX) => {
            refusal(req.headers(), &emu.base_url, &emu.allowed_origins)
        }
        _ => None,
    };
    match refused {
        Some(err) => {
            tracing::warn!(path = %req.path(), %err, "control request refused");
            Ok(req.error_response(err))
        }
        None => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

/// Why a state-changing control request with `headers` is refused, if it is.
fn refusal(headers: &HeaderMap, own: &str, allowed: &[String]) -> Option<ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let text = origin.to_str().unwrap_or("(unreadable)");
        if text != own && !allowed.iter().any(|a| a == text) {
            return Some(ApiError::Forbidden(format!(
                "Cross-site control request refused: /__emulator requests that carry an Origin \
                 must come from this emulator ({own}) or an --allowed-origin; `{text}` is neither."
            )));
        }
    }
    let json = headers.get(header::CONTENT_TYPE).map(|ct| {
        let essence = ct.to_str().unwrap_or_default().split(';').next();
        essence.is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    match json {
        Some(true) => None,
        None if !has_body => None,
        _ => Some(ApiError::UnsupportedMediaType(
            "Control requests take JSON: send the body with `Content-Type: application/json` \
             (a request without a body needs no Content-Type)."
                .to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    const OWN: &str = "http://127.0.0.1:8900";

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    fn status(pairs: &[(header::HeaderName, &'static str)]) -> Option<u16> {
        use actix_web::ResponseError;
        let allowed = ["http://localhost:5173".to_owned()];
        refusal(&headers(pairs), OWN, &allowed).map(|e| e.status_code().as_u16())
    }

    #[test]
    fn foreign_origins_are_refused_and_own_or_listed_ones_allowed() {
        use header::{CONTENT_LENGTH, ORIGIN};
        assert_eq!(status(&[]), None, "no Origin: curl and tests");
        assert_eq!(status(&[(ORIGIN, OWN)]), None);
        assert_eq!(status(&[(ORIGIN, "http://localhost:5173")]), None);
        assert_eq!(status(&[(ORIGIN, "https://evil.example")]), Some(403));
        assert_eq!(status(&[(ORIGIN, "null")]), Some(403));
        assert_eq!(
            status(&[(ORIGIN, "http://127.0.0.1:8900.evil.example")]),
            Some(403)
        );
        assert_eq!(
            status(&[(ORIGIN, "https://evil.example"), (CONTENT_LENGTH, "0")]),
            Some(403)
        );
    }

    #[test]
    fn bodies_must_be_json_and_bodyless_requests_need_no_type() {
        use header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
        assert_eq!(status(&[(CONTENT_LENGTH, "0")]), None);
        assert_eq!(
            status(&[(CONTENT_TYPE, "application/json"), (CONTENT_LENGTH, "2")]),
            None
        );
        assert_eq!(
            status(&[(CONTENT_TYPE, "Application/JSON; charset=utf-8")]),
            None
        );
        for form in [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert_eq!(status(&[(CONTENT_TYPE, form)]), Some(415), "{form}");
        }
        assert_eq!(
            status(&[(CONTENT_LENGTH, "5")]),
            Some(415),
            "a body, no type"
        );
        assert_eq!(status(&[(TRANSFER_ENCODING, "chunked")]), Some(415));
    }
}
