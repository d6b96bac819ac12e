//! Checking a `POST /api/servers` body against its servertype's connect
//! form, and the emulated credential check.
//!
//! The body is the servertype id plus the form's fields at the top level
//! (seed: `{"servertype_id": 123, "login": "x", "password": "y"}`). Each
//! field is checked for presence and type with DRF's messages; fields not
//! on the form are ignored, as a DRF serializer ignores them. Values are
//! used only to decide the outcome and to write non-secret log lines —
//! they are never stored, so they can never be echoed back.

use crate::validate::{self, Body};
use peliqan_api::{AuthKind, FieldKind, FormField, Servertype};
use serde_json::Value;

/// The checked form values (secrets included; dropped after the check).
pub(crate) struct FormValues(Vec<(FormField, Value)>);

/// Validates every form field, recording errors in `body`.
pub(crate) fn check_form(body: &mut Body, servertype: &Servertype) -> FormValues {
    let mut values = Vec::new();
    for f in &servertype.connect_form.fields {
        let value = match body.get(&f.name).cloned() {
            None if f.required && f.default.is_none() => {
                body.error(&f.name, validate::REQUIRED);
                continue;
            }
            None => match &f.default {
                Some(d) => d.clone(),
                None => continue,
            },
            Some(v) => v,
        };
        match check_value(f, &value) {
            Ok(v) => values.push((f.clone(), v)),
            Err(msg) => body.error(&f.name, msg),
        }
    }
    FormValues(values)
}

/// One value against its field type; `Err` is the DRF message.
fn check_value(f: &FormField, v: &Value) -> Result<Value, String> {
    match &f.kind {
        FieldKind::Integer => validate::as_integer(v)
            .map(Value::from)
            .ok_or_else(|| validate::NOT_INTEGER.to_owned()),
        FieldKind::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if matches!(s.as_str(), "true" | "false") => {
                Ok(Value::Bool(s == "true"))
            }
            _ => Err("Must be a valid boolean.".to_owned()),
        },
        _ => {
            let Value::String(s) = v else {
                return Err(validate::NOT_STRING.to_owned());
            };
            if s.trim().is_empty() {
                return if f.required {
                    Err(validate::BLANK.to_owned())
                } else {
                    Ok(v.clone())
                };
            }
            match &f.kind {
                FieldKind::Url if !(s.starts_with("http://") || s.starts_with("https://")) => {
                    Err("Enter a valid URL.".to_owned())
                }
                FieldKind::Email if !s.contains('@') => {
                    Err("Enter a valid email address.".to_owned())
                }
                FieldKind::Select if !f.choices.contains(s) => {
                    Err(format!("\"{s}\" is not a valid choice."))
                }
                _ => Ok(v.clone()),
            }
        }
    }
}

impl FormValues {
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
    }

    /// What the emulated check would report trying to connect: a log line
    /// without secrets.
    pub(crate) fn describe(&self, servertype: &Servertype) -> String {
        let title = servertype.title.as_deref().unwrap_or(&servertype.name);
        match (&servertype.auth, self.text("host")) {
            (Some(AuthKind::Database | AuthKind::Basic), Some(host)) => {
                let port = self.text("port").unwrap_or_default();
                let user = self
                    .text("user")
                    .or_else(|| self.text("login"))
                    .unwrap_or_default();
                format!("Checking credentials: connecting to {title} at {host}:{port} as {user}")
            }
            _ => format!("Checking credentials with the {title} API"),
        }
    }

    /// `Err(reason)` when a value is one of the magic failure values: any
    /// field `"invalid"`, or a password field `"wrong"`. Lets tests and the
    /// demo show a refused connection without a real upstream.
    pub(crate) fn emulated_check(&self, servertype: &Servertype) -> Result<(), String> {
        let bad = self.0.iter().find(|(f, v)| {
            v.as_str() == Some("invalid")
                || (f.kind == FieldKind::Password && v.as_str() == Some("wrong"))
        });
        let Some((field, _)) = bad else { return Ok(()) };
        let title = servertype.title.as_deref().unwrap_or(&servertype.name);
        Err(
            match (&servertype.auth, field.kind == FieldKind::Password) {
                (Some(AuthKind::Database), true) => format!(
                    "Authentication failed: password authentication failed for user \"{}\" ({title}, emulated)",
                    self.text("user").unwrap_or_default()
                ),
                (Some(AuthKind::Database), false) => format!(
                    "Could not connect to {title}: the value of \"{}\" was refused (emulated)",
                    field.name
                ),
                (Some(AuthKind::ApiKey), _) => {
                    format!("Authentication failed: {title} refused the API token (401, emulated)")
                }
                _ => format!(
                    "Authentication failed: {title} refused the \"{}\" given (emulated)",
                    field.name
                ),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servertypes::catalog;
    use serde_json::json;

    fn postgres() -> Servertype {
        catalog()
            .into_iter()
            .find(|s| s.name == "postgresql")
            .unwrap()
    }

    #[test]
    fn a_database_form_reports_missing_and_mistyped_fields_by_name() {
        let mut body = Body::new(json!({"host": 5, "port": "abc", "user": "u"})).unwrap();
        check_form(&mut body, &postgres());
        let Err(crate::error::ApiError::Fields(e)) = body.finish() else {
            panic!()
        };
        assert_eq!(e["host"], ["Not a valid string."]);
        assert_eq!(e["port"], ["A valid integer is required."]);
        assert_eq!(e["database"], ["This field is required."]);
        assert!(!e.contains_key("user"));
    }

    #[test]
    fn magic_values_fail_the_check_and_defaults_fill_in() {
        let st = postgres();
        let ok = json!({"host": "h", "database": "d", "user": "u", "password": "p"});
        let mut body = Body::new(ok).unwrap();
        let values = check_form(&mut body, &st);
        assert!(values.emulated_check(&st).is_ok());
        assert!(values.describe(&st).contains("h:5432 as u"));
        let bad = json!({"host": "h", "database": "d", "user": "u", "password": "wrong"});
        let mut body = Body::new(bad).unwrap();
        let err = check_form(&mut body, &st).emulated_check(&st).unwrap_err();
        assert!(err.contains("password authentication failed") && !err.contains("wrong"));
    }
}
