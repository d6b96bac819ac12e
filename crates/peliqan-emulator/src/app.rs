//! The whole HTTP surface in one place: routes, extractor error handlers
//! and the middleware stack, and the actix server built from them.
//!
//! The API routes are those of the served dialect's table
//! ([`crate::routing`]): each path is one resource carrying its operations
//! ([`PathOps`]), each method one handler chosen by [`family`]. Middleware,
//! from the outside in: request counting ([`crate::stats`]), CORS
//! ([`crate::cors`]), the partner error envelope ([`crate::error`]), the
//! control endpoints' cross-site guard ([`crate::control_guard`]), fault
//! injection ([`crate::faults`]), trailing slashes ([`crate::slashes`]),
//! then the routes. An unknown path is Django's HTML 404; every other error
//! on the way — a wrong method, a body that is not JSON or too large — is
//! an [`ApiError`] in the dialect's JSON envelope.

use crate::error::{ApiError, partner_envelope};
use crate::lookup::PathOps;
use crate::routing::{self as paths, RouteTable};
use crate::state::EmulatorState;
use crate::{
    control, control_guard, cors, credentials, faults, oauth, partner, scripts, servers, slashes,
    stats, subaccounts,
};
use actix_web::dev::Server;
use actix_web::error::{JsonPayloadError, UrlencodedError};
use actix_web::http::Method as HttpMethod;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpServer, Resource, web};
use peliqan_api::{Dialect, Operation};

/// Largest JSON body accepted; real bodies here are a few hundred bytes.
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

/// Starts serving on `listener`; the returned server must be polled (spawned).
pub(crate) fn server(
    emu: web::Data<EmulatorState>,
    listener: std::net::TcpListener,
) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(emu.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(BODY_LIMIT)
                    // Content-Type must say JSON, as DRF's parser requires;
                    // anything else is a 415 naming the fix.
                    .error_handler(json_error),
            )
            .app_data(
                web::FormConfig::default()
                    .limit(16 * 1024)
                    .error_handler(form_error),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::BadRequest(format!("Invalid query string: {e}")).into()
            }))
            .configure(|cfg| routes(cfg, &emu.routes, emu.dialect))
            .default_service(web::to(slashes::unknown_path))
            .wrap(from_fn(slashes::slashes))
            .wrap(from_fn(faults::inject))
            .wrap(from_fn(control_guard::guard))
            .wrap(from_fn(partner_envelope))
            .wrap(from_fn(cors::cors))
            .wrap(from_fn(stats::count))
    })
    // Small: the emulator serves one test or one developer at a time, and
    // the machines running it are busy compiling.
    .workers(2)
    .shutdown_timeout(5)
    // The embedding process owns signals (the binary stops us on Ctrl-C).
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Every route of the emulator: the dialect's table, then our own pages.
fn routes(cfg: &mut web::ServiceConfig, table: &RouteTable, dialect: Dialect) {
    use web::{delete, get, post};
    for entry in table.api() {
        let mut res = resource(&entry.pattern).app_data(PathOps(entry.ops.clone()));
        let mut methods = Vec::new();
        for (op, route) in &entry.ops {
            if methods.contains(&route.method) {
                continue; // same family, tested in routing
            }
            methods.push(route.method);
            let method = HttpMethod::from_bytes(route.method.as_str().as_bytes())
                .expect("the table's methods are standard");
            res = res.route(handler(family(*op), dialect).method(method));
        }
        cfg.service(res);
    }
    if dialect == Dialect::Partner {
        // Beyond the table, for Peliqan's SDK (see `routing::PARTNER_TABLE_UPDATE`).
        let path = paths::pattern(paths::PARTNER_TABLE_UPDATE);
        cfg.service(resource(&path).route(web::patch().to(scripts::update_table)));
    }
    cfg.service(resource(paths::INDEX).route(get().to(control::index)))
        // The emulated OAuth provider (no token: it is a browser page).
        .service(resource(paths::OAUTH_AUTHORIZE).route(get().to(oauth::authorize)))
        .service(resource(paths::OAUTH_DECISION).route(post().to(oauth::decide)))
        // Control endpoints (no token).
        .service(resource(paths::INFO).route(get().to(control::info)))
        .service(resource(paths::STATS).route(get().to(control::stats)))
        .service(resource(paths::ASSETS).route(get().to(control::assets)))
        .service(
            resource(paths::FAULTS)
                .route(post().to(control::add_fault))
                .route(get().to(control::list_faults))
                .route(delete().to(control::clear_faults)),
        )
        .service(resource(paths::RESET).route(post().to(control::reset)))
        .service(resource(paths::NEXT_OAUTH_URL).route(post().to(control::next_oauth_url)))
        .service(resource(paths::SUBACCOUNT).route(delete().to(control::delete_subaccount)))
        .service(
            resource(paths::SUBACCOUNTS).route(get().to(control::subaccounts_with_external_id)),
        )
        .service(resource(paths::REVOKE).route(post().to(control::revoke_access_tokens)))
        .service(resource(paths::CLOCK).route(post().to(control::advance_clock)));
}

/// Which handler serves an operation. Operations that share a path and a
/// method (`integrate/?account_id=` and `?external_id=`) share a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    ListSubaccounts,
    CreateSubaccount,
    GetSubaccount,
    UpdateSubaccount,
    DeleteSubaccount,
    SubaccountInfo,
    Token,
    OauthToken,
    Servertypes,
    ListConnections,
    AddConnection,
    GetConnection,
    ConnectionLogs,
    CreateTable,
    ListScripts,
    ListGroups,
    CreateScript,
}

pub(crate) fn family(op: Operation) -> Family {
    use Operation::*;
    match op {
        ListSubaccounts => Family::ListSubaccounts,
        CreateSubaccount => Family::CreateSubaccount,
        GetSubaccount | GetSubaccountByExternalId => Family::GetSubaccount,
        UpdateSubaccount => Family::UpdateSubaccount,
        DeleteSubaccount => Family::DeleteSubaccount,
        SubaccountInfo => Family::SubaccountInfo,
        TokenById | TokenByExternalId | NonExpiringTokenById | NonExpiringTokenByExternalId => {
            Family::Token
        }
        OauthToken => Family::OauthToken,
        Servertypes => Family::Servertypes,
        ListConnections => Family::ListConnections,
        AddConnection => Family::AddConnection,
        GetConnection => Family::GetConnection,
        ConnectionLogs => Family::ConnectionLogs,
        CreateTable => Family::CreateTable,
        ListScripts => Family::ListScripts,
        ListGroups => Family::ListGroups,
        CreateScript => Family::CreateScript,
    }
}

fn handler(family: Family, dialect: Dialect) -> actix_web::Route {
    let r = web::route();
    match family {
        Family::ListSubaccounts => r.to(subaccounts::list),
        Family::CreateSubaccount => r.to(subaccounts::create),
        Family::GetSubaccount => r.to(subaccounts::get),
        Family::UpdateSubaccount => r.to(subaccounts::update),
        Family::DeleteSubaccount => r.to(subaccounts::delete),
        Family::SubaccountInfo => r.to(partner::info),
        Family::Token => r.to(subaccounts::token),
        Family::OauthToken => r.to(credentials::token),
        Family::Servertypes => r.to(subaccounts::servertypes),
        Family::ListConnections => r.to(servers::list),
        Family::AddConnection => r.to(servers::create),
        Family::GetConnection => r.to(servers::get),
        Family::ConnectionLogs => r.to(servers::logs),
        Family::CreateTable => r.to(scripts::create_table),
        Family::ListScripts => r.to(partner::scripts),
        Family::ListGroups => r.to(partner::groups),
        Family::CreateScript => match dialect.body_shape() {
            peliqan_api::dialect::BodyShape::Seed => r.to(scripts::create_interface),
            peliqan_api::dialect::BodyShape::Partner => r.to(partner::create_script),
        },
    }
}

/// A resource whose unmatched methods answer DRF's JSON 405, not an empty one.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(format!(
        "Method \"{}\" not allowed.",
        req.method()
    )))
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::TooLarge(format!(
            "Request body is too large: the limit is {limit} bytes."
        )),
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "Unsupported media type in request: send the body as JSON with \
             `Content-Type: application/json`."
                .to_owned(),
        ),
        JsonPayloadError::Deserialize(e) => ApiError::BadRequest(format!("JSON parse error - {e}")),
        other => ApiError::BadRequest(format!("Could not read the request body: {other}")),
    }
    .into()
}

fn form_error(err: UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    match err {
        UrlencodedError::Overflow { limit, .. } => ApiError::TooLarge(format!(
            "Request body is too large: the limit is {limit} bytes."
        )),
        other => ApiError::BadRequest(format!("Invalid form: {other}")),
    }
    .into()
}
