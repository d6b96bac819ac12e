//! Per-request metrics (route, method, status, latency) and logs.
//!
//! Requests are logged at `debug` (a busy service would drown its logs at
//! `info`); server errors at `warn`, with the route but never a header.
//! Labels come from fixed lists, so the hot path allocates nothing and an
//! attacker's made-up paths all share the `unmatched` label.

use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

/// Every route of [`crate::startup::routes`].
pub const ROUTES: &[&str] = &[
    "/v1/token",
    "/v1/connectors",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// The observing middleware (use with `actix_web::middleware::from_fn`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = ROUTES
        .iter()
        .copied()
        .find(|r| *r == req.path())
        .unwrap_or("unmatched");
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
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
