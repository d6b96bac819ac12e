//! The emulator's own endpoints, outside the Peliqan API: `GET /` (what
//! this server is) and `/__emulator/*` (stats, faults, reset).
//!
//! They need no token, on purpose: tests drive them directly. They are
//! never counted in stats nor affected by faults.

use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::state::Emu;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

/// `GET /`: name and version, and where to start.
pub(crate) async fn index() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": "peliqan-emulator",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "A local stand-in for the Peliqan Partner (Embed) API.",
        "endpoints": [
            "POST/GET /api/subaccount", "GET/PUT/DELETE /api/subaccount/{id}",
            "GET /api/subaccount/{id}/token", "GET /api/subaccount/token?external_id=",
            "GET /api/servertypes", "POST/GET /api/servers", "GET /api/server/{id}",
            "GET /api/server/{id}/logs", "POST /table", "POST /interface",
            "GET /__emulator/stats", "POST/GET/DELETE /__emulator/faults", "POST /__emulator/reset"
        ]
    }))
}

/// `GET /__emulator/stats`.
pub(crate) async fn stats(emu: web::Data<Emu>) -> HttpResponse {
    let state = emu.state.lock();
    HttpResponse::Ok().json(json!({ "requests": &state.stats }))
}

/// `POST /__emulator/faults`: adds one rule.
pub(crate) async fn add_fault(
    emu: web::Data<Emu>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let rule: FaultRule = serde_json::from_value(body.into_inner())
        .map_err(|e| ApiError::BadRequest(format!("Invalid fault rule: {e}")))?;
    rule.validate()?;
    let mut state = emu.state.lock();
    state.faults.push(rule);
    Ok(HttpResponse::Created().json(json!({ "faults": &state.faults })))
}

/// `GET /__emulator/faults`: the active rules.
pub(crate) async fn list_faults(emu: web::Data<Emu>) -> HttpResponse {
    let state = emu.state.lock();
    HttpResponse::Ok().json(json!({ "faults": &state.faults }))
}

/// `DELETE /__emulator/faults`: removes all rules.
pub(crate) async fn clear_faults(emu: web::Data<Emu>) -> HttpResponse {
    emu.state.lock().faults.clear();
    HttpResponse::NoContent().finish()
}

/// `POST /__emulator/reset`: forgets all state; the signing key and the
/// partner token stay valid.
pub(crate) async fn reset(emu: web::Data<Emu>) -> HttpResponse {
    emu.state.lock().reset();
    tracing::info!("state reset");
    HttpResponse::NoContent().finish()
}
