//! One call to the API as data ([`Call`]), and reading its answer.
//!
//! Partner and sub-account methods describe their call here: the client's
//! [`Routes`](peliqan_api::Routes) turn an [`Operation`] and its values into
//! the method, the path (with the dialect's trailing-slash rule) and the
//! query; the method adds a JSON or form body. Keeping the description plain
//! data lets the request loop resend it on a retry or after renewing an
//! access token.

use crate::error::Error;
use peliqan_api::Operation;
use peliqan_api::dialect::{Method, Target};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A request body.
pub(crate) enum Body {
    /// `application/json`.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded` (the OAuth token exchange). May
    /// hold a client secret: never logged, never put in an error.
    Form(String),
}

/// One call: the operation, its filled route and its body.
pub(crate) struct Call {
    pub(crate) operation: Operation,
    pub(crate) method: Method,
    /// The path without query, as sent (after the base URL's own path).
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
    /// Whether a failed attempt may be sent again: the route's method decides
    /// ([`Method::is_idempotent`]), except for calls that are safe to repeat
    /// whatever their method (asking for a second access token is harmless).
    pub(crate) idempotent: bool,
}

impl Call {
    pub(crate) fn new(operation: Operation, target: Target) -> Self {
        Self {
            operation,
            method: target.method,
            path: target.path,
            query: target.query,
            body: None,
            idempotent: target.method.is_idempotent(),
        }
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        // Serializing the API's own types to a Vec cannot fail (string keys only).
        self.body = Some(Body::Json(
            serde_json::to_vec(body).expect("API bodies serialize to JSON"),
        ));
        self
    }

    pub(crate) fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Some(Body::Form(encoded));
        self
    }

    /// Marks the call safe to repeat whatever its method.
    pub(crate) fn repeatable(mut self) -> Self {
        self.idempotent = true;
        self
    }

    pub(crate) fn method_str(&self) -> &'static str {
        self.method.as_str()
    }

    pub(crate) fn reqwest_method(&self) -> reqwest::Method {
        match self.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    /// Deserializes the answer `body` to this call as a `T`.
    pub(crate) fn decode<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, Error> {
        decode(self.method_str(), &self.path, body)
    }
}

/// `Retry-After` in delay-seconds form. (The HTTP-date form is not used by
/// rate limiters in practice and is ignored.)
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Deserializes a whole body, naming the JSON path when it does not fit.
pub(crate) fn decode<T: DeserializeOwned>(
    method: &'static str,
    path: &str,
    body: &[u8],
) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value =
        serde_path_to_error::deserialize(&mut *de).map_err(|e| Error::decode(method, path, e))?;
    de.end().map_err(|e| Error::Decode {
        method,
        path: path.to_owned(),
        json_path: ".".to_owned(),
        message: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::dialect::Vars;
    use peliqan_api::{Dialect, Operation};
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
    fn retry_safety_comes_from_the_routes_method() {
        let call = |d: Dialect, op: Operation| {
            let vars = Vars {
                id: Some(1),
                external_id: Some("a"),
                ..Vars::default()
            };
            Call::new(op, d.routes().target(op, &vars).unwrap())
        };
        // The same operation is a safe GET in the seed and a POST in `partner`.
        assert!(call(Dialect::Seed, Operation::TokenById).idempotent);
        assert!(!call(Dialect::Partner, Operation::TokenById).idempotent);
        assert!(
            call(Dialect::Partner, Operation::TokenById)
                .repeatable()
                .idempotent
        );
        assert!(call(Dialect::Seed, Operation::UpdateSubaccount).idempotent);
        assert!(!call(Dialect::Seed, Operation::CreateSubaccount).idempotent);
    }

    #[test]
    fn a_form_body_is_url_encoded() {
        let target = Dialect::Partner
            .routes()
            .target(Operation::OauthToken, &Vars::default())
            .unwrap();
        let call = Call::new(Operation::OauthToken, target).form(&[("a", "b c&d"), ("e", "=")]);
        let Some(Body::Form(text)) = call.body else {
            panic!("a form body")
        };
        assert_eq!(text, "a=b+c%26d&e=%3D");
    }

    #[test]
    fn decode_rejects_trailing_garbage_and_names_paths() {
        let ok: Vec<u64> = decode("GET", "/x", b" [1, 2] ").unwrap();
        assert_eq!(ok, vec![1, 2]);
        assert!(decode::<Vec<u64>>("GET", "/x", b"[1] x").is_err());
        let err =
            decode::<peliqan_api::Server>("GET", "/api/server/1", br#"{"id": true}"#).unwrap_err();
        assert!(
            matches!(err, Error::Decode { ref json_path, .. } if json_path == "id"),
            "{err}"
        );
    }
}
