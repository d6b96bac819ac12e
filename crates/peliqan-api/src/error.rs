//! Peliqan's error bodies (Django REST Framework style).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An error answer: `{"detail": "..."}`, field errors
/// `{"field": ["message", ...], ...}` (DRF's two shapes), or the `partner`
/// dialect's `{"error": code, "detail": text or {type, message, ...}}`,
/// read tolerantly.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// A machine-readable code, when given (`partner` dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The general message, when given. An object detail
    /// (`{type, operation, message, description}`) is joined into one line.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "detail_text"
    )]
    pub detail: Option<String>,
    /// Messages per field (`non_field_errors` included), when given.
    #[serde(flatten)]
    pub fields: BTreeMap<String, FieldMessages>,
}

/// One field's messages: DRF sends a list, some endpoints a single string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldMessages {
    /// A list of messages.
    Many(Vec<String>),
    /// A single message.
    One(String),
    /// Anything else, kept as JSON.
    Other(serde_json::Value),
}

impl FieldMessages {
    /// The messages as one string.
    pub fn joined(&self) -> String {
        match self {
            Self::Many(v) => v.join("; "),
            Self::One(s) => s.clone(),
            Self::Other(v) => v.to_string(),
        }
    }
}

/// An object `detail` in one line: its `type`, `operation`, `message` and
/// `description` joined with `: `, else its members as `{key: text,
/// other_key}` (text members with their text, the others by name). One
/// rendering for the client and the browser SDK, which must not carry
/// serde_json's writer (its number printing alone is kilobytes of wasm).
pub fn object_detail(map: &serde_json::Map<String, serde_json::Value>) -> String {
    let parts: Vec<&str> = ["type", "operation", "message", "description"]
        .iter()
        .filter_map(|k| map.get(*k).and_then(|v| v.as_str()))
        .filter(|s| !s.is_empty())
        .collect();
    if !parts.is_empty() {
        return parts.join(": ");
    }
    let members: Vec<String> = map
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => [k.as_str(), ": ", s].concat(),
            _ => k.clone(),
        })
        .collect();
    ["{", &members.join(", "), "}"].concat()
}

/// Reads `detail` as text whatever its shape.
fn detail_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(map) => Some(object_detail(&map)),
        other => Some(other.to_string()),
    })
}

impl ApiErrorBody {
    /// A body with only a `detail`.
    pub fn detail(msg: impl Into<String>) -> Self {
        Self {
            error: None,
            detail: Some(msg.into()),
            fields: BTreeMap::new(),
        }
    }

    /// A body with one field error.
    pub fn field(name: impl Into<String>, msg: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(name.into(), FieldMessages::Many(vec![msg.into()]));
        Self {
            error: None,
            detail: None,
            fields,
        }
    }

    /// Parses any error body; a body that is not JSON becomes its own detail
    /// (cut short, since it may be an HTML error page).
    pub fn parse(body: &str) -> Self {
        match serde_json::from_str::<Self>(body) {
            Ok(parsed) => parsed,
            Err(_) => {
                let text: String = body.trim().chars().take(200).collect();
                Self::detail(text)
            }
        }
    }

    /// Field errors as `(field, message)` pairs.
    pub fn field_errors(&self) -> impl Iterator<Item = (&str, String)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.joined()))
    }

    /// One human-readable line: the detail, else the field errors.
    pub fn message(&self) -> String {
        if let Some(d) = &self.detail {
            return match &self.error {
                Some(code) if !d.contains(code.as_str()) => format!("{d} ({code})"),
                _ => d.clone(),
            };
        }
        if let Some(code) = &self.error {
            return code.clone();
        }
        let parts: Vec<String> = self
            .field_errors()
            .map(|(k, m)| format!("{k}: {m}"))
            .collect();
        if parts.is_empty() {
            "no error detail given".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_detail_and_field_shapes() {
        let d = ApiErrorBody::parse(r#"{"detail": "Token expired"}"#);
        assert_eq!(d.message(), "Token expired");
        let f = ApiErrorBody::parse(r#"{"external_id": ["This field is required."]}"#);
        assert_eq!(f.message(), "external_id: This field is required.");
        let html = ApiErrorBody::parse("<html>502 Bad Gateway</html>");
        assert_eq!(html.detail.as_deref(), Some("<html>502 Bad Gateway</html>"));
    }

    #[test]
    fn reads_the_partner_dialects_error_envelope() {
        let e = ApiErrorBody::parse(
            r#"{"error": "not_found", "detail": {"type": "NotFound", "message": "No sub-account"}}"#,
        );
        assert_eq!(e.error.as_deref(), Some("not_found"));
        assert_eq!(e.message(), "NotFound: No sub-account (not_found)");
        assert_eq!(e.field_errors().count(), 0);
        let e = ApiErrorBody::parse(r#"{"error": "throttled", "detail": "Slow down"}"#);
        assert_eq!(e.message(), "Slow down (throttled)");
    }
}
