//! Prometheus metrics, served as text by `GET /metrics`.
//!
//! Labels are bounded on purpose: route templates, status codes, upstream
//! operations and error kinds. Never a tenant or user id, which would make
//! the series count grow with the customer base.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamErrorLabels {
    operation: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// All metrics of the service.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_refreshes: Family<OutcomeLabels, Counter>,
    cache_entries: Gauge,
    forced_refreshes: Family<OutcomeLabels, Counter>,
    unknown_tenant_hits: Counter,
    upstream_calls: Family<UpstreamLabels, Counter>,
    upstream_errors: Family<UpstreamErrorLabels, Counter>,
    rate_limited: Counter,
    shared_tier: Family<OutcomeLabels, Counter>,
    shared_tier_degraded: Gauge,
    /// The hot path's series (`POST /v1/token` answered 200), resolved once
    /// rather than looked up by label hash on every request.
    token_ok: Counter,
    token_latency: Histogram,
    hydrations: Family<OutcomeLabels, Counter>,
}

/// The route whose series [`Metrics`] keeps resolved.
const TOKEN_ROUTE: &str = crate::routes::TOKEN_PATH;

fn latency_histogram() -> Histogram {
    // 0.1 ms .. ~3.3 s: cached answers land in the first buckets, upstream
    // calls (with retries) in the last ones.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("token_service");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        let (cache_hits, cache_misses, cache_entries) = Default::default();
        let cache_refreshes = Family::<OutcomeLabels, Counter>::default();
        let forced_refreshes = Family::<OutcomeLabels, Counter>::default();
        let unknown_tenant_hits = Counter::default();
        let upstream_calls = Family::<UpstreamLabels, Counter>::default();
        let upstream_errors = Family::<UpstreamErrorLabels, Counter>::default();
        let rate_limited = Counter::default();
        let shared_tier = Family::<OutcomeLabels, Counter>::default();
        let shared_tier_degraded = Gauge::default();
        let hydrations = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "tenant_hydrations",
            "Blueprint applications to provisioned tenants (TOKEN_SERVICE_BLUEPRINT_FILE), one \
             per attempt, by outcome: hydrated, unchanged, failed (retried in the background), \
             uncertain (left to the operator)",
            hydrations.clone(),
        );
        registry.register(
            "shared_tier_fetches",
            "First-tier misses by how the shared tier (Redis) served them: hit (another \
             replica's token), waited (for another replica's fetch), fetched (this replica \
             called Peliqan under the lock), bypassed (tier degraded), unreadable",
            shared_tier.clone(),
        );
        registry.register(
            "shared_tier_degraded",
            "1 while the shared tier (Redis) is unavailable and replicas work alone",
            Gauge::clone(&shared_tier_degraded),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "token_cache_hits",
            "Token requests served from the cache",
            Counter::clone(&cache_hits),
        );
        registry.register(
            "token_cache_misses",
            "Token requests that had to wait for Peliqan",
            Counter::clone(&cache_misses),
        );
        registry.register(
            "token_cache_refreshes",
            "Background refreshes by outcome",
            cache_refreshes.clone(),
        );
        registry.register(
            "token_cache_entries",
            "Tenants with a cached token",
            Gauge::clone(&cache_entries),
        );
        registry.register(
            "token_forced_refreshes",
            "Tokens reported rejected by Peliqan, by outcome: refetched (once per forced \
             fetch), stale (not the cached token) or throttled (within the interval)",
            forced_refreshes.clone(),
        );
        registry.register(
            "token_unknown_tenant_cache_hits",
            "Token requests answered unknown_tenant from memory, without a Peliqan call",
            unknown_tenant_hits.clone(),
        );
        registry.register(
            "upstream_calls",
            "Calls to Peliqan by operation",
            upstream_calls.clone(),
        );
        registry.register(
            "upstream_errors",
            "Failed calls to Peliqan by operation and kind",
            upstream_errors.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused by the per-user rate limit",
            rate_limited.clone(),
        );
        let token_ok = requests
            .get_or_create(&RequestLabels {
                route: TOKEN_ROUTE,
                method: "POST",
                status: 200,
            })
            .clone();
        let token_latency = latency
            .get_or_create(&RouteLabels { route: TOKEN_ROUTE })
            .clone();
        Self {
            token_ok,
            token_latency,
            registry,
            requests,
            latency,
            cache_hits,
            cache_misses,
            cache_refreshes,
            cache_entries,
            forced_refreshes,
            unknown_tenant_hits,
            upstream_calls,
            upstream_errors,
            rate_limited,
            shared_tier,
            shared_tier_degraded,
            hydrations,
        }
    }
}

impl Metrics {
    /// Records one finished HTTP request. Labels are `'static` so the hot
    /// path allocates nothing.
    pub fn request(&self, route: &'static str, method: &'static str, status: u16, seconds: f64) {
        if route == TOKEN_ROUTE {
            self.token_latency.observe(seconds);
            if method == "POST" && status == 200 {
                self.token_ok.inc();
                return;
            }
        } else {
            self.latency
                .get_or_create(&RouteLabels { route })
                .observe(seconds);
        }
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// A token request answered from the cache.
    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    /// A token request that waited for an upstream fetch.
    pub fn cache_miss(&self) {
        self.cache_misses.inc();
    }

    /// A background refresh finished (`ok` or `error`).
    pub fn cache_refresh(&self, outcome: &'static str) {
        self.cache_refreshes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// How the shared tier served a first-tier miss (see the metric's help).
    pub fn shared_tier(&self, outcome: &'static str) {
        self.shared_tier
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The shared tier became degraded (`true`) or answers again.
    pub fn shared_tier_degraded(&self, degraded: bool) {
        self.shared_tier_degraded.set(i64::from(degraded));
    }

    /// A forced refresh was asked for (`refetched`, `stale` or `throttled`).
    pub fn forced_refresh(&self, outcome: &'static str) {
        self.forced_refreshes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// An unknown tenant was answered from memory.
    pub fn unknown_tenant_remembered(&self) {
        self.unknown_tenant_hits.inc();
    }

    /// A call to Peliqan started.
    pub fn upstream_call(&self, operation: &'static str) {
        self.upstream_calls
            .get_or_create(&UpstreamLabels { operation })
            .inc();
    }

    /// A call to Peliqan failed.
    pub fn upstream_error(&self, operation: &'static str, kind: &'static str) {
        self.upstream_errors
            .get_or_create(&UpstreamErrorLabels { operation, kind })
            .inc();
    }

    /// One hydration attempt of a provisioned tenant, by outcome.
    pub fn hydration(&self, outcome: &'static str) {
        self.hydrations
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A request was refused by the rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// The Prometheus text exposition, with `entries` as the cache size.
    pub fn encode(&self, entries: u64) -> String {
        self.cache_entries
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(series))
    }

    #[test]
    fn the_resolved_hot_series_and_looked_up_ones_count_alike() {
        let m = Metrics::default();
        for _ in 0..3 {
            m.request("/v1/token", "POST", 200, 0.0002);
        }
        m.request("/v1/token", "POST", 401, 0.0001);
        m.request("/healthz", "GET", 200, 0.0001);
        let text = m.encode(0);
        let token = r#"token_service_http_requests_total{route="/v1/token",method="POST",status="#;
        assert_eq!(
            line(&text, &format!("{token}\"200\"}}")),
            Some(&*format!("{token}\"200\"}} 3"))
        );
        assert_eq!(
            line(&text, &format!("{token}\"401\"}}")),
            Some(&*format!("{token}\"401\"}} 1"))
        );
        assert!(text.contains(
            r#"token_service_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
        ));
        assert!(
            text.contains(
                r#"token_service_http_request_duration_seconds_count{route="/v1/token"} 4"#
            )
        );
        assert!(
            text.contains(
                r#"token_service_http_request_duration_seconds_count{route="/healthz"} 1"#
            )
        );
    }
}
