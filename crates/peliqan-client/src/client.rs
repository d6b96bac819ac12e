//! [`PeliqanClient`] and the request loop every call goes through.
//!
//! A call is: build the URL from the base URL and a path of
//! [`peliqan_api::paths`], send it with `Authorization: JWT <token>` (a header
//! marked sensitive, so HTTP-level logging redacts it), retry it per the
//! [`RetryPolicy`] when it is idempotent, then map a non-2xx answer to
//! [`Error::Api`] or deserialize the body, naming the JSON path on failure.

use crate::builder::ClientBuilder;
use crate::call::{Call, decode, parse_retry_after};
use crate::error::Error;
use crate::partner::PartnerApi;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::subaccount::SubaccountApi;
use peliqan_api::ApiErrorBody;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// A client for the Peliqan Embed API. Cheap to clone: clones share one
/// connection pool. Calls are made through [`PeliqanClient::partner`] (with
/// the partner token) or [`PeliqanClient::subaccount`] (with an
/// end-customer token).
#[derive(Clone)]
pub struct PeliqanClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    pub(crate) retry: RetryPolicy,
    pub(crate) routes: peliqan_api::Routes,
}

impl std::fmt::Debug for PeliqanClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeliqanClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl PeliqanClient {
    /// Starts configuring a client for the API at `base_url`, e.g.
    /// `https://app.eu.peliqan.io` (a path prefix and a trailing slash are fine).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The base URL all paths are appended to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The routes (dialect and overrides) this client calls.
    pub fn routes(&self) -> &peliqan_api::Routes {
        &self.inner.routes
    }

    /// Calls made with the partner token: sub-accounts, their tokens,
    /// servertypes.
    pub fn partner(&self, token: Secret) -> PartnerApi {
        PartnerApi::new(self.clone(), token)
    }

    /// Calls made with the partner's credentials: a partner token, or OAuth
    /// client credentials exchanged (and renewed) for an access token.
    pub fn partner_with(&self, credentials: crate::PartnerCredentials) -> PartnerApi {
        match credentials {
            crate::PartnerCredentials::Token(token) => PartnerApi::new(self.clone(), token),
            // Not wired yet: the access-token exchange lands with the dialect-aware client.
            crate::PartnerCredentials::ClientCredentials { client_secret, .. } => {
                PartnerApi::new(self.clone(), client_secret)
            }
        }
    }

    /// Calls made inside one end-customer account, with its token:
    /// connections, tables, scripts.
    pub fn subaccount(&self, token: Secret) -> SubaccountApi {
        SubaccountApi::new(self.clone(), token)
    }

    /// The full URL of `path` (from [`peliqan_api::paths`]) with `query`.
    pub(crate) fn endpoint(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.inner.base_url.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends `call` and deserializes the answer as a `T`.
    pub(crate) async fn fetch<T: DeserializeOwned>(
        &self,
        token: &Secret,
        call: Call,
    ) -> Result<T, Error> {
        let body = self.execute(token, &call).await?;
        decode(call.verb, &call.path, &body)
    }

    /// Sends `call` and reads a list answer: a JSON array, or a DRF page
    /// `{"results": [...], ...}` (Peliqan's list shape is not documented).
    pub(crate) async fn fetch_list<T: DeserializeOwned>(
        &self,
        token: &Secret,
        call: Call,
    ) -> Result<Vec<T>, Error> {
        #[derive(serde::Deserialize)]
        struct Page<T> {
            results: Vec<T>,
        }
        let body = self.execute(token, &call).await?;
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            decode::<Page<T>>(call.verb, &call.path, &body).map(|page| page.results)
        } else {
            decode(call.verb, &call.path, &body)
        }
    }

    /// Sends `call`, retrying per the policy, and returns the body of the
    /// first successful answer.
    pub(crate) async fn execute(&self, token: &Secret, call: &Call) -> Result<Vec<u8>, Error> {
        let method = call.verb.as_str();
        let mut auth = HeaderValue::from_str(&format!("JWT {}", token.expose())).map_err(|_| {
            Error::InvalidToken {
                method,
                path: call.path.clone(),
            }
        })?;
        auth.set_sensitive(true);
        let query: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = self.endpoint(&call.path, &query);
        let policy = &self.inner.retry;
        let mut attempt = 0;
        loop {
            let result = self.attempt(call, &url, &auth, attempt).await;
            let err = match result {
                Ok(body) => return Ok(body),
                Err(err) => err,
            };
            if !policy.should_retry(call.verb.is_idempotent(), &err, attempt) {
                return Err(err);
            }
            // Retry-After is what a rate limiter (429) or an overloaded
            // server (503) asks for; anything else gets jittered backoff.
            let asked = err
                .retry_after()
                .filter(|_| matches!(err.status(), Some(429 | 503)));
            let delay = policy.delay(attempt, asked, &mut rand::rng());
            tracing::debug!(
                method,
                path = %call.path,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying peliqan call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt: send, read the whole body, map error statuses. Logs one
    /// debug event with the status (or the failure) and no secrets: the
    /// path is logged without its query.
    async fn attempt(
        &self,
        call: &Call,
        url: &Url,
        auth: &HeaderValue,
        attempt: u32,
    ) -> Result<Vec<u8>, Error> {
        let method = call.verb.as_str();
        let started = Instant::now();
        let mut request = self
            .inner
            .http
            .request(call.verb.method(), url.clone())
            .header(AUTHORIZATION, auth.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transport = |e| {
            let err = Error::from_reqwest(method, &call.path, e);
            tracing::debug!(method, path = %call.path, attempt, error = %err, "peliqan call failed");
            err
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let body = response.bytes().await.map_err(transport)?;
        tracing::debug!(
            method,
            path = %call.path,
            attempt,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "peliqan answered"
        );
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let text = String::from_utf8_lossy(&body);
        let body = if text.trim().is_empty() {
            ApiErrorBody::detail(status.canonical_reason().unwrap_or("no error body"))
        } else {
            ApiErrorBody::parse(&text)
        };
        Err(Error::Api {
            status: status.as_u16(),
            method,
            path: call.path.clone(),
            body: Box::new(body),
            retry_after,
        })
    }
}
