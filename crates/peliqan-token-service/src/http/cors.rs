//! CORS with an explicit allow-list (`TOKEN_SERVICE_ALLOWED_ORIGINS`).
//!
//! An allowed `Origin` is echoed back (exactly that one, never `*`); a
//! preflight from it is answered here. A request from any other origin is
//! refused with a `origin_not_allowed` problem and no CORS headers, so a
//! foreign page neither reads the answer nor makes the service mint tokens.
//! Requests without `Origin` (servers, curl) are not CORS and pass through.
//! See <https://fetch.spec.whatwg.org/#http-cors-protocol>.
//!
//! With a cookie identity (a session cookie, or an embedding app's session)
//! the answers to allowed origins also carry
//! `Access-Control-Allow-Credentials: true` (and the preflight allows the
//! CSRF header): never to another origin, and never beside `*`, which the
//! service does not send at all ([`CorsPolicy`]).

use crate::error::ServiceError;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

/// The CORS headers that depend on the identity source, built once.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    /// `Access-Control-Allow-Headers` of a preflight.
    allow_headers: HeaderValue,
    /// Whether the browser may send cookies (a cookie identity).
    credentials: bool,
}

impl CorsPolicy {
    /// The policy of a cookie identity requiring `csrf_header`, or of a
    /// bearer identity (`None`).
    pub fn new(csrf_header: Option<&str>) -> Self {
        let base = "authorization, content-type";
        let allow_headers = match csrf_header {
            Some(h) => HeaderValue::from_str(&format!("{base}, {h}"))
                .unwrap_or(HeaderValue::from_static(base)),
            None => HeaderValue::from_static(base),
        };
        Self {
            allow_headers,
            credentials: csrf_header.is_some(),
        }
    }
}

/// The CORS step of the middleware ([`super::observe`], or a mounted
/// scope's: its middleware does not see the scope's own app data, see
/// [`crate::scope`]), with the allow-list of `state`.
pub async fn cors(
    state: Option<&AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let verdict = verdict(state, &origin, is_preflight(&req));
    answer(verdict, origin, req, next).await
}

/// For an allowed origin: whether to allow credentials, and for a
/// preflight the headers to allow. `None`: refused.
type Verdict = Option<(bool, Option<HeaderValue>)>;

fn verdict(state: Option<&AppState>, origin: &HeaderValue, preflight: bool) -> Verdict {
    let s = state?;
    let o = origin.to_str().ok()?;
    if !s.allowed_origins.iter().any(|a| a == o) {
        return None;
    }
    Some((
        s.cors.credentials,
        preflight.then(|| s.cors.allow_headers.clone()),
    ))
}

fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

async fn answer(
    verdict: Verdict,
    origin: HeaderValue,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let vary = (header::VARY, HeaderValue::from_static("Origin"));
    let Some((credentials, preflight)) = verdict else {
        let mut res = ServiceError::OriginNotAllowed.error_response();
        res.headers_mut().insert(vary.0, vary.1);
        return Ok(req.into_response(res));
    };
    if let Some(allow_headers) = preflight {
        let mut res = HttpResponse::build(StatusCode::NO_CONTENT);
        res.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header(vary);
        if credentials {
            res.insert_header(allow_credentials());
        }
        return Ok(req.into_response(res.finish()));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    // Lets the SDK read Retry-After on 429/503 answers.
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    h.insert(vary.0, vary.1);
    if credentials {
        let (k, v) = allow_credentials();
        h.insert(k, v);
    }
    Ok(res)
}

fn allow_credentials() -> (header::HeaderName, HeaderValue) {
    (
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    )
}
