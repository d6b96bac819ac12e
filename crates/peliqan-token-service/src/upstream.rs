//! Every call the service makes to Peliqan, counted and classified.
//!
//! The client (`peliqan-client`) already applies timeouts, retries idempotent
//! calls with capped, jittered backoff and `Retry-After`, speaks the
//! configured API dialect and exchanges OAuth client credentials for access
//! tokens; this layer adds metrics, turns client errors into
//! [`ServiceError`]s, and treats two answers as what they are, operator
//! problems logged loudly (without any secret):
//! - a 401/403 on the partner credentials (`/readyz` decides readiness by
//!   its own probe, not by these: one tenant's 401 must not take the
//!   replica out of the load balancer);
//! - "no such route" (see [`UpstreamError::route_mismatch`]): the configured
//!   dialect is likely wrong. Such a 404 is never read as "no such tenant",
//!   so it never leads to provisioning.

use crate::error::ServiceError;
use crate::metrics::Metrics;
use peliqan_api::{
    ExternalId, Servertype, Subaccount, SubaccountId, SubaccountInput, SubaccountToken,
};
use peliqan_client::{Dialect, Error, Expiry, Operation, PartnerApi, PartnerCredentials};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which kind of partner credential the service holds, for messages. It
/// never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `PELIQAN_PARTNER_TOKEN` (or `_FILE`).
    Token,
    /// `PELIQAN_CLIENT_ID` with `PELIQAN_CLIENT_SECRET` (or `_FILE`).
    ClientCredentials {
        /// The OAuth client id (an identifier, not a secret).
        client_id: String,
    },
}

impl Credential {
    /// The kind of `credentials`.
    pub fn of(credentials: &PartnerCredentials) -> Self {
        match credentials {
            PartnerCredentials::Token(_) => Self::Token,
            PartnerCredentials::ClientCredentials { client_id, .. } => Self::ClientCredentials {
                client_id: client_id.clone(),
            },
        }
    }

    /// What the credential is called in messages.
    pub fn noun(&self) -> &'static str {
        match self {
            Self::Token => "partner token",
            Self::ClientCredentials { .. } => "partner credentials",
        }
    }

    /// The settings an operator has to check when Peliqan refuses it.
    pub fn keys(&self) -> String {
        match self {
            Self::Token => "PELIQAN_PARTNER_TOKEN".to_owned(),
            Self::ClientCredentials { client_id } => format!(
                "PELIQAN_CLIENT_ID (`{client_id}`) and PELIQAN_CLIENT_SECRET, and that the \
                 OAuth application may use the Partner API"
            ),
        }
    }
}

/// A failed call to Peliqan: the operation, and the client's error.
#[derive(Debug)]
pub struct UpstreamError {
    /// What was being done.
    pub operation: Operation,
    /// How it failed (names method and path, never a query or a token).
    pub error: Error,
}

impl UpstreamError {
    /// The status Peliqan answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.error.status()
    }

    /// `Some(the configured dialect)` when Peliqan's answer says the *route*
    /// does not exist (an HTML 404, a 405, a redirect, Django's
    /// missing-slash page), rather than the object.
    pub fn route_mismatch(&self) -> Option<Dialect> {
        self.error.route_mismatch()
    }

    /// The operation whose call failed: the client-credentials exchange
    /// (`oauth_token`) when that is what failed, else [`Self::operation`].
    pub fn failed_operation(&self) -> Operation {
        match self.error {
            Error::ClientCredentials { .. } => Operation::OauthToken,
            _ => self.operation,
        }
    }

    /// Peliqan says the object (sub-account) does not exist: a 404 on a
    /// route it knows.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) && self.route_mismatch().is_none()
    }

    /// Peliqan refused the partner credentials: a 401/403, or the OAuth
    /// token endpoint refusing the client credentials with any 4xx but 429
    /// (RFC 6749 section 5.2 allows 400 `invalid_client`).
    pub fn is_unauthorized(&self) -> bool {
        if self.route_mismatch().is_some() {
            return false;
        }
        match (&self.error, self.status()) {
            (_, Some(401 | 403)) => true,
            (Error::ClientCredentials { .. }, Some(status)) => {
                (400..500).contains(&status) && status != 429
            }
            _ => false,
        }
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// Partner calls to Peliqan.
#[derive(Clone)]
pub struct Upstream {
    api: PartnerApi,
    credential: Credential,
    metrics: Arc<Metrics>,
    /// Whether the loud "wrong dialect" line was logged: once is enough, a
    /// line per request would bury everything else.
    mismatch_logged: Arc<AtomicBool>,
}

impl Upstream {
    /// Wraps a partner API handle made with credentials of kind `credential`.
    pub fn new(api: PartnerApi, credential: Credential, metrics: Arc<Metrics>) -> Self {
        Self {
            api,
            credential,
            metrics,
            mismatch_logged: Arc::default(),
        }
    }

    /// A short-lived token for the sub-account with the partner's id.
    pub async fn token_by_external_id(
        &self,
        id: &ExternalId,
    ) -> Result<SubaccountToken, UpstreamError> {
        self.call(
            "token",
            Operation::TokenByExternalId,
            self.api
                .subaccount_token_by_external_id(id, Expiry::ShortLived),
        )
        .await
    }

    /// A short-lived token for a known sub-account id.
    pub async fn token_by_id(&self, id: SubaccountId) -> Result<SubaccountToken, UpstreamError> {
        self.call(
            "token",
            Operation::TokenById,
            self.api.subaccount_token(id, Expiry::ShortLived),
        )
        .await
    }

    /// Creates a sub-account (never retried: a retry could create two).
    pub async fn create_subaccount(
        &self,
        input: &SubaccountInput,
    ) -> Result<Subaccount, UpstreamError> {
        self.call(
            "create_subaccount",
            Operation::CreateSubaccount,
            self.api.create_subaccount(input),
        )
        .await
    }

    /// The connector catalogue.
    pub async fn servertypes(&self) -> Result<Vec<Servertype>, UpstreamError> {
        self.call(
            "servertypes",
            Operation::Servertypes,
            self.api.servertypes(),
        )
        .await
    }

    /// The connector catalogue as Peliqan wrote it (checked, not
    /// re-shaped: see [`PartnerApi::servertypes_json`]).
    pub async fn servertypes_json(&self) -> Result<Vec<u8>, UpstreamError> {
        self.call(
            "servertypes",
            Operation::Servertypes,
            self.api.servertypes_json(),
        )
        .await
    }

    /// `e` for an operator (`/readyz`): a refused credential is named as
    /// such, with the keys to check.
    pub fn describe(&self, e: &UpstreamError) -> String {
        if e.is_unauthorized() {
            format!(
                "Peliqan refused the {} (check {}): {e}",
                self.credential.noun(),
                self.credential.keys()
            )
        } else {
            e.to_string()
        }
    }

    /// Runs one call: `label` is its metrics label (kept from before
    /// dialects, so dashboards keep working), `operation` what it does.
    async fn call<T>(
        &self,
        label: &'static str,
        operation: Operation,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, UpstreamError> {
        self.metrics.upstream_call(label);
        let result = fut
            .await
            .map_err(|error| UpstreamError { operation, error });
        if let Err(e) = &result {
            self.metrics.upstream_error(label, error_kind(e));
            self.log(e);
        }
        result
    }

    /// Logs a failed call. Errors name method, path and Peliqan's message,
    /// never a token, a secret or a query string.
    fn log(&self, e: &UpstreamError) {
        let op = e.failed_operation();
        if let Some(dialect) = e.route_mismatch() {
            if !self.mismatch_logged.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    error = %e,
                    operation = op.name(),
                    dialect = dialect.name(),
                    "Peliqan HAS NO ROUTE for `{op}` as the `{dialect}` API dialect writes it: \
                     this Peliqan likely speaks another dialect. Set PELIQAN_API_DIALECT (or {}) \
                     to the one it speaks and run `peliqan-token-service doctor`; `{op}` calls \
                     fail until this is fixed (logged once)",
                    op.config_key()
                );
            } else {
                tracing::debug!(error = %e, operation = op.name(), "Peliqan has no such route");
            }
        } else if e.is_unauthorized()
            && matches!(op, Operation::TokenById | Operation::TokenByExternalId)
        {
            // Also what a single broken tenant (a deleted or foreign
            // sub-account) gets: not proof that the credentials are wrong.
            tracing::warn!(
                error = %e,
                operation = op.name(),
                "Peliqan refused a tenant's token call; if every tenant fails, check {} \
                 (`/readyz` probes them)",
                self.credential.keys()
            );
        } else if e.is_unauthorized() {
            let what = self.credential.noun().to_ascii_uppercase();
            tracing::error!(
                error = %e,
                "Peliqan REJECTED THE {what}: check {}; no tenant can get a token until this \
                 is fixed",
                self.credential.keys()
            );
        } else if e.is_not_found() {
            // Expected for a tenant without a sub-account yet.
            tracing::debug!(error = %e, operation = op.name(), "Peliqan answered 404");
        } else {
            tracing::warn!(error = %e, operation = op.name(), "Peliqan call failed");
        }
    }
}

/// The error that decided the outcome: a failed client-credentials exchange
/// is judged by the exchange call's own error.
fn cause(e: &Error) -> &Error {
    match e {
        Error::ClientCredentials { source, .. } => cause(source),
        other => other,
    }
}

fn error_kind(e: &UpstreamError) -> &'static str {
    match cause(&e.error) {
        Error::RouteMismatch { .. } => "route_mismatch",
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
pub fn to_service_error(e: &UpstreamError) -> ServiceError {
    // Before the status: Django's missing-slash page is a 500, and that is
    // configuration, not Peliqan having a bad moment.
    if let Some(dialect) = e.route_mismatch() {
        return ServiceError::DialectMismatch {
            dialect,
            operation: e.failed_operation(),
        };
    }
    let err = cause(&e.error);
    match err {
        Error::Api { status: 429, .. } => ServiceError::UpstreamUnavailable(err.retry_after()),
        Error::Api { status: 500.., .. } | Error::Timeout { .. } | Error::Transport { .. } => {
            ServiceError::UpstreamUnavailable(err.retry_after())
        }
        // An answer that does not parse is Peliqan having a bad moment (or
        // an API change): nothing the caller did, and retrying may help.
        Error::Decode { .. } => ServiceError::UpstreamUnavailable(None),
        // 401/403 on the partner credentials, other 4xx, a bad URL: configuration.
        _ => ServiceError::UpstreamMisconfigured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::ApiErrorBody;
    use std::time::Duration;

    fn api(status: u16, retry_after: Option<Duration>) -> UpstreamError {
        api_with(status, ApiErrorBody::detail("x"), retry_after)
    }

    fn api_with(status: u16, body: ApiErrorBody, retry_after: Option<Duration>) -> UpstreamError {
        UpstreamError {
            operation: Operation::TokenByExternalId,
            error: Error::Api {
                status,
                method: "GET",
                path: "/x".into(),
                body: Box::new(body),
                retry_after,
            },
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
        for status in [401, 403, 400] {
            assert_eq!(
                to_service_error(&api(status, None)).code(),
                "upstream_misconfigured"
            );
        }
        let timeout = UpstreamError {
            operation: Operation::Servertypes,
            error: Error::Timeout {
                method: "GET",
                path: "/x".into(),
            },
        };
        assert_eq!(to_service_error(&timeout).code(), "upstream_unavailable");
    }

    fn mismatch(status: u16) -> Error {
        Error::RouteMismatch {
            dialect: Dialect::Seed,
            status,
            method: "POST",
            path: "/api/subaccount".into(),
            why: "an HTML page".into(),
        }
    }

    #[test]
    fn no_such_route_is_never_no_such_tenant_and_names_the_dialect() {
        for status in [404, 405, 301, 500] {
            let e = UpstreamError {
                operation: Operation::TokenByExternalId,
                error: mismatch(status),
            };
            assert!(!e.is_not_found() && !e.is_unauthorized(), "{status}");
            assert_eq!(error_kind(&e), "route_mismatch");
            assert_eq!(
                to_service_error(&e),
                ServiceError::DialectMismatch {
                    dialect: Dialect::Seed,
                    operation: Operation::TokenByExternalId
                }
            );
        }
        // The same for the client-credentials exchange, named by its own operation.
        let e = UpstreamError {
            operation: Operation::Servertypes,
            error: Error::ClientCredentials {
                client_id: "app-1".into(),
                source: Box::new(mismatch(404)),
            },
        };
        assert!(!e.is_not_found());
        assert_eq!(
            to_service_error(&e),
            ServiceError::DialectMismatch {
                dialect: Dialect::Seed,
                operation: Operation::OauthToken
            }
        );
        // A JSON 404 on a known route is an unknown sub-account.
        assert!(api(404, None).is_not_found());
    }

    #[test]
    fn a_refused_client_credentials_exchange_is_a_credentials_problem() {
        for (status, refused) in [(401, true), (400, true), (429, false), (503, false)] {
            let e = UpstreamError {
                operation: Operation::TokenById,
                error: Error::ClientCredentials {
                    client_id: "app-1".into(),
                    source: Box::new(api(status, None).error),
                },
            };
            assert_eq!(e.is_unauthorized(), refused, "{status}");
        }
    }

    #[test]
    fn a_refused_credential_is_described_by_its_kind_without_its_secret() {
        let token = Credential::of(&PartnerCredentials::Token("s3cret".into()));
        assert_eq!(token.noun(), "partner token");
        let cc = Credential::of(&PartnerCredentials::ClientCredentials {
            client_id: "app-1".into(),
            client_secret: "s3cret".into(),
        });
        assert_eq!(cc.noun(), "partner credentials");
        assert!(cc.keys().contains("PELIQAN_CLIENT_ID (`app-1`)"));
        assert!(!format!("{cc:?}{}", cc.keys()).contains("s3cret"));
    }
}
