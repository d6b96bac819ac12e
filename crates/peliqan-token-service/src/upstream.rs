//! Every call the service makes to Peliqan, counted and classified.
//!
//! The client (`peliqan-client`) already applies timeouts and retries
//! idempotent GETs with capped, jittered backoff and `Retry-After`; this layer
//! adds metrics, turns client errors into [`ServiceError`]s, and treats a
//! 401/403 on the partner token as what it is: an operator problem, logged
//! loudly (without the token) and reported by `/readyz`.

use crate::error::ServiceError;
use crate::metrics::Metrics;
use crate::readiness::PartnerHealth;
use peliqan_api::{
    ExternalId, Servertype, Subaccount, SubaccountId, SubaccountInput, SubaccountToken,
};
use peliqan_client::{Error, Expiry, PartnerApi};
use std::future::Future;
use std::sync::Arc;

/// Partner-token calls to Peliqan.
#[derive(Clone)]
pub struct Upstream {
    api: PartnerApi,
    metrics: Arc<Metrics>,
    health: Arc<PartnerHealth>,
}

impl Upstream {
    /// Wraps a partner API handle.
    pub fn new(api: PartnerApi, metrics: Arc<Metrics>, health: Arc<PartnerHealth>) -> Self {
        Self {
            api,
            metrics,
            health,
        }
    }

    /// A short-lived token for the sub-account with the partner's id.
    pub async fn token_by_external_id(&self, id: &ExternalId) -> Result<SubaccountToken, Error> {
        self.call(
            "token",
            self.api
                .subaccount_token_by_external_id(id, Expiry::ShortLived),
        )
        .await
    }

    /// A short-lived token for a known sub-account id.
    pub async fn token_by_id(&self, id: SubaccountId) -> Result<SubaccountToken, Error> {
        self.call("token", self.api.subaccount_token(id, Expiry::ShortLived))
            .await
    }

    /// Creates a sub-account (never retried: a retry could create two).
    pub async fn create_subaccount(&self, input: &SubaccountInput) -> Result<Subaccount, Error> {
        self.call("create_subaccount", self.api.create_subaccount(input))
            .await
    }

    /// The connector catalogue.
    pub async fn servertypes(&self) -> Result<Vec<Servertype>, Error> {
        self.call("servertypes", self.api.servertypes()).await
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.metrics.upstream_call(operation);
        let result = fut.await;
        match &result {
            Ok(_) => self.health.partner_token_works(),
            Err(e) => {
                self.metrics.upstream_error(operation, error_kind(e));
                if matches!(e.status(), Some(401 | 403)) {
                    // The error names method, path and Peliqan's message, never the token.
                    tracing::error!(
                        error = %e,
                        "Peliqan REJECTED THE PARTNER TOKEN: check PELIQAN_PARTNER_TOKEN; \
                         no tenant can get a token until this is fixed"
                    );
                    self.health.partner_token_rejected(e.to_string());
                } else if e.status() == Some(404) {
                    // Expected for a tenant without a sub-account yet.
                    tracing::debug!(error = %e, operation, "Peliqan answered 404");
                } else {
                    tracing::warn!(error = %e, operation, "Peliqan call failed");
                }
            }
        }
        result
    }
}

fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::Api {
            status: 401 | 403, ..
        } => "unauthorized",
        Error::Api { status: 404, .. } => "not_found",
        Error::Api { status: 429, .. } => "rate_limited",
        Error::Api { status: 500.., .. } => "server_error",
        Error::Api { .. } => "client_error",
        Error::Timeout { .. } => "timeout",
        Error::Transport { .. } => "transport",
        Error::Decode { .. } => "decode",
        _ => "other",
    }
}

/// What the caller of the token service sees for a failed Peliqan call.
pub fn to_service_error(e: &Error) -> ServiceError {
    match e {
        Error::Api { status: 429, .. } => ServiceError::UpstreamUnavailable(e.retry_after()),
        Error::Api { status: 500.., .. } | Error::Timeout { .. } | Error::Transport { .. } => {
            ServiceError::UpstreamUnavailable(e.retry_after())
        }
        // An answer that does not parse is Peliqan having a bad moment (or
        // an API change): nothing the caller did, and retrying may help.
        Error::Decode { .. } => ServiceError::UpstreamUnavailable(None),
        // 401/403 on the partner token, other 4xx, a bad URL: configuration.
        _ => ServiceError::UpstreamMisconfigured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api {
            status,
            method: "GET",
            path: "/x".into(),
            body: Box::default(),
            retry_after,
        }
    }

    #[test]
    fn upstream_failures_map_to_caller_facing_codes() {
        let after = Some(Duration::from_secs(9));
        assert_eq!(
            to_service_error(&api(429, after)),
            ServiceError::UpstreamUnavailable(after)
        );
        assert_eq!(
            to_service_error(&api(503, None)).code(),
            "upstream_unavailable"
        );
        assert_eq!(
            to_service_error(&api(401, None)).code(),
            "upstream_misconfigured"
        );
        assert_eq!(
            to_service_error(&api(403, None)).code(),
            "upstream_misconfigured"
        );
        assert_eq!(
            to_service_error(&api(400, None)).code(),
            "upstream_misconfigured"
        );
        let timeout = Error::Timeout {
            method: "GET",
            path: "/x".into(),
        };
        assert_eq!(to_service_error(&timeout).code(), "upstream_unavailable");
    }
}
