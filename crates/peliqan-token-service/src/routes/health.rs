//! `/healthz` (alive), `/readyz` (can serve tokens), `/metrics` (Prometheus).

use crate::error::ServiceError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// The process is up; no upstream call.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Peliqan is reachable and accepts the partner credentials (cached briefly).
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ServiceError> {
    let upstream = state.upstream.clone();
    let probe = || async move {
        upstream
            .servertypes()
            .await
            .map(drop)
            .map_err(|e| upstream.describe(&e))
    };
    match state.health.check(state.readiness_cache, probe).await {
        Ok(()) => Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))),
        Err(why) => Err(ServiceError::NotReady(why)),
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.encode(state.tokens.len()))
}
