//! CORS with an explicit allow-list (`TOKEN_SERVICE_ALLOWED_ORIGINS`).
//!
//! An allowed `Origin` is echoed back (exactly that one, never `*`); a
//! preflight from it is answered here. A request from any other origin is
//! refused with a `origin_not_allowed` problem and no CORS headers, so a
//! foreign page neither reads the answer nor makes the service mint tokens.
//! Requests without `Origin` (servers, curl) are not CORS and pass through.
//! See <https://fetch.spec.whatwg.org/#http-cors-protocol>.

use crate::error::ServiceError;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};

/// The CORS middleware (use with `actix_web::middleware::from_fn`).
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let allowed = req.app_data::<web::Data<AppState>>().is_some_and(|s| {
        origin
            .to_str()
            .is_ok_and(|o| s.allowed_origins.iter().any(|a| a == o))
    });
    let vary = (header::VARY, HeaderValue::from_static("Origin"));
    if !allowed {
        let mut res = ServiceError::OriginNotAllowed.error_response();
        res.headers_mut().insert(vary.0, vary.1);
        return Ok(req.into_response(res));
    }
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let res = HttpResponse::build(StatusCode::NO_CONTENT)
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header(vary)
            .finish();
        return Ok(req.into_response(res));
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
    Ok(res)
}
