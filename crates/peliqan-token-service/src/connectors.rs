//! The connector catalogue (servertypes with connect forms), cached.
//!
//! Peliqan's servertypes are passed through as Peliqan wrote them: each must
//! read as a [`peliqan_api::Servertype`] (an answer that does not is an
//! upstream error), but the bytes sent on are Peliqan's (of a paged answer,
//! its `results` array), so fields we do not model reach the browser ("read
//! tolerantly"). The catalogue is the same for every tenant and changes
//! rarely, so one checked copy is kept for `connectors_ttl`. Concurrent
//! misses share one upstream call (moka's `try_get_with`); a failure is not
//! cached.

use crate::error::ServiceError;
use crate::upstream::{Upstream, to_service_error};
use actix_web::web::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// Cached `GET /api/servertypes`, as the JSON body to send.
pub struct Connectors {
    cache: moka::future::Cache<(), Bytes>,
    upstream: Upstream,
}

impl Connectors {
    /// An empty catalogue cache.
    pub fn new(upstream: Upstream, ttl: Duration) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(ttl)
                .build(),
            upstream,
        }
    }

    /// The catalogue as JSON.
    pub async fn json(&self) -> Result<Bytes, ServiceError> {
        self.cache
            .try_get_with((), async {
                self.upstream
                    .servertypes_json()
                    .await
                    .map(Bytes::from)
                    .map_err(|e| to_service_error(&e))
            })
            .await
            .map_err(|e: Arc<ServiceError>| ServiceError::clone(&e))
    }
}
