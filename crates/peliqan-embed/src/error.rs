//! The SDK's one error type and how HTTP answers map onto it.
//!
//! Every failure reaches JavaScript as a `PeliqanError` whose `code` is one
//! of [`ErrorCode`]'s stable strings, so partner code can branch on it
//! without parsing messages. The mapping from HTTP status and body lives
//! here, in plain Rust, so it is unit-tested natively.

use serde_json::Value;
use std::collections::BTreeMap;

/// Declares [`ErrorCode`] with its wire strings and [`ErrorCode::ALL`]
/// from one list, so no code can be added to one and not the others.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $name:ident => $wire:literal,)*) => {
        /// Stable machine-readable error codes (the JS `PeliqanError.code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order (`js/index.d.ts`'s
            /// `PeliqanErrorCode` is checked against it by a test).
            pub const ALL: &[ErrorCode] = &[$(Self::$name,)*];

            /// The wire string, e.g. `popup_blocked`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$name => $wire,)*
                }
            }
        }
    };
}

error_codes! {
    /// The browser refused to open the OAuth popup.
    PopupBlocked => "popup_blocked",
    /// The user closed the OAuth popup without completing it.
    Cancelled => "cancelled",
    /// The connection did not become live in time.
    Timeout => "timeout",
    /// Peliqan refused the token (after one refresh and replay).
    Unauthorized => "unauthorized",
    /// The token is valid but may not do this.
    Forbidden => "forbidden",
    /// Connect-form fields are missing or invalid (see `fields`).
    Validation => "validation",
    /// Peliqan or the token service could not be reached.
    Network => "network",
    /// The server answered, but not with CORS headers for this page's origin.
    Cors => "cors",
    /// The partner's token service failed or refused.
    TokenService => "token_service",
    /// Peliqan answered with an unexpected error or body.
    Upstream => "upstream",
    /// The object asked for does not exist.
    NotFound => "not_found",
    /// The connection was created but its credentials or grant failed.
    ConnectionFailed => "connection_failed",
    /// The SDK was configured or called wrongly.
    InvalidConfig => "invalid_config",
}

/// An SDK failure: code, human message and structured details.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A human-readable sentence.
    pub message: String,
    /// HTTP status of the answer that caused it, when there was one.
    pub status: Option<u16>,
    /// Errors per connect-form field (`validation`).
    pub fields: BTreeMap<String, String>,
    /// The connection concerned (`connection_failed`, `cancelled`, `timeout`).
    pub connection_id: Option<u64>,
    /// The token service's own problem `code`, when it sent one.
    pub problem_code: Option<String>,
}

impl EmbedError {
    /// An error with only a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
            fields: BTreeMap::new(),
            connection_id: None,
            problem_code: None,
        }
    }

    /// A `validation` error carrying per-field messages.
    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        let mut e = Self::new(
            ErrorCode::Validation,
            ["invalid fields: ", &names.join(", ")].concat(),
        );
        e.fields = fields;
        e
    }

    /// Sets the connection id.
    pub fn with_connection(mut self, id: u64) -> Self {
        self.connection_id = Some(id);
        self
    }
}

impl std::fmt::Display for EmbedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// Reads a DRF error body: `{"detail": ".."}` or `{"field": ["..", ..]}`
/// (the shapes of [`peliqan_api::ApiErrorBody`], read from a `Value`: see
/// [`crate::answers`] for why). A body that was not JSON arrives as a string.
fn drf_body(body: &Value) -> (Option<String>, BTreeMap<String, String>) {
    let Value::Object(map) = body else {
        let text = body.as_str().unwrap_or_default().trim();
        return (Some(text.chars().take(200).collect()), BTreeMap::new());
    };
    let mut detail = None;
    let mut code = None;
    let mut fields = BTreeMap::new();
    for (k, v) in map {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                parts.join("; ")
            }
            // The `partner` dialect's `detail: {type, operation, message, ..}`.
            Value::Object(o) if k == "detail" => peliqan_api::error::object_detail(o),
            _ => continue,
        };
        match k.as_str() {
            "detail" => detail = Some(text),
            // The `partner` dialect's machine-readable code, not a form field.
            "error" if v.is_string() => code = Some(text),
            _ => {
                fields.insert(k.clone(), text);
            }
        }
    }
    // As `peliqan_api::ApiErrorBody::message` words it.
    let detail = match (detail, code) {
        (Some(d), Some(c)) if !d.contains(c.as_str()) => Some([d.as_str(), " (", &c, ")"].concat()),
        (Some(d), _) => Some(d),
        (None, code) => code,
    };
    (detail, fields)
}

/// Maps a non-2xx answer from Peliqan (DRF-style body) to an error.
pub fn from_peliqan(status: u16, body: &Value) -> EmbedError {
    let (detail, fields) = drf_body(body);
    let code = match status {
        400 | 422 if !fields.is_empty() => ErrorCode::Validation,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        _ => ErrorCode::Upstream,
    };
    let why = detail.unwrap_or_else(|| {
        let parts: Vec<String> = fields
            .iter()
            .map(|(k, m)| [k.as_str(), ": ", m].concat())
            .collect();
        parts.join(", ")
    });
    let mut e = EmbedError::new(
        code,
        ["Peliqan answered ", &status.to_string(), ": ", &why].concat(),
    );
    e.status = Some(status);
    if code == ErrorCode::Validation {
        e.fields = fields;
    }
    e
}

/// Maps a non-2xx answer from the partner's token service (an
/// `application/problem+json` body, [`peliqan_api::embed::Problem`]:
/// `title`, `detail`, `code`) to an error.
/// The code is always `token_service` so partners can tell "our backend
/// refused" from "Peliqan refused"; `status` and `problem_code` say why.
pub fn from_token_service(status: u16, body: &Value) -> EmbedError {
    let problem = crate::answers::problem(body);
    let why = problem.detail.or(problem.title).unwrap_or_else(|| {
        body.as_str()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(200)
            .collect()
    });
    let mut e = EmbedError::new(
        ErrorCode::TokenService,
        ["token service answered ", &status.to_string(), ": ", &why].concat(),
    );
    e.status = Some(status);
    e.problem_code = problem.code;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_detail_without_known_members_names_its_members() {
        let e = from_peliqan(500, &json!({"detail": {"reason": "quota", "limit": 5}}));
        assert_eq!(e.message, "Peliqan answered 500: {limit, reason: quota}");
        let e = from_peliqan(
            503,
            &json!({"detail": {"type": "Busy", "message": "retry"}}),
        );
        assert_eq!(e.message, "Peliqan answered 503: Busy: retry");
    }

    #[test]
    fn peliqan_field_errors_become_per_field_validation() {
        let e = from_peliqan(400, &json!({"api_token": ["This field is required."]}));
        assert_eq!(e.code, ErrorCode::Validation);
        assert_eq!(e.fields["api_token"], "This field is required.");
        assert_eq!(e.status, Some(400));
        let e = from_peliqan(400, &json!({"login": ["a", "b"], "non_field_errors": "c"}));
        assert_eq!(e.fields["login"], "a; b");
        assert_eq!(e.fields["non_field_errors"], "c");
        assert_eq!(
            e.message,
            "Peliqan answered 400: login: a; b, non_field_errors: c"
        );
    }

    #[test]
    fn statuses_map_to_stable_codes() {
        assert_eq!(
            from_peliqan(401, &json!({"detail": "expired"})).code,
            ErrorCode::Unauthorized
        );
        assert_eq!(from_peliqan(403, &json!({})).code, ErrorCode::Forbidden);
        assert_eq!(from_peliqan(404, &json!({})).code, ErrorCode::NotFound);
        assert_eq!(
            from_peliqan(400, &json!({"detail": "bad"})).code,
            ErrorCode::Upstream
        );
        let e = from_peliqan(503, &json!("<html>down</html>"));
        assert_eq!(e.code, ErrorCode::Upstream);
        assert_eq!(e.message, "Peliqan answered 503: <html>down</html>");
    }

    #[test]
    fn token_service_problem_keeps_its_code() {
        let e = from_token_service(
            401,
            &json!({"type": "about:blank", "title": "Unauthorized", "status": 401,
                    "detail": "jwt expired", "code": "invalid_user_token"}),
        );
        assert_eq!(e.code, ErrorCode::TokenService);
        assert_eq!(e.problem_code.as_deref(), Some("invalid_user_token"));
        assert!(e.message.contains("jwt expired"));
        assert_eq!(
            from_token_service(502, &json!("oops")).message,
            "token service answered 502: oops"
        );
    }
}
