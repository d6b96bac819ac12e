//! `POST /table` (a query table) and `POST /interface` (a scheduled Python
//! script) inside the caller's sub-account.
//!
//! The emulator stores them so a test can see they were accepted, but
//! never runs a query or a script. `/api/table` and `/api/interface` are
//! accepted as aliases.

use crate::auth::SubaccountAuth;
use crate::error::ApiError;
use crate::state::Emu;
use crate::validate::Body;
use actix_web::{HttpResponse, web};
use peliqan_api::{Interface, Table};
use serde_json::Value;

const POSITIVE: &str = "Ensure this value is a positive integer.";

pub(crate) async fn create_table(
    emu: web::Data<Emu>,
    auth: SubaccountAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let mut body = Body::new(body.into_inner())?;
    let name = body.required_str("name");
    let query = body.required_str("query");
    body.integer("database_id", false);
    body.finish()?;

    let mut state = emu.state.lock();
    let table = Table {
        id: state.next_table(),
        name,
        query,
    };
    state
        .tables
        .insert(table.id, (auth.subaccount_id, table.clone()));
    Ok(HttpResponse::Created().json(table))
}

pub(crate) async fn create_interface(
    emu: web::Data<Emu>,
    auth: SubaccountAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let mut body = Body::new(body.into_inner())?;
    let name = body.required_str("name");
    body.required_str("raw_code");
    let schedule = match body.get("schedule") {
        None => {
            body.error("schedule", crate::validate::REQUIRED);
            None
        }
        Some(v) => match crate::validate::as_integer(v).and_then(|s| u64::try_from(s).ok()) {
            Some(s) if s > 0 => Some(s),
            _ => {
                body.error("schedule", POSITIVE);
                None
            }
        },
    };
    body.finish()?;

    let mut state = emu.state.lock();
    let interface = Interface {
        id: state.next_interface(),
        name,
        schedule,
    };
    state
        .interfaces
        .insert(interface.id, (auth.subaccount_id, interface.clone()));
    Ok(HttpResponse::Created().json(interface))
}
