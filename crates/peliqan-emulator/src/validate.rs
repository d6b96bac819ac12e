//! Field-by-field checks of JSON bodies, with DRF's messages.
//!
//! Bodies arrive as `serde_json::Value` (malformed JSON is already refused
//! by the `JsonConfig` error handler) and are read here one field at a time,
//! so every problem is reported under the field's own name, all at once,
//! the way a DRF serializer does — rather than serde's first error.

use crate::error::{ApiError, FieldErrors};
use serde_json::{Map, Value};

pub(crate) const REQUIRED: &str = "This field is required.";
pub(crate) const BLANK: &str = "This field may not be blank.";
pub(crate) const NOT_STRING: &str = "Not a valid string.";
pub(crate) const NOT_INTEGER: &str = "A valid integer is required.";
pub(crate) const POSITIVE: &str = "Ensure this value is a positive integer.";

/// A JSON object being validated, collecting errors per field.
pub(crate) struct Body {
    obj: Map<String, Value>,
    errors: FieldErrors,
}

impl Body {
    /// Refuses anything but a JSON object, with DRF's message.
    pub(crate) fn new(value: Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(obj) => Ok(Self {
                obj,
                errors: FieldErrors::new(),
            }),
            other => Err(ApiError::field(
                "non_field_errors",
                format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    kind(&other)
                ),
            )),
        }
    }

    /// The raw value of a field (`null` counts as absent).
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.obj.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn error(&mut self, name: &str, msg: impl Into<String>) {
        self.errors
            .entry(name.to_owned())
            .or_default()
            .push(msg.into());
    }

    /// A non-blank string that must be present.
    pub(crate) fn required_str(&mut self, name: &str) -> Option<String> {
        let v = self.optional_str(name);
        if v.is_none() && !self.errors.contains_key(name) {
            self.error(name, REQUIRED);
        }
        v
    }

    /// A string that may be absent or null; blank counts as absent.
    pub(crate) fn optional_str(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => None,
            Some(Value::String(s)) if s.trim().is_empty() => {
                // Present but blank: DRF says so rather than "required".
                self.error(name, BLANK);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(name, NOT_STRING);
                None
            }
        }
    }

    /// A string that may be absent, null or blank (DRF's `allow_blank`).
    pub(crate) fn string_allow_blank(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(name, NOT_STRING);
                None
            }
        }
    }

    /// An integer above zero (a number or a numeric string).
    pub(crate) fn positive_integer(&mut self, name: &str, required: bool) -> Option<u64> {
        match self.get(name) {
            None => {
                if required {
                    self.error(name, REQUIRED);
                }
                None
            }
            Some(v) => match as_integer(v).and_then(|i| u64::try_from(i).ok()) {
                Some(i) if i > 0 => Some(i),
                _ => {
                    self.error(name, POSITIVE);
                    None
                }
            },
        }
    }

    /// An integer given as a JSON number or a numeric string (DRF accepts both).
    pub(crate) fn integer(&mut self, name: &str, required: bool) -> Option<i64> {
        match self.get(name) {
            None => {
                if required {
                    self.error(name, REQUIRED);
                }
                None
            }
            Some(v) => match as_integer(v) {
                Some(i) => Some(i),
                None => {
                    self.error(name, NOT_INTEGER);
                    None
                }
            },
        }
    }

    /// `Ok(())` when no field had an error.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Fields(self.errors))
        }
    }
}

/// An integer from a JSON number without fraction, or a string of one.
pub(crate) fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(v: Value, f: impl FnOnce(&mut Body)) -> Value {
        let mut b = Body::new(v).unwrap();
        f(&mut b);
        match b.finish() {
            Ok(()) => json!({}),
            Err(ApiError::Fields(e)) => serde_json::to_value(e).unwrap(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn each_field_gets_its_own_drf_message() {
        let e = errors(json!({"a": "", "b": 5, "port": "abc"}), |b| {
            b.required_str("a");
            b.required_str("b");
            b.required_str("c");
            b.integer("port", true);
        });
        assert_eq!(
            e,
            json!({"a": [BLANK], "b": [NOT_STRING], "c": [REQUIRED], "port": [NOT_INTEGER]})
        );
        assert!(Body::new(json!([1])).is_err());
        assert_eq!(as_integer(&json!("5432")), Some(5432));
        assert_eq!(as_integer(&json!(1.5)), None);
    }
}
