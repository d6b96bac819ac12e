//! CORS as Peliqan does it: an explicit allow-list, the caller's origin
//! echoed back only when listed.
//!
//! Written by hand (no actix-cors) to match the behaviour of
//! django-cors-headers, which Peliqan's Django API most likely uses:
//! preflights are answered by the middleware itself with 200 whatever the
//! origin, and a refused origin simply gets no `Access-Control-*` header,
//! so the browser blocks the response. `Vary: Origin` goes on every answer
//! because the answer depends on the origin.

use crate::state::EmulatorState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

/// How long a browser may cache a preflight (django-cors-headers' default).
const MAX_AGE_SECS: &str = "86400";

/// The middleware; registered with `middleware::from_fn`.
pub(crate) async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let allowed = req
        .app_data::<web::Data<EmulatorState>>()
        .and_then(|emu| allowed_origin(req.headers(), &emu.allowed_origins));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

    let mut res = if preflight {
        let mut res = req.into_response(HttpResponse::Ok().finish());
        if let Some(origin) = &allowed {
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECS),
            );
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
        res
    } else {
        let mut res = next.call(req).await?.map_into_boxed_body();
        if let Some(origin) = allowed {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            // Lets browser code read the back-off hint of a 429.
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("Retry-After"),
            );
        }
        res
    };
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    Ok(res)
}

/// The request's `Origin`, if it is on the allow-list (exact match).
fn allowed_origin(headers: &HeaderMap, allow_list: &[String]) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allow_list.iter().any(|a| a == text).then(|| origin.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_are_echoed_and_matching_is_exact() {
        let list = vec!["http://localhost:5173".to_owned()];
        let mut h = HeaderMap::new();
        assert!(allowed_origin(&h, &list).is_none());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:5173"),
        );
        assert!(allowed_origin(&h, &list).is_some());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:5173.evil.test"),
        );
        assert!(allowed_origin(&h, &list).is_none());
    }
}
