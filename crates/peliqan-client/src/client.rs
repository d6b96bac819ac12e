//! [`PeliqanClient`] and the request loop every call goes through.
//!
//! A call is: ask the client's [`Routes`] for the operation's route (method,
//! path with the dialect's trailing-slash rule, query), build the URL from
//! the base URL, send it with its `Authorization` header ([`crate::auth`]),
//! retry it per the [`RetryPolicy`] when the route's method is idempotent,
//! replay it once with a renewed access token when one was rejected (401),
//! then map a non-2xx answer to an [`Error`] ([`crate::answer`]) or
//! deserialize the body, naming the JSON path on failure. Redirects are
//! never followed: for Peliqan they mean a route of another dialect.

use crate::access_token::AccessTokens;
use crate::answer::error_for;
use crate::auth::{Auth, header};
use crate::builder::ClientBuilder;
use crate::call::{Body, Call, parse_retry_after};
use crate::credentials::PartnerCredentials;
use crate::error::Error;
use crate::partner::PartnerApi;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::subaccount::SubaccountApi;
use peliqan_api::clock::SharedClock;
use peliqan_api::dialect::Vars;
use peliqan_api::{Operation, Routes};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// A client for the Peliqan Embed API. Cheap to clone: clones share one
/// connection pool. Calls are made through [`PeliqanClient::partner`] or
/// [`PeliqanClient::partner_with`] (with the partner's credentials) or
/// [`PeliqanClient::subaccount`] (with an end-customer token).
#[derive(Clone)]
pub struct PeliqanClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    pub(crate) retry: RetryPolicy,
    pub(crate) routes: Routes,
    /// What access-token renewal reads ([`ClientBuilder::clock`]).
    pub(crate) clock: SharedClock,
}

impl std::fmt::Debug for PeliqanClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeliqanClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("dialect", &self.inner.routes.dialect())
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
    pub fn routes(&self) -> &Routes {
        &self.inner.routes
    }

    /// Calls made with the partner token (`Authorization: JWT <token>`):
    /// sub-accounts, their tokens, servertypes.
    pub fn partner(&self, token: Secret) -> PartnerApi {
        PartnerApi::new(self.clone(), Auth::Jwt(token))
    }

    /// Calls made with the partner's credentials: a partner token, or OAuth
    /// client credentials, exchanged at the dialect's `oauth_token` route for
    /// an access token (`Authorization: Bearer <token>`) that is cached,
    /// renewed before it expires and renewed once when Peliqan rejects it.
    /// Clones of the returned [`PartnerApi`] share that token.
    pub fn partner_with(&self, credentials: PartnerCredentials) -> PartnerApi {
        let auth = match credentials {
            PartnerCredentials::Token(token) => Auth::Jwt(token),
            PartnerCredentials::ClientCredentials {
                client_id,
                client_secret,
            } => Auth::ClientCredentials(Arc::new(AccessTokens::new(
                client_id,
                client_secret,
                self.inner.clock.clone(),
            ))),
        };
        PartnerApi::new(self.clone(), auth)
    }

    /// Calls made inside one end-customer account, with its token:
    /// connections, tables, scripts.
    pub fn subaccount(&self, token: Secret) -> SubaccountApi {
        SubaccountApi::new(self.clone(), Auth::Jwt(token))
    }

    /// The call of `op` with `vars`, on this client's routes. An operation
    /// the routes lack is an [`Error::Route`] naming the dialect and the key
    /// that would add it.
    pub(crate) fn call(&self, op: Operation, vars: &Vars<'_>) -> Result<Call, Error> {
        let target = self
            .inner
            .routes
            .target(op, vars)
            .map_err(|e| Error::route(op, e))?;
        Ok(Call::new(op, target))
    }

    /// The full URL of `path` (already percent-encoded, from a route) with
    /// `query`, after the base URL's own path.
    pub(crate) fn endpoint(&self, path: &str, query: &[(String, String)]) -> Url {
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
        auth: &Auth,
        call: Call,
    ) -> Result<T, Error> {
        let body = self.execute(auth, &call).await?;
        call.decode(&body)
    }

    /// Sends `call` with `auth`, retrying per the policy, and returns the
    /// body of the first successful answer. With client credentials, a
    /// rejected access token (401) is renewed, unless a concurrent call
    /// already did, and the call replayed once: a 401 means the call was
    /// not carried out, so this is safe for a `POST` too.
    pub(crate) async fn execute(&self, auth: &Auth, call: &Call) -> Result<Vec<u8>, Error> {
        match auth {
            Auth::Jwt(token) => self.send(call, Some(header("JWT", token, call)?)).await,
            Auth::ClientCredentials(tokens) => {
                let token = tokens.get(self).await?;
                match self.send(call, Some(header("Bearer", &token, call)?)).await {
                    Err(err) if err.status() == Some(401) => {
                        tracing::debug!(operation = %call.operation, "access token rejected; renewing once");
                        tokens.invalidate(&token);
                        let token = tokens.get(self).await?;
                        self.send(call, Some(header("Bearer", &token, call)?)).await
                    }
                    answer => answer,
                }
            }
        }
    }

    /// Sends `call` with the `Authorization` header `auth` (none for the
    /// client-credentials exchange), retrying per the policy.
    pub(crate) async fn send(
        &self,
        call: &Call,
        auth: Option<HeaderValue>,
    ) -> Result<Vec<u8>, Error> {
        let url = self.endpoint(&call.path, &call.query);
        let policy = &self.inner.retry;
        let mut attempt = 0;
        loop {
            let err = match self.attempt(call, &url, auth.as_ref(), attempt).await {
                Ok(body) => return Ok(body),
                Err(err) => err,
            };
            if !policy.should_retry(call.idempotent, &err, attempt) {
                return Err(err);
            }
            // Retry-After is what a rate limiter (429) or an overloaded
            // server (503) asks for; anything else gets jittered backoff.
            let asked = err
                .retry_after()
                .filter(|_| matches!(err.status(), Some(429 | 503)));
            let delay = policy.delay(attempt, asked, &mut rand::rng());
            tracing::debug!(
                method = call.method_str(),
                path = %call.path,
                operation = %call.operation,
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
    /// path is logged without its query, bodies are never logged.
    async fn attempt(
        &self,
        call: &Call,
        url: &Url,
        auth: Option<&HeaderValue>,
        attempt: u32,
    ) -> Result<Vec<u8>, Error> {
        let method = call.method_str();
        let started = Instant::now();
        let mut request = self
            .inner
            .http
            .request(call.reqwest_method(), url.clone())
            .header(ACCEPT, "application/json");
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        request = match &call.body {
            Some(Body::Json(body)) => request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone()),
            Some(Body::Form(body)) => request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone()),
            None => request,
        };
        let transport = |e| {
            let err = Error::from_reqwest(method, &call.path, e);
            tracing::debug!(method, path = %call.path, attempt, error = %err, "peliqan call failed");
            err
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        tracing::debug!(
            method,
            path = %call.path,
            operation = %call.operation,
            attempt,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "peliqan answered"
        );
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(error_for(
            call,
            self.inner.routes.dialect(),
            url,
            status,
            &headers,
            &body,
            parse_retry_after(&headers),
        ))
    }
}
