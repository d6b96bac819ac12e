//! One call to the Embed API as data ([`Call`]), and reading its answer.
//!
//! Partner and sub-account methods describe their call here (method, path
//! from [`peliqan_api::paths`], query, JSON body) and hand it to the client's
//! request loop; keeping the description plain data lets the loop resend it
//! on a retry.

use crate::error::Error;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The HTTP methods the Embed API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }

    /// Whether sending the call twice has the effect of sending it once.
    pub(crate) fn is_idempotent(self) -> bool {
        !matches!(self, Self::Post)
    }

    pub(crate) fn method(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Delete => reqwest::Method::DELETE,
        }
    }
}

/// One call: method, path, query and JSON body.
pub(crate) struct Call {
    pub(crate) verb: Verb,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

impl Call {
    pub(crate) fn new(verb: Verb, path: impl Into<String>) -> Self {
        Self {
            verb,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        // Serializing the API's own types to a Vec cannot fail (string keys only).
        self.body = Some(serde_json::to_vec(body).expect("API bodies serialize to JSON"));
        self
    }
}

/// `Retry-After` in delay-seconds form. (The HTTP-date form is not used by
/// rate limiters in practice and is ignored.)
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Deserializes a whole body, naming the JSON path when it does not fit.
pub(crate) fn decode<T: DeserializeOwned>(verb: Verb, path: &str, body: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de)
        .map_err(|e| Error::decode(verb.as_str(), path, e))?;
    de.end().map_err(|e| Error::Decode {
        method: verb.as_str(),
        path: path.to_owned(),
        json_path: ".".to_owned(),
        message: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_are_read_and_dates_ignored() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&headers), None);
    }

    #[test]
    fn only_post_is_not_idempotent() {
        assert!(
            Verb::Get.is_idempotent() && Verb::Put.is_idempotent() && Verb::Delete.is_idempotent()
        );
        assert!(!Verb::Post.is_idempotent());
    }

    #[test]
    fn decode_rejects_trailing_garbage_and_names_paths() {
        let ok: Vec<u64> = decode(Verb::Get, "/x", b" [1, 2] ").unwrap();
        assert_eq!(ok, vec![1, 2]);
        assert!(decode::<Vec<u64>>(Verb::Get, "/x", b"[1] x").is_err());
        let err = decode::<peliqan_api::Server>(Verb::Get, "/api/server/1", br#"{"id": true}"#)
            .unwrap_err();
        assert!(
            matches!(err, Error::Decode { ref json_path, .. } if json_path == "id"),
            "{err}"
        );
    }
}
