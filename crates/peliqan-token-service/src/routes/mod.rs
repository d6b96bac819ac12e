//! Request handlers, one file per area, and [`ENDPOINTS`], the one table of
//! the HTTP surface.
//!
//! [`crate::startup::routes`] registers the routes from the table, the
//! metrics middleware ([`crate::http::observe`]) takes its route labels from
//! it, and a 405 answer's `Allow` header is computed from the route's entry,
//! so a route cannot be served without a label or answer a wrong `Allow`.
//!
//! The request-body limit (`TOKEN_SERVICE_MAX_BODY_BYTES`, [`read_body`],
//! [`discard_body`]) stays hand-written rather than actix-web's
//! `PayloadConfig`: that config takes a limit and a media type but no error
//! handler, so an overflow would answer actix's plain-text 413 instead of
//! the `payload_too_large` problem (turning it into one would take a
//! middleware rewriting answers); and its `Bytes` extractor would buffer up
//! to the limit even for `GET /v1/connectors`, whose body is only counted
//! and dropped here. The behaviour kept: a declared `Content-Length` over
//! the limit is refused before reading, a streamed body as soon as it
//! passes it, both before the JWT is checked.

pub mod connectors;
pub mod health;
pub mod token;

use crate::error::ServiceError;
use actix_web::http::{Method, header};
use actix_web::web::{self, Bytes, BytesMut, Payload};
use actix_web::{HttpRequest, HttpResponse, Resource, Route};
use futures::StreamExt;

/// One route: a path served with one method by one handler.
pub struct Endpoint {
    /// The path, also the route's metrics label.
    pub path: &'static str,
    /// The method the handler serves; any other one is answered 405.
    pub method: Method,
    /// Called by browsers: CORS preflights (`OPTIONS`) are answered for it
    /// (by [`crate::http::cors`]), so `Allow` names `OPTIONS` too.
    pub browser: bool,
    /// Served by the separate metrics listener when one is configured
    /// (`TOKEN_SERVICE_METRICS_LISTEN`), and then not on the public one.
    pub internal: bool,
    handler: fn(Route) -> Route,
}

/// The path of the token route (the hot path, whose metric series is
/// resolved once, see [`crate::metrics`]).
pub const TOKEN_PATH: &str = "/v1/token";

/// Every route of the service.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: TOKEN_PATH,
        method: Method::POST,
        browser: true,
        internal: false,
        handler: |r| r.to(token::issue_token),
    },
    Endpoint {
        path: "/v1/connectors",
        method: Method::GET,
        browser: true,
        internal: false,
        handler: |r| r.to(connectors::list_connectors),
    },
    Endpoint {
        path: "/healthz",
        method: Method::GET,
        browser: false,
        internal: false,
        handler: |r| r.to(health::healthz),
    },
    Endpoint {
        path: "/readyz",
        method: Method::GET,
        browser: false,
        internal: false,
        handler: |r| r.to(health::readyz),
    },
    Endpoint {
        path: "/metrics",
        method: Method::GET,
        browser: false,
        internal: true,
        handler: |r| r.to(health::metrics),
    },
];

impl Endpoint {
    /// The `Allow` header of this route's 405 answers: its method, and
    /// `OPTIONS` for a browser route.
    pub fn allow(&self) -> String {
        if self.browser {
            format!("{}, OPTIONS", self.method)
        } else {
            self.method.to_string()
        }
    }

    /// The route as an actix resource: the handler for [`Self::method`],
    /// a `method_not_allowed` problem naming [`Self::allow`] for any other.
    pub fn resource(&'static self) -> Resource {
        web::resource(self.path)
            .route((self.handler)(web::method(self.method.clone())))
            .default_service(web::to(move || async move {
                Err::<HttpResponse, _>(ServiceError::MethodNotAllowed(self.allow()))
            }))
    }
}

/// Any path that is not a route.
pub async fn not_found() -> Result<HttpResponse, ServiceError> {
    Err(ServiceError::NotFound)
}

/// The `Authorization` header, if it is text.
pub fn authorization(req: &HttpRequest) -> Option<&str> {
    let bytes = req.headers().get(header::AUTHORIZATION)?.as_bytes();
    // What `HeaderValue::to_str` accepts (visible ASCII and tab), checked
    // without its early exit so that the compiler vectorizes the loop: the
    // value is a JWT of hundreds of bytes, on every request.
    let visible = bytes.iter().fold(true, |ok, &b| {
        ok & ((b' '..=b'~').contains(&b) | (b == b'\t'))
    });
    visible.then(|| std::str::from_utf8(bytes).ok()).flatten()
}

/// Refuses a body whose declared length is over `limit`, before reading it.
fn check_declared(req: &HttpRequest, limit: usize) -> Result<(), ServiceError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ServiceError::PayloadTooLarge(limit));
    }
    Ok(())
}

/// Reads the body, refusing one larger than `limit` before any work (or
/// JWT check) is done for it. No body costs no allocation (the hot path);
/// a body in one chunk is kept as it arrived.
pub async fn read_body(
    req: &HttpRequest,
    mut body: Payload,
    limit: usize,
) -> Result<Bytes, ServiceError> {
    check_declared(req, limit)?;
    let too_large = |_| ServiceError::PayloadTooLarge(limit);
    let Some(first) = body.next().await else {
        return Ok(Bytes::new());
    };
    let first = first.map_err(too_large)?;
    if first.len() > limit {
        return Err(ServiceError::PayloadTooLarge(limit));
    }
    let Some(second) = body.next().await else {
        return Ok(first);
    };
    let mut all = BytesMut::from(&first[..]);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let chunk = chunk.map_err(too_large)?;
        if all.len() + chunk.len() > limit {
            return Err(ServiceError::PayloadTooLarge(limit));
        }
        all.extend_from_slice(&chunk);
        next = body.next().await;
    }
    Ok(all.freeze())
}

/// Reads and discards the body, refusing one larger than `limit`. The
/// endpoint takes no body, but a client may send `{}`; a huge one is refused
/// before any work (or JWT check) is done for it.
pub async fn discard_body(
    req: &HttpRequest,
    mut body: Payload,
    limit: usize,
) -> Result<(), ServiceError> {
    check_declared(req, limit)?;
    let mut seen = 0;
    while let Some(chunk) = body.next().await {
        seen += chunk
            .map_err(|_| ServiceError::PayloadTooLarge(limit))?
            .len();
        if seen > limit {
            return Err(ServiceError::PayloadTooLarge(limit));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;

    #[test]
    fn the_authorization_header_is_text_exactly_when_to_str_says_so() {
        for b in 0..=u8::MAX {
            let bytes = [b'B', b, b'z'];
            let Ok(value) = HeaderValue::from_bytes(&bytes) else {
                continue;
            };
            let req = TestRequest::default()
                .insert_header((header::AUTHORIZATION, value.clone()))
                .to_http_request();
            assert_eq!(authorization(&req), value.to_str().ok(), "byte {b:#04x}");
        }
        assert_eq!(
            authorization(&TestRequest::default().to_http_request()),
            None
        );
    }
}
