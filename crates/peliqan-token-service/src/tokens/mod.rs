//! The per-tenant token cache.
//!
//! Flow of [`TokenCache::get`]:
//! - hit: answer the cached token; if its refresh is due, start one
//!   background refresh (the caller does not wait for it);
//! - miss: answer `unknown_tenant` at once if Peliqan said so moments ago
//!   (auto-provisioning off, see below), else join the tenant's in-flight
//!   fetch, or start one.
//!
//! A fetch ("flight", [`flight`]) runs in its own spawned task and is shared
//! by every waiter, so concurrent misses for one tenant make exactly one
//! upstream call and a caller that disconnects does not cancel the fetch for
//! the others. Refreshes are flights too, so a miss during a refresh joins
//! it. Errors are handed to the waiters of that flight and never stored. A
//! failed refresh leaves the still-valid token in place and is retried a
//! little later. A flight leaves the map however its task ends (a panic
//! included), so a tenant can never be stuck on one flight's error.
//!
//! [`TokenCache::get_forced`] is the forced refresh: a browser reports that
//! Peliqan rejected a token. Only when that token is the cached one, and the
//! tenant's last forced refresh is at least `forced_refresh_interval` old,
//! is it evicted and refetched, as a flight like a miss; otherwise the cached
//! token is the answer. So reports cannot be used to hammer Peliqan.
//!
//! "No such tenant" is remembered for `unknown_tenant_ttl` in a small
//! bounded cache, so requests for a tenant without a sub-account do not each
//! become a Peliqan call; a sub-account created elsewhere is seen within
//! that time, one the service provisions at once.
//!
//! moka bounds the cache (capacity) and drops each entry at its own
//! `valid_until` ([`entry`]).
//!
//! Time is read from the service's clock ([`peliqan_api::clock`]) only:
//! token validity, refresh and forced-refresh times, the unknown-tenant
//! memory. moka's own expiry runs on real time, which is harmless because it
//! only frees memory: every read re-checks an entry against the clock
//! ([`CachedToken::is_valid`], the time an unknown tenant was noted), so
//! with a test's clock moved ahead an entry moka still holds is not served.

mod compact;
pub mod entry;
mod fetch;
mod fleet;
mod flight;
mod ids;

use crate::auth::Profile;
use crate::error::ServiceError;
use crate::metrics::Metrics;
use crate::settings::CacheSettings;
use crate::shared::SharedTier;
use crate::upstream::Upstream;
pub use entry::CachedToken;
use flight::{Flight, FlightResult, Flights};
use moka::Expiry;
use peliqan_api::clock::SharedClock;
use peliqan_api::{ExternalId, SubaccountToken};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most tenants remembered as unknown at once. Forgetting one early costs
/// one upstream call, so this only needs to bound memory.
const UNKNOWN_CAPACITY: u64 = 10_000;

/// Tokens per tenant. Cheap to clone.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    /// Hashed with foldhash (seeded per process), as hashbrown's maps are:
    /// std's SipHash was a measurable part of a cached request.
    tokens: moka::sync::Cache<ExternalId, Arc<CachedToken>, foldhash::fast::RandomState>,
    /// external_id -> sub-account id, so later fetches use the id endpoint
    /// and never provision twice.
    ids: ids::TenantIds,
    flights: Arc<Flights>,
    /// Tenants Peliqan recently said it has no sub-account for, with when
    /// (on `clock`) it said so; `None` when `unknown_tenant_ttl` is 0.
    unknown: Option<moka::future::Cache<ExternalId, Instant>>,
    upstream: Upstream,
    settings: CacheSettings,
    auto_provision: bool,
    metrics: Arc<Metrics>,
    /// Where every time here is read.
    clock: SharedClock,
    /// The fleet's shared second tier, when configured ([`fleet`]).
    shared: Option<Arc<SharedTier>>,
    /// Applied to each tenant this service provisions, when configured.
    hydration: std::sync::OnceLock<Arc<crate::hydrate::Hydration>>,
}

/// Drops each entry at its own `valid_until`: after as long as it has left
/// on the service's clock, counted by moka on real time (only to free
/// memory; reads check [`CachedToken::is_valid`] against the clock).
struct UntilValid(SharedClock);

impl UntilValid {
    fn left(&self, v: &CachedToken) -> Duration {
        v.valid_until.saturating_duration_since(self.0.instant())
    }
}

impl Expiry<ExternalId, Arc<CachedToken>> for UntilValid {
    fn expire_after_create(
        &self,
        _: &ExternalId,
        v: &Arc<CachedToken>,
        _: Instant,
    ) -> Option<Duration> {
        Some(self.left(v))
    }

    fn expire_after_update(
        &self,
        _: &ExternalId,
        v: &Arc<CachedToken>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.left(v))
    }
}

/// Why a flight runs.
enum Kind {
    /// Nothing (valid) is cached.
    Miss,
    /// The cached entry's refresh is due.
    Refresh(Arc<CachedToken>),
    /// Peliqan rejected the cached entry.
    Forced(Arc<CachedToken>),
}

impl TokenCache {
    /// An empty cache fetching through `upstream`, on `clock`'s time.
    pub fn new(
        upstream: Upstream,
        settings: CacheSettings,
        auto_provision: bool,
        metrics: Arc<Metrics>,
        clock: SharedClock,
        shared: Option<Arc<SharedTier>>,
    ) -> Self {
        let tokens = moka::sync::Cache::builder()
            .max_capacity(settings.capacity)
            .expire_after(UntilValid(clock.clone()))
            .build_with_hasher(foldhash::fast::RandomState::default());
        let ids = ids::TenantIds::new(settings.capacity);
        let unknown = (!settings.unknown_tenant_ttl.is_zero()).then(|| {
            // moka's TTL (real time) only frees memory; `miss` checks the
            // noted time against the clock.
            moka::future::Cache::builder()
                .max_capacity(settings.capacity.min(UNKNOWN_CAPACITY))
                .time_to_live(settings.unknown_tenant_ttl)
                .build()
        });
        let inner = Inner {
            tokens,
            ids,
            flights: Arc::new(Flights::new(clock.clone())),
            unknown,
            upstream,
            settings,
            auto_provision,
            metrics,
            clock,
            shared,
            hydration: std::sync::OnceLock::new(),
        };
        let inner = Arc::new(inner);
        if let Some(shared) = &inner.shared {
            // Another replica replaced a tenant's token (a forced refresh):
            // a first-tier copy of the old one goes.
            let weak = Arc::downgrade(&inner);
            shared.listen(move |tenant, token| {
                let weak = weak.clone();
                async move {
                    let Some(inner) = weak.upgrade() else { return };
                    inner.replaced_elsewhere(tenant, token).await;
                }
            });
        }
        Self { inner }
    }

    /// Applies `hydration` to every tenant provisioned from now on (once).
    pub fn set_hydration(&self, hydration: Arc<crate::hydrate::Hydration>) {
        let _ = self.inner.hydration.set(hydration);
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
        let now = self.inner.clock.instant();
        if let Some(token) = self.cached(tenant, now).await {
            self.inner.metrics.cache_hit();
            if token.claim_refresh(now) {
                // Not awaited: the flight runs in its own task.
                drop(self.flight(tenant, profile, Kind::Refresh(token.clone())));
            }
            return Ok(token);
        }
        self.miss(tenant, profile).await
    }

    /// The tenant's token after a browser reported that Peliqan rejected
    /// `rejected`: a new one when `rejected` is the cached token and the
    /// tenant had no forced refresh within `forced_refresh_interval`, else
    /// the cached one (see the module docs).
    pub async fn get_forced(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
        rejected: &str,
    ) -> Result<Arc<CachedToken>, ServiceError> {
        let now = self.inner.clock.instant();
        let Some(token) = self.cached(tenant, now).await else {
            // Nothing to evict: whatever the browser holds is not served any more.
            return self.miss(tenant, profile).await;
        };
        let metrics = &self.inner.metrics;
        if !token.is(rejected) {
            // A newer token than the browser's, or not this tenant's at all.
            metrics.cache_hit();
            metrics.forced_refresh("stale");
            return Ok(token);
        }
        if token.forced_recently(now, self.inner.settings.forced_refresh_interval) {
            metrics.cache_hit();
            metrics.forced_refresh("throttled");
            return Ok(token);
        }
        metrics.cache_miss();
        self.flight(tenant, profile, Kind::Forced(token)).await
    }

    /// The tenant's valid cached token.
    async fn cached(&self, tenant: &ExternalId, now: Instant) -> Option<Arc<CachedToken>> {
        self.inner.tokens.get(tenant).filter(|t| t.is_valid(now))
    }

    /// Nothing valid is cached: a recent "unknown tenant", or a flight.
    async fn miss(
        &self,
        tenant: &ExternalId,
        profile: &Profile,
    ) -> Result<Arc<CachedToken>, ServiceError> {
        if let Some(unknown) = &self.inner.unknown
            && let Some(noted) = unknown.get(tenant).await
            && self.inner.clock.instant().saturating_duration_since(noted)
                < self.inner.settings.unknown_tenant_ttl
        {
            self.inner.metrics.unknown_tenant_remembered();
            return Err(ServiceError::UnknownTenant);
        }
        self.inner.metrics.cache_miss();
        self.flight(tenant, profile, Kind::Miss).await
    }

    /// Joins the tenant's flight or starts one for `kind`.
    fn flight(&self, tenant: &ExternalId, profile: &Profile, kind: Kind) -> Flight {
        let refreshing = match &kind {
            Kind::Refresh(old) => Some(old.clone()),
            Kind::Miss | Kind::Forced(_) => None,
        };
        self.inner.flights.join_or_start(tenant, refreshing, || {
            // Only cloned when a flight starts: joining one costs nothing.
            let (inner, tenant, profile) = (self.inner.clone(), tenant.clone(), profile.clone());
            inner.run_flight(tenant, profile, kind)
        })
    }
}

impl Inner {
    async fn run_flight(
        self: Arc<Self>,
        tenant: ExternalId,
        profile: Profile,
        kind: Kind,
    ) -> FlightResult {
        let result = match &kind {
            // A miss may have raced with the end of the previous flight,
            // which stores its token before leaving the flight map: look again.
            Kind::Miss => match self.current(&tenant).await {
                Some(t) => Ok(t),
                None => self.fetch(&tenant, &profile, None).await.map(Arc::new),
            },
            Kind::Refresh(old) => {
                let avoid = old.token_text();
                self.fetch(&tenant, &profile, Some(&avoid))
                    .await
                    .map(Arc::new)
            }
            Kind::Forced(rejected) => match self.current(&tenant).await {
                // Replaced since the browser's report was checked: that
                // newer token is the answer.
                Some(t) if !Arc::ptr_eq(&t, rejected) => Ok(t),
                _ => {
                    // Evicted first, so requests meanwhile wait for this
                    // flight instead of getting the rejected token.
                    self.tokens.invalidate(&tenant);
                    self.metrics.forced_refresh("refetched");
                    let avoid = rejected.token_text();
                    let fetched = self.fetch(&tenant, &profile, Some(&avoid)).await;
                    fetched.map(|t| Arc::new(t.into_forced()))
                }
            },
        };
        match (&result, &kind) {
            (Ok(token), _) => self.tokens.insert(tenant.clone(), token.clone()),
            (Err(e), Kind::Refresh(old)) => {
                tracing::warn!(tenant = %tenant, code = e.code(), "token refresh failed; serving the cached token");
                old.refresh_failed(self.clock.instant());
            }
            (Err(ServiceError::UnknownTenant), Kind::Miss | Kind::Forced(_)) => {
                // Marked before the flight leaves the map, so no request
                // after it asks Peliqan again within the TTL.
                if let Some(unknown) = &self.unknown {
                    unknown.insert(tenant.clone(), self.clock.instant()).await;
                }
            }
            (Err(_), Kind::Miss | Kind::Forced(_)) => {}
        }
        if let Kind::Refresh(_) = kind {
            self.metrics
                .cache_refresh(if result.is_ok() { "ok" } else { "error" });
        }
        result
    }

    /// The tenant's valid cached token, as a flight sees it.
    async fn current(&self, tenant: &ExternalId) -> Option<Arc<CachedToken>> {
        self.tokens
            .get(tenant)
            .filter(|t| t.is_valid(self.clock.instant()))
    }

    /// A sub-account for `tenant` now exists: forget that it was unknown.
    async fn tenant_created(&self, tenant: &ExternalId) {
        if let Some(unknown) = &self.unknown {
            unknown.invalidate(tenant).await;
        }
        if let Some(shared) = &self.shared {
            shared.forget_unknown(tenant).await;
        }
    }

    /// Another replica announced `token` as `tenant`'s new one: a different
    /// token in this replica's first tier is replaced (a tenant this
    /// replica does not hold stays out: memory is for its own traffic).
    async fn replaced_elsewhere(&self, tenant: ExternalId, token: SubaccountToken) {
        let Some(held) = self.tokens.get(&tenant) else {
            return;
        };
        if held.is(&token.token) {
            return;
        }
        match self.checked(&tenant, &token) {
            Ok(new) => self.tokens.insert(tenant, Arc::new(new.into_forced())),
            Err(_) => self.tokens.invalidate(&tenant),
        }
    }
}
