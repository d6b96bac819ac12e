//! `POST /v1/token`: the tenant's short-lived Peliqan token for the browser.

use super::{authorization, discard_body};
use crate::error::ServiceError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// Verifies the user and answers `{"token","expires_at","subaccount_id",
/// "external_id","peliqan_url","dialect"[,"routes"]}` ([`peliqan_api::TokenAnswer`]).
// A debug-level span: at `info` it costs nothing on the hot path.
#[tracing::instrument(name = "issue_token", level = "debug", skip_all, fields(tenant = tracing::field::Empty))]
pub async fn issue_token(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ServiceError> {
    discard_body(&req, body, state.max_body_bytes).await?;
    let user = state.authenticate(authorization(&req)).await?;
    tracing::Span::current().record("tenant", user.tenant.as_str());
    let token = state.tokens.get(&user.tenant, &user.profile).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        // A token must not sit in a browser or proxy cache.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .body(token.body(&user.tenant, &state.token_routing)))
}
