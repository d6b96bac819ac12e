//! The whole HTTP surface in one place: routes, extractor error handlers
//! and the middleware stack, and the actix server built from them.
//!
//! Middleware, from the outside in: request counting ([`crate::stats`]),
//! CORS ([`crate::cors`]), fault injection ([`crate::faults`]), trailing
//! slash trimming, then the routes. Every error on the way — an unknown
//! route, a wrong method, a body that is not JSON or too large — is
//! answered in DRF's `{"detail": ...}` envelope by [`ApiError`].

use crate::error::ApiError;
use crate::state::Emu;
use crate::{control, cors, faults, oauth, scripts, servers, stats, subaccounts};
use actix_web::dev::Server;
use actix_web::error::{JsonPayloadError, UrlencodedError};
use actix_web::middleware::{NormalizePath, TrailingSlash, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Resource, ResponseError, web};

/// Largest JSON body accepted; real bodies here are a few hundred bytes.
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

/// Starts serving on `listener`; the returned server must be polled (spawned).
pub(crate) fn server(
    emu: web::Data<Emu>,
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
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::BadRequest(format!("Invalid query string: {e}")).into()
            }))
            .configure(routes)
            .default_service(web::to(not_found))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(from_fn(faults::inject))
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

/// Every route of the emulator.
fn routes(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, post, put};
    cfg.service(resource("/").route(get().to(control::index)))
        // Partner token.
        .service(
            resource("/api/subaccount")
                .route(post().to(subaccounts::create))
                .route(get().to(subaccounts::list)),
        )
        // Before `{id}`, so "token" is not read as an id.
        .service(
            resource("/api/subaccount/token").route(get().to(subaccounts::token_by_external_id)),
        )
        .service(
            resource("/api/subaccount/{id}")
                .route(get().to(subaccounts::get))
                .route(put().to(subaccounts::update))
                .route(delete().to(subaccounts::delete)),
        )
        .service(resource("/api/subaccount/{id}/token").route(get().to(subaccounts::token_by_id)))
        .service(resource("/api/servertypes").route(get().to(subaccounts::servertypes)))
        // Sub-account token.
        .service(
            resource("/api/servers")
                .route(post().to(servers::create))
                .route(get().to(servers::list)),
        )
        .service(resource("/api/server/{id}").route(get().to(servers::get)))
        .service(resource("/api/server/{id}/logs").route(get().to(servers::logs)))
        .service(aliased(&["/table", "/api/table"]).route(post().to(scripts::create_table)))
        .service(
            aliased(&["/interface", "/api/interface"]).route(post().to(scripts::create_interface)),
        )
        // The emulated OAuth provider (no token: it is a browser page).
        .service(resource("/oauth/authorize").route(get().to(oauth::authorize)))
        .service(resource("/oauth/decision").route(post().to(oauth::decide)))
        // Control endpoints (no token).
        .service(resource("/__emulator/stats").route(get().to(control::stats)))
        .service(
            resource("/__emulator/faults")
                .route(post().to(control::add_fault))
                .route(get().to(control::list_faults))
                .route(delete().to(control::clear_faults)),
        )
        .service(resource("/__emulator/reset").route(post().to(control::reset)));
}

/// A resource whose unmatched methods answer DRF's JSON 405, not an empty one.
fn resource(path: &str) -> Resource {
    aliased(&[path])
}

/// [`resource`] under several paths.
fn aliased(paths: &[&str]) -> Resource {
    web::resource(paths.to_vec()).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    ApiError::MethodNotAllowed(format!("Method \"{}\" not allowed.", req.method())).error_response()
}

async fn not_found() -> HttpResponse {
    ApiError::not_found().error_response()
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
