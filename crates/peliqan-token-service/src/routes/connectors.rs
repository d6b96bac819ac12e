//! `GET /v1/connectors`: servertypes with their connect forms. Reading them
//! needs the partner token, so the browser gets them from here.

use super::discard_body;
use crate::error::ServiceError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// The connector catalogue, for any signed-in user.
#[tracing::instrument(name = "list_connectors", level = "debug", skip_all)]
pub async fn list_connectors(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ServiceError> {
    discard_body(&req, body, state.max_body_bytes).await?;
    state.authenticate(&req).await?;
    let json = state.connectors.json().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
        .body(json))
}
