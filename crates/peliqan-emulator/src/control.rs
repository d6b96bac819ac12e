//! The emulator's own endpoints, outside the Peliqan API: `GET /` (what
//! this server is) and `/__emulator/*` (info, stats, faults, reset; the
//! access-token revocation is in [`crate::credentials`]).
//!
//! They need no token, on purpose: tests drive them directly. They are
//! never counted in stats nor affected by faults.

use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::state::Emu;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

/// `GET /`: name and version, the dialect, and every route it serves.
pub(crate) async fn index(emu: web::Data<Emu>) -> HttpResponse {
    let mut endpoints: Vec<String> = emu
        .dialect
        .routes()
        .iter()
        .map(|(_, route)| route.to_string())
        .collect();
    if emu.dialect == peliqan_api::Dialect::Partner {
        endpoints.push(format!("PATCH {}", crate::routing::PARTNER_TABLE_UPDATE));
    }
    endpoints.extend(
        [
            "GET /__emulator/info",
            "GET /__emulator/stats",
            "POST/GET/DELETE /__emulator/faults",
            "POST /__emulator/reset",
            "POST /__emulator/access-tokens/revoke",
        ]
        .map(String::from),
    );
    HttpResponse::Ok().json(json!({
        "name": "peliqan-emulator",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "A local stand-in for the Peliqan Partner (Embed) API.",
        "dialect": emu.dialect.name(),
        "strict_slashes": emu.strict_slashes,
        "endpoints": endpoints,
    }))
}

/// `GET /__emulator/info`: the dialect and slash mode served, so a test or
/// a tool can check what it talks to.
pub(crate) async fn info(emu: web::Data<Emu>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "dialect": emu.dialect.name(),
        "strict_slashes": emu.strict_slashes,
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
