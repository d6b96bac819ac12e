//! A local server speaking the Peliqan Partner (Embed) API, for tests,
//! benchmarks and first runs without a Peliqan account.
//!
//! Like stripe-mock or wiremock it emulates the contract, not Peliqan's
//! internals: real HS256 tokens that expire, the partner/sub-account scope
//! split, CORS with an allow-list, connect forms validated field by field,
//! an OAuth consent page, connection logs, and fault injection plus request
//! counts under `/__emulator` (typed in [`control_api`]: in process through
//! [`Emulator`]'s methods, from another process through [`Control`]),
//! optionally on a manual clock ([`Config::manual_clock`]). All state is in memory behind one lock
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
pub mod control_api;
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

pub use control_api::{
    AccountAssets, Assets, ClockNow, Control, ControlCall, ControlError, Fault, Faults, Info,
    RecordedScript, RecordedTable, Revoked, Stats, SubaccountsWithExternalId,
};

use actix_web::ResponseError;
use actix_web::dev::ServerHandle;
use actix_web::web;
use peliqan_api::SubaccountId;
use peliqan_api::clock::{ManualClock, SharedClock};
use state::EmulatorState;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
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
    /// Run on this manual clock instead of the system clock
    /// (`--manual-clock`): token `iat`/`exp` and their check, access-token
    /// expiry and timestamps read it, and it moves only when advanced —
    /// by [`Emulator::advance_clock`], `POST /__emulator/clock`, or by the
    /// test holding it (share it with a client to move both at once).
    pub manual_clock: Option<Arc<ManualClock>>,
    /// Create another sub-account when one with the same `external_id`
    /// exists, instead of refusing it with 400
    /// (`--accept-duplicate-external-ids`). Whether Peliqan refuses
    /// duplicates is not documented: with this, a test proves a client's
    /// own exactly-once provisioning (count them with
    /// [`Emulator::subaccounts_with_external_id`]). Lookups by external id
    /// answer the first (lowest id) of the duplicates.
    pub accept_duplicate_external_ids: bool,
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
            manual_clock: None,
            accept_duplicate_external_ids: false,
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
    state: web::Data<EmulatorState>,
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
        let emu = web::Data::new(EmulatorState::new(&config, url.clone()));
        let partner_token = emu.partner_token.clone();
        let client_id = emu.credentials.client_id.clone();
        let client_secret = emu.credentials.client_secret.clone();
        let server = app::server(emu.clone(), listener)?;
        let handle = server.handle();
        let task = tokio::spawn(server);
        tracing::info!(%url, dialect = %config.dialect, strict_slashes = config.strict_slashes, manual_clock = config.manual_clock.is_some(), accept_duplicate_external_ids = config.accept_duplicate_external_ids, "peliqan-emulator listening");
        Ok(Emulator {
            url,
            addr,
            partner_token,
            client_id,
            client_secret,
            state: emu,
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

    /// The clock this emulator reads time from.
    pub fn clock(&self) -> SharedClock {
        self.state.clock.clone()
    }

    /// `GET /__emulator/info`, in process.
    pub fn info(&self) -> Info {
        self.state.info()
    }

    /// `GET /__emulator/assets`, in process: the tables and scripts of
    /// every sub-account, or of those with `external_id`.
    pub fn assets(&self, external_id: Option<&str>) -> Assets {
        self.state.assets(external_id)
    }

    /// `GET /__emulator/stats`, in process: requests counted so far.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// `GET /__emulator/faults`, in process: the active fault rules.
    pub fn faults(&self) -> Vec<Fault> {
        self.state.faults().faults
    }

    /// `POST /__emulator/faults`, in process: adds a rule, or refuses it as
    /// the endpoint would (400 naming the field).
    pub fn add_fault(&self, fault: Fault) -> Result<(), ControlError> {
        self.state
            .add_fault(fault)
            .map(drop)
            .map_err(refused("POST", control_api::paths::FAULTS))
    }

    /// `DELETE /__emulator/faults`, in process: removes every rule.
    pub fn clear_faults(&self) {
        self.state.clear_faults();
    }

    /// `POST /__emulator/reset`, in process: forgets all state; the partner
    /// token and the client credentials stay valid.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// `POST /__emulator/access-tokens/revoke`, in process: every OAuth
    /// access token issued so far is refused from now on.
    pub fn revoke_access_tokens(&self) -> Revoked {
        self.state.revoke_access_tokens()
    }

    /// `DELETE /__emulator/subaccounts/{id}`, in process: deletes a
    /// sub-account and what it owns; 404 when there is none.
    pub fn delete_subaccount(&self, id: SubaccountId) -> Result<(), ControlError> {
        self.state
            .delete_subaccount(id)
            .map_err(refused("DELETE", control_api::paths::SUBACCOUNT))
    }

    /// `GET /__emulator/subaccounts?external_id=X`, in process: every
    /// sub-account with this external id (several only with
    /// [`Config::accept_duplicate_external_ids`]); a blank one is refused
    /// as the endpoint would (400).
    pub fn subaccounts_with_external_id(
        &self,
        external_id: &str,
    ) -> Result<SubaccountsWithExternalId, ControlError> {
        self.state
            .subaccounts_with_external_id(external_id)
            .map_err(refused("GET", control_api::paths::SUBACCOUNTS))
    }

    /// `POST /__emulator/next-oauth-url`, in process: the next OAuth
    /// connection answers `oauth_url`, once.
    pub fn next_oauth_url(&self, oauth_url: impl Into<String>) -> Result<(), ControlError> {
        let next = control_api::NextOauthUrl {
            oauth_url: oauth_url.into(),
        };
        self.state
            .next_oauth_url(next)
            .map_err(refused("POST", control_api::paths::NEXT_OAUTH_URL))
    }

    /// `POST /__emulator/clock`, in process: moves the manual clock
    /// ([`Config::manual_clock`]) forward by `by`; refused on the system
    /// clock.
    pub fn advance_clock(&self, by: Duration) -> Result<(), ControlError> {
        self.state
            .advance_clock(by)
            .map(drop)
            .map_err(refused("POST", control_api::paths::CLOCK))
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

/// The [`ControlError`] of an in-process control call the endpoint at
/// `path` would refuse with `error`.
fn refused(method: &'static str, path: &'static str) -> impl Fn(error::ApiError) -> ControlError {
    move |error| ControlError::Refused {
        method,
        path: path.to_owned(),
        status: error.status_code().as_u16(),
        body: error.to_string(),
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
