//! Per-request metrics (route, method, status, latency) and logs.
//!
//! Requests are logged at `debug` (a busy service would drown its logs at
//! `info`); server errors at `warn`, with the route but never a header.
//! The route label is the path of the route's entry in
//! [`crate::routes::ENDPOINTS`] (the table the routes are registered from,
//! so every route has its own label); labels are `'static`, so the hot path
//! allocates nothing, and an attacker's made-up paths all share the
//! `unmatched` label.
//!
//! It is the one middleware of the app: it runs [`cors`] inside itself
//! rather than as a second layer, since each `from_fn` layer boxes the next
//! service's future on every request.

use super::cors::cors;
use crate::routes::ENDPOINTS;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

/// The observing middleware, with CORS inside (use with
/// `actix_web::middleware::from_fn`): it sees CORS refusals too.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let route = route_label(req.path());
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = cors(state.as_ref().map(|s| &***s), req, next).await?;
    let seconds = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    if let Some(state) = state {
        state.metrics.request(route, method, status, seconds);
    }
    if status >= 500 {
        tracing::warn!(
            method,
            route,
            status,
            latency_ms = seconds * 1e3,
            "request failed"
        );
    } else {
        tracing::debug!(method, route, status, latency_ms = seconds * 1e3, "request");
    }
    Ok(res)
}

/// The metrics label of a request for `path`: its route's path, or
/// `unmatched`.
pub fn route_label(path: &str) -> &'static str {
    ENDPOINTS
        .iter()
        .find(|e| e.path == path)
        .map_or("unmatched", |e| e.path)
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}
