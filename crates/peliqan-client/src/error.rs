//! The one error type of the client.
//!
//! Peliqan's own answers ([`Error::Api`]) are kept apart from failures to get
//! an answer at all ([`Error::Timeout`], [`Error::Transport`]) and from
//! answers this crate could not read ([`Error::Decode`]). Every variant names
//! the method and the path of the call, never its query string and never a
//! token, so errors can be logged as they are.

use peliqan_api::ApiErrorBody;
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
    /// The HTTP status Peliqan answered, for [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying the same idempotent call again may succeed: timeouts,
    /// transport errors, `429` and `502`/`503`/`504`. Other 4xx never are.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Self::Timeout { .. } | Self::Transport { .. } => true,
            _ => false,
        }
    }

    /// The `Retry-After` the server sent with an error answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
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
