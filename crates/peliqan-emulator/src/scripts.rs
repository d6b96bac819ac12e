//! Query tables and scheduled Python scripts inside the caller's
//! sub-account: the seed's `POST /table` and `POST /interface` (also under
//! `/api/table` and `/api/interface`), and the `partner` dialect's
//! `POST /api/database/tables/create-sql-query/` body
//! `{table_type: "query", schema_id, name, query}`, with the
//! `PATCH /api/database/tables/{id}/` Peliqan's SDK sends after it. The
//! `partner` script endpoints are in [`crate::partner`].
//!
//! The emulator stores them so a test can see they were accepted, but
//! never runs a query or a script.

use crate::auth::SubaccountAuth;
use crate::error::ApiError;
use crate::state::{EmulatorState, ScriptRecord, TableRecord};
use crate::validate::Body;
use actix_web::{HttpRequest, HttpResponse, web};
use peliqan_api::dialect::BodyShape;
use peliqan_api::{Interface, Table, TableId};
use serde_json::{Value, json};

pub(crate) async fn create_table(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let shape = emu.dialect.body_shape();
    let mut body = Body::new(body.into_inner())?;
    if shape == BodyShape::Partner {
        match body.required_str("table_type").as_deref() {
            Some("query") | None => {}
            Some(other) => body.error("table_type", format!("\"{other}\" is not a valid choice.")),
        }
    }
    let name = body.required_str("name");
    let query = body.required_str("query");
    body.integer("database_id", false);
    let schema_id = match shape {
        BodyShape::Partner => body
            .integer("schema_id", false)
            .and_then(|i| u64::try_from(i).ok()),
        BodyShape::Seed => None,
    };
    body.finish()?;

    let mut state = emu.state.lock();
    let table = Table {
        id: state.next_table(),
        name,
        query,
    };
    let record = TableRecord {
        owner: auth.subaccount_id,
        table: table.clone(),
        schema_id,
    };
    let answer = partner_table(&record);
    state.tables.insert(table.id, record);
    Ok(match shape {
        BodyShape::Seed => HttpResponse::Created().json(table),
        // Peliqan's SDK expects 200 from this endpoint.
        BodyShape::Partner => HttpResponse::Ok().json(answer),
    })
}

/// `PATCH /api/database/tables/{id}/` (`partner`): a partial update. Only
/// `name` and `query` are kept; the SDK's other settings (`is_view`,
/// `settings`, ...) are accepted and ignored, as nothing runs here.
pub(crate) async fn update_table(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = req
        .match_info()
        .get("id")
        .and_then(|s| s.parse().ok())
        .map(TableId)
        .ok_or_else(ApiError::not_found)?;
    let mut body = Body::new(body.into_inner())?;
    let name = body.optional_str("name");
    let query = body.optional_str("query");
    body.finish()?;
    let mut state = emu.state.lock();
    let record = state
        .tables
        .get_mut(&id)
        .filter(|t| t.owner == auth.subaccount_id)
        .ok_or_else(ApiError::not_found)?;
    if name.is_some() {
        record.table.name = name;
    }
    if query.is_some() {
        record.table.query = query;
    }
    Ok(HttpResponse::Ok().json(partner_table(record)))
}

fn partner_table(t: &TableRecord) -> Value {
    json!({
        "id": t.table.id,
        "name": t.table.name,
        "query": t.table.query,
        "table_type": "query",
        "schema_id": t.schema_id,
    })
}

/// The seed's script body: `{name, raw_code, schedule}`.
pub(crate) async fn create_interface(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let mut body = Body::new(body.into_inner())?;
    let name = body.required_str("name");
    body.required_str("raw_code");
    let schedule = body.positive_integer("schedule", true);
    body.finish()?;

    let mut state = emu.state.lock();
    let interface = Interface {
        id: state.next_interface(),
        name,
        schedule,
    };
    let record = ScriptRecord {
        owner: auth.subaccount_id,
        interface: interface.clone(),
        group_id: None,
        run_mode: None,
        kind: None,
    };
    state.interfaces.insert(interface.id, record);
    Ok(HttpResponse::Created().json(interface))
}
