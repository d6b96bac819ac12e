//! The options of `new PeliqanEmbed({...})`, read and checked once at
//! construction.
//!
//! [`Config::read`] is the one reader: it asks an [`OptionSource`] (the
//! JavaScript options object in the browser, a JSON value in the unit
//! tests) for each key of [`OPTION_KEYS`] and validates the result, so a
//! wrong setup fails at once with `invalid_config` rather than at the first
//! click. Values of the wrong type count as absent, as JavaScript property
//! reads do. Which Peliqan to call and in which API dialect may also come
//! later, with each token: see [`crate::routing`].

use crate::error::{EmbedError, ErrorCode};
use crate::routing::RoutingOptions;
use crate::safe_url;
use std::collections::BTreeMap;

/// `credentials` of the token-service request (the Fetch API's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Credentials {
    /// Never send cookies.
    Omit,
    /// Send cookies to the page's own origin (the Fetch default).
    #[default]
    SameOrigin,
    /// Send cookies cross-origin too (token service on another origin).
    Include,
}

impl Credentials {
    /// Parses the Fetch API's string value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "omit" => Some(Self::Omit),
            "same-origin" => Some(Self::SameOrigin),
            "include" => Some(Self::Include),
            _ => None,
        }
    }
}

/// The option keys, as JavaScript spells them.
pub mod key {
    /// Base URL of Peliqan's API, e.g. `https://app.eu.peliqan.io`; else
    /// the token answer's.
    pub const PELIQAN_URL: &str = "peliqanUrl";
    /// Peliqan's API dialect (`seed`, `sub-account`, `partner`); else the
    /// token answer's.
    pub const DIALECT: &str = "dialect";
    /// Single operations routed differently: operation name -> route text.
    pub const ROUTES: &str = "routes";
    /// The partner's token endpoint (`POST`, answers `{token, expires_at}`).
    pub const TOKEN_URL: &str = "tokenUrl";
    /// The partner's own token callback (a function).
    pub const GET_TOKEN: &str = "getToken";
    /// The partner's connectors endpoint; derived from `tokenUrl` if absent.
    pub const CONNECTORS_URL: &str = "connectorsUrl";
    /// Cookie mode of token-service requests.
    pub const CREDENTIALS: &str = "credentials";
    /// Extra headers of token-service requests (e.g. the user's bearer token).
    pub const HEADERS: &str = "headers";
    /// Show the "Powered by Peliqan" notice in the OAuth popup.
    pub const POWERED_BY_NOTICE: &str = "poweredByNotice";
}

/// Every key [`Config::read`] reads (checked against `index.d.ts` by a test).
pub const OPTION_KEYS: [&str; 9] = [
    key::PELIQAN_URL,
    key::DIALECT,
    key::ROUTES,
    key::TOKEN_URL,
    key::GET_TOKEN,
    key::CONNECTORS_URL,
    key::CREDENTIALS,
    key::HEADERS,
    key::POWERED_BY_NOTICE,
];

/// Where [`Config::read`] reads the options from. Each method answers
/// `None` (or nothing) for an absent key and for a value of another type.
pub trait OptionSource {
    /// A string value.
    fn string(&self, key: &str) -> Option<String>;
    /// A boolean value.
    fn boolean(&self, key: &str) -> Option<bool>;
    /// The string entries of an object value (other entries are skipped).
    fn string_entries(&self, key: &str) -> BTreeMap<String, String>;
    /// Whether the value is a function.
    fn is_function(&self, key: &str) -> bool;
}

/// Validated options.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Peliqan's base URL and API dialect, as far as the options say.
    pub routing: RoutingOptions,
    /// Token endpoint, unless a `getToken` callback is used.
    pub token_url: Option<String>,
    /// Connectors endpoint, when known.
    pub connectors_url: Option<String>,
    /// Cookie mode of token-service requests.
    pub credentials: Credentials,
    /// Extra headers of token-service requests.
    pub headers: BTreeMap<String, String>,
    /// Show the "Powered by Peliqan" notice.
    pub powered_by_notice: bool,
}

fn invalid(msg: &str) -> EmbedError {
    EmbedError::new(ErrorCode::InvalidConfig, msg)
}

impl Config {
    /// Reads and validates the options (the `getToken` function itself is
    /// taken by the wasm layer; here only whether there is one matters).
    pub fn read(options: &impl OptionSource) -> Result<Self, EmbedError> {
        let credentials = match options.string(key::CREDENTIALS) {
            None => Credentials::default(),
            Some(c) => Credentials::parse(&c)
                .ok_or_else(|| invalid("credentials must be omit, same-origin or include"))?,
        };
        let routing = RoutingOptions::new(
            options.string(key::PELIQAN_URL),
            options.string(key::DIALECT),
            options.string_entries(key::ROUTES),
        )?;
        let token_url = options.string(key::TOKEN_URL);
        if token_url.is_none() && !options.is_function(key::GET_TOKEN) {
            return Err(invalid(
                "give tokenUrl (your token service) or a getToken callback",
            ));
        }
        let connectors_url = options
            .string(key::CONNECTORS_URL)
            .or_else(|| token_url.as_deref().and_then(derive_connectors_url));
        // They receive the user's credentials: https, loopback or this page's origin.
        for (what, url) in [
            (key::TOKEN_URL, &token_url),
            (key::CONNECTORS_URL, &connectors_url),
        ] {
            if let Some(url) = url.as_deref().filter(|u| !safe_url::allowed_or_path(u)) {
                return Err(invalid(&safe_url::refusal(what, url)));
            }
        }
        Ok(Self {
            routing,
            token_url,
            connectors_url,
            credentials,
            headers: options.string_entries(key::HEADERS),
            powered_by_notice: options.boolean(key::POWERED_BY_NOTICE).unwrap_or(true),
        })
    }
}

/// The token service serves `/v1/connectors` beside `/v1/token`: replace a
/// final `token` path segment (query dropped) by `connectors`.
pub fn derive_connectors_url(token_url: &str) -> Option<String> {
    let path = token_url.split(['?', '#']).next().unwrap_or("");
    let base = path.trim_end_matches('/').strip_suffix("token")?;
    base.ends_with('/').then(|| [base, "connectors"].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::{Value, json};
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    /// Options as JSON; the string `"<function>"` stands for a function.
    /// Records every key asked for.
    struct Options {
        json: Value,
        asked: RefCell<BTreeSet<String>>,
    }

    impl Options {
        fn get(&self, key: &str) -> Option<&Value> {
            self.asked.borrow_mut().insert(key.to_owned());
            self.json.get(key)
        }
    }

    impl OptionSource for Options {
        fn string(&self, key: &str) -> Option<String> {
            self.get(key)
                .and_then(Value::as_str)
                .filter(|s| *s != "<function>")
                .map(str::to_owned)
        }
        fn boolean(&self, key: &str) -> Option<bool> {
            self.get(key).and_then(Value::as_bool)
        }
        fn string_entries(&self, key: &str) -> BTreeMap<String, String> {
            let entries = self.get(key).and_then(Value::as_object).into_iter();
            entries
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        }
        fn is_function(&self, key: &str) -> bool {
            self.get(key).and_then(Value::as_str) == Some("<function>")
        }
    }

    fn options(json: Value) -> Options {
        Options {
            json,
            asked: RefCell::default(),
        }
    }

    fn read(json: Value) -> Result<Config, EmbedError> {
        Config::read(&options(json))
    }

    #[test]
    fn every_listed_key_is_read_and_only_those() {
        let o = options(json!({"getToken": "<function>"}));
        Config::read(&o).unwrap();
        let listed: BTreeSet<String> = OPTION_KEYS.iter().map(|k| k.to_string()).collect();
        assert_eq!(*o.asked.borrow(), listed);
        assert_eq!(listed.len(), OPTION_KEYS.len(), "a key is listed twice");
    }

    #[test]
    fn values_of_the_wrong_type_count_as_absent() {
        let c = read(json!({
            "tokenUrl": "/v1/token", "connectorsUrl": 5, "credentials": 1, "poweredByNotice": "no",
            "headers": {"A": "a", "B": 2}, "routes": "get_connection"
        }))
        .unwrap();
        assert_eq!(c.connectors_url.as_deref(), Some("/v1/connectors"));
        assert_eq!(c.credentials, Credentials::SameOrigin);
        assert!(c.powered_by_notice);
        assert_eq!(c.headers.len(), 1);
        assert!(c.routing.routing.routes.is_empty());
        let c = read(json!({"tokenUrl": "/t", "poweredByNotice": false})).unwrap();
        assert!(!c.powered_by_notice);
        let e = read(json!({"tokenUrl": "/t", "credentials": "cors"})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        assert!(e.message.contains("credentials"), "{}", e.message);
    }

    #[test]
    fn connectors_url_is_derived_from_the_token_url() {
        let d = derive_connectors_url;
        assert_eq!(d("/v1/token").as_deref(), Some("/v1/connectors"));
        assert_eq!(
            d("https://t.acme.com/peliqan/token/?x=1").as_deref(),
            Some("https://t.acme.com/peliqan/connectors")
        );
        assert_eq!(d("/auth/peliqan-jwt"), None);
        assert_eq!(d("/mytoken"), None);
    }

    #[test]
    fn reads_camel_case_and_applies_defaults() {
        let c = read(json!({
            "peliqanUrl": "https://app.eu.peliqan.io/", "tokenUrl": "/v1/token",
            "credentials": "include", "headers": {"Authorization": "Bearer u"},
            "dialect": "partner", "routes": {"get_connection": "GET /api/v2/servers/{id}/"}
        }))
        .unwrap();
        assert_eq!(
            c.routing.peliqan_url.as_deref(),
            Some("https://app.eu.peliqan.io")
        );
        assert_eq!(c.routing.routing.dialect.as_deref(), Some("partner"));
        assert_eq!(c.routing.routing.routes.len(), 1);
        assert_eq!(c.connectors_url.as_deref(), Some("/v1/connectors"));
        assert_eq!(c.credentials, Credentials::Include);
        assert!(c.powered_by_notice);
    }

    #[test]
    fn peliqan_url_and_dialect_may_come_with_the_token() {
        let c = read(json!({"tokenUrl": "/t"})).unwrap();
        assert_eq!(c.routing, RoutingOptions::default());
    }

    #[test]
    fn wrong_setups_fail_with_invalid_config() {
        let e = read(json!({})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        assert!(e.message.contains("getToken"));
        let e = read(json!({"peliqanUrl": "app.peliqan.io", "getToken": "<function>"}));
        assert!(e.is_err());
        let e = read(json!({"tokenUrl": "/t", "dialect": "v2"}));
        assert_eq!(e.unwrap_err().code, ErrorCode::InvalidConfig);
        assert!(read(json!({"getToken": "<function>"})).is_ok());
    }

    #[test]
    fn token_and_connector_urls_must_be_https_loopback_or_a_path() {
        let ok = |v| read(v).is_ok();
        assert!(ok(json!({"tokenUrl": "/v1/token"})));
        assert!(ok(json!({"tokenUrl": "https://t.acme.com/v1/token"})));
        assert!(ok(json!({"tokenUrl": "http://127.0.0.1:8080/v1/token"})));
        for (options, named) in [
            (
                json!({"tokenUrl": "http://t.acme.com/v1/token"}),
                "tokenUrl",
            ),
            (json!({"tokenUrl": "javascript:alert(1)"}), "tokenUrl"),
            (
                json!({"tokenUrl": "/t", "connectorsUrl": "data:,[]"}),
                "connectorsUrl",
            ),
            (
                json!({"tokenUrl": "/t", "peliqanUrl": "http://peliqan.example"}),
                "peliqanUrl",
            ),
        ] {
            let e = read(options).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidConfig);
            assert!(e.message.starts_with(named), "{}", e.message);
        }
    }
}
