//! Typed settings, read once at startup from the environment and an optional
//! TOML file with the same keys (see [`load`]).
//!
//! Flow: raw `KEY -> string` pairs ([`load::raw`]) are parsed by
//! [`Settings::from_map`], which reads every key, checks it, and fails with a
//! [`ConfigError`] naming the first bad key (an empty value is one). Secrets
//! are [`Secret`]s, so the settings can be logged with `{:?}`. What the
//! settings allow but startup refuses (a JWKS or PEM key without issuer and
//! audience checks) is decided by [`AuthSettings::issuer_audience`].

mod identity;
mod issuer;
pub mod load;
mod parse;
mod peliqan;
#[cfg(test)]
mod readme;
mod shared;

use peliqan_client::{PartnerCredentials, PeliqanClient, RetryPolicy, Routes, Secret};
use std::net::SocketAddr;
use std::time::Duration;

pub use identity::{IdentitySettings, IntrospectionSettings, ProxySettings, SessionSettings};
pub use issuer::IssuerAudience;
pub use parse::{KEYS, is_key};
pub use shared::SharedTierSettings;

/// A configuration problem, naming the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {key}: {message}")]
pub struct ConfigError {
    /// The key (environment variable or TOML key) at fault.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `TOKEN_SERVICE_LISTEN`: where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// `TOKEN_SERVICE_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `TOKEN_SERVICE_SHUTDOWN_TIMEOUT_SECS`: grace period for in-flight requests.
    pub shutdown_timeout: Duration,
    /// `TOKEN_SERVICE_ALLOWED_ORIGINS`: exact browser origins allowed by CORS.
    pub allowed_origins: Vec<String>,
    /// `TOKEN_SERVICE_LOG_FORMAT`: `text` or `json`.
    pub log_json: bool,
    /// `TOKEN_SERVICE_MAX_BODY_BYTES`: largest accepted request body.
    pub max_body_bytes: usize,
    /// `TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE`: per-user limit, 0 disables it.
    pub rate_limit_per_minute: u32,
    /// How user JWTs are checked and where the tenant comes from.
    pub auth: AuthSettings,
    /// Where the user's identity comes from (a JWT, introspection, a
    /// session cookie, a trusted proxy, or the embedding app).
    pub identity: IdentitySettings,
    /// Peliqan itself.
    pub upstream: UpstreamSettings,
    /// The token and connector caches.
    pub cache: CacheSettings,
    /// `TOKEN_SERVICE_AUTO_PROVISION`: create missing sub-accounts.
    pub auto_provision: bool,
    /// The fleet's shared tier on Redis (`TOKEN_SERVICE_REDIS_URL`), if any.
    pub shared: Option<SharedTierSettings>,
    /// `TOKEN_SERVICE_METRICS_LISTEN`: serve `/metrics` on this separate
    /// address only (not on the public port) when set.
    pub metrics_listen: Option<SocketAddr>,
    /// Tenant hydration (`TOKEN_SERVICE_BLUEPRINT_FILE`, see [`crate::hydrate`]).
    pub hydration: HydrationSettings,
}

/// Where the blueprint and the hydration ledger are.
#[derive(Debug, Clone)]
pub struct HydrationSettings {
    /// `TOKEN_SERVICE_BLUEPRINT_FILE`: applied to every tenant the service
    /// provisions, when set.
    pub blueprint_file: Option<std::path::PathBuf>,
    /// `TOKEN_SERVICE_HYDRATION_LEDGER_FILE`: the SQLite ledger (default
    /// `hydration-ledger.sqlite3`); unused with the shared tier (Redis).
    pub ledger_file: std::path::PathBuf,
}

/// How end users prove who they are.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The key (and so the algorithm) user JWTs must be signed with; `None`
    /// when users are identified another way ([`IdentitySettings`]).
    pub key: Option<JwtKey>,
    /// `TOKEN_SERVICE_JWT_ISSUER`: required `iss`, when set (needed to start
    /// with a PEM key or JWKS, see [`AuthSettings::issuer_audience`]).
    pub issuer: Option<String>,
    /// `TOKEN_SERVICE_JWT_AUDIENCE`: accepted `aud` values, when set (the
    /// same).
    pub audience: Vec<String>,
    /// `TOKEN_SERVICE_JWT_LEEWAY_SECS`: clock skew allowed on `exp`/`nbf`.
    pub leeway_secs: u64,
    /// `TOKEN_SERVICE_TENANT_CLAIM`: claim (dotted path allowed) naming the tenant.
    pub tenant_claim: String,
    /// `TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS`: least time between two JWKS
    /// fetches caused by unknown `kid`s, so a forged `kid` cannot hammer the IdP.
    pub jwks_refresh_floor: Duration,
    /// `TOKEN_SERVICE_JWKS_TTL_SECS`: how long fetched JWKS keys are used
    /// before a refetch (default 60 s, so a removed key stops verifying
    /// within a minute).
    pub jwks_ttl: Duration,
    /// `TOKEN_SERVICE_JWKS_MAX_STALE_SECS`: how long keys from the last
    /// successful JWKS fetch may still be used while refetches fail; then
    /// requests get 503 `auth_unavailable`.
    pub jwks_max_stale: Duration,
    /// `TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE`: the explicit opt-out
    /// that lets JWKS and PEM modes run without an issuer and audience check
    /// (warned about at every start).
    pub allow_any_issuer_audience: bool,
}

/// The one source of user-JWT keys. The algorithm is fixed here, never taken
/// from a token's header (that is how `alg: none` and HS/RS confusion work).
#[derive(Clone)]
pub enum JwtKey {
    /// `TOKEN_SERVICE_JWT_HS256_SECRET`.
    Hs256(Secret),
    /// `TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE`: a PEM public key, RS256 or ES256.
    PublicKey {
        /// RS256 for an RSA key, ES256 for a P-256 key.
        algorithm: jsonwebtoken::Algorithm,
        /// The PEM text.
        pem: Vec<u8>,
    },
    /// `TOKEN_SERVICE_JWT_JWKS_URL`: asymmetric keys from the partner's IdP.
    Jwks(url::Url),
}

impl JwtKey {
    /// The setting this key comes from.
    pub fn setting(&self) -> &'static str {
        match self {
            Self::Hs256(_) => "TOKEN_SERVICE_JWT_HS256_SECRET",
            Self::PublicKey { .. } => "TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE",
            Self::Jwks(_) => "TOKEN_SERVICE_JWT_JWKS_URL",
        }
    }
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hs256(_) => f.write_str("Hs256(***)"),
            Self::PublicKey { algorithm, .. } => write!(f, "PublicKey({algorithm:?})"),
            Self::Jwks(url) => write!(f, "Jwks({url})"),
        }
    }
}

/// Peliqan and how to call it.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// `PELIQAN_API_URL`.
    pub base_url: String,
    /// `PELIQAN_API_DIALECT` (default `seed`) with the
    /// `PELIQAN_API_ROUTE_<OPERATION>` overrides applied.
    pub routes: Routes,
    /// `PELIQAN_PARTNER_TOKEN` (or `_FILE`), or `PELIQAN_CLIENT_ID` with
    /// `PELIQAN_CLIENT_SECRET` (or `_FILE`).
    pub credentials: PartnerCredentials,
    /// `TOKEN_SERVICE_UPSTREAM_CONNECT_TIMEOUT_SECS`.
    pub connect_timeout: Duration,
    /// `TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS`: per attempt.
    pub timeout: Duration,
    /// `TOKEN_SERVICE_UPSTREAM_MAX_RETRIES`: for idempotent calls only.
    pub max_retries: u32,
    /// `TOKEN_SERVICE_UPSTREAM_RETRY_BASE_SECS`: first backoff step.
    pub retry_base_delay: Duration,
    /// `TOKEN_SERVICE_UPSTREAM_MAX_RETRY_AFTER_SECS`: longest `Retry-After`
    /// honoured by waiting; a longer one fails fast with that `Retry-After`.
    pub max_retry_after: Duration,
    /// `TOKEN_SERVICE_READINESS_CACHE_SECS`: how long a `/readyz` result holds.
    pub readiness_cache: Duration,
}

impl UpstreamSettings {
    /// The Peliqan client these settings describe, on the system clock.
    pub fn client(&self) -> Result<PeliqanClient, peliqan_client::Error> {
        self.client_on(peliqan_api::clock::SystemClock::shared())
    }

    /// The Peliqan client these settings describe, reading time (the
    /// access-token renewal of client credentials) from `clock`.
    pub fn client_on(
        &self,
        clock: peliqan_api::clock::SharedClock,
    ) -> Result<PeliqanClient, peliqan_client::Error> {
        let retry = RetryPolicy {
            max_retries: self.max_retries,
            base_delay: self.retry_base_delay,
            max_delay: self
                .retry_base_delay
                .saturating_mul(16)
                .max(Duration::from_secs(2)),
            max_retry_after: self.max_retry_after,
        };
        PeliqanClient::builder(&self.base_url)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .retry(retry)
            .user_agent(concat!("peliqan-token-service/", env!("CARGO_PKG_VERSION")))
            .routes(self.routes.clone())
            .clock(clock)
            .build()
    }
}

/// Token and connector caching.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `TOKEN_SERVICE_CACHE_CAPACITY`: most tenants kept.
    pub capacity: u64,
    /// `TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS`: a token is dropped this long
    /// before its `exp`, so a browser never receives an almost-dead token.
    pub safety_margin: Duration,
    /// `TOKEN_SERVICE_CACHE_REFRESH_AHEAD_SECS`: refresh starts this long
    /// (plus jitter) before the token is dropped.
    pub refresh_ahead: Duration,
    /// `TOKEN_SERVICE_CONNECTORS_CACHE_SECS`: how long the connector list is kept.
    pub connectors_ttl: Duration,
    /// `TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS`: an upstream token living
    /// longer than this is refused as implausible (502 `upstream_misconfigured`).
    pub max_token_lifetime: Duration,
    /// `TOKEN_SERVICE_UNKNOWN_TENANT_CACHE_SECS`: how long "no such tenant"
    /// is remembered (auto-provisioning off), so unknown tenants cannot
    /// turn every request into a Peliqan call. 0 disables.
    pub unknown_tenant_ttl: Duration,
    /// `TOKEN_SERVICE_FORCED_REFRESH_INTERVAL_SECS`: least time between two
    /// forced refreshes of one tenant (a browser reporting its token rejected).
    pub forced_refresh_interval: Duration,
}
