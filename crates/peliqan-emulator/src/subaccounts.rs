//! End-customer accounts and their tokens (the partner-token endpoints),
//! plus the connector catalogue, in every dialect.
//!
//! `external_id` is the partner's own tenant id: required, non-blank and
//! unique per partner, as Peliqan enforces, unless the emulator runs with
//! `--accept-duplicate-external-ids` (then a second create makes another
//! account, and lookups by external id answer the lowest id). Deleting an account removes
//! what it owns, and its tokens stop working. Which account a request names
//! (path id, `?account_id=`, `?external_id=`) is read by [`Lookup`] from the
//! dialect's route; the `partner` dialect's extra profile fields and
//! paginated list live in [`crate::partner`].

use crate::auth::PartnerAuth;
use crate::error::ApiError;
use crate::lookup::Lookup;
use crate::partner;
use crate::state::{EmulatorState, PARTNER_ID, State};
use crate::tokens::Scope;
use crate::validate::Body;
use actix_web::{HttpResponse, web};
use peliqan_api::{Dialect, ExternalId, Subaccount, SubaccountId, SubaccountToken};
use serde_json::{Value, json};
use std::collections::HashMap;

pub(crate) async fn create(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let partner = emu.dialect == Dialect::Partner;
    let mut state = emu.state.lock();
    let mut body = Body::new(body.into_inner())?;
    let profile = partner.then(|| partner::read_profile(&mut body));
    let mut account = read_input(&emu, &state, None, body)?;
    account.id = state.next_subaccount();
    tracing::info!(subaccount = %account.id, external_id = %account.external_id, "sub-account created");
    state.put_subaccount(account.clone());
    if let (Some(profile), Some(extras)) = (profile, state.extras.get_mut(&account.id)) {
        extras.profile = profile;
    }
    Ok(if partner {
        // Peliqan's SDK expects 200 from this endpoint.
        HttpResponse::Ok().json(partner::account_json(&state, &account))
    } else {
        HttpResponse::Created().json(account)
    })
}

pub(crate) async fn list(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let state = emu.state.lock();
    if lookup.paginated {
        return partner::page(&emu, &state, &lookup);
    }
    Ok(HttpResponse::Ok().json(state.subaccounts.values().collect::<Vec<_>>()))
}

pub(crate) async fn get(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let state = emu.state.lock();
    let account = lookup.subaccount(&state)?;
    Ok(HttpResponse::Ok().json(shown(&emu, &state, &account)))
}

/// Full update, like DRF's `PUT`: `external_id` is required again.
pub(crate) async fn update(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    lookup: Lookup,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = SubaccountId(lookup.id()?);
    let mut state = emu.state.lock();
    if !state.subaccounts.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    let account = read_input(&emu, &state, Some(id), Body::new(body.into_inner())?)?;
    state.put_subaccount(account.clone());
    Ok(HttpResponse::Ok().json(shown(&emu, &state, &account)))
}

pub(crate) async fn delete(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let id = SubaccountId(lookup.id()?);
    let mut state = emu.state.lock();
    state
        .remove_subaccount(id)
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every token operation: the seed's `GET .../token[?expire=false]`, and
/// `integrate` (short-lived) / `identity` (non-expiring) elsewhere.
pub(crate) async fn token(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let expire = match emu.dialect {
        // The seed documents `expire=false`, with DRF's boolean spellings.
        Dialect::Seed => expire_flag(&lookup.query)?,
        Dialect::SubAccount | Dialect::Partner => !lookup.non_expiring(),
    };
    let account = lookup.subaccount(&emu.state.lock())?;
    let ttl = expire.then_some(emu.token_ttl);
    let token = emu.keys.issue(
        Scope::Subaccount,
        PARTNER_ID,
        Some((account.id.0, account.external_id.as_str())),
        ttl,
    );
    let mut res = HttpResponse::Ok();
    // A token is a credential: no cache may keep it.
    res.insert_header(("Cache-Control", "no-store"));
    Ok(if emu.dialect == Dialect::Partner && !expire {
        // The SDK's `identity` answer: the token alone.
        res.json(json!({ "token": token }))
    } else {
        res.json(SubaccountToken {
            token,
            subaccount_id: Some(account.id),
            external_id: Some(account.external_id.clone()),
        })
    })
}

pub(crate) async fn servertypes(emu: web::Data<EmulatorState>, _: PartnerAuth) -> HttpResponse {
    HttpResponse::Ok().json(&emu.servertypes)
}

/// An account as the dialect shows it.
fn shown(emu: &EmulatorState, state: &State, account: &Subaccount) -> Value {
    if emu.dialect == Dialect::Partner {
        partner::account_json(state, account)
    } else {
        serde_json::to_value(account).unwrap_or_default()
    }
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
/// A taken `external_id` is refused unless duplicates are accepted.
fn read_input(
    emu: &EmulatorState,
    state: &State,
    id: Option<SubaccountId>,
    mut body: Body,
) -> Result<Subaccount, ApiError> {
    let external_id = body.required_str("external_id");
    let first_name = body.optional_str("first_name");
    let last_name = body.optional_str("last_name");
    let email = body.optional_str("email");
    let language = body.optional_str("language");
    let company_name = body.optional_str("company_name");
    if email.as_deref().is_some_and(|e| !e.contains('@')) {
        body.error("email", "Enter a valid email address.");
    }
    if let Some(ext) = &external_id
        && !emu.accept_duplicate_external_ids
    {
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
