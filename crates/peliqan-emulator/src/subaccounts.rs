//! End-customer accounts and their tokens: the partner-token endpoints
//! under `/api/subaccount`, plus `GET /api/servertypes`.
//!
//! `external_id` is the partner's own tenant id: required, non-blank and
//! unique per partner, as Peliqan enforces. Deleting an account removes
//! what it owns, and its tokens stop working.

use crate::auth::PartnerAuth;
use crate::error::ApiError;
use crate::state::{Emu, PARTNER_ID, State};
use crate::tokens::Scope;
use crate::validate::Body;
use actix_web::{HttpResponse, web};
use peliqan_api::{ExternalId, Subaccount, SubaccountId, SubaccountToken};
use serde_json::Value;
use std::collections::HashMap;

pub(crate) async fn create(
    emu: web::Data<Emu>,
    _: PartnerAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let mut state = emu.state.lock();
    let mut account = read_input(&state, None, body.into_inner())?;
    account.id = state.next_subaccount();
    tracing::info!(subaccount = %account.id, external_id = %account.external_id, "sub-account created");
    state.put_subaccount(account.clone());
    Ok(HttpResponse::Created().json(account))
}

pub(crate) async fn list(emu: web::Data<Emu>, _: PartnerAuth) -> HttpResponse {
    let state = emu.state.lock();
    HttpResponse::Ok().json(state.subaccounts.values().collect::<Vec<_>>())
}

pub(crate) async fn get(
    emu: web::Data<Emu>,
    _: PartnerAuth,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    let state = emu.state.lock();
    let account = state
        .subaccounts
        .get(&SubaccountId(*id))
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(account))
}

/// Full update, like DRF's `PUT`: `external_id` is required again.
pub(crate) async fn update(
    emu: web::Data<Emu>,
    _: PartnerAuth,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = SubaccountId(*id);
    let mut state = emu.state.lock();
    if !state.subaccounts.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    let account = read_input(&state, Some(id), body.into_inner())?;
    state.put_subaccount(account.clone());
    Ok(HttpResponse::Ok().json(account))
}

pub(crate) async fn delete(
    emu: web::Data<Emu>,
    _: PartnerAuth,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    let mut state = emu.state.lock();
    state
        .remove_subaccount(SubaccountId(*id))
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/subaccount/{id}/token[?expire=false]`.
pub(crate) async fn token_by_id(
    emu: web::Data<Emu>,
    _: PartnerAuth,
    id: web::Path<u64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let expire = expire_flag(&query)?;
    let account = emu
        .state
        .lock()
        .subaccounts
        .get(&SubaccountId(*id))
        .cloned();
    let account = account.ok_or_else(ApiError::not_found)?;
    Ok(token_answer(&emu, &account, expire))
}

/// `GET /api/subaccount/token?external_id=..[&expire=false]`.
pub(crate) async fn token_by_external_id(
    emu: web::Data<Emu>,
    _: PartnerAuth,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let expire = expire_flag(&query)?;
    let external_id = match query.get("external_id").map(|s| s.trim()) {
        Some(e) if !e.is_empty() => e.to_owned(),
        _ => {
            return Err(ApiError::field(
                "external_id",
                "This query parameter is required.",
            ));
        }
    };
    let account = {
        let state = emu.state.lock();
        state.subaccount_by_external_id(&external_id).cloned()
    };
    let account = account.ok_or_else(|| {
        ApiError::NotFound(format!(
            "Not found: no sub-account with external_id \"{external_id}\"."
        ))
    })?;
    Ok(token_answer(&emu, &account, expire))
}

pub(crate) async fn servertypes(emu: web::Data<Emu>, _: PartnerAuth) -> HttpResponse {
    HttpResponse::Ok().json(&emu.servertypes)
}

fn token_answer(emu: &Emu, account: &Subaccount, expire: bool) -> HttpResponse {
    let ttl = expire.then_some(emu.token_ttl);
    let token = emu.keys.issue(
        Scope::Subaccount,
        PARTNER_ID,
        Some((account.id.0, account.external_id.as_str())),
        ttl,
    );
    HttpResponse::Ok()
        // A token is a credential: no cache may keep it.
        .insert_header(("Cache-Control", "no-store"))
        .json(SubaccountToken {
            token,
            subaccount_id: Some(account.id),
            external_id: Some(account.external_id.clone()),
        })
}

/// `expire` defaults to true; DRF's BooleanField spellings are accepted.
fn expire_flag(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    match query.get("expire").map(|s| s.to_ascii_lowercase()) {
        None => Ok(true),
        Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on" | "") => Ok(true),
        Some(_) => Err(ApiError::field("expire", "Must be a valid boolean.")),
    }
}

/// Reads a create/update body; `id` is the account being updated, so an
/// update may keep its own `external_id` (the caller sets the id on create).
fn read_input(
    state: &State,
    id: Option<SubaccountId>,
    value: Value,
) -> Result<Subaccount, ApiError> {
    let mut body = Body::new(value)?;
    let external_id = body.required_str("external_id");
    let first_name = body.optional_str("first_name");
    let last_name = body.optional_str("last_name");
    let email = body.optional_str("email");
    let language = body.optional_str("language");
    let company_name = body.optional_str("company_name");
    if email.as_deref().is_some_and(|e| !e.contains('@')) {
        body.error("email", "Enter a valid email address.");
    }
    if let Some(ext) = &external_id {
        let taken = state
            .subaccount_by_external_id(ext)
            .is_some_and(|a| Some(a.id) != id);
        if taken {
            body.error(
                "external_id",
                "sub-account with this external_id already exists.",
            );
        }
    }
    body.finish()?;
    Ok(Subaccount {
        id: id.unwrap_or(SubaccountId(0)),
        external_id: ExternalId(external_id.unwrap_or_default()),
        first_name,
        last_name,
        email,
        language,
        company_name,
    })
}
