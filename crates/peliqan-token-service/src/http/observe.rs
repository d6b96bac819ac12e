//! Per-request metrics (route template, method, status, latency) and logs.
//!
//! Requests are logged at `debug` (a busy service would drown its logs at
//! `info`); server errors at `warn`, with the route but never a header.

use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

/// The observing middleware (use with `actix_web::middleware::from_fn`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    let seconds = started.elapsed().as_secs_f64();
    // The template (`/v1/token`), not the path: unmatched paths share one label.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    if let Some(state) = state {
        state
            .metrics
            .request(&route, method.as_str(), status, seconds);
    }
    if status >= 500 {
        tracing::warn!(%method, %route, status, latency_ms = seconds * 1e3, "request failed");
    } else {
        tracing::debug!(%method, %route, status, latency_ms = seconds * 1e3, "request");
    }
    Ok(res)
}
