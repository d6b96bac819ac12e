//! Reading Peliqan's answers from a `serde_json::Value`, by hand.
//!
//! Why not `serde_json::from_str::<Servertype>`: every derived reader is
//! kilobytes of WebAssembly, and with the text parser they made up a third
//! of the bundle. In the browser the text is parsed by `JSON.parse`,
//! converted to a `Value`, and the few fields the SDK acts on are read here.
//! Reading is tolerant like `peliqan-api`: missing optional fields default,
//! unknown fields are ignored, unknown enum strings are kept.

use peliqan_api::{
    AuthKind, ConnectForm, ConnectionLogEntry, ConnectionStatus, FieldKind, FormField, LogLevel,
    Servertype, ServertypeId,
};
use serde_json::Value;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A connector definition; `None` without an id and a name.
pub fn servertype(v: &Value) -> Option<Servertype> {
    let fields = v
        .get("connect_form")
        .and_then(|f| f.get("fields"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(form_field).collect())
        .unwrap_or_default();
    Some(Servertype {
        id: ServertypeId(v.get("id")?.as_u64()?),
        name: text(v, "name")?,
        title: text(v, "title"),
        auth: text(v, "auth").map(|s| AuthKind::from(s.as_str())),
        category: text(v, "category"),
        logo_url: text(v, "logo_url"),
        connect_form: ConnectForm { fields },
    })
}

fn form_field(v: &Value) -> Option<FormField> {
    let choices = v.get("choices").and_then(Value::as_array);
    Some(FormField {
        name: text(v, "name")?,
        label: text(v, "label"),
        kind: text(v, "type").map_or(FieldKind::String, |s| FieldKind::from(s.as_str())),
        required: v.get("required").and_then(Value::as_bool).unwrap_or(false),
        help: text(v, "help"),
        placeholder: text(v, "placeholder"),
        default: v.get("default").filter(|d| !d.is_null()).cloned(),
        choices: choices
            .map(|c| {
                c.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// All connector definitions of a list answer.
pub fn servertypes(v: &Value) -> Vec<Servertype> {
    v.as_array()
        .map(|list| list.iter().filter_map(servertype).collect())
        .unwrap_or_default()
}

/// A connection's `status` (default pending) and `status_message`.
pub fn status(v: &Value) -> (ConnectionStatus, Option<String>) {
    let status = text(v, "status").map_or(ConnectionStatus::Pending, |s| s.as_str().into());
    (status, text(v, "status_message"))
}

/// `POST /api/servers`' answer: the connection id and the OAuth URL, if any.
pub fn created(v: &Value) -> Option<(u64, Option<String>)> {
    Some((v.get("id")?.as_u64()?, text(v, "oauth_url")))
}

/// A connection's log lines (lines without a message are skipped).
pub fn logs(v: &Value) -> Vec<ConnectionLogEntry> {
    let lines = v.as_array().map(Vec::as_slice).unwrap_or_default();
    lines
        .iter()
        .filter_map(|l| {
            Some(ConnectionLogEntry {
                timestamp: text(l, "timestamp").unwrap_or_default(),
                level: text(l, "level").map_or(LogLevel::Info, |s| s.as_str().into()),
                message: text(l, "message")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_servertype_like_the_derived_reader_does() {
        let v = json!({
            "id": 123, "name": "pipedrive", "title": "Pipedrive", "auth": "api_key", "extra": 1,
            "connect_form": {"fields": [
                {"name": "api_token", "label": "API token", "type": "password", "required": true},
                {"name": "region", "type": "select", "choices": ["eu", "us"], "default": "eu"}
            ]}
        });
        let mut with_junk = v.clone();
        with_junk["connect_form"]["fields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"label": "no name"}));
        let by_hand = servertype(&with_junk).unwrap();
        let derived: Servertype = serde_json::from_value(v).unwrap();
        assert_eq!(by_hand.connect_form.fields, derived.connect_form.fields);
        assert_eq!(
            (by_hand.id, by_hand.auth, by_hand.title),
            (derived.id, derived.auth, derived.title)
        );
        assert!(servertype(&json!({"name": "no id"})).is_none());
        assert_eq!(
            servertypes(&json!([{"id": 1, "name": "a", "auth": "saml"}]))[0].auth,
            Some(AuthKind::Other("saml".into()))
        );
    }

    #[test]
    fn reads_status_created_and_logs() {
        let (s, m) = status(&json!({"id": 5, "status": "failed", "status_message": "denied"}));
        assert_eq!(
            (s, m.as_deref()),
            (ConnectionStatus::Failed, Some("denied"))
        );
        assert_eq!(status(&json!({"id": 5})).0, ConnectionStatus::Pending);
        assert_eq!(
            created(&json!({"id": 7, "oauth_url": "https://x"})),
            Some((7, Some("https://x".into())))
        );
        assert_eq!(created(&json!({"id": 8})), Some((8, None)));
        let l =
            logs(&json!([{"timestamp": "t", "level": "error", "message": "m"}, {"level": "info"}]));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].level, LogLevel::Error);
    }
}
