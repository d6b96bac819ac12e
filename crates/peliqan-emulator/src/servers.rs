//! Connections ("servers"): `POST /api/servers`, `GET /api/servers`,
//! `GET /api/server/{id}` and `GET /api/server/{id}/logs` in the seed's
//! paths, and wherever the served dialect puts them.
//!
//! All take a sub-account token and see only that sub-account's
//! connections; another account's id answers 404 exactly like an unknown
//! one, so ids leak nothing. Non-OAuth connections are checked at once
//! (see [`crate::connect`]); OAuth ones start `pending` and get an
//! `oauth_url` pointing at the emulator's consent page ([`crate::oauth`]).

use crate::auth::SubaccountAuth;
use crate::connect;
use crate::error::ApiError;
use crate::lookup::Lookup;
use crate::state::{ConnectionRecord, EmulatorState, now_rfc3339};
use crate::tokens::random_hex;
use crate::validate::{self, Body};
use actix_web::{HttpResponse, web};
use peliqan_api::{ConnectionStatus, LogLevel, Server, ServerId, ServertypeId};
use serde::Serialize;
use serde_json::Value;

/// A connection as answered by `POST /api/servers`: the server fields plus,
/// for OAuth connectors, where the end-customer grants access. Reads as
/// both `CreatedConnection` and `Server`.
#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    server: &'a Server,
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth_url: Option<String>,
}

#[tracing::instrument(skip_all, fields(subaccount = %auth.subaccount_id))]
pub(crate) async fn create(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let mut body = Body::new(body.into_inner())?;
    let servertype = match body.get("servertype_id").map(validate::as_integer) {
        None => return Err(ApiError::field("servertype_id", validate::REQUIRED)),
        Some(None) => return Err(ApiError::field("servertype_id", validate::NOT_INTEGER)),
        Some(Some(id)) => u64::try_from(id)
            .ok()
            .and_then(|id| emu.servertype(id))
            .ok_or_else(|| {
                ApiError::field(
                    "servertype_id",
                    format!("Invalid pk \"{id}\" - object does not exist."),
                )
            })?,
    };
    let name = body.optional_str("name");
    let values = connect::check_form(&mut body, servertype);
    body.finish()?;

    let title = servertype
        .title
        .clone()
        .unwrap_or_else(|| servertype.name.clone());
    let now = now_rfc3339(&*emu.clock);
    let mut state = emu.state.lock();
    let id = state.next_server();
    let mut record = ConnectionRecord {
        owner: auth.subaccount_id,
        server: Server {
            id,
            servertype_id: Some(ServertypeId(servertype.id.0)),
            name: Some(name.unwrap_or_else(|| title.clone())),
            status: ConnectionStatus::Pending,
            status_message: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
        },
        logs: Vec::new(),
    };
    record.log(
        &*emu.clock,
        LogLevel::Info,
        format!("Connection created for {title}"),
    );

    let oauth_url = if crate::servertypes::is_oauth(servertype) {
        let oauth_state = random_hex();
        state.oauth_states.insert(oauth_state.clone(), id);
        record.log(
            &*emu.clock,
            LogLevel::Info,
            "OAuth flow started; waiting for the end-customer to grant access",
        );
        // A URL set through `POST /__emulator/next-oauth-url` wins, once.
        Some(state.next_oauth_url.take().unwrap_or_else(|| {
            format!(
                "{}/oauth/authorize?state={oauth_state}&client_id=peliqan-emulator-{}&connection={id}",
                emu.base_url, servertype.name
            )
        }))
    } else {
        record.log(&*emu.clock, LogLevel::Info, values.describe(servertype));
        let (status, message) = match values.emulated_check(servertype) {
            Ok(()) => (ConnectionStatus::Connected, None),
            Err(reason) => (ConnectionStatus::Failed, Some(reason)),
        };
        match &message {
            None => record.log(
                &*emu.clock,
                LogLevel::Info,
                "Credentials accepted; connection is live",
            ),
            Some(reason) => record.log(&*emu.clock, LogLevel::Error, reason.clone()),
        }
        record.server.status = status;
        record.server.status_message = message;
        record.server.updated_at = Some(now_rfc3339(&*emu.clock));
        None
    };
    let answer = HttpResponse::Created().json(Created {
        server: &record.server,
        oauth_url,
    });
    state.connections.insert(id, record);
    Ok(answer)
}

pub(crate) async fn list(emu: web::Data<EmulatorState>, auth: SubaccountAuth) -> HttpResponse {
    let state = emu.state.lock();
    let servers: Vec<&Server> = state
        .connections
        .values()
        .filter(|c| c.owner == auth.subaccount_id)
        .map(|c| &c.server)
        .collect();
    HttpResponse::Ok().json(servers)
}

pub(crate) async fn get(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let state = emu.state.lock();
    let record = owned(&state.connections, auth, lookup.id()?)?;
    Ok(HttpResponse::Ok().json(&record.server))
}

pub(crate) async fn logs(
    emu: web::Data<EmulatorState>,
    auth: SubaccountAuth,
    lookup: Lookup,
) -> Result<HttpResponse, ApiError> {
    let state = emu.state.lock();
    let record = owned(&state.connections, auth, lookup.id()?)?;
    Ok(HttpResponse::Ok().json(&record.logs))
}

/// The connection if it exists and belongs to the caller; 404 otherwise.
fn owned(
    connections: &std::collections::BTreeMap<ServerId, ConnectionRecord>,
    auth: SubaccountAuth,
    id: u64,
) -> Result<&ConnectionRecord, ApiError> {
    connections
        .get(&ServerId(id))
        .filter(|c| c.owner == auth.subaccount_id)
        .ok_or_else(ApiError::not_found)
}
