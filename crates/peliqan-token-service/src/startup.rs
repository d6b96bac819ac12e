//! [`Application`]: binds the listener, wires state and routes, runs.
//!
//! `build` binds before returning, so the real port (with
//! `TOKEN_SERVICE_LISTEN=127.0.0.1:0`) is known to tests and logs at once.
//! actix-web stops gracefully on SIGTERM/SIGINT: it stops accepting, lets
//! in-flight requests finish for up to `shutdown_timeout`, then exits.

use crate::http::{cors::cors, observe::observe};
use crate::routes::{self, connectors, health, token};
use crate::settings::Settings;
use crate::state::AppState;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::{SocketAddr, TcpListener};

/// A bound, not yet running service.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Builds the state, binds `settings.listen` and prepares the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let state = web::Data::new(AppState::new(&settings)?);
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("Failed to listen on {}", settings.listen))?;
        let addr = listener
            .local_addr()
            .context("Failed to read the bound address")?;
        let data = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(routes)
                // Outermost last: observe sees CORS refusals too.
                .wrap(from_fn(cors))
                .wrap(from_fn(observe))
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs().max(1));
        if let Some(n) = settings.workers {
            server = server.workers(n);
        }
        let server = server
            .listen(listener)
            .context("Failed to start the HTTP server")?
            .run();
        tracing::info!("listening on http://{addr}");
        Ok(Self {
            addr,
            server,
            state,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://ADDR` of the service.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle to stop the server (gracefully or not).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (for tests and embedding).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until stopped by a signal or the handle.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The whole HTTP surface, in one place.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/token")
            .route(web::post().to(token::issue_token))
            .default_service(web::to(routes::method_not_allowed)),
    )
    .service(
        web::resource("/v1/connectors")
            .route(web::get().to(connectors::list_connectors))
            .default_service(web::to(routes::method_not_allowed)),
    )
    .service(
        web::resource("/healthz")
            .route(web::get().to(health::healthz))
            .default_service(web::to(routes::method_not_allowed)),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(health::readyz))
            .default_service(web::to(routes::method_not_allowed)),
    )
    .service(
        web::resource("/metrics")
            .route(web::get().to(health::metrics))
            .default_service(web::to(routes::method_not_allowed)),
    )
    .default_service(web::to(routes::not_found));
}
