//! The emulator's own endpoints, outside the Peliqan API: `GET /` (what
//! this server is) and `/__emulator/*` (info, stats, faults, reset, the
//! next `oauth_url`, deleting a sub-account as Peliqan's UI would, the
//! sub-accounts with one external id, revoking access tokens, advancing a
//! manual clock).
//!
//! They need no token, on purpose: tests drive them directly. Those that
//! change state refuse cross-site callers ([`crate::control_guard`]). They
//! are never counted in stats nor affected by faults. Each one is a method
//! of [`EmulatorState`] here, called by its handler and by
//! [`crate::Emulator`]'s in-process method of the same name; bodies and
//! answers are the types of [`crate::control_api`].

use crate::control_api::{
    AccountAssets, AdvanceClock, Assets, ClockNow, Fault, Faults, Info, NextOauthUrl,
    RecordedScript, RecordedTable, Revoked, Stats, SubaccountsWithExternalId,
};
use crate::error::ApiError;
use crate::state::EmulatorState;
use actix_web::{HttpResponse, web};
use peliqan_api::SubaccountId;
use peliqan_api::clock::Clock;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// Longest `oauth_url` accepted; real ones are a few hundred bytes.
const MAX_OAUTH_URL: usize = 8 * 1024;

impl EmulatorState {
    pub(crate) fn info(&self) -> Info {
        Info {
            dialect: self.dialect.name().to_owned(),
            strict_slashes: self.strict_slashes,
            accept_duplicate_external_ids: self.accept_duplicate_external_ids,
        }
    }

    /// Every sub-account with `external_id`, lowest id first; a blank one
    /// is refused (400 naming the parameter).
    pub(crate) fn subaccounts_with_external_id(
        &self,
        external_id: &str,
    ) -> Result<SubaccountsWithExternalId, ApiError> {
        if external_id.trim().is_empty() {
            return Err(ApiError::field(
                "external_id",
                "This query parameter is required.",
            ));
        }
        let ids = self.state.lock().subaccounts_with_external_id(external_id);
        Ok(SubaccountsWithExternalId {
            external_id: external_id.to_owned(),
            count: ids.len(),
            ids,
        })
    }

    /// The tables and scripts of each sub-account (with `external_id`
    /// only, when given).
    pub(crate) fn assets(&self, external_id: Option<&str>) -> Assets {
        let state = self.state.lock();
        let mut accounts: Vec<AccountAssets> = state
            .subaccounts
            .values()
            .filter(|a| external_id.is_none_or(|id| a.external_id.as_str() == id))
            .map(|a| AccountAssets {
                subaccount_id: a.id,
                external_id: a.external_id.as_str().to_owned(),
                tables: Vec::new(),
                scripts: Vec::new(),
            })
            .collect();
        let index: std::collections::HashMap<SubaccountId, usize> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.subaccount_id, i))
            .collect();
        for t in state.tables.values() {
            if let Some(&i) = index.get(&t.owner) {
                accounts[i].tables.push(RecordedTable {
                    id: t.table.id.0,
                    name: t.table.name.clone(),
                    query: t.table.query.clone(),
                });
            }
        }
        for s in state.interfaces.values() {
            if let Some(&i) = index.get(&s.owner) {
                accounts[i].scripts.push(RecordedScript {
                    id: s.interface.id.0,
                    name: s.interface.name.clone(),
                    schedule: s.interface.schedule,
                });
            }
        }
        Assets { accounts }
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            requests: self.state.lock().stats.clone(),
        }
    }

    pub(crate) fn faults(&self) -> Faults {
        Faults {
            faults: self.state.lock().faults.clone(),
        }
    }

    /// Adds `fault` after checking it; answers the active rules.
    pub(crate) fn add_fault(&self, fault: Fault) -> Result<Faults, ApiError> {
        fault.validate()?;
        let mut state = self.state.lock();
        state.faults.push(fault);
        Ok(Faults {
            faults: state.faults.clone(),
        })
    }

    pub(crate) fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Forgets all state; the signing key and the partner token stay valid.
    pub(crate) fn reset(&self) {
        self.state.lock().reset();
        tracing::info!("state reset");
    }

    pub(crate) fn revoke_access_tokens(&self) -> Revoked {
        let revoked = self.credentials.revoke_all();
        tracing::info!(revoked, "access tokens revoked");
        Revoked { revoked }
    }

    pub(crate) fn next_oauth_url(&self, next: NextOauthUrl) -> Result<(), ApiError> {
        if next.oauth_url.is_empty() || next.oauth_url.len() > MAX_OAUTH_URL {
            return Err(ApiError::field(
                "oauth_url",
                format!("Must be 1 to {MAX_OAUTH_URL} bytes long."),
            ));
        }
        self.state.lock().next_oauth_url = Some(next.oauth_url);
        Ok(())
    }

    pub(crate) fn delete_subaccount(&self, id: SubaccountId) -> Result<(), ApiError> {
        let removed = self.state.lock().remove_subaccount(id);
        let removed = removed.ok_or_else(ApiError::not_found)?;
        tracing::info!(subaccount = %id, external_id = %removed.external_id, "sub-account deleted through the control endpoint");
        Ok(())
    }

    /// Moves the manual clock; refused when the emulator runs on the
    /// system clock.
    pub(crate) fn advance_clock(&self, by: Duration) -> Result<ClockNow, ApiError> {
        let Some(clock) = &self.manual_clock else {
            return Err(ApiError::BadRequest(
                "This emulator runs on the system clock, which cannot be advanced: start it \
                 with --manual-clock (Config::manual_clock in process)."
                    .to_owned(),
            ));
        };
        clock.advance(by);
        tracing::info!(advanced_s = by.as_secs_f64(), "clock advanced");
        Ok(ClockNow {
            unix_secs: clock.unix_secs(),
        })
    }
}

/// A control body read from any JSON, so that a wrong one is a 400 naming
/// the problem (not actix's bare error).
fn read<T: DeserializeOwned>(body: web::Json<Value>, what: &str) -> Result<T, ApiError> {
    serde_json::from_value(body.into_inner())
        .map_err(|e| ApiError::BadRequest(format!("Invalid {what}: {e}")))
}

/// `GET /`: name and version, the dialect, and every route it serves.
pub(crate) async fn index(emu: web::Data<EmulatorState>) -> HttpResponse {
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
            "GET /__emulator/subaccounts?external_id={external_id}",
            "DELETE /__emulator/subaccounts/{id}",
            "POST /__emulator/access-tokens/revoke",
            "POST /__emulator/clock",
            "GET /__emulator/assets?external_id={external_id}",
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
pub(crate) async fn info(emu: web::Data<EmulatorState>) -> HttpResponse {
    HttpResponse::Ok().json(emu.info())
}

/// `GET /__emulator/assets[?external_id=X]`: what each sub-account holds.
pub(crate) async fn assets(
    emu: web::Data<EmulatorState>,
    query: web::Query<ExternalIdQuery>,
) -> HttpResponse {
    let external_id = query.into_inner().external_id;
    HttpResponse::Ok().json(emu.assets(external_id.as_deref()))
}

/// `GET /__emulator/stats`.
pub(crate) async fn stats(emu: web::Data<EmulatorState>) -> HttpResponse {
    HttpResponse::Ok().json(emu.stats())
}

/// `POST /__emulator/faults`: adds one rule.
pub(crate) async fn add_fault(
    emu: web::Data<EmulatorState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let faults = emu.add_fault(read(body, "fault rule")?)?;
    Ok(HttpResponse::Created().json(faults))
}

/// `GET /__emulator/faults`: the active rules.
pub(crate) async fn list_faults(emu: web::Data<EmulatorState>) -> HttpResponse {
    HttpResponse::Ok().json(emu.faults())
}

/// `DELETE /__emulator/faults`: removes all rules.
pub(crate) async fn clear_faults(emu: web::Data<EmulatorState>) -> HttpResponse {
    emu.clear_faults();
    HttpResponse::NoContent().finish()
}

/// `POST /__emulator/reset`: forgets all state; the signing key and the
/// partner token stay valid.
pub(crate) async fn reset(emu: web::Data<EmulatorState>) -> HttpResponse {
    emu.reset();
    HttpResponse::NoContent().finish()
}

/// `POST /__emulator/access-tokens/revoke`: every issued access token
/// answers 401 from now on; new ones can be fetched as usual.
pub(crate) async fn revoke_access_tokens(emu: web::Data<EmulatorState>) -> HttpResponse {
    HttpResponse::Ok().json(emu.revoke_access_tokens())
}

/// `POST /__emulator/next-oauth-url`: the next OAuth connection added
/// answers this `oauth_url` instead of the consent page's, once, so that
/// clients can be tested against what a broken or hostile Peliqan might
/// send (a `javascript:` URL, say).
pub(crate) async fn next_oauth_url(
    emu: web::Data<EmulatorState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    emu.next_oauth_url(read(body, "body")?)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /__emulator/subaccounts/{id}`: deletes a sub-account and what it
/// owns, as someone doing it in Peliqan's UI would, in every dialect (the
/// `partner` dialect's API has no route for it). Its tokens stop working.
pub(crate) async fn delete_subaccount(
    emu: web::Data<EmulatorState>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    emu.delete_subaccount(SubaccountId(id.into_inner()))?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /__emulator/subaccounts?external_id=X`: how many sub-accounts have
/// that external id, and their ids (several only with
/// `--accept-duplicate-external-ids`).
pub(crate) async fn subaccounts_with_external_id(
    emu: web::Data<EmulatorState>,
    query: web::Query<ExternalIdQuery>,
) -> Result<HttpResponse, ApiError> {
    let external_id = query.into_inner().external_id.unwrap_or_default();
    Ok(HttpResponse::Ok().json(emu.subaccounts_with_external_id(&external_id)?))
}

/// The query of `GET /__emulator/subaccounts`.
#[derive(serde::Deserialize)]
pub(crate) struct ExternalIdQuery {
    external_id: Option<String>,
}

/// `POST /__emulator/clock` `{"advance_secs": N}`: moves the clock of an
/// emulator started with `--manual-clock` forward; refused (400) otherwise.
pub(crate) async fn advance_clock(
    emu: web::Data<EmulatorState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let advance: AdvanceClock = read(body, "body")?;
    let now = emu.advance_clock(Duration::from_secs(advance.advance_secs))?;
    Ok(HttpResponse::Ok().json(now))
}
