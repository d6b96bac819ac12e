//! [`Settings::from_map`]: every key read, checked and defaulted in one place.
//!
//! [`KEYS`] is the list of fixed keys (the loader keeps only these from the
//! environment and refuses any other in the file). Every read goes through
//! [`Reader`], which records the keys it is asked for and, in debug builds,
//! refuses one that is not listed; a unit test below parses a full set of
//! settings and requires the recorded keys to be exactly [`KEYS`]. So a key
//! cannot be parsed without being listed, nor listed without being parsed.

use super::{AuthSettings, CacheSettings, ConfigError, JwtKey, Settings};
use peliqan_client::Secret;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// Every fixed key the service reads; with the per-operation route keys
/// ([`is_key`]) they are all it knows. A TOML file naming any other key is
/// rejected (a typo must not silently fall back to a default).
pub const KEYS: &[&str] = &[
    "PELIQAN_API_URL",
    "PELIQAN_API_DIALECT",
    "PELIQAN_PARTNER_TOKEN",
    "PELIQAN_PARTNER_TOKEN_FILE",
    "PELIQAN_CLIENT_ID",
    "PELIQAN_CLIENT_SECRET",
    "PELIQAN_CLIENT_SECRET_FILE",
    "TOKEN_SERVICE_LISTEN",
    "TOKEN_SERVICE_WORKERS",
    "TOKEN_SERVICE_SHUTDOWN_TIMEOUT_SECS",
    "TOKEN_SERVICE_ALLOWED_ORIGINS",
    "TOKEN_SERVICE_LOG_FORMAT",
    "TOKEN_SERVICE_MAX_BODY_BYTES",
    "TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE",
    "TOKEN_SERVICE_JWT_HS256_SECRET",
    "TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE",
    "TOKEN_SERVICE_JWT_JWKS_URL",
    "TOKEN_SERVICE_JWT_ISSUER",
    "TOKEN_SERVICE_JWT_AUDIENCE",
    "TOKEN_SERVICE_JWT_LEEWAY_SECS",
    "TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS",
    "TOKEN_SERVICE_JWKS_TTL_SECS",
    "TOKEN_SERVICE_JWKS_MAX_STALE_SECS",
    "TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE",
    "TOKEN_SERVICE_TENANT_CLAIM",
    "TOKEN_SERVICE_AUTO_PROVISION",
    "TOKEN_SERVICE_CACHE_CAPACITY",
    "TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS",
    "TOKEN_SERVICE_CACHE_REFRESH_AHEAD_SECS",
    "TOKEN_SERVICE_CONNECTORS_CACHE_SECS",
    "TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS",
    "TOKEN_SERVICE_UNKNOWN_TENANT_CACHE_SECS",
    "TOKEN_SERVICE_FORCED_REFRESH_INTERVAL_SECS",
    "TOKEN_SERVICE_METRICS_LISTEN",
    "TOKEN_SERVICE_UPSTREAM_CONNECT_TIMEOUT_SECS",
    "TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS",
    "TOKEN_SERVICE_UPSTREAM_MAX_RETRIES",
    "TOKEN_SERVICE_UPSTREAM_RETRY_BASE_SECS",
    "TOKEN_SERVICE_UPSTREAM_MAX_RETRY_AFTER_SECS",
    "TOKEN_SERVICE_READINESS_CACHE_SECS",
    "TOKEN_SERVICE_REDIS_URL",
    "TOKEN_SERVICE_REDIS_URL_FILE",
    "TOKEN_SERVICE_CACHE_KEY",
    "TOKEN_SERVICE_CACHE_KEY_FILE",
    "TOKEN_SERVICE_REDIS_TIMEOUT_SECS",
    "TOKEN_SERVICE_BLUEPRINT_FILE",
    "TOKEN_SERVICE_HYDRATION_LEDGER_FILE",
    "TOKEN_SERVICE_INTROSPECTION_URL",
    "TOKEN_SERVICE_INTROSPECTION_CLIENT_ID",
    "TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET",
    "TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET_FILE",
    "TOKEN_SERVICE_INTROSPECTION_CACHE_SECS",
    "TOKEN_SERVICE_SESSION_URL",
    "TOKEN_SERVICE_SESSION_COOKIES",
    "TOKEN_SERVICE_SESSION_SUBJECT_FIELD",
    "TOKEN_SERVICE_SESSION_CACHE_SECS",
    "TOKEN_SERVICE_CSRF_HEADER",
    "TOKEN_SERVICE_TRUSTED_PROXIES",
    "TOKEN_SERVICE_PROXY_USER_HEADER",
    "TOKEN_SERVICE_PROXY_TENANT_HEADER",
    "TOKEN_SERVICE_PROXY_EMAIL_HEADER",
    "TOKEN_SERVICE_IDENTITY_TIMEOUT_SECS",
];

/// Whether the service reads `key`: one of [`KEYS`] or a route override
/// (`PELIQAN_API_ROUTE_<OPERATION>`).
pub fn is_key(key: &str) -> bool {
    KEYS.contains(&key) || super::peliqan::route_key(key).is_some()
}

/// Typed reads over the raw map, each error naming its key; it records the
/// keys read (see the module doc).
pub(super) struct Reader<'a> {
    /// The raw map (the route keys are read from it directly).
    pub(super) map: &'a BTreeMap<String, String>,
    read: RefCell<BTreeSet<&'static str>>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(map: &'a BTreeMap<String, String>) -> Self {
        Self {
            map,
            read: RefCell::default(),
        }
    }

    pub(super) fn get(&self, key: &'static str) -> Option<&'a str> {
        debug_assert!(KEYS.contains(&key), "{key} is read but not listed in KEYS");
        self.read.borrow_mut().insert(key);
        self.map
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn required(&self, key: &'static str) -> Result<&'a str, ConfigError> {
        self.get(key)
            .ok_or_else(|| ConfigError::new(key, "is required but not set"))
    }

    pub(super) fn parse<T: FromStr>(&self, key: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| ConfigError::new(key, format!("`{v}`: {e}"))),
        }
    }

    /// Seconds, decimals allowed (`0.5`), so tests can use short times.
    pub(super) fn secs(&self, key: &'static str, default: f64) -> Result<Duration, ConfigError> {
        let v: f64 = self.parse(key, default)?;
        Duration::try_from_secs_f64(v)
            .map_err(|_| ConfigError::new(key, format!("`{v}` is not a number of seconds")))
    }

    pub(super) fn bool(&self, key: &'static str) -> Result<bool, ConfigError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "no" | "off") => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some(v) => Err(ConfigError::new(key, format!("`{v}` is not true or false"))),
        }
    }

    pub(super) fn list(&self, key: &'static str) -> Vec<String> {
        self.get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
            })
            .into_iter()
            .flatten()
            .collect()
    }

    pub(super) fn file(&self, key: &'static str) -> Result<Option<Vec<u8>>, ConfigError> {
        self.get(key)
            .map(|path| {
                std::fs::read(path).map_err(|e| ConfigError::new(key, format!("`{path}`: {e}")))
            })
            .transpose()
    }
}

impl Settings {
    /// Parses and checks raw `KEY -> value` pairs (environment or TOML).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        refuse_empty(map)?;
        Self::read(&Reader::new(map), false)
    }

    /// [`Self::from_map`] for endpoints embedded in a partner's app
    /// ([`crate::scope`]): no identity source is needed, the app supplies
    /// one (a configured source is still read and refused if wrong).
    pub fn from_map_embedded(map: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        refuse_empty(map)?;
        Self::read(&Reader::new(map), true)
    }

    /// Reads every key through `r`.
    fn read(r: &Reader<'_>, embedded: bool) -> Result<Self, ConfigError> {
        let listen: SocketAddr = r.parse("TOKEN_SERVICE_LISTEN", ([127, 0, 0, 1], 8080).into())?;
        let log_json = match r.get("TOKEN_SERVICE_LOG_FORMAT").unwrap_or("text") {
            "json" => true,
            "text" => false,
            v => {
                let msg = format!("`{v}`: expected `text` or `json`");
                return Err(ConfigError::new("TOKEN_SERVICE_LOG_FORMAT", msg));
            }
        };
        let allowed_origins = origins(r)?;
        let workers = match r.parse("TOKEN_SERVICE_WORKERS", 0usize)? {
            0 => None,
            n => Some(n),
        };
        let auth = auth(r)?;
        let jwt_key = auth.key.as_ref().map(JwtKey::setting);
        let identity = super::identity::identity(r, jwt_key, embedded)?;
        if identity.csrf_header().is_some() && allowed_origins.is_empty() {
            // A cookie identity refuses every POST without an allowed Origin.
            return Err(ConfigError::new(
                "TOKEN_SERVICE_ALLOWED_ORIGINS",
                "is required with a session cookie or an embedded scope: a cookie-authenticated \
                 POST must come from one of these origins (the CSRF check)",
            ));
        }
        Ok(Self {
            listen,
            workers,
            shutdown_timeout: r.secs("TOKEN_SERVICE_SHUTDOWN_TIMEOUT_SECS", 30.0)?,
            allowed_origins,
            log_json,
            max_body_bytes: r.parse("TOKEN_SERVICE_MAX_BODY_BYTES", 4096)?,
            rate_limit_per_minute: r.parse("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE", 120)?,
            auth,
            identity,
            upstream: super::peliqan::upstream(r)?,
            cache: CacheSettings {
                capacity: r.parse("TOKEN_SERVICE_CACHE_CAPACITY", 200_000)?,
                safety_margin: r.secs("TOKEN_SERVICE_CACHE_SAFETY_MARGIN_SECS", 60.0)?,
                refresh_ahead: r.secs("TOKEN_SERVICE_CACHE_REFRESH_AHEAD_SECS", 300.0)?,
                connectors_ttl: r.secs("TOKEN_SERVICE_CONNECTORS_CACHE_SECS", 300.0)?,
                max_token_lifetime: r.secs("TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS", 86_400.0)?,
                unknown_tenant_ttl: r.secs("TOKEN_SERVICE_UNKNOWN_TENANT_CACHE_SECS", 30.0)?,
                forced_refresh_interval: r
                    .secs("TOKEN_SERVICE_FORCED_REFRESH_INTERVAL_SECS", 5.0)?,
            },
            auto_provision: r.bool("TOKEN_SERVICE_AUTO_PROVISION")?,
            shared: super::shared::shared_tier(r)?,
            hydration: super::HydrationSettings {
                blueprint_file: r.get("TOKEN_SERVICE_BLUEPRINT_FILE").map(Into::into),
                ledger_file: r
                    .get("TOKEN_SERVICE_HYDRATION_LEDGER_FILE")
                    .unwrap_or("hydration-ledger.sqlite3")
                    .into(),
            },
            metrics_listen: r
                .get("TOKEN_SERVICE_METRICS_LISTEN")
                .map(|_| r.parse("TOKEN_SERVICE_METRICS_LISTEN", ([127, 0, 0, 1], 0).into()))
                .transpose()?,
        })
    }
}

/// An empty value (`docker run -e KEY=`, an empty Kubernetes `value:`,
/// `KEY = ""` in the file) stops startup, naming the key. Read as "unset",
/// it would silently drop the file's value for that key (an issuer check,
/// an allow-list) or fall back to a default: an empty value could only ever
/// weaken a setting, never be what someone meant.
fn refuse_empty(map: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    match map
        .iter()
        .find(|(key, value)| value.trim().is_empty() && is_key(key))
    {
        Some((key, _)) => Err(ConfigError::new(
            key,
            "is empty; remove the key to keep its default (or the config file's value), or \
             give it a value: an empty value is never read as unset",
        )),
        None => Ok(()),
    }
}

fn origins(r: &Reader<'_>) -> Result<Vec<String>, ConfigError> {
    const KEY: &str = "TOKEN_SERVICE_ALLOWED_ORIGINS";
    let list = r.list(KEY);
    for o in &list {
        // An origin is scheme://host[:port]; `*` or a path would be a
        // misunderstanding that must not silently widen or break CORS.
        let ok = url::Url::parse(o).is_ok_and(|u| {
            u.origin().is_tuple() && u.origin().ascii_serialization() == o.trim_end_matches('/')
        });
        if !ok {
            return Err(ConfigError::new(
                KEY,
                format!("`{o}` is not an origin like https://app.example.com"),
            ));
        }
    }
    Ok(list
        .into_iter()
        .map(|o| o.trim_end_matches('/').to_owned())
        .collect())
}

fn auth(r: &Reader<'_>) -> Result<AuthSettings, ConfigError> {
    const HS: &str = "TOKEN_SERVICE_JWT_HS256_SECRET";
    const PEM: &str = "TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE";
    const JWKS: &str = "TOKEN_SERVICE_JWT_JWKS_URL";
    let set: Vec<&str> = [HS, PEM, JWKS]
        .into_iter()
        .filter(|k| r.get(k).is_some())
        .collect();
    // None: another identity source must be set (see `super::identity`).
    let key = match set.as_slice() {
        [] => None,
        [HS] => {
            let secret = r.required(HS)?;
            if secret.len() < 32 {
                return Err(ConfigError::new(HS, "must be at least 32 bytes long"));
            }
            Some(JwtKey::Hs256(Secret::new(secret)))
        }
        [PEM] => {
            let pem = r.file(PEM)?.unwrap_or_default();
            let algorithm = pem_algorithm(&pem).ok_or_else(|| {
                ConfigError::new(PEM, "is not a PEM RSA (RS256) or P-256 (ES256) public key")
            })?;
            Some(JwtKey::PublicKey { algorithm, pem })
        }
        [JWKS] => {
            let v = r.required(JWKS)?;
            Some(JwtKey::Jwks(url::Url::parse(v).map_err(|e| {
                ConfigError::new(JWKS, format!("`{v}`: {e}"))
            })?))
        }
        _ => {
            return Err(ConfigError::new(
                set[1],
                format!("only one of {} may be set", set.join(", ")),
            ));
        }
    };
    let tenant_claim = r
        .get("TOKEN_SERVICE_TENANT_CLAIM")
        .unwrap_or("external_id")
        .to_owned();
    Ok(AuthSettings {
        key,
        issuer: r.get("TOKEN_SERVICE_JWT_ISSUER").map(String::from),
        audience: r.list("TOKEN_SERVICE_JWT_AUDIENCE"),
        leeway_secs: r.parse("TOKEN_SERVICE_JWT_LEEWAY_SECS", 30)?,
        tenant_claim,
        jwks_refresh_floor: r.secs("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", 30.0)?,
        jwks_ttl: r.secs("TOKEN_SERVICE_JWKS_TTL_SECS", 60.0)?,
        jwks_max_stale: r.secs("TOKEN_SERVICE_JWKS_MAX_STALE_SECS", 3600.0)?,
        allow_any_issuer_audience: r.bool("TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE")?,
    })
}

/// RS256 for an RSA key, ES256 for an EC key; the file decides, not a token.
fn pem_algorithm(pem: &[u8]) -> Option<jsonwebtoken::Algorithm> {
    use jsonwebtoken::{Algorithm, DecodingKey};
    if DecodingKey::from_rsa_pem(pem).is_ok() {
        Some(Algorithm::RS256)
    } else if DecodingKey::from_ec_pem(pem).is_ok() {
        Some(Algorithm::ES256)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_is_read_and_every_read_key_is_listed() {
        let map: BTreeMap<String, String> = [
            ("PELIQAN_API_URL", "http://127.0.0.1:9"),
            ("PELIQAN_PARTNER_TOKEN", "partner-secret"),
            (
                "TOKEN_SERVICE_JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let reader = Reader::new(&map);
        Settings::read(&reader, false).unwrap();
        let listed: BTreeSet<&str> = KEYS.iter().copied().collect();
        assert_eq!(listed.len(), KEYS.len(), "a key is listed twice");
        assert_eq!(reader.read.into_inner(), listed);
    }
}
