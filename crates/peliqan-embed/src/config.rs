//! The options of `new PeliqanEmbed({...})`, checked once at construction.
//!
//! JavaScript functions in the options (`getToken`) are read by the wasm
//! layer; everything else is plain data, deserialised here from camelCase
//! and validated so a wrong setup fails at once with `invalid_config`
//! rather than at the first click. Which Peliqan to call and in which API
//! dialect may also come later, with each token: see [`crate::routing`].

use crate::error::{EmbedError, ErrorCode};
use crate::routing::RoutingOptions;
use crate::safe_url;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `credentials` of the token-service request (the Fetch API's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
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

/// The data part of the constructor options, as sent from JavaScript.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawOptions {
    /// Base URL of Peliqan's API, e.g. `https://app.eu.peliqan.io`; else
    /// the token answer's.
    #[serde(default)]
    pub peliqan_url: Option<String>,
    /// Peliqan's API dialect (`seed`, `sub-account`, `partner`); else the
    /// token answer's.
    #[serde(default)]
    pub dialect: Option<String>,
    /// Single operations routed differently: operation name -> route text.
    #[serde(default)]
    pub routes: BTreeMap<String, String>,
    /// The partner's token endpoint (`POST`, answers `{token, expires_at}`).
    #[serde(default)]
    pub token_url: Option<String>,
    /// The partner's connectors endpoint; derived from `token_url` if absent.
    #[serde(default)]
    pub connectors_url: Option<String>,
    /// Cookie mode of token-service requests.
    #[serde(default)]
    pub credentials: Credentials,
    /// Extra headers of token-service requests (e.g. the user's bearer token).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Show the "Powered by Peliqan" notice in the OAuth popup.
    #[serde(default)]
    pub powered_by_notice: Option<bool>,
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
    /// Validates `raw`; `has_callback` says whether `getToken` was given.
    pub fn from_raw(raw: RawOptions, has_callback: bool) -> Result<Self, EmbedError> {
        let routing = RoutingOptions::new(raw.peliqan_url, raw.dialect, raw.routes)?;
        if raw.token_url.is_none() && !has_callback {
            return Err(invalid(
                "give tokenUrl (your token service) or a getToken callback",
            ));
        }
        let connectors_url = raw
            .connectors_url
            .or_else(|| raw.token_url.as_deref().and_then(derive_connectors_url));
        // They receive the user's credentials: https, loopback or this page's origin.
        for (what, url) in [
            ("tokenUrl", &raw.token_url),
            ("connectorsUrl", &connectors_url),
        ] {
            if let Some(url) = url.as_deref().filter(|u| !safe_url::allowed_or_path(u)) {
                return Err(invalid(&safe_url::refusal(what, url)));
            }
        }
        Ok(Self {
            routing,
            token_url: raw.token_url,
            connectors_url,
            credentials: raw.credentials,
            headers: raw.headers,
            powered_by_notice: raw.powered_by_notice.unwrap_or(true),
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

    fn raw(v: serde_json::Value) -> RawOptions {
        serde_json::from_value(v).unwrap()
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
        let c = Config::from_raw(
            raw(serde_json::json!({
                "peliqanUrl": "https://app.eu.peliqan.io/", "tokenUrl": "/v1/token",
                "credentials": "include", "headers": {"Authorization": "Bearer u"},
                "dialect": "partner", "routes": {"get_connection": "GET /api/v2/servers/{id}/"}
            })),
            false,
        )
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
        let c = Config::from_raw(raw(serde_json::json!({"tokenUrl": "/t"})), false).unwrap();
        assert_eq!(c.routing, RoutingOptions::default());
    }

    #[test]
    fn wrong_setups_fail_with_invalid_config() {
        let e = Config::from_raw(raw(serde_json::json!({})), false).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        assert!(e.message.contains("getToken"));
        let e = Config::from_raw(
            raw(serde_json::json!({"peliqanUrl": "app.peliqan.io"})),
            true,
        );
        assert!(e.is_err());
        let e = Config::from_raw(
            raw(serde_json::json!({"tokenUrl": "/t", "dialect": "v2"})),
            false,
        );
        assert_eq!(e.unwrap_err().code, ErrorCode::InvalidConfig);
        assert!(Config::from_raw(raw(serde_json::json!({})), true).is_ok());
    }

    #[test]
    fn token_and_connector_urls_must_be_https_loopback_or_a_path() {
        let ok = |v| Config::from_raw(raw(v), false).is_ok();
        assert!(ok(serde_json::json!({"tokenUrl": "/v1/token"})));
        assert!(ok(
            serde_json::json!({"tokenUrl": "https://t.acme.com/v1/token"})
        ));
        assert!(ok(
            serde_json::json!({"tokenUrl": "http://127.0.0.1:8080/v1/token"})
        ));
        for (options, named) in [
            (
                serde_json::json!({"tokenUrl": "http://t.acme.com/v1/token"}),
                "tokenUrl",
            ),
            (
                serde_json::json!({"tokenUrl": "javascript:alert(1)"}),
                "tokenUrl",
            ),
            (
                serde_json::json!({"tokenUrl": "/t", "connectorsUrl": "data:,[]"}),
                "connectorsUrl",
            ),
            (
                serde_json::json!({"tokenUrl": "/t", "peliqanUrl": "http://peliqan.example"}),
                "peliqanUrl",
            ),
        ] {
            let e = Config::from_raw(raw(options), false).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidConfig);
            assert!(e.message.starts_with(named), "{}", e.message);
        }
    }
}
