//! The one error type of the HTTP boundary, and its RFC 9457 problem body.
//!
//! Every failure a caller can see is a [`ServiceError`] with a stable `code`
//! (documented in the README); the mapping to an HTTP status lives in
//! [`ServiceError::status_code`] and is unit-tested below. The body is a
//! [`peliqan_api::Problem`], the type the SDK and the tests read it with, so
//! its keys exist once. Details meant for
//! operators (cause chains, upstream messages) go to the logs where the error
//! is produced; `detail` only says what the caller can act on, and never
//! carries a partner credential. The one detail written for operators is
//! [`ServiceError::DialectMismatch`]'s: during setup the caller *is* the
//! operator, and the dialect and key names it gives away are not secret.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use peliqan_api::{Dialect, Operation, Problem};
use std::time::Duration;

/// Media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// No `Authorization: Bearer <jwt>` header.
    #[error("send the user's JWT as `Authorization: Bearer <jwt>`")]
    MissingCredentials,
    /// The JWT is malformed, badly signed, or lacks a required claim.
    #[error("{0}")]
    InvalidToken(String),
    /// The JWT's `exp` has passed.
    #[error("the user's JWT has expired")]
    TokenExpired,
    /// The JWT's `aud` does not name this service.
    #[error("the user's JWT is not meant for this service (aud)")]
    InvalidAudience,
    /// The JWT's `iss` is not the configured issuer.
    #[error("the user's JWT comes from an unexpected issuer (iss)")]
    InvalidIssuer,
    /// The JWT's `alg` is not the one this service is configured with.
    #[error("JWT algorithm `{0}` is not accepted here")]
    UnsupportedAlgorithm(String),
    /// The verified claims do not name a tenant.
    #[error("the user's JWT has no `{0}` claim naming the tenant")]
    MissingTenantClaim(String),
    /// The tenant claim is not a usable tenant id: leading or trailing
    /// whitespace, a control, format or line-separator character, or a
    /// number that is not an integer. Never normalised: two different claims
    /// must never land on one tenant.
    #[error(
        "the user's JWT (or identity answer) names the tenant as {0}, which is not a valid tenant id"
    )]
    InvalidTenantClaim(String),
    /// User JWTs cannot be checked right now (the JWKS cannot be fetched and
    /// the last keys are too old, or were never fetched).
    #[error("user tokens cannot be checked right now; try again shortly")]
    AuthUnavailable(Option<Duration>),
    /// Introspection answered that the access token is not active (or it
    /// is past its `exp`).
    #[error("the access token is not active (expired, revoked or unknown): sign in again")]
    IntrospectionInactive,
    /// The introspection endpoint could not be reached or answered
    /// something unusable: the token may well be fine.
    #[error("access tokens cannot be checked right now; try again shortly")]
    IntrospectionUnavailable,
    /// No configured session cookie came with the request.
    #[error("no session cookie came with the request: sign in first")]
    SessionMissing,
    /// The who-am-I endpoint does not know the session (401 or 403).
    #[error("the session has ended or is not valid: sign in again")]
    SessionInvalid,
    /// The who-am-I endpoint could not be reached or answered something
    /// unusable: the session may well be fine.
    #[error("sessions cannot be checked right now; try again shortly")]
    SessionUnavailable,
    /// A cookie-authenticated request failed the CSRF checks (the origin,
    /// or the required custom header); the detail says which.
    #[error("{0}")]
    CsrfRefused(String),
    /// Identity headers came from a TCP peer that is not a trusted proxy.
    #[error("identity headers are accepted only from a trusted proxy; sign in through it")]
    ProxyUntrusted,
    /// The trusted proxy sent no (usable) user header.
    #[error("the trusted proxy sent no `{0}` header naming the user")]
    ProxyNoUser(String),
    /// The identity (introspection answer, who-am-I answer, proxy headers)
    /// names no tenant in the configured field.
    #[error("the {answer} has no `{field}` naming the tenant", answer = .0.answer(), field = .1)]
    NoTenant(IdentitySource, String),
    /// The embedding app's session has no signed-in user.
    #[error("no user is signed in")]
    NotSignedIn,
    /// Peliqan refused the profile auto-provisioning sent for a new tenant;
    /// the detail names the refused fields (from the user's JWT claims).
    #[error("Peliqan refused to create the tenant's account: {0}")]
    ProvisioningRefused(String),
    /// The tenant has no Peliqan sub-account (and auto-provisioning is off).
    #[error("no Peliqan account exists for this tenant")]
    UnknownTenant,
    /// This user sent too many requests; try again after the given time.
    #[error("too many requests; retry after {} s", retry_secs(*.0))]
    RateLimited(Duration),
    /// Peliqan could not be reached or failed; `Some` when it said when to retry.
    #[error("Peliqan is unavailable right now; try again shortly")]
    UpstreamUnavailable(Option<Duration>),
    /// Peliqan refused the service's own credentials or answered something
    /// unusable: an operator has to act, the caller cannot.
    #[error("the token service is misconfigured; the operator has been alerted")]
    UpstreamMisconfigured,
    /// Peliqan answered that the route of `operation` does not exist (an
    /// HTML 404, a 405, a redirect, Django's slash page): the configured API
    /// dialect is likely not the one it speaks. Same code as
    /// [`ServiceError::UpstreamMisconfigured`]; the detail says what to set.
    #[error(
        "the API dialect `{dialect}` is likely not the one this Peliqan speaks (it has no route \
         for `{operation}` as that dialect writes it): set PELIQAN_API_DIALECT (or {key}) to \
         the dialect it speaks and run `peliqan-token-service doctor`",
        key = .operation.config_key()
    )]
    DialectMismatch {
        /// The dialect the service is configured with.
        dialect: Dialect,
        /// The operation whose route Peliqan does not know.
        operation: Operation,
    },
    /// The request body is not what the endpoint takes (for `POST /v1/token`:
    /// empty, or a JSON object with an optional `rejected_token` string).
    #[error("{0}")]
    InvalidRequest(String),
    /// The request body exceeds the configured limit.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The browser's `Origin` is not in the allow-list.
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// No such route.
    #[error("no such endpoint")]
    NotFound,
    /// The route exists, but not for this method; the `Allow` header to
    /// send (the route's methods, see [`crate::routes::Endpoint::allow`]).
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed(String),
    /// `/readyz`: the service cannot serve tokens right now.
    #[error("not ready: {0}")]
    NotReady(String),
    /// A bug; details are in the log.
    #[error("internal error")]
    Internal,
}

/// An identity source other than a JWT, for its error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentitySource {
    /// RFC 7662 introspection.
    Introspection,
    /// The who-am-I endpoint.
    Session,
    /// Trusted proxy headers.
    Proxy,
}

impl IdentitySource {
    /// What carries the identity, for the error text.
    fn answer(self) -> &'static str {
        match self {
            Self::Introspection => "introspection answer",
            Self::Session => "who-am-I answer",
            Self::Proxy => "trusted proxy's request",
        }
    }
}

fn retry_secs(d: Duration) -> u64 {
    // Round up: `Retry-After: 0` would invite an immediate retry that fails again.
    d.as_millis().div_ceil(1000).max(1) as u64
}

impl ServiceError {
    /// The stable, machine-readable code (documented in the README).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::InvalidToken(_) => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidIssuer => "invalid_issuer",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::MissingTenantClaim(_) => "missing_tenant_claim",
            Self::InvalidTenantClaim(_) => "invalid_tenant_claim",
            Self::AuthUnavailable(_) => "auth_unavailable",
            Self::IntrospectionInactive => "introspection_inactive",
            Self::IntrospectionUnavailable => "introspection_unavailable",
            Self::SessionMissing => "session_missing",
            Self::SessionInvalid => "session_invalid",
            Self::SessionUnavailable => "session_unavailable",
            Self::CsrfRefused(_) => "csrf_refused",
            Self::ProxyUntrusted => "proxy_untrusted",
            Self::ProxyNoUser(_) => "proxy_no_user",
            Self::NoTenant(IdentitySource::Introspection, _) => "introspection_no_tenant",
            Self::NoTenant(IdentitySource::Session, _) => "session_no_tenant",
            Self::NoTenant(IdentitySource::Proxy, _) => "proxy_no_tenant",
            Self::NotSignedIn => "not_signed_in",
            Self::ProvisioningRefused(_) => "provisioning_refused",
            Self::UnknownTenant => "unknown_tenant",
            Self::RateLimited(_) => "rate_limited",
            Self::UpstreamUnavailable(_) => "upstream_unavailable",
            Self::UpstreamMisconfigured | Self::DialectMismatch { .. } => "upstream_misconfigured",
            Self::InvalidRequest(_) => "invalid_request",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::NotReady(_) => "not_ready",
            Self::Internal => "internal_error",
        }
    }

    /// A short human title per code.
    pub fn title(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "Missing credentials",
            Self::InvalidToken(_) => "Invalid token",
            Self::TokenExpired => "Token expired",
            Self::InvalidAudience => "Invalid audience",
            Self::InvalidIssuer => "Invalid issuer",
            Self::UnsupportedAlgorithm(_) => "Unsupported algorithm",
            Self::MissingTenantClaim(_) => "Missing tenant claim",
            Self::InvalidTenantClaim(_) => "Invalid tenant claim",
            Self::AuthUnavailable(_) => "Authentication unavailable",
            Self::IntrospectionInactive => "Access token not active",
            Self::IntrospectionUnavailable => "Introspection unavailable",
            Self::SessionMissing => "No session",
            Self::SessionInvalid => "Session not valid",
            Self::SessionUnavailable => "Session check unavailable",
            Self::CsrfRefused(_) => "Cross-site request refused",
            Self::ProxyUntrusted => "Untrusted proxy",
            Self::ProxyNoUser(_) => "No user from the proxy",
            Self::NoTenant(..) => "No tenant",
            Self::NotSignedIn => "Not signed in",
            Self::ProvisioningRefused(_) => "Provisioning refused",
            Self::UnknownTenant => "Unknown tenant",
            Self::RateLimited(_) => "Too many requests",
            Self::UpstreamUnavailable(_) => "Upstream unavailable",
            Self::UpstreamMisconfigured | Self::DialectMismatch { .. } => "Upstream misconfigured",
            Self::InvalidRequest(_) => "Invalid request",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::OriginNotAllowed => "Origin not allowed",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed(_) => "Method not allowed",
            Self::NotReady(_) => "Not ready",
            Self::Internal => "Internal error",
        }
    }

    /// The `Retry-After` to send, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited(d) => Some(*d),
            Self::UpstreamUnavailable(d) | Self::AuthUnavailable(d) => {
                Some(d.unwrap_or(Duration::from_secs(1)))
            }
            Self::IntrospectionUnavailable | Self::SessionUnavailable => {
                Some(Duration::from_secs(1))
            }
            _ => None,
        }
    }

    /// The body of the problem answer ([`peliqan_api::Problem`], the type
    /// the SDK and the tests read it with).
    pub fn problem(&self) -> Problem {
        Problem::new(
            self.code(),
            self.title(),
            self.status_code().as_u16(),
            self.to_string(),
        )
    }
}

impl ResponseError for ServiceError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingCredentials
            | Self::InvalidToken(_)
            | Self::TokenExpired
            | Self::InvalidAudience
            | Self::InvalidIssuer
            | Self::UnsupportedAlgorithm(_)
            | Self::IntrospectionInactive
            | Self::SessionMissing
            | Self::SessionInvalid
            | Self::ProxyUntrusted
            | Self::ProxyNoUser(_)
            | Self::NotSignedIn => StatusCode::UNAUTHORIZED,
            Self::MissingTenantClaim(_)
            | Self::InvalidTenantClaim(_)
            | Self::OriginNotAllowed
            | Self::CsrfRefused(_)
            | Self::NoTenant(..) => StatusCode::FORBIDDEN,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnknownTenant | Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamUnavailable(_)
            | Self::AuthUnavailable(_)
            | Self::NotReady(_)
            | Self::IntrospectionUnavailable
            | Self::SessionUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamMisconfigured
            | Self::DialectMismatch { .. }
            | Self::ProvisioningRefused(_) => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(after) = self.retry_after() {
            res.insert_header((header::RETRY_AFTER, retry_secs(after)));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: tell the client which scheme is expected.
            let v = match self {
                Self::MissingCredentials => "Bearer",
                _ => "Bearer error=\"invalid_token\"",
            };
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(v)));
        }
        if let Self::MethodNotAllowed(allow) = self {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        res.json(self.problem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceError as E;

    #[test]
    fn every_error_maps_to_its_status_and_code() {
        let cases = [
            (E::MissingCredentials, 401, "missing_credentials"),
            (
                E::InvalidToken("bad signature".into()),
                401,
                "invalid_token",
            ),
            (E::TokenExpired, 401, "token_expired"),
            (E::InvalidAudience, 401, "invalid_audience"),
            (E::InvalidIssuer, 401, "invalid_issuer"),
            (
                E::UnsupportedAlgorithm("none".into()),
                401,
                "unsupported_algorithm",
            ),
            (
                E::MissingTenantClaim("external_id".into()),
                403,
                "missing_tenant_claim",
            ),
            (E::OriginNotAllowed, 403, "origin_not_allowed"),
            (
                E::InvalidTenantClaim("\"acme\\n\"".into()),
                403,
                "invalid_tenant_claim",
            ),
            (E::AuthUnavailable(None), 503, "auth_unavailable"),
            (E::IntrospectionInactive, 401, "introspection_inactive"),
            (
                E::IntrospectionUnavailable,
                503,
                "introspection_unavailable",
            ),
            (E::SessionMissing, 401, "session_missing"),
            (E::SessionInvalid, 401, "session_invalid"),
            (E::SessionUnavailable, 503, "session_unavailable"),
            (E::CsrfRefused("x".into()), 403, "csrf_refused"),
            (E::ProxyUntrusted, 401, "proxy_untrusted"),
            (E::ProxyNoUser("x-user".into()), 401, "proxy_no_user"),
            (
                E::NoTenant(IdentitySource::Introspection, "org".into()),
                403,
                "introspection_no_tenant",
            ),
            (
                E::NoTenant(IdentitySource::Session, "org".into()),
                403,
                "session_no_tenant",
            ),
            (
                E::NoTenant(IdentitySource::Proxy, "x-tenant".into()),
                403,
                "proxy_no_tenant",
            ),
            (E::NotSignedIn, 401, "not_signed_in"),
            (
                E::ProvisioningRefused("email: Enter a valid email address.".into()),
                502,
                "provisioning_refused",
            ),
            (E::UnknownTenant, 404, "unknown_tenant"),
            (E::NotFound, 404, "not_found"),
            (E::MethodNotAllowed("GET".into()), 405, "method_not_allowed"),
            (
                E::InvalidRequest("the body is not JSON".into()),
                400,
                "invalid_request",
            ),
            (E::PayloadTooLarge(10), 413, "payload_too_large"),
            (E::RateLimited(Duration::from_secs(3)), 429, "rate_limited"),
            (E::UpstreamUnavailable(None), 503, "upstream_unavailable"),
            (E::NotReady("x".into()), 503, "not_ready"),
            (E::UpstreamMisconfigured, 502, "upstream_misconfigured"),
            (
                E::DialectMismatch {
                    dialect: Dialect::Seed,
                    operation: Operation::TokenByExternalId,
                },
                502,
                "upstream_misconfigured",
            ),
            (E::Internal, 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code);
            let problem = err.problem();
            assert_eq!((problem.status, problem.code.as_str()), (status, code));
        }
    }

    #[test]
    fn a_dialect_mismatch_names_the_dialect_the_keys_and_doctor() {
        let detail = E::DialectMismatch {
            dialect: Dialect::Partner,
            operation: Operation::TokenByExternalId,
        }
        .problem()
        .detail;
        for part in [
            "API dialect `partner` is likely not the one this Peliqan speaks",
            "`token_by_external_id`",
            "PELIQAN_API_DIALECT",
            "PELIQAN_API_ROUTE_TOKEN_BY_EXTERNAL_ID",
            "`peliqan-token-service doctor`",
        ] {
            assert!(detail.contains(part), "{part}: {detail}");
        }
    }

    #[test]
    fn problem_answers_carry_media_type_and_retry_after() {
        let res = E::RateLimited(Duration::from_millis(1500)).error_response();
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let res = E::UpstreamUnavailable(Some(Duration::from_secs(7))).error_response();
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "7");
        let res = E::TokenExpired.error_response();
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_some());
    }
}
