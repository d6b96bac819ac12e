//! The one error type of the client.
//!
//! Peliqan's own answers ([`Error::Api`]) are kept apart from failures to get
//! an answer at all ([`Error::Timeout`], [`Error::Transport`]) and from
//! answers this crate could not read ([`Error::Decode`]). An answer that
//! says the route itself does not exist there is [`Error::RouteMismatch`]:
//! the configured API dialect is then likely not the one this Peliqan
//! speaks. Every variant names the method and the path of the call, never
//! its query string and never a token or client secret, so errors can be
//! logged as they are.

use peliqan_api::dialect::RouteError;
use peliqan_api::{ApiErrorBody, Dialect, Operation};
use std::time::Duration;

/// Everything a call to Peliqan can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Peliqan answered with an error status.
    #[error("Peliqan answered {status} to {method} {path}: {}", body.message())]
    Api {
        /// HTTP status code.
        status: u16,
        /// HTTP method of the call.
        method: &'static str,
        /// Path of the call, without query string.
        path: String,
        /// The parsed error body (`detail` and/or field errors).
        body: Box<ApiErrorBody>,
        /// The `Retry-After` the server asked for, in whole seconds.
        retry_after: Option<Duration>,
    },
    /// Peliqan's answer says the route does not exist there: a 404 whose
    /// body is not a JSON object (Django's HTML page for an unknown URL), a
    /// 405, a redirect (never followed; Django redirects a GET without its
    /// trailing slash), or Django's 500 page for a POST without it. The
    /// client's API dialect is likely not the one this Peliqan speaks.
    #[error(
        "Peliqan answered {status} to {method} {path} ({why}): the route does not exist there, \
         so the API dialect `{dialect}` is likely not the one this Peliqan speaks; \
         configure the dialect it speaks, or override this operation's route"
    )]
    RouteMismatch {
        /// The client's API dialect.
        dialect: Dialect,
        /// HTTP status code.
        status: u16,
        /// HTTP method of the call.
        method: &'static str,
        /// Path of the call, without query string.
        path: String,
        /// What in the answer showed it, e.g. `redirected to /api/servertypes/`.
        why: String,
    },
    /// The client's routes have no route for an operation (the dialect
    /// lacks it), or the route needs a value the call does not have. No
    /// request was sent.
    #[error("cannot call `{operation}`: {source}")]
    Route {
        /// The operation asked for.
        operation: Operation,
        /// What is missing; names the dialect and the override key.
        #[source]
        source: RouteError,
    },
    /// The OAuth client credentials could not be exchanged for an access
    /// token (refused, a route mismatch, no answer, an unreadable answer).
    #[error("could not get a partner access token for OAuth client `{client_id}`: {source}")]
    ClientCredentials {
        /// The OAuth application's client id (not a secret).
        client_id: String,
        /// Why: the error of the exchange call, naming its route and status.
        #[source]
        source: Box<Error>,
    },
    /// A script must be created inside a group, and the account has none.
    #[error(
        "cannot create a script: {method} {path} listed no script groups; \
         create a group in the Peliqan account first"
    )]
    NoScriptGroup {
        /// HTTP method of the group listing.
        method: &'static str,
        /// Path of the group listing.
        path: String,
    },
    /// No complete answer within the connect or total timeout.
    #[error("{method} {path} timed out")]
    Timeout {
        /// HTTP method of the call.
        method: &'static str,
        /// Path of the call, without query string.
        path: String,
    },
    /// The request could not be sent or the answer not received
    /// (connection refused, reset, TLS failure...).
    #[error("{method} {path} failed: {}", cause_chain(source))]
    Transport {
        /// HTTP method of the call.
        method: &'static str,
        /// Path of the call, without query string.
        path: String,
        /// The cause, with its URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// Peliqan answered successfully, but the body did not have the expected
    /// shape.
    #[error("could not read the answer to {method} {path} at `{json_path}`: {message}")]
    Decode {
        /// HTTP method of the call.
        method: &'static str,
        /// Path of the call, without query string.
        path: String,
        /// Where in the JSON document reading failed, e.g. `[0].id`.
        json_path: String,
        /// What was wrong there.
        message: String,
    },
    /// The base URL given to the builder is not usable.
    #[error("invalid Peliqan base URL `{url}`: {message}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        message: String,
    },
    /// The token cannot be sent in an HTTP header (it is never printed).
    #[error("the token for {method} {path} contains characters not allowed in an HTTP header")]
    InvalidToken {
        /// HTTP method of the call.
        method: &'static str,
        /// Path of the call, without query string.
        path: String,
    },
    /// The HTTP client could not be built (e.g. no TLS backend).
    #[error("could not build the HTTP client: {source}")]
    Build {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

impl Error {
    /// The HTTP status Peliqan answered, for [`Error::Api`],
    /// [`Error::RouteMismatch`] and a failed [`Error::ClientCredentials`]
    /// exchange.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::RouteMismatch { status, .. } => Some(*status),
            Self::ClientCredentials { source, .. } => source.status(),
            _ => None,
        }
    }

    /// `Some(the client's dialect)` when Peliqan's answer says the route does
    /// not exist there (see [`Error::RouteMismatch`]), also when that
    /// happened to the client-credentials exchange.
    pub fn route_mismatch(&self) -> Option<Dialect> {
        match self {
            Self::RouteMismatch { dialect, .. } => Some(*dialect),
            Self::ClientCredentials { source, .. } => source.route_mismatch(),
            _ => None,
        }
    }

    /// Whether trying the same idempotent call again may succeed: timeouts,
    /// transport errors, `429` and `502`/`503`/`504`. Other 4xx never are.
    /// (A failed client-credentials exchange has had its own retries.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::ClientCredentials { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The `Retry-After` the server sent with an error answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            Self::ClientCredentials { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// Peliqan's error body, for [`Error::Api`].
    pub fn api_body(&self) -> Option<&ApiErrorBody> {
        match self {
            Self::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Builds the error for a failed send or body read: a timeout when it was
    /// one, else a transport error whose URL (with its query) is removed.
    pub(crate) fn from_reqwest(method: &'static str, path: &str, err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout {
                method,
                path: path.to_owned(),
            }
        } else {
            Self::Transport {
                method,
                path: path.to_owned(),
                source: err.without_url(),
            }
        }
    }

    /// Builds the error for a route the client's routes cannot give.
    pub(crate) fn route(operation: Operation, source: RouteError) -> Self {
        Self::Route { operation, source }
    }

    /// Builds the error for a body that did not deserialize.
    pub(crate) fn decode<E: std::fmt::Display>(
        method: &'static str,
        path: &str,
        err: serde_path_to_error::Error<E>,
    ) -> Self {
        Self::Decode {
            method,
            path: path.to_owned(),
            json_path: err.path().to_string(),
            message: err.inner().to_string(),
        }
    }
}

/// `source` and its causes in one line, e.g. `error sending request: client
/// error (Connect): tcp connect error: Connection refused (os error 111)`:
/// reqwest's own message alone ("error sending request") hides the reason.
fn cause_chain(source: &reqwest::Error) -> String {
    let mut text = source.to_string();
    let mut cause = std::error::Error::source(source);
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_display_names_status_call_and_message() {
        let err = Error::Api {
            status: 400,
            method: "POST",
            path: "/api/servers".into(),
            body: Box::new(ApiErrorBody::field("api_token", "This field is required.")),
            retry_after: None,
        };
        assert_eq!(
            err.to_string(),
            "Peliqan answered 400 to POST /api/servers: api_token: This field is required."
        );
        assert_eq!(err.status(), Some(400));
        assert!(!err.is_retryable());
        assert!(err.api_body().unwrap().fields.contains_key("api_token"));
    }

    #[test]
    fn a_route_mismatch_names_the_dialect_and_keeps_its_status() {
        let err = Error::RouteMismatch {
            dialect: Dialect::Seed,
            status: 404,
            method: "GET",
            path: "/api/subaccount".into(),
            why: "an HTML page, not a JSON error".into(),
        };
        assert_eq!(err.route_mismatch(), Some(Dialect::Seed));
        assert_eq!(err.status(), Some(404));
        assert!(!err.is_retryable());
        let text = err.to_string();
        assert!(
            text.contains("API dialect `seed` is likely not the one this Peliqan speaks")
                && text.contains("404 to GET /api/subaccount"),
            "{text}"
        );
        let wrapped = Error::ClientCredentials {
            client_id: "app".into(),
            source: Box::new(err),
        };
        assert_eq!(wrapped.route_mismatch(), Some(Dialect::Seed));
        assert_eq!(wrapped.status(), Some(404));
        let api = Error::Api {
            status: 404,
            method: "GET",
            path: "/x".into(),
            body: Box::default(),
            retry_after: None,
        };
        assert_eq!(api.route_mismatch(), None);
    }

    #[test]
    fn decode_error_names_the_json_path() {
        let json = r#"[{"id": 1, "external_id": "a"}, {"id": "x", "external_id": "b"}]"#;
        let de = &mut serde_json::Deserializer::from_str(json);
        let err = serde_path_to_error::deserialize::<_, Vec<peliqan_api::Subaccount>>(de)
            .map(|_| ())
            .unwrap_err();
        let err = Error::decode("GET", "/api/subaccount", err);
        assert!(
            matches!(&err, Error::Decode { json_path, .. } if json_path == "[1].id"),
            "{err}"
        );
        assert!(err.to_string().contains("`[1].id`"), "{err}");
    }
}
