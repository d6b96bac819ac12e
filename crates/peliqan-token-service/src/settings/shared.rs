//! The shared tier's settings: `TOKEN_SERVICE_REDIS_URL(_FILE)` turns it on,
//! and then `TOKEN_SERVICE_CACHE_KEY(_FILE)` is required (tokens are only
//! ever written to Redis encrypted with it).

use super::ConfigError;
use super::parse::Reader;
use super::peliqan::secret;
use base64::Engine;
use peliqan_client::Secret;
use std::time::Duration;

const URL: &str = "TOKEN_SERVICE_REDIS_URL";
const URL_FILE: &str = "TOKEN_SERVICE_REDIS_URL_FILE";
const KEY: &str = "TOKEN_SERVICE_CACHE_KEY";
const KEY_FILE: &str = "TOKEN_SERVICE_CACHE_KEY_FILE";
const TIMEOUT: &str = "TOKEN_SERVICE_REDIS_TIMEOUT_SECS";

/// Redis as the fleet's shared second tier.
#[derive(Clone)]
pub struct SharedTierSettings {
    /// `redis://` or `rediss://`, possibly with a user and password.
    pub redis_url: Secret,
    /// AEAD keys: the first encrypts, every one decrypts (rotation).
    pub cache_keys: Vec<[u8; 32]>,
    /// `TOKEN_SERVICE_REDIS_TIMEOUT_SECS`: the longest any one Redis
    /// command may take before the shared tier counts as degraded.
    pub timeout: Duration,
}

impl std::fmt::Debug for SharedTierSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTierSettings")
            .field("redis_url", &self.redis_url)
            .field(
                "cache_keys",
                &format_args!("[{} keys]", self.cache_keys.len()),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The shared tier, when `TOKEN_SERVICE_REDIS_URL(_FILE)` is set.
pub(super) fn shared_tier(r: &Reader<'_>) -> Result<Option<SharedTierSettings>, ConfigError> {
    let url = secret(r, URL, URL_FILE)?;
    let keys = secret(r, KEY, KEY_FILE)?;
    let timeout = r.secs(TIMEOUT, 0.25)?;
    if timeout.is_zero() {
        return Err(ConfigError::new(TIMEOUT, "must be more than 0"));
    }
    let Some(url) = url else {
        if keys.is_some() {
            return Err(ConfigError::new(
                KEY,
                format!("is only used with the shared tier: set {URL} or {URL_FILE} too"),
            ));
        }
        return Ok(None);
    };
    let which = if r.get(URL).is_some() { URL } else { URL_FILE };
    let parsed = url::Url::parse(url.expose())
        .map_err(|e| ConfigError::new(which, format!("not a Redis URL: {e}")))?;
    if !matches!(parsed.scheme(), "redis" | "rediss") {
        return Err(ConfigError::new(
            which,
            format!(
                "the scheme is `{}`; expected redis:// or rediss:// (TLS)",
                parsed.scheme()
            ),
        ));
    }
    let Some(keys) = keys else {
        return Err(ConfigError::new(
            KEY,
            format!(
                "is required with {which}: tokens are written to Redis encrypted with it \
                 (32 random bytes as 64 hex digits or base64, e.g. `openssl rand -hex 32`)"
            ),
        ));
    };
    let key_name = if r.get(KEY).is_some() { KEY } else { KEY_FILE };
    Ok(Some(SharedTierSettings {
        redis_url: url,
        cache_keys: cache_keys(keys.expose()).map_err(|m| ConfigError::new(key_name, m))?,
        timeout,
    }))
}

/// Comma-separated keys, each 32 bytes as 64 hex digits or base64.
fn cache_keys(text: &str) -> Result<Vec<[u8; 32]>, String> {
    let mut keys = Vec::new();
    for (i, part) in text.split(',').map(str::trim).enumerate() {
        let bytes = if part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|j| u8::from_str_radix(&part[2 * j..2 * j + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| e.to_string())?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(part)
                .map_err(|_| format!("key {} is neither 64 hex digits nor base64", i + 1))?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "key {} is {} bytes; it must be 32 random bytes (`openssl rand -hex 32`)",
                i + 1,
                b.len()
            )
        })?;
        keys.push(key);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::cache_keys;

    #[test]
    fn keys_read_as_hex_or_base64_and_wrong_lengths_are_named() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(cache_keys(&hex).unwrap()[0][31], 0xff);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
        let both = cache_keys(&format!("{b64}, {hex}")).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], [7u8; 32]);
        let e = cache_keys("abcd").unwrap_err();
        assert!(e.contains("key 1") && e.contains("3 bytes"), "{e}");
        assert!(cache_keys("not base64!").unwrap_err().contains("neither"));
    }
}
