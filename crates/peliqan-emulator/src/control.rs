//! The emulator's own endpoints, outside the Peliqan API: `GET /` (what
//! this server is) and `/__emulator/*` (info, stats, faults, reset, the
//! next `oauth_url`, deleting a sub-account as Peliqan's UI would; the
//! access-token revocation is in [`crate::credentials`]).
//!
//! They need no token, on purpose: tests drive them directly. Those that
//! change state refuse cross-site callers ([`crate::control_guard`]). They
//! are never counted in stats nor affected by faults.

use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::state::Emu;
use actix_web::{HttpResponse, web};
use peliqan_api::SubaccountId;
use serde::Deserialize;
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
            "POST /__emulator/next-oauth-url",
            "DELETE /__emulator/subaccounts/{id}",
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

/// The body of `POST /__emulator/next-oauth-url`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NextOauthUrl {
    oauth_url: String,
}

/// Longest `oauth_url` accepted; real ones are a few hundred bytes.
const MAX_OAUTH_URL: usize = 8 * 1024;

/// `POST /__emulator/next-oauth-url`: the next OAuth connection added
/// answers this `oauth_url` instead of the consent page's, once, so that
/// clients can be tested against what a broken or hostile Peliqan might
/// send (a `javascript:` URL, say).
pub(crate) async fn next_oauth_url(
    emu: web::Data<Emu>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let next: NextOauthUrl = serde_json::from_value(body.into_inner())
        .map_err(|e| ApiError::BadRequest(format!("Invalid body: {e}")))?;
    if next.oauth_url.is_empty() || next.oauth_url.len() > MAX_OAUTH_URL {
        return Err(ApiError::field(
            "oauth_url",
            format!("Must be 1 to {MAX_OAUTH_URL} bytes long."),
        ));
    }
    emu.state.lock().next_oauth_url = Some(next.oauth_url);
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /__emulator/subaccounts/{id}`: deletes a sub-account and what it
/// owns, as someone doing it in Peliqan's UI would, in every dialect (the
/// `partner` dialect's API has no route for it). Its tokens stop working.
pub(crate) async fn delete_subaccount(
    emu: web::Data<Emu>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    let id = SubaccountId(id.into_inner());
    let removed = emu.state.lock().remove_subaccount(id);
    let removed = removed.ok_or_else(ApiError::not_found)?;
    tracing::info!(subaccount = %id, external_id = %removed.external_id, "sub-account deleted through the control endpoint");
    Ok(HttpResponse::NoContent().finish())
}
