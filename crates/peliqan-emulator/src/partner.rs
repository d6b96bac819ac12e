//! What only the `partner` dialect has, shaped after Peliqan's own Python
//! SDK (`peliqan` 2.18.5): the sub-account profile fields, the paginated
//! sub-account list, `.../sub-accounts/{id}/info/`, script groups and the
//! script list. Handlers shared with other dialects live in
//! [`crate::subaccounts`], [`crate::servers`] and [`crate::scripts`].

use crate::auth::{PartnerAuth, SubaccountAuth};
use crate::error::ApiError;
use crate::lookup::Lookup;
use crate::state::{EmulatorState, ScriptRecord, State};
use crate::validate::Body;
use actix_web::{HttpResponse, web};
use peliqan_api::{Subaccount, SubaccountId};
use serde_json::{Map, Value, json};

/// The SDK's `list_subaccounts` default page size.
const DEFAULT_PER_PAGE: u64 = 10;
/// DRF's `max_page_size`-style cap, so a page stays small.
const MAX_PER_PAGE: u64 = 100;

/// Reads the partner fields of a create body (recording errors in `body`).
/// The password is checked but never kept: the emulator has no logins.
pub(crate) fn read_profile(body: &mut Body) -> Map<String, Value> {
    let mut profile = Map::new();
    body.optional_str("password");
    for name in ["country", "timezone", "license"] {
        if let Some(v) = body.optional_str(name) {
            profile.insert(name.to_owned(), v.into());
        }
    }
    // The SDK passes whatever the caller gave: a label such as "11-50" or a number.
    match body.get("company_size").cloned() {
        None => {}
        Some(v @ (Value::String(_) | Value::Number(_))) => {
            profile.insert("company_size".to_owned(), v);
        }
        Some(_) => body.error("company_size", crate::validate::NOT_STRING),
    }
    match body.get("verified").cloned() {
        None => {}
        Some(v @ Value::Bool(_)) => {
            profile.insert("verified".to_owned(), v);
        }
        Some(_) => body.error("verified", "Must be a valid boolean."),
    }
    if let Some(date) = body.optional_str("expires_on") {
        if chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok() {
            profile.insert("expires_on".to_owned(), date.into());
        } else {
            body.error(
                "expires_on",
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            );
        }
    }
    profile
}

/// An account with its profile fields, as this dialect answers it.
pub(crate) fn account_json(state: &State, account: &Subaccount) -> Value {
    let mut v = serde_json::to_value(account).unwrap_or_default();
    if let (Some(obj), Some(extras)) = (v.as_object_mut(), state.extras.get(&account.id)) {
        for (k, val) in &extras.profile {
            obj.insert(k.clone(), val.clone());
        }
    }
    v
}

/// `GET /api/partner/sub-accounts/?page=&per_page=`: DRF's page envelope.
pub(crate) fn page(
    emu: &EmulatorState,
    state: &State,
    lookup: &Lookup,
) -> Result<HttpResponse, ApiError> {
    let per_page = lookup
        .per_page
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let page = lookup.page.unwrap_or(1);
    let count = state.subaccounts.len() as u64;
    let pages = count.div_ceil(per_page).max(1);
    if page == 0 || page > pages {
        // DRF's PageNumberPagination answer for a page out of range.
        return Err(ApiError::NotFound("Invalid page.".to_owned()));
    }
    let results: Vec<Value> = state
        .subaccounts
        .values()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .map(|a| account_json(state, a))
        .collect();
    let path = emu
        .routes
        .api()
        .find(|e| e.ops.iter().any(|(op, _)| *op == lookup.op))
        .map(|e| e.template.clone())
        .unwrap_or_default();
    let link = |p: u64| format!("{}{path}?page={p}&per_page={per_page}", emu.base_url);
    Ok(HttpResponse::Ok().json(json!({
        "count": count,
        "next": (page < pages).then(|| link(page + 1)),
        "previous": (page > 1).then(|| link(page - 1)),
        "results": results,
    })))
}

/// `GET /api/partner/sub-accounts/{id}/info/`: the account's default data
/// warehouse.
pub(crate) async fn info(
    emu: web::Data<EmulatorState>,
    _: PartnerAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let id = SubaccountId(lookup.id()?);
    let state = emu.state.lock();
    let extras = state.extras.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(json!({
        "id": id,
        "default_dw_id": extras.dw_id,
        "default_dw_name": dw_name(extras.dw_id),
    })))
}

fn dw_name(dw_id: u64) -> String {
    format!("dw_{dw_id}")
}

/// `GET /api/groups/`: the caller's script groups (one default group each).
pub(crate) async fn groups(emu: web::Data<EmulatorState>, auth: SubaccountAuth) -> HttpResponse {
    let state = emu.state.lock();
    let groups: Vec<Value> = state
        .extras
        .get(&auth.subaccount_id)
        .map(|e| json!({"id": e.group_id, "name": DEFAULT_GROUP}))
        .into_iter()
        .collect();
    HttpResponse::Ok().json(groups)
}

/// The name of every sub-account's one script group.
const DEFAULT_GROUP: &str = "Default";

/// `GET /api/interfaces/`: the caller's scripts.
pub(crate) async fn scripts(emu: web::Data<EmulatorState>, auth: SubaccountAuth) -> HttpResponse {
    let state = emu.state.lock();
    let list: Vec<Value> = state
        .interfaces
        .values()
        .filter(|s| s.owner == auth.subaccount_id)
        .map(script_json)
        .collect();
    HttpResponse::Ok().json(list)
}

const RUN_MODES: &[&str] = &["STREAMLIT", "API", "SHELL"];

/// `POST /api/interfaces/group/{group_id}/` with `{name, raw_script,
/// run_mode, type?, schedule?}`: a script in one of the caller's groups.
pub(crate) async fn create_script(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    lookup: Lookup,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let group_id = lookup.group_id.ok_or_else(ApiError::not_found)?;
    let owns_group = emu
        .state
        .lock()
        .extras
        .get(&auth.subaccount_id)
        .is_some_and(|e| e.group_id == group_id);
    if !owns_group {
        return Err(ApiError::NotFound(
            "Not found: no script group with this id in the account.".to_owned(),
        ));
    }
    let mut body = Body::new(body.into_inner())?;
    let name = body.required_str("name");
    // The SDK sends `raw_script: ""` when no code is given yet.
    body.string_allow_blank("raw_script");
    let run_mode = body.required_str("run_mode");
    if let Some(mode) = &run_mode
        && !RUN_MODES.contains(&mode.as_str())
    {
        body.error("run_mode", format!("\"{mode}\" is not a valid choice."));
    }
    let kind = body.optional_str("type");
    let schedule = body.positive_integer("schedule", false);
    body.finish()?;

    let mut state = emu.state.lock();
    let record = ScriptRecord {
        owner: auth.subaccount_id,
        interface: peliqan_api::Interface {
            id: state.next_interface(),
            name,
            schedule,
        },
        group_id: Some(group_id),
        run_mode,
        kind,
    };
    let answer = script_json(&record);
    state.interfaces.insert(record.interface.id, record);
    Ok(HttpResponse::Ok().json(answer))
}

fn script_json(s: &ScriptRecord) -> Value {
    json!({
        "id": s.interface.id,
        "name": s.interface.name,
        "group": s.group_id,
        "run_mode": s.run_mode,
        "type": s.kind,
        "schedule": s.interface.schedule,
    })
}
