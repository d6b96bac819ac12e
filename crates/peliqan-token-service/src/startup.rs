//! [`Application`]: binds the listener, wires state and routes, runs.
//!
//! `build` binds before returning, so the real port (with
//! `TOKEN_SERVICE_LISTEN=127.0.0.1:0`) is known to tests and logs at once.
//! It also refuses what the settings allow but serving must not (a JWKS or
//! PEM key without issuer and audience checks, see
//! [`crate::settings::AuthSettings::issuer_audience`]) and logs the
//! warnings that must show at every start. With `TOKEN_SERVICE_METRICS_LISTEN`,
//! `/metrics` is served by a second, internal listener only, and the public
//! one answers it 404.
//! actix-web stops gracefully on SIGTERM/SIGINT: it stops accepting, lets
//! in-flight requests finish for up to `shutdown_timeout`, then exits (the
//! metrics listener with it).

use crate::http::observe::observe;
use crate::routes::{self, ENDPOINTS};
use crate::settings::Settings;
use crate::state::AppState;
use crate::upstream::Credential;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use futures::future::{Either, select};
use peliqan_api::clock::{SharedClock, SystemClock};
use std::net::{SocketAddr, TcpListener};

/// A bound, not yet running service.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    /// The separate `/metrics` listener, when configured.
    metrics: Option<(SocketAddr, Server)>,
    state: web::Data<AppState>,
}

impl Application {
    /// Checks what serving needs beyond valid settings, builds the state,
    /// binds `settings.listen` (and `settings.metrics_listen`) and prepares
    /// the server. A refusal is a [`crate::settings::ConfigError`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, SystemClock::shared()).await
    }

    /// [`Self::build`], reading time from `clock` instead of the system
    /// clock (tests pass a [`peliqan_api::clock::ManualClock`]).
    pub async fn build_with_clock(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        if let Some(refused) = settings.auth.issuer_audience_refusal() {
            return Err(refused.into());
        }
        if let Some(warning) = settings.auth.issuer_audience_warning() {
            tracing::warn!("{warning}");
        }
        let state = web::Data::new(AppState::new(&settings, clock)?);
        let listener = bind(settings.listen)?;
        let metrics_listener = settings.metrics_listen.map(bind).transpose()?;
        let addr = listener
            .local_addr()
            .context("Failed to read the bound address")?;
        let data = state.clone();
        let credential = web::Data::new(Credential::of(&settings.upstream.credentials));
        let public_metrics = metrics_listener.is_none();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(credential.clone())
                .configure(|cfg| routes(cfg, public_metrics))
                // Metrics and logs, with CORS inside.
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
        let metrics = match metrics_listener {
            Some(listener) => Some(metrics_server(listener, state.clone())?),
            None => None,
        };
        Ok(Self {
            addr,
            server,
            metrics,
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

    /// `http://ADDR` of the separate metrics listener, when configured.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics
            .as_ref()
            .map(|(addr, _)| format!("http://{addr}"))
    }

    /// A handle to stop the server (gracefully or not); the metrics
    /// listener stops with it.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (for tests and embedding).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until stopped by a signal or the handle.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some((_, metrics)) = self.metrics else {
            return self.server.await;
        };
        // Each server runs inside its own future: whichever ends first (the
        // main one on a signal or its handle), the other is stopped and
        // driven until it has.
        let (main_handle, metrics_handle) = (self.server.handle(), metrics.handle());
        match select(self.server, metrics).await {
            Either::Left((result, metrics)) => {
                let (_, stopped) = futures::join!(metrics_handle.stop(true), metrics);
                result.and(stopped)
            }
            Either::Right((result, server)) => {
                tracing::error!("the metrics listener stopped; stopping the service");
                let (_, stopped) = futures::join!(main_handle.stop(true), server);
                stopped.and(result)
            }
        }
    }
}

/// Binds `addr`, naming it on failure.
fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).with_context(|| format!("Failed to listen on {addr}"))
}

/// The whole HTTP surface, registered from [`routes::ENDPOINTS`]; the
/// internal routes (`/metrics`) only when `with_internal` (otherwise the
/// separate metrics listener serves them, and here they are a 404 like any
/// unknown path). Handlers need the app data [`AppState`] and
/// [`Credential`].
pub fn routes(cfg: &mut web::ServiceConfig, with_internal: bool) {
    for endpoint in ENDPOINTS {
        if with_internal || !endpoint.internal {
            cfg.service(endpoint.resource());
        }
    }
    cfg.default_service(web::to(routes::not_found));
}

/// The internal listener: `/metrics` and nothing else, no CORS (browsers
/// have no business here), no signal handling of its own (it stops with
/// the main server, see [`Application::run_until_stopped`]).
fn metrics_server(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> anyhow::Result<(SocketAddr, Server)> {
    let addr = listener
        .local_addr()
        .context("Failed to read the metrics listener's address")?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(|cfg| {
                for endpoint in ENDPOINTS.iter().filter(|e| e.internal) {
                    cfg.service(endpoint.resource());
                }
            })
            .default_service(web::to(routes::not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .context("Failed to start the metrics listener")?
    .run();
    tracing::info!("serving /metrics on http://{addr}/metrics");
    Ok((addr, server))
}
