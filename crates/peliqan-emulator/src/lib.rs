//! A local server speaking the Peliqan Partner (Embed) API, for tests,
//! benchmarks and first runs without a Peliqan account.
//!
//! Like stripe-mock or wiremock it emulates the contract, not Peliqan's
//! internals: real HS256 tokens that expire, the partner/sub-account scope
//! split, CORS with an allow-list, connect forms validated field by field,
//! an OAuth consent page, connection logs, and fault injection plus request
//! counts under `/__emulator`. All state is in memory behind one lock
//! ([`state`]); the routes are listed in one function ([`app`]).
//!
//! It speaks one API dialect at a time ([`Config::dialect`]): exactly the
//! routes of that dialect's table in `peliqan-api`, with its trailing-slash
//! rule enforced the way Django does when [`Config::strict_slashes`] is set.
//! The `partner` dialect also has OAuth client credentials
//! ([`Emulator::client_id`], [`Emulator::client_secret`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = peliqan_emulator::Emulator::start(Default::default()).await?;
//! println!("{} {}", emulator.url(), emulator.partner_token());
//! emulator.stop().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod app;
mod auth;
mod connect;
mod control;
mod control_guard;
mod cors;
mod credentials;
mod error;
mod faults;
mod lookup;
mod oauth;
mod partner;
mod routing;
mod scripts;
mod servers;
mod servertypes;
mod slashes;
mod state;
mod stats;
mod subaccounts;
mod tokens;
mod validate;

use actix_web::dev::ServerHandle;
use actix_web::web;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Origins that get CORS headers (exact match, e.g. `http://localhost:5173`).
    pub allowed_origins: Vec<String>,
    /// Lifetime of sub-account tokens (not of `expire=false` ones).
    pub token_ttl: Duration,
    /// Send `Cross-Origin-Opener-Policy: same-origin` on the OAuth pages.
    pub coop: bool,
    /// The API dialect served (`--dialect`); only its paths answer.
    pub dialect: peliqan_api::Dialect,
    /// Answer the wrong trailing-slash form as Django does
    /// (`--strict-slashes`): 301 for GET/HEAD, an error otherwise.
    pub strict_slashes: bool,
    /// Lifetime of OAuth access tokens from `POST /api/oauth2/token/`
    /// (`partner` dialect; `--access-token-ttl`).
    pub access_token_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            allowed_origins: Vec::new(),
            token_ttl: Duration::from_secs(1800),
            coop: false,
            dialect: peliqan_api::Dialect::default(),
            strict_slashes: false,
            access_token_ttl: Duration::from_secs(3600),
        }
    }
}

/// A running emulator. Dropping it stops the server too, without waiting.
pub struct Emulator {
    url: String,
    addr: SocketAddr,
    partner_token: String,
    client_id: String,
    client_secret: String,
    handle: ServerHandle,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Emulator {
    /// Binds `config.listen` and serves on the current tokio runtime.
    /// Returns once the socket is listening, so requests can be sent at once.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let url = format!("http://{}", advertised(addr));
        let emu = web::Data::new(state::Emu::new(&config, url.clone()));
        let partner_token = emu.partner_token.clone();
        let client_id = emu.credentials.client_id.clone();
        let client_secret = emu.credentials.client_secret.clone();
        let server = app::server(emu, listener)?;
        let handle = server.handle();
        let task = tokio::spawn(server);
        tracing::info!(%url, dialect = %config.dialect, strict_slashes = config.strict_slashes, "peliqan-emulator listening");
        Ok(Emulator {
            url,
            addr,
            partner_token,
            client_id,
            client_secret,
            handle,
            task: Some(task),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:8900`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The partner JWT (non-expiring), valid for this process's lifetime.
    pub fn partner_token(&self) -> &str {
        &self.partner_token
    }

    /// The OAuth client id that `POST /api/oauth2/token/` accepts
    /// (`partner` dialect), valid for this process's lifetime.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The OAuth client secret that goes with [`Emulator::client_id`].
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The partner token is a credential: never printed.
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .field("partner_token", &"***")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if self.task.is_some() {
            // Sends the stop command now; the returned future only waits.
            drop(self.handle.stop(false));
        }
    }
}

/// A wildcard listen address is not a URL a client can use: advertise
/// loopback instead.
fn advertised(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    }
}
