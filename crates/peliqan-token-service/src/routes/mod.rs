//! Request handlers, one file per area; they are registered in
//! [`crate::startup::routes`].

pub mod connectors;
pub mod health;
pub mod token;

use crate::error::ServiceError;
use actix_web::http::header;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use futures::StreamExt;

/// Any path that is not a route.
pub async fn not_found() -> Result<HttpResponse, ServiceError> {
    Err(ServiceError::NotFound)
}

/// A route called with the wrong method.
pub async fn method_not_allowed() -> Result<HttpResponse, ServiceError> {
    Err(ServiceError::MethodNotAllowed)
}

/// The `Authorization` header, if it is text.
pub fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Reads and discards the body, refusing one larger than `limit`. The
/// endpoints take no body, but a client may send `{}`; a huge one is refused
/// before any work (or JWT check) is done for it.
pub async fn discard_body(
    req: &HttpRequest,
    mut body: Payload,
    limit: usize,
) -> Result<(), ServiceError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ServiceError::PayloadTooLarge(limit));
    }
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
