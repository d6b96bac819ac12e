//! Reading Peliqan's and the token service's answers from a
//! `serde_json::Value`, by hand.
//!
//! Why not `serde_json::from_str::<Servertype>`: every derived reader is
//! kilobytes of WebAssembly, and with the text parser they made up a third
//! of the bundle. In the browser the text is parsed by `JSON.parse`,
//! converted to a `Value`, and the few fields the SDK acts on are read here.
//! Reading is tolerant like `peliqan-api`: missing optional fields default,
//! unknown fields are ignored, unknown enum strings are kept.
//!
//! The types are still the contract: `tests/contracts.rs` feeds the same
//! generated answers to each reader here and to serde with the
//! `peliqan-api` type ([`Servertype`], [`peliqan_api::Server`],
//! [`peliqan_api::CreatedConnection`], [`ConnectionLogEntry`],
//! [`peliqan_api::TokenAnswer`], [`BrowserRouting`],
//! [`peliqan_api::embed::Problem`], [`peliqan_api::Group`]) and requires
//! equal results wherever serde accepts the answer.

use peliqan_api::{
    AuthKind, BrowserRouting, ConnectForm, ConnectionLogEntry, ConnectionStatus, FieldKind,
    FormField, LogLevel, Servertype, ServertypeId,
};
use serde_json::Value;
use std::collections::BTreeMap;

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
pub fn connection_status(v: &Value) -> (ConnectionStatus, Option<String>) {
    let status = text(v, "status").map_or(ConnectionStatus::Pending, |s| s.as_str().into());
    (status, text(v, "status_message"))
}

/// The answer of adding a connection: its id and the OAuth URL, if any.
pub fn created_connection(v: &Value) -> Option<(u64, Option<String>)> {
    Some((v.get("id")?.as_u64()?, text(v, "oauth_url")))
}

/// A connection's log lines (lines without a message are skipped).
pub fn connection_logs(v: &Value) -> Vec<ConnectionLogEntry> {
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

/// The `token` and `expires_at` text of a token answer
/// ([`peliqan_api::TokenAnswer`]); `None` without a token. An `expires_at`
/// that is not text counts as absent; other fields are ignored.
pub fn token_and_expiry(v: &Value) -> Option<(&str, Option<&str>)> {
    let token = v.get("token")?.as_str()?;
    Some((token, v.get("expires_at").and_then(Value::as_str)))
}

/// What the SDK reads of a token service's problem body
/// ([`peliqan_api::embed::Problem`]); a field that is missing or not text
/// is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProblemText {
    /// What went wrong, for a person.
    pub detail: Option<String>,
    /// Short summary of the problem type.
    pub title: Option<String>,
    /// The service's machine-readable code.
    pub code: Option<String>,
}

/// The text fields of a problem body (any JSON value; not an object reads
/// as all `None`).
pub fn problem(v: &Value) -> ProblemText {
    ProblemText {
        detail: text(v, "detail"),
        title: text(v, "title"),
        code: text(v, "code"),
    }
}

/// The routing fields of a token answer: `peliqan_url` (or `peliqanUrl`,
/// as a `getToken` callback writes it), `dialect`, `routes`. `null` counts
/// as absent; a field of the wrong type is an error naming it.
pub fn token_routing(v: &Value) -> Result<BrowserRouting, String> {
    let text = |names: &[&str]| -> Result<Option<String>, String> {
        let found = names
            .iter()
            .find_map(|n| v.get(*n).filter(|x| !x.is_null()).map(|x| (n, x)));
        match found {
            None => Ok(None),
            Some((_, Value::String(s))) => Ok(Some(s.clone())),
            Some((name, _)) => Err(["`", name, "` is not a string"].concat()),
        }
    };
    // Inserted one by one: `collect` into a map would add another copy of
    // the standard library's sort to the bundle.
    let mut routes = BTreeMap::new();
    match v.get("routes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (op, route) in map {
                let Value::String(route) = route else {
                    return Err(["`routes.", op, "` is not route text"].concat());
                };
                routes.insert(op.clone(), route.clone());
            }
        }
        Some(_) => return Err("`routes` is not an object".into()),
    }
    Ok(BrowserRouting {
        peliqan_url: text(&["peliqan_url", "peliqanUrl"])?,
        dialect: text(&["dialect"])?,
        routes,
    })
}

/// The id of the script group named `name` (else the first group) in a
/// group list: an array, or a page `{"results": [...]}`.
pub fn script_group_id(v: &Value, name: Option<&str>) -> Option<u64> {
    let list = v.get("results").unwrap_or(v).as_array()?;
    let mut groups = list
        .iter()
        .filter(|g| g.get("id").is_some_and(Value::is_u64));
    let found = match name {
        Some(name) => groups.find(|g| g.get("name").and_then(Value::as_str) == Some(name)),
        None => groups.next(),
    };
    found?.get("id")?.as_u64()
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
        let (s, m) =
            connection_status(&json!({"id": 5, "status": "failed", "status_message": "denied"}));
        assert_eq!(
            (s, m.as_deref()),
            (ConnectionStatus::Failed, Some("denied"))
        );
        assert_eq!(
            connection_status(&json!({"id": 5})).0,
            ConnectionStatus::Pending
        );
        assert_eq!(
            created_connection(&json!({"id": 7, "oauth_url": "https://x"})),
            Some((7, Some("https://x".into())))
        );
        assert_eq!(created_connection(&json!({"id": 8})), Some((8, None)));
        let l = connection_logs(
            &json!([{"timestamp": "t", "level": "error", "message": "m"}, {"level": "info"}]),
        );
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].level, LogLevel::Error);
    }

    #[test]
    fn reads_the_routing_of_a_token_answer() {
        let r = token_routing(&json!({
            "token": "t", "peliqan_url": "https://p", "dialect": "partner",
            "routes": {"get_connection": "GET /x/{id}/"}
        }))
        .unwrap();
        assert_eq!(r.peliqan_url.as_deref(), Some("https://p"));
        assert_eq!(r.dialect.as_deref(), Some("partner"));
        assert_eq!(r.routes["get_connection"], "GET /x/{id}/");
        let r = token_routing(&json!({"peliqanUrl": "https://q", "dialect": null})).unwrap();
        assert_eq!(
            (r.peliqan_url.as_deref(), r.dialect),
            (Some("https://q"), None)
        );
        assert_eq!(
            token_routing(&json!({"token": "t"})).unwrap(),
            BrowserRouting::default()
        );
        for (bad, part) in [
            (json!({"dialect": 2}), "dialect"),
            (json!({"routes": ["x"]}), "routes"),
            (
                json!({"routes": {"get_connection": 1}}),
                "routes.get_connection",
            ),
            (json!({"peliqanUrl": true}), "peliqanUrl"),
        ] {
            let e = token_routing(&bad).unwrap_err();
            assert!(e.contains(part), "{e}");
        }
    }

    #[test]
    fn picks_the_named_or_first_script_group() {
        let list = json!([{"id": 4, "name": "Default"}, {"id": 9, "name": "Embedded"}]);
        assert_eq!(script_group_id(&list, None), Some(4));
        assert_eq!(script_group_id(&list, Some("Embedded")), Some(9));
        assert_eq!(script_group_id(&list, Some("Other")), None);
        assert_eq!(
            script_group_id(&json!({"results": [{"id": 2}]}), None),
            Some(2)
        );
        assert_eq!(script_group_id(&json!([]), None), None);
    }
}
