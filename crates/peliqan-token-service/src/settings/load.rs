//! Where settings come from: an optional TOML file, then the environment.
//!
//! The file uses the same keys as the environment
//! (`PELIQAN_API_URL = "https://..."`); a variable set in the environment
//! wins over the file, so a container can override one value of a mounted
//! file. The file is named by `--config PATH` or `TOKEN_SERVICE_CONFIG`.
//! An empty value, in either, is a startup error naming the key (see
//! [`Settings::from_map`]): set but empty, a variable would otherwise erase
//! the file's value for that key.

use super::{ConfigError, Settings, is_key};
use std::collections::BTreeMap;
use std::path::Path;

/// The environment variable naming the optional TOML file.
pub const CONFIG_FILE_VAR: &str = "TOKEN_SERVICE_CONFIG";

/// Loads settings from `file` (if any) overlaid with the process environment.
pub fn from_env_and_file(file: Option<&Path>) -> Result<Settings, ConfigError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    Settings::from_map(&raw(file, env)?)
}

/// The merged raw key/value pairs: file first, then every known key from `env`.
pub fn raw(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut map = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(CONFIG_FILE_VAR, format!("`{}`: {e}", path.display()))
            })?;
            from_toml(&text)?
        }
        None => BTreeMap::new(),
    };
    for (key, value) in env {
        if is_key(&key) {
            map.insert(key, value);
        } else if key.starts_with(ROUTE_PREFIX) {
            // Other variables are none of the service's business, but this
            // prefix is only ever meant for it: a typo must not silently
            // leave the dialect's route in place.
            return Err(unknown_route_key(&key));
        }
    }
    Ok(map)
}

const ROUTE_PREFIX: &str = "PELIQAN_API_ROUTE_";

fn unknown_route_key(key: &str) -> ConfigError {
    let names: Vec<String> = peliqan_client::Operation::ALL
        .iter()
        .map(|op| op.name().to_ascii_uppercase())
        .collect();
    ConfigError::new(
        key,
        format!(
            "names no API operation; the route keys are {ROUTE_PREFIX}<OPERATION> with one of: {}",
            names.join(", ")
        ),
    )
}

/// Reads a flat TOML table; strings, numbers and booleans are taken as
/// written, arrays of strings are joined with commas (for list keys).
pub fn from_toml(text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::new(CONFIG_FILE_VAR, e.message().to_owned()))?;
    let mut map = BTreeMap::new();
    for (key, value) in table {
        if key.starts_with(ROUTE_PREFIX) && !is_key(&key) {
            return Err(unknown_route_key(&key));
        }
        if !is_key(&key) {
            return Err(ConfigError::new(
                &key,
                "is not a known setting (see the README)",
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => {
                let parts: Option<Vec<String>> = items
                    .into_iter()
                    .map(|v| v.as_str().map(String::from))
                    .collect();
                parts
                    .ok_or_else(|| ConfigError::new(&key, "must be a list of strings"))?
                    .join(",")
            }
            _ => {
                return Err(ConfigError::new(
                    &key,
                    "must be a string, number, boolean or list",
                ));
            }
        };
        map.insert(key, text);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BTreeMap<String, String> {
        from_toml(
            r#"
            PELIQAN_API_URL = "http://127.0.0.1:9"
            PELIQAN_PARTNER_TOKEN = "partner-secret"
            TOKEN_SERVICE_JWT_HS256_SECRET = "0123456789abcdef0123456789abcdef"
            TOKEN_SERVICE_ALLOWED_ORIGINS = ["https://app.example.com"]
            TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS = 0.5
            "#,
        )
        .unwrap()
    }

    #[test]
    fn a_file_with_the_same_keys_as_the_environment_loads() {
        let s = Settings::from_map(&base()).unwrap();
        assert_eq!(s.allowed_origins, ["https://app.example.com"]);
        assert_eq!(s.cache.safety_margin.as_millis(), 500);
        assert_eq!(s.auth.tenant_claim, "external_id");
        assert!(!format!("{s:?}").contains("partner-secret"));
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("ts-cfg-{}", std::process::id()));
        std::fs::write(&dir, "TOKEN_SERVICE_LISTEN = \"127.0.0.1:1\"\n").unwrap();
        let env = [("TOKEN_SERVICE_LISTEN".to_owned(), "127.0.0.1:2".to_owned())];
        let map = raw(Some(&dir), env).unwrap();
        assert_eq!(map["TOKEN_SERVICE_LISTEN"], "127.0.0.1:2");
        std::fs::remove_file(dir).ok();
    }

    #[test]
    fn an_empty_value_never_erases_the_files_value_and_names_its_key() {
        let path = std::env::temp_dir().join(format!("ts-empty-{}", std::process::id()));
        std::fs::write(
            &path,
            "PELIQAN_API_URL = \"http://127.0.0.1:9\"\n\
             PELIQAN_PARTNER_TOKEN = \"partner-secret\"\n\
             TOKEN_SERVICE_JWT_HS256_SECRET = \"0123456789abcdef0123456789abcdef\"\n\
             TOKEN_SERVICE_JWT_ISSUER = \"https://login.example.com\"\n",
        )
        .unwrap();
        let file = Settings::from_map(&raw(Some(&path), []).unwrap()).unwrap();
        assert_eq!(
            file.auth.issuer.as_deref(),
            Some("https://login.example.com")
        );
        for empty in ["", "  "] {
            let env = [("TOKEN_SERVICE_JWT_ISSUER".to_owned(), empty.to_owned())];
            let err = Settings::from_map(&raw(Some(&path), env).unwrap()).unwrap_err();
            assert_eq!(err.key, "TOKEN_SERVICE_JWT_ISSUER", "{err}");
            assert!(err.message.contains("is empty"), "{err}");
        }
        std::fs::remove_file(path).ok();
        // Every key alike, and an empty value in the file too.
        for key in [
            "TOKEN_SERVICE_JWT_AUDIENCE",
            "TOKEN_SERVICE_ALLOWED_ORIGINS",
            "TOKEN_SERVICE_WORKERS",
        ] {
            let mut map = base();
            map.insert(key.to_owned(), String::new());
            assert_eq!(Settings::from_map(&map).unwrap_err().key, key);
        }
        let mut map = base();
        map.extend(from_toml("TOKEN_SERVICE_JWT_AUDIENCE = []").unwrap());
        assert_eq!(
            Settings::from_map(&map).unwrap_err().key,
            "TOKEN_SERVICE_JWT_AUDIENCE"
        );
    }

    #[test]
    fn each_bad_setting_is_reported_by_its_key() {
        let cases: [(&str, Option<&str>, &str); 6] = [
            ("PELIQAN_API_URL", None, "PELIQAN_API_URL"),
            (
                "TOKEN_SERVICE_LISTEN",
                Some("nowhere"),
                "TOKEN_SERVICE_LISTEN",
            ),
            (
                "TOKEN_SERVICE_ALLOWED_ORIGINS",
                Some("*"),
                "TOKEN_SERVICE_ALLOWED_ORIGINS",
            ),
            (
                "TOKEN_SERVICE_JWT_HS256_SECRET",
                Some("short"),
                "TOKEN_SERVICE_JWT_HS256_SECRET",
            ),
            (
                "TOKEN_SERVICE_AUTO_PROVISION",
                Some("maybe"),
                "TOKEN_SERVICE_AUTO_PROVISION",
            ),
            (
                "TOKEN_SERVICE_JWT_JWKS_URL",
                Some("https://idp/jwks"),
                "TOKEN_SERVICE_JWT_JWKS_URL",
            ),
        ];
        for (key, value, named) in cases {
            let mut map = base();
            match value {
                Some(v) => map.insert(key.to_owned(), v.to_owned()),
                None => map.remove(key),
            };
            let err = Settings::from_map(&map).unwrap_err();
            assert_eq!(err.key, named, "{err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid configuration: {named}"))
            );
        }
        let err = from_toml("TOKEN_SERVICE_LISTNE = \"x\"").unwrap_err();
        assert_eq!(err.key, "TOKEN_SERVICE_LISTNE");
    }

    #[test]
    fn a_route_key_naming_no_operation_is_refused_in_the_file_and_the_environment() {
        let typo = "PELIQAN_API_ROUTE_GET_SERVER";
        let err = from_toml(&format!("{typo} = \"GET /api/servers/{{id}}/\"")).unwrap_err();
        assert_eq!(err.key, typo);
        assert!(err.message.contains("GET_CONNECTION"), "{err}");
        let env = [
            (typo.to_owned(), "GET /x/{id}".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ];
        assert_eq!(raw(None, env).unwrap_err().key, typo);
        // Variables that are not the service's are ignored, known ones kept.
        let key = "PELIQAN_API_ROUTE_GET_CONNECTION";
        let env = [
            (key.to_owned(), "GET /x/{id}".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ];
        assert_eq!(raw(None, env).unwrap().keys().collect::<Vec<_>>(), [key]);
    }
}
