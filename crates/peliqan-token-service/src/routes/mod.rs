//! Request handlers, one file per area; they are registered in
//! [`crate::startup::routes`].

pub mod connectors;
pub mod health;
pub mod token;

use crate::error::ServiceError;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
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
