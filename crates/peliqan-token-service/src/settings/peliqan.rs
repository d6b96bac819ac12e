//! The Peliqan side of the settings: where it is, which API dialect it
//! speaks (with per-operation overrides), and the partner's credentials.

use super::parse::Reader;
use super::{ConfigError, UpstreamSettings};
use peliqan_client::{Dialect, Operation, PartnerCredentials, Routes, Secret};

const URL: &str = "PELIQAN_API_URL";
const DIALECT: &str = "PELIQAN_API_DIALECT";
const TOKEN: &str = "PELIQAN_PARTNER_TOKEN";
const TOKEN_FILE: &str = "PELIQAN_PARTNER_TOKEN_FILE";
const CLIENT_ID: &str = "PELIQAN_CLIENT_ID";
const CLIENT_SECRET: &str = "PELIQAN_CLIENT_SECRET";
const CLIENT_SECRET_FILE: &str = "PELIQAN_CLIENT_SECRET_FILE";

/// The operation a `PELIQAN_API_ROUTE_<OPERATION>` key overrides.
pub(super) fn route_key(key: &str) -> Option<Operation> {
    Operation::ALL
        .iter()
        .copied()
        .find(|op| op.config_key() == key)
}

pub(super) fn upstream(r: &Reader<'_>) -> Result<UpstreamSettings, ConfigError> {
    let base_url = r.required(URL)?;
    url::Url::parse(base_url).map_err(|e| ConfigError::new(URL, format!("`{base_url}`: {e}")))?;
    Ok(UpstreamSettings {
        base_url: base_url.to_owned(),
        routes: routes(r)?,
        credentials: credentials(r)?,
        connect_timeout: r.secs("TOKEN_SERVICE_UPSTREAM_CONNECT_TIMEOUT_SECS", 2.0)?,
        timeout: r.secs("TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS", 5.0)?,
        max_retries: r.parse("TOKEN_SERVICE_UPSTREAM_MAX_RETRIES", 2)?,
        retry_base_delay: r.secs("TOKEN_SERVICE_UPSTREAM_RETRY_BASE_SECS", 0.1)?,
        max_retry_after: r.secs("TOKEN_SERVICE_UPSTREAM_MAX_RETRY_AFTER_SECS", 5.0)?,
        readiness_cache: r.secs("TOKEN_SERVICE_READINESS_CACHE_SECS", 10.0)?,
    })
}

/// The dialect's table with every `PELIQAN_API_ROUTE_*` override applied.
fn routes(r: &Reader<'_>) -> Result<Routes, ConfigError> {
    let dialect: Dialect = r.parse(DIALECT, Dialect::default())?;
    let mut routes = dialect.routes();
    for (key, value) in r.0 {
        let Some(op) = route_key(key) else { continue };
        let value = value.trim();
        if value.is_empty() {
            return Err(ConfigError::new(
                key,
                "is empty; remove the key to keep the dialect's route",
            ));
        }
        routes
            .set_text(op, value)
            .map_err(|e| ConfigError::new(key, e.to_string()))?;
    }
    Ok(routes)
}

/// A partner token, or OAuth client credentials; exactly one of the two.
fn credentials(r: &Reader<'_>) -> Result<PartnerCredentials, ConfigError> {
    let token = secret(r, TOKEN, TOKEN_FILE)?;
    let client_id = r.get(CLIENT_ID);
    let client_secret = secret(r, CLIENT_SECRET, CLIENT_SECRET_FILE)?;
    match (token, client_id, client_secret) {
        (Some(token), None, None) => Ok(PartnerCredentials::Token(token)),
        (None, Some(id), Some(secret)) => Ok(PartnerCredentials::ClientCredentials {
            client_id: id.to_owned(),
            client_secret: secret,
        }),
        (Some(_), _, _) => Err(ConfigError::new(
            TOKEN,
            format!("set {TOKEN} or {CLIENT_ID} with {CLIENT_SECRET}, not both"),
        )),
        (None, Some(_), None) => Err(ConfigError::new(
            CLIENT_SECRET,
            format!("{CLIENT_ID} is set: set {CLIENT_SECRET} or {CLIENT_SECRET_FILE} too"),
        )),
        (None, None, Some(_)) => Err(ConfigError::new(
            CLIENT_ID,
            format!("{CLIENT_SECRET} is set: set {CLIENT_ID} too"),
        )),
        (None, None, None) => Err(ConfigError::new(
            TOKEN,
            format!(
                "set {TOKEN} or {TOKEN_FILE} (the partner JWT), or {CLIENT_ID} and \
                 {CLIENT_SECRET} (OAuth client credentials)"
            ),
        )),
    }
}

/// A secret given inline or as a file; both is an error, an empty file too.
fn secret(r: &Reader<'_>, key: &str, file_key: &str) -> Result<Option<Secret>, ConfigError> {
    match (r.get(key), r.file(file_key)?) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            key,
            format!("set {key} or {file_key}, not both"),
        )),
        (Some(t), None) => Ok(Some(Secret::new(t))),
        (None, Some(bytes)) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| ConfigError::new(file_key, "is not UTF-8 text"))?;
            let text = text.trim();
            if text.is_empty() {
                return Err(ConfigError::new(file_key, "the file is empty"));
            }
            Ok(Some(Secret::new(text)))
        }
        (None, None) => Ok(None),
    }
}
