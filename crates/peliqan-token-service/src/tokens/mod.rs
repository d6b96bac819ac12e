//! The per-tenant token cache.
//!
//! Flow of [`TokenCache::get`]:
//! - hit: answer the cached token; if its refresh is due, start one
//!   background refresh (the caller does not wait for it);
//! - miss: join the tenant's in-flight fetch, or start one.
//!
//! A fetch ("flight") runs in its own spawned task and is shared by every
//! waiter, so concurrent misses for one tenant make exactly one upstream call
//! and a caller that disconnects does not cancel the fetch for the others.
//! Refreshes are flights too, so a miss during a refresh joins it. Errors are
//! handed to the waiters of that flight and never stored. A failed refresh
//! leaves the still-valid token in place and is retried a little later.
//!
//! moka bounds the cache (capacity) and drops each entry at its own
//! `valid_until` ([`entry`]).

mod compact;
pub mod entry;
mod fetch;
mod ids;

use crate::auth::Profile;
use crate::error::ServiceError;
use crate::metrics::Metrics;
use crate::settings::CacheSettings;
use crate::upstream::Upstream;
pub use entry::CachedToken;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use moka::Expiry;
use parking_lot::Mutex;
use peliqan_api::ExternalId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Flight = Shared<BoxFuture<'static, Result<Arc<CachedToken>, ServiceError>>>;

/// Tokens per tenant. Cheap to clone.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    tokens: moka::future::Cache<ExternalId, Arc<CachedToken>>,
    /// external_id -> sub-account id, so later fetches use the id endpoint
    /// and never provision twice.
    ids: ids::TenantIds,
    flights: Mutex<HashMap<ExternalId, Flight>>,
    upstream: Upstream,
    settings: CacheSettings,
    auto_provision: bool,
    metrics: Arc<Metrics>,
}

/// Drops each entry at its own `valid_until`.
struct UntilValid;

impl Expiry<ExternalId, Arc<CachedToken>> for UntilValid {
    fn expire_after_create(
        &self,
        _: &ExternalId,
        v: &Arc<CachedToken>,
        now: Instant,
    ) -> Option<Duration> {
        Some(v.valid_until.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &ExternalId,
        v: &Arc<CachedToken>,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.valid_until.saturating_duration_since(now))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Miss,
    Refresh,
}

impl TokenCache {
    /// An empty cache fetching through `upstream`.
    pub fn new(
        upstream: Upstream,
        settings: CacheSettings,
        auto_provision: bool,
        metrics: Arc<Metrics>,
    ) -> Self {
        let tokens = moka::future::Cache::builder()
            .max_capacity(settings.capacity)
            .expire_after(UntilValid)
            .build();
        let ids = ids::TenantIds::new(settings.capacity);
        let inner = Inner {
            tokens,
            ids,
            flights: Mutex::default(),
            upstream,
            settings,
            auto_provision,
            metrics,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Number of cached tenants (approximate, for metrics).
    pub fn len(&self) -> u64 {
        self.inner.tokens.entry_count()
    }

    /// Whether no tenant is cached (approximate).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tenant's token, from cache when possible.
    pub async fn get(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
    ) -> Result<Arc<CachedToken>, ServiceError> {
        let now = Instant::now();
        if let Some(token) = self
            .inner
            .tokens
            .get(tenant)
            .await
            .filter(|t| t.is_valid(now))
        {
            self.inner.metrics.cache_hit();
            if token.claim_refresh(now) {
                // Not awaited: the flight runs in its own task.
                drop(self.flight(tenant, profile, Kind::Refresh, Some(token.clone())));
            }
            return Ok(token);
        }
        self.inner.metrics.cache_miss();
        self.flight(tenant, profile, Kind::Miss, None).await
    }

    /// Joins the tenant's flight or starts one.
    fn flight(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
        kind: Kind,
        old: Option<Arc<CachedToken>>,
    ) -> Flight {
        let mut flights = self.inner.flights.lock();
        if let Some(f) = flights.get(tenant) {
            return f.clone();
        }
        let inner = self.inner.clone();
        let (tenant2, profile) = (tenant.clone(), profile.clone());
        let task = tokio::spawn(async move { inner.run_flight(tenant2, profile, kind, old).await });
        let flight = task
            .map(|joined| {
                joined.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "token fetch task failed");
                    Err(ServiceError::Internal)
                })
            })
            .boxed()
            .shared();
        flights.insert(tenant.clone(), flight.clone());
        flight
    }
}

impl Inner {
    async fn run_flight(
        self: Arc<Self>,
        tenant: ExternalId,
        profile: Profile,
        kind: Kind,
        old: Option<Arc<CachedToken>>,
    ) -> Result<Arc<CachedToken>, ServiceError> {
        // A miss may have raced with the end of the previous flight, which
        // stores its token before leaving the flight map: look again.
        let cached = match kind {
            Kind::Miss => self
                .tokens
                .get(&tenant)
                .await
                .filter(|t| t.is_valid(Instant::now())),
            Kind::Refresh => None,
        };
        let result = match cached {
            Some(t) => Ok(t),
            None => self.fetch(&tenant, &profile).await.map(Arc::new),
        };
        match (&result, kind) {
            (Ok(token), _) => self.tokens.insert(tenant.clone(), token.clone()).await,
            (Err(e), Kind::Refresh) => {
                tracing::warn!(tenant = %tenant, code = e.code(), "token refresh failed; serving the cached token");
                if let Some(old) = &old {
                    old.refresh_failed(Instant::now());
                }
            }
            (Err(_), Kind::Miss) => {}
        }
        if kind == Kind::Refresh {
            self.metrics
                .cache_refresh(if result.is_ok() { "ok" } else { "error" });
        }
        self.flights.lock().remove(&tenant);
        result
    }
}
