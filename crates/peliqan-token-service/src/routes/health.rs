//! `/healthz` (alive), `/readyz` (can serve tokens), `/metrics` (Prometheus,
//! on the public port or on `TOKEN_SERVICE_METRICS_LISTEN` only).

use crate::error::ServiceError;
use crate::readiness::not_ready_reason;
use crate::state::AppState;
use crate::upstream::Credential;
use actix_web::{HttpResponse, web};

/// The process is up; no upstream call.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Peliqan is reachable and accepts the partner credentials, as the last
/// probe found (see [`crate::readiness`]). The answer is a fixed sentence;
/// what Peliqan said goes to the log.
pub async fn readyz(
    state: web::Data<AppState>,
    credential: web::Data<Credential>,
) -> Result<HttpResponse, ServiceError> {
    let upstream = state.upstream.clone();
    let probe = || async move {
        match upstream.servertypes().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let why = not_ready_reason(&e, &credential);
                tracing::warn!(error = %upstream.describe(&e), "not ready: {why}");
                Err(why)
            }
        }
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
