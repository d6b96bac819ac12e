//! [`AppState`]: everything the handlers share, built from [`Settings`].

use crate::auth::VerifiedUser;
use crate::connectors::Connectors;
use crate::error::ServiceError;
use crate::http::cors::CorsPolicy;
use crate::identity::Identity;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::readiness::PartnerHealth;
use crate::settings::Settings;
use crate::shared::SharedTier;
use crate::tokens::TokenCache;
use crate::tokens::entry::routing_fragment;
use crate::upstream::{Credential, Upstream};
use actix_web::HttpRequest;
use anyhow::Context;
use peliqan_api::BrowserRouting;
use peliqan_api::clock::SharedClock;
use std::sync::Arc;
use std::time::Duration;

/// Shared by every worker, behind `web::Data`.
pub struct AppState {
    /// Who the caller is: the configured identity source (a user JWT by
    /// default), chosen once at startup.
    pub identity: Identity,
    /// Per-user rate limit, keyed on (tenant, `sub`); with a shared tier,
    /// across the fleet too.
    pub limiter: Arc<RateLimiter>,
    /// Tenant tokens.
    pub tokens: TokenCache,
    /// The connector catalogue.
    pub connectors: Connectors,
    /// Peliqan.
    pub upstream: Upstream,
    /// Last known state of the partner token, for `/readyz`.
    pub health: Arc<PartnerHealth>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// CORS allow-list.
    pub allowed_origins: Vec<String>,
    /// The CORS answer headers that depend on the identity source.
    pub cors: CorsPolicy,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long a readiness result holds.
    pub readiness_cache: Duration,
    /// The routing members every `POST /v1/token` answer ends with
    /// (`peliqan_url`, `dialect`, maybe `routes`), serialised once.
    pub token_routing: Box<[u8]>,
    /// The only source of time for tokens, JWT checks, JWKS ages, the rate
    /// limit and readiness: the system clock, or a test's manual clock.
    pub clock: SharedClock,
}

/// How long a replica may hold a tenant's fetch lock in the shared tier:
/// a whole fetch with its retries (provisioning is up to three calls),
/// with room to spare; a holder that dies delays the fleet this long.
fn lock_ttl(settings: &Settings) -> Duration {
    let up = &settings.upstream;
    let attempts = up.max_retries.saturating_add(1);
    let per_call = up
        .timeout
        .saturating_add(up.retry_base_delay.saturating_mul(4));
    per_call
        .saturating_mul(attempts.saturating_mul(3))
        .clamp(Duration::from_secs(5), Duration::from_secs(120))
}

/// Loads the blueprint (a mistake stops startup, naming file, line and
/// field) and hooks it into provisioning.
fn hydrate_provisioned(
    settings: &Settings,
    file: &std::path::Path,
    tokens: &TokenCache,
    client: peliqan_client::PeliqanClient,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<()> {
    let blueprint = crate::hydrate::load_blueprint("TOKEN_SERVICE_BLUEPRINT_FILE", file)?;
    let (version, tables, scripts) = (
        blueprint.version,
        blueprint.tables.len(),
        blueprint.scripts.len(),
    );
    let hydrator = crate::hydrate::hydrator(settings, blueprint, client)?;
    let ledger = hydrator.ledger.describe();
    tokens.set_hydration(crate::hydrate::Hydration::new(
        Arc::new(hydrator),
        metrics.clone(),
    ));
    if !settings.auto_provision {
        tracing::warn!(
            "TOKEN_SERVICE_BLUEPRINT_FILE is set but TOKEN_SERVICE_AUTO_PROVISION is off: only \
             tenants this service provisions are hydrated, so none will be; use `hydrate --all`"
        );
    }
    tracing::info!(
        blueprint = %file.display(),
        version,
        tables,
        scripts,
        ledger,
        "hydrating the tenants this service provisions"
    );
    Ok(())
}

impl AppState {
    /// Builds clients, caches and the verifier, all reading time from `clock`.
    pub fn new(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::default());
        let health = Arc::new(PartnerHealth::new(clock.clone()));
        let client = settings
            .upstream
            .client_on(clock.clone())
            .context("Failed to build the Peliqan client")?;
        let credentials = &settings.upstream.credentials;
        let api = client.partner_with(credentials.clone());
        let upstream = Upstream::new(api, Credential::of(credentials), metrics.clone());
        let routes = &settings.upstream.routes;
        let routing = BrowserRouting::new(&settings.upstream.base_url, routes);
        tracing::info!(
            peliqan_url = routing.peliqan_url.as_deref().unwrap_or_default(),
            dialect = routes.dialect().name(),
            overridden = ?routes.overrides().map(|(op, _)| op.name()).collect::<Vec<_>>(),
            credentials = Credential::of(credentials).noun(),
            "calling Peliqan"
        );
        let identity = Identity::new(settings, clock.clone())?;
        tracing::info!(source = identity.name(), "identifying users");
        let shared = match &settings.shared {
            Some(s) => {
                tracing::info!("sharing tokens with the fleet through Redis (the shared tier)");
                Some(SharedTier::new(s, lock_ttl(settings), metrics.clone())?)
            }
            None => None,
        };
        let per_minute = settings.rate_limit_per_minute;
        let limiter = Arc::new(match &shared {
            Some(_) => RateLimiter::for_fleet(per_minute, clock.clone()),
            None => RateLimiter::new(per_minute, clock.clone()),
        });
        if let Some(tier) = shared.as_ref().filter(|_| limiter.counts_for_fleet()) {
            crate::shared::rate::start_reporting(&limiter, tier.clone());
        }
        let tokens = TokenCache::new(
            upstream.clone(),
            settings.cache.clone(),
            settings.auto_provision,
            metrics.clone(),
            clock.clone(),
            shared,
        );
        if let Some(file) = &settings.hydration.blueprint_file {
            hydrate_provisioned(settings, file, &tokens, client.clone(), &metrics)?;
        }
        Ok(Self {
            identity,
            limiter,
            tokens,
            connectors: Connectors::new(upstream.clone(), settings.cache.connectors_ttl),
            upstream,
            health,
            metrics,
            allowed_origins: settings.allowed_origins.clone(),
            cors: CorsPolicy::new(settings.identity.csrf_header()),
            max_body_bytes: settings.max_body_bytes,
            readiness_cache: settings.upstream.readiness_cache,
            token_routing: routing_fragment(&routing),
            clock,
        })
    }

    /// Identifies the caller (their JWT, or the configured source) and
    /// applies the per-user rate limit (a user is the pair tenant, `sub`).
    pub async fn authenticate(&self, req: &HttpRequest) -> Result<Arc<VerifiedUser>, ServiceError> {
        let user = self.identity.identify(req).await?;
        let (tenant, sub) = (user.tenant.as_str(), user.subject.as_str());
        if let Err(wait) = self.limiter.check(tenant, sub) {
            self.metrics.rate_limited();
            return Err(ServiceError::RateLimited(wait));
        }
        Ok(user)
    }
}
