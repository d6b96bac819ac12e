//! A sub-account token and the decision whether it is still good to use.
//!
//! Tokens live in memory only. One is refreshed `margin` before it expires
//! (like octocrab's 30 s), so a call never starts with a token that dies on
//! the way; short-lived tokens use half their lifetime as the margin so they
//! are not refreshed on every call.

use crate::routing::Endpoint;
use std::rc::Rc;

/// Refresh this long before `expires_at` (milliseconds).
pub const REFRESH_MARGIN_MS: f64 = 30_000.0;

/// A numeric expiry as milliseconds since the epoch. Numbers below 10^11
/// (year 1973 in milliseconds, year 5138 in seconds) are taken as seconds:
/// partners often pass a JWT `exp` through unchanged.
pub fn expiry_ms(n: f64) -> Option<f64> {
    if !n.is_finite() || n <= 0.0 {
        None
    } else if n < 1e11 {
        Some(n * 1000.0)
    } else {
        Some(n)
    }
}

/// A sub-account JWT with its expiry.
#[derive(Clone, PartialEq)]
pub struct Token {
    /// The JWT (secret).
    pub value: String,
    /// Expiry in milliseconds since the Unix epoch, when known.
    pub expires_at_ms: Option<f64>,
    /// When the SDK received it (ms since epoch), to size the margin.
    pub received_at_ms: f64,
    /// Where calls made with it go (base URL and API dialect), resolved
    /// when it arrived; set by the token source.
    pub endpoint: Option<Rc<Endpoint>>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The JWT is a credential: never print it.
        f.debug_struct("Token")
            .field("value", &"***")
            .field("expires_at_ms", &self.expires_at_ms)
            .field("peliqan_url", &self.endpoint.as_ref().map(|e| &e.base_url))
            .finish()
    }
}

impl Token {
    /// A token received at `now_ms`. Without an explicit expiry the JWT's own
    /// `exp` claim is used; a token with neither is used until Peliqan
    /// answers 401 (which triggers a refresh).
    pub fn new(value: String, expires_at_ms: Option<f64>, now_ms: f64) -> Self {
        let expires_at_ms = expires_at_ms.or_else(|| jwt_exp_ms(&value));
        Self {
            value,
            expires_at_ms,
            received_at_ms: now_ms,
            endpoint: None,
        }
    }

    /// The token, to be used with `endpoint`.
    pub fn for_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(Rc::new(endpoint));
        self
    }

    /// Whether the token should be replaced before use at `now_ms`.
    pub fn needs_refresh(&self, now_ms: f64) -> bool {
        let Some(exp) = self.expires_at_ms else {
            return false;
        };
        let lifetime = exp - self.received_at_ms;
        let margin = REFRESH_MARGIN_MS.min(lifetime / 2.0).max(0.0);
        now_ms >= exp - margin
    }
}

/// The body of a token request made because Peliqan answered 401 to
/// `rejected`: `{"rejected_token": "<jwt>"}`. The token service then
/// replaces that token if it is the one it has cached for the tenant,
/// instead of answering it again until it expires.
pub fn rejected_body(rejected: &str) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert("rejected_token".into(), rejected.into());
    body.into()
}

/// The `exp` claim of a JWT, in milliseconds; `None` if absent or unreadable.
/// The signature is not checked: the browser only needs to know when to
/// refresh, Peliqan does the verifying.
pub fn jwt_exp_ms(jwt: &str) -> Option<f64> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let claims = std::str::from_utf8(&bytes).ok()?;
    // A scan instead of a JSON parser: this is the only JSON text the SDK
    // reads itself, and a parser would add kilobytes to the bundle.
    let after = &claims[claims.find("\"exp\"")? + 5..];
    let value = after.trim_start().strip_prefix(':')?.trim_start();
    // Whole seconds (a fraction, if any, is ignored), read digit by digit:
    // neither float nor `str::parse` code in the bundle. Too many digits
    // for a u64 count as unreadable.
    let (mut secs, mut digits) = (0u64, 0);
    for d in value.bytes().take_while(u8::is_ascii_digit) {
        secs = secs.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        digits += 1;
    }
    (digits > 0).then_some(secs as f64 * 1000.0)
}

/// Decodes unpadded base64url (RFC 4648 section 5), as used in JWTs.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // {"alg":"HS256","typ":"JWT"} . {"sub":"1","exp":1700000000} . sig
    const JWT: &str =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjoxNzAwMDAwMDAwfQ.c2ln";

    #[test]
    fn reads_exp_from_the_jwt_when_no_expiry_given() {
        assert_eq!(jwt_exp_ms(JWT), Some(1_700_000_000_000.0));
        let t = Token::new(JWT.into(), None, 0.0);
        assert_eq!(t.expires_at_ms, Some(1_700_000_000_000.0));
        assert_eq!(jwt_exp_ms("not-a-jwt"), None);
        assert_eq!(jwt_exp_ms("a.!!!.c"), None);
        // {"exp" : 12, "sub": "x"} with spaces; {"sub":"1"} without exp
        assert_eq!(
            jwt_exp_ms("x.eyJleHAiIDogMTIsICJzdWIiOiAieCJ9.s"),
            Some(12_000.0)
        );
        assert_eq!(jwt_exp_ms("x.eyJzdWIiOiIxIn0.s"), None);
        // {"exp":1.5e3} reads 1 s (fraction ignored); {"exp":"x"} and a
        // number past u64 are unreadable.
        assert_eq!(jwt_exp_ms("x.eyJleHAiOjEuNWUzfQ.s"), Some(1_000.0));
        assert_eq!(jwt_exp_ms("x.eyJleHAiOiJ4In0.s"), None);
        assert_eq!(
            jwt_exp_ms("x.eyJleHAiOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fQ.s"),
            None
        );
    }

    #[test]
    fn numeric_expiries_in_seconds_or_milliseconds_are_both_understood() {
        assert_eq!(expiry_ms(1_700_000_000.0), Some(1_700_000_000_000.0));
        assert_eq!(expiry_ms(1_700_000_000_000.0), Some(1_700_000_000_000.0));
        assert_eq!(expiry_ms(f64::NAN), None);
        assert_eq!(expiry_ms(0.0), None);
    }

    #[test]
    fn explicit_expiry_wins_over_the_claim() {
        let t = Token::new(JWT.into(), Some(5.0), 0.0);
        assert_eq!(t.expires_at_ms, Some(5.0));
    }

    #[test]
    fn refreshes_thirty_seconds_before_expiry() {
        let t = Token::new("x".into(), Some(1_800_000.0), 0.0);
        assert!(!t.needs_refresh(0.0));
        assert!(!t.needs_refresh(1_769_999.0));
        assert!(t.needs_refresh(1_770_000.0));
        assert!(t.needs_refresh(2_000_000.0));
    }

    #[test]
    fn short_lived_tokens_use_half_their_lifetime_as_margin() {
        let t = Token::new("x".into(), Some(20_000.0), 0.0);
        assert!(!t.needs_refresh(9_999.0));
        assert!(t.needs_refresh(10_000.0));
    }

    #[test]
    fn token_without_any_expiry_is_kept_until_a_401() {
        let t = Token::new("opaque".into(), None, 0.0);
        assert!(!t.needs_refresh(1e15));
    }

    #[test]
    fn the_body_after_a_401_names_the_rejected_token() {
        let body = rejected_body(JWT);
        assert_eq!(body["rejected_token"], JWT);
        assert_eq!(body.as_object().unwrap().len(), 1);
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            ["{\"rejected_token\":\"", JWT, "\"}"].concat()
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let t = Token::new("eyJsecret".into(), None, 0.0);
        assert!(!format!("{t:?}").contains("eyJsecret"));
    }
}
