//! Connect-form validation in the browser, before any request.
//!
//! The fields a partner's UI collected are checked against the servertype's
//! connect form, so the end-customer sees "required" or "not a number" next
//! to the right input at once instead of after a round trip. Peliqan stays
//! the authority: its own 400 field errors are surfaced the same way (see
//! [`crate::error::from_peliqan`]). Values may arrive as strings from HTML
//! inputs, so numbers and booleans are accepted in their text form too and
//! normalised to JSON numbers and booleans.

use peliqan_api::{ConnectForm, FieldKind, FormField, NewConnection};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The `add_connection` body of `connection`: `servertype_id`, `name` if
/// given, then the form fields at the top level (a field of the same name
/// wins), exactly as serde writes [`NewConnection`] (a test holds them
/// equal). Built by hand: the derived serialiser would add kilobytes to
/// the bundle.
pub fn new_connection_body(connection: NewConnection) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("servertype_id".into(), connection.servertype_id.0.into());
    if let Some(name) = connection.name {
        body.insert("name".into(), name.into());
    }
    body.extend(connection.fields);
    body
}

/// Checks `fields` against `form`. On success returns the fields to send,
/// with form defaults filled in and text numbers/booleans converted; on
/// failure one message per offending field.
pub fn validate(
    form: &ConnectForm,
    fields: &Map<String, Value>,
) -> Result<Map<String, Value>, BTreeMap<String, String>> {
    // What the form does to each of its fields, in form order (a later
    // entry for the same name wins): a value to send, or `None` to leave
    // the field out. The result is then built by insertion only: removing
    // from a `Map` would add the B-tree's rebalancing code (about 1.5 KB
    // gzipped) to the bundle.
    let mut decided: Vec<(&str, Option<Value>)> = Vec::new();
    let mut errors = BTreeMap::new();
    for field in &form.fields {
        let decision = match fields.get(&field.name) {
            Some(v) if !is_blank(v) => match check(field, v) {
                Ok(v) => Some(v),
                Err(msg) => {
                    errors.insert(field.name.clone(), msg.to_owned());
                    continue;
                }
            },
            _ => match &field.default {
                Some(d) => Some(d.clone()),
                None if field.required => {
                    errors.insert(field.name.clone(), "This field is required.".to_owned());
                    continue;
                }
                None => None,
            },
        };
        match decided.iter_mut().find(|(name, _)| *name == field.name) {
            Some(slot) => slot.1 = decision,
            None => decided.push((&field.name, decision)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Map::new();
    for (k, v) in fields {
        if !decided.iter().any(|(name, _)| name == k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (name, value) in decided {
        if let Some(v) = value {
            out.insert(name.to_owned(), v);
        }
    }
    Ok(out)
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Checks one present value; returns it normalised.
fn check(field: &FormField, v: &Value) -> Result<Value, &'static str> {
    let text = v.as_str().map(str::trim);
    match &field.kind {
        FieldKind::Integer => match (v, text) {
            (Value::Number(n), _) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            (_, Some(t)) => t
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "Enter a whole number."),
            _ => Err("Enter a whole number."),
        },
        FieldKind::Boolean => match (v, text) {
            (Value::Bool(_), _) => Ok(v.clone()),
            (_, Some("true")) => Ok(Value::Bool(true)),
            (_, Some("false")) => Ok(Value::Bool(false)),
            _ => Err("Must be true or false."),
        },
        FieldKind::Url => text
            .filter(|t| is_url(t))
            .map(|_| v.clone())
            .ok_or("Enter a valid URL."),
        FieldKind::Email => text
            .filter(|t| is_email(t))
            .map(|_| v.clone())
            .ok_or("Enter a valid e-mail address."),
        FieldKind::Select if !field.choices.is_empty() => text
            .filter(|t| field.choices.iter().any(|c| c == t))
            .map(|_| v.clone())
            .ok_or("Select one of the offered choices."),
        // Free text, secrets and kinds this version does not know: Peliqan decides.
        _ => match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(v.clone()),
            _ => Err("Enter a text value."),
        },
    }
}

fn is_url(t: &str) -> bool {
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

fn is_email(t: &str) -> bool {
    match t.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !t.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(fields: Value) -> ConnectForm {
        serde_json::from_value(json!({ "fields": fields })).unwrap()
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn missing_and_blank_required_fields_are_reported_per_field() {
        let f = form(json!([
            {"name": "api_token", "type": "password", "required": true},
            {"name": "login", "required": true},
            {"name": "note"}
        ]));
        let errs = validate(&f, &map(json!({"login": "  "}))).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs["api_token"], "This field is required.");
        assert!(errs.contains_key("login"));
    }

    #[test]
    fn typed_fields_are_checked_and_text_forms_normalised() {
        let f = form(json!([
            {"name": "port", "type": "integer", "required": true},
            {"name": "ssl", "type": "boolean"},
            {"name": "host", "type": "url"},
            {"name": "email", "type": "email"},
            {"name": "region", "type": "select", "choices": ["eu", "us"]}
        ]));
        let ok = validate(
            &f,
            &map(
                json!({"port": "5432", "ssl": "true", "host": "https://db.example.com/x",
                        "email": "a@b.io", "region": "eu"}),
            ),
        )
        .unwrap();
        assert_eq!(ok["port"], json!(5432));
        assert_eq!(ok["ssl"], json!(true));
        let errs = validate(
            &f,
            &map(
                json!({"port": "54x", "ssl": "yes", "host": "db.example.com",
                        "email": "a@b", "region": "asia"}),
            ),
        )
        .unwrap_err();
        assert_eq!(
            errs.keys().collect::<Vec<_>>(),
            ["email", "host", "port", "region", "ssl"]
        );
    }

    #[test]
    fn defaults_fill_empty_fields_and_extra_fields_pass_through() {
        let f =
            form(json!([{"name": "port", "type": "integer", "required": true, "default": 5432}]));
        let ok = validate(&f, &map(json!({"port": "", "name_hint": "x"}))).unwrap();
        assert_eq!(ok["port"], json!(5432));
        assert_eq!(ok["name_hint"], json!("x"));
    }

    #[test]
    fn blank_optional_fields_are_left_out_and_the_last_form_entry_wins() {
        let f = form(json!([
            {"name": "note"},
            {"name": "port", "type": "integer"},
            {"name": "port", "type": "integer", "default": 1}
        ]));
        let ok = validate(&f, &map(json!({"note": " ", "port": null, "x": 2}))).unwrap();
        assert_eq!(Value::Object(ok), json!({"port": 1, "x": 2}));
    }

    #[test]
    fn unknown_field_kinds_accept_scalars_only() {
        let f = form(json!([{"name": "c", "type": "color", "required": true}]));
        assert!(validate(&f, &map(json!({"c": "#fff"}))).is_ok());
        assert!(validate(&f, &map(json!({"c": {"r": 1}}))).is_err());
    }
}
