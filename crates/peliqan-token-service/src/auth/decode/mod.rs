//! Decoding a user JWT with exactly the checks of `jsonwebtoken::decode`,
//! each part read once.
//!
//! `jsonwebtoken::decode::<Map<String, Value>>` base64-decodes and parses
//! the header twice (the service had already read it a third time for
//! `alg`/`kid`), builds an owned JSON map of every claim, and parses the
//! claims a second time for its own validation. Profiled under the bench's
//! mix (10,000 distinct users, so the memo of verified JWTs rarely
//! answers), that was about half the cost of checking a JWT. Here:
//!
//! - the header: a JWT's header segment is the same text for every user of
//!   a login system (`{"alg":"HS256","typ":"JWT"}`, or one per `kid`), so
//!   the outcome of reading it (ours and `jsonwebtoken::decode_header`'s,
//!   both required to pass) is remembered per exact segment text, for at
//!   most [`HEADERS`] segments. Reading a header is a pure function of its
//!   text, so this cannot change what is accepted; it holds no per-user or
//!   per-tenant state;
//! - the signature: `jsonwebtoken::crypto::verify`, the very check
//!   `jsonwebtoken::decode` runs, on the same message and key; for HS256
//!   the same HMAC comparison with the key prepared once at startup
//!   ([`hs256_key`]), for every signature of the one length an HS256
//!   signature has (any other goes to `jsonwebtoken`, which refuses it);
//! - the claims: parsed once into slots for only the claims the service
//!   reads ([`Wanted`], [`Claims`]: no map is built), every other value still
//!   parsed in full (so a payload
//!   `serde_json` would refuse as a map is refused here too), and once more,
//!   borrowing, into [`ClaimsForValidation`], a copy of `jsonwebtoken`'s own
//!   struct of that name (same fields, same serde attributes, so the same
//!   payloads fail), checked by [`validate`], a copy of its checks of
//!   required claims, `iss` and `aud`. That second parse is made only for
//!   payloads where it could end otherwise than a reading of the values
//!   already parsed ([`Claims::for_validation`]): a claim `jsonwebtoken`
//!   validates given twice, or of a type it fails on mid-parse. For every
//!   other payload the same struct is filled from those values.
//!
//! `exp`/`nbf` are then checked on the service's clock by the caller, as
//! before. The tests below decode generated JWTs both ways, with
//! `jsonwebtoken::decode` as the reference, and require the same answer.

use super::claims::ClaimSource;
use super::decode_error;
use crate::error::ServiceError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use parking_lot::RwLock;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use sha2::Sha256;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use validation::{ClaimsForValidation, validate};

/// Most header segments remembered. One login system signs with one or a
/// few keys: a handful of distinct headers.
pub const HEADERS: usize = 8;

/// The parts of a JWT header that matter before verification.
#[derive(Debug, Deserialize)]
pub struct RawHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// The three segments of a compact JWT.
pub struct Parts<'a> {
    pub header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, what the signature signs.
    message: &'a str,
}

impl<'a> Parts<'a> {
    /// Exactly three dot-separated segments, or malformed.
    pub fn split(jwt: &'a str) -> Result<Self, ServiceError> {
        let malformed = || ServiceError::InvalidToken("the JWT is malformed".into());
        let (message, signature) = jwt.rsplit_once('.').ok_or_else(malformed)?;
        let (header, payload) = message.split_once('.').ok_or_else(malformed)?;
        if payload.contains('.') {
            return Err(malformed());
        }
        Ok(Self {
            header,
            payload,
            signature,
            message,
        })
    }
}

/// Reads the header ourselves: `jsonwebtoken` cannot even parse `alg: none`,
/// and that case deserves its own code rather than "malformed".
pub fn raw_header(parts: &Parts<'_>) -> Result<RawHeader, ServiceError> {
    let malformed = || ServiceError::InvalidToken("the JWT is malformed".into());
    let bytes = URL_SAFE_NO_PAD
        .decode(parts.header.trim_end_matches('='))
        .map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

/// Header segments that passed both readings, with what they said (see
/// the module docs).
#[derive(Default)]
pub struct Headers {
    known: RwLock<Vec<(Box<str>, Arc<RawHeader>)>>,
}

impl Headers {
    /// The remembered reading of exactly `segment`.
    pub fn get(&self, segment: &str) -> Option<Arc<RawHeader>> {
        let known = self.known.read();
        known
            .iter()
            .find(|(s, _)| &**s == segment)
            .map(|(_, h)| h.clone())
    }

    /// Remembers that `segment` reads as `header` for `jsonwebtoken` too;
    /// when full, the oldest entry goes.
    fn remember(&self, segment: &str, header: Arc<RawHeader>) {
        let mut known = self.known.write();
        if known.iter().any(|(s, _)| &**s == segment) {
            return;
        }
        if known.len() >= HEADERS {
            known.remove(0);
        }
        known.push((segment.into(), header));
    }
}

/// The claims read by name, in slot order: first the five `jsonwebtoken`
/// validates (slots [`SUB`] to [`AUD`]), then the profile.
const NAMED: [&str; 10] = [
    "sub",
    "exp",
    "nbf",
    "iss",
    "aud",
    "email",
    "given_name",
    "family_name",
    "locale",
    "company_name",
];
const SUB: usize = 0;
const EXP: usize = 1;
const NBF: usize = 2;
const ISS: usize = 3;
const AUD: usize = 4;

/// The claims the service reads: the tenant claim (an exact key, or the
/// first segment of a dotted path), `sub`, `exp`, `nbf`, `iss`, `aud` and
/// the profile.
pub struct Wanted {
    /// The tenant claim's names that are not in [`NAMED`]; their slots
    /// follow its.
    tenant: Vec<Box<str>>,
}

impl Wanted {
    /// The claims read with `tenant_claim` configured.
    pub fn new(tenant_claim: &str) -> Self {
        let mut tenant: Vec<Box<str>> = Vec::new();
        for name in [tenant_claim, tenant_claim.split('.').next().unwrap_or("")] {
            if !NAMED.contains(&name) && !tenant.iter().any(|n| &**n == name) {
                tenant.push(name.into());
            }
        }
        Self { tenant }
    }

    fn slots(&self) -> usize {
        NAMED.len() + self.tenant.len()
    }

    /// The slot of claim `key`, if the service reads it.
    fn index(&self, key: &str) -> Option<usize> {
        let named = match key {
            "sub" => SUB,
            "exp" => EXP,
            "nbf" => NBF,
            "iss" => ISS,
            "aud" => AUD,
            "email" => 5,
            "given_name" => 6,
            "family_name" => 7,
            "locale" => 8,
            "company_name" => 9,
            _ => {
                let i = self.tenant.iter().position(|n| &**n == key)?;
                return Some(NAMED.len() + i);
            }
        };
        Some(named)
    }
}

/// The [`Wanted`] claims of a JWT, by their slot (no map to build).
pub struct Claims<'w> {
    wanted: &'w Wanted,
    values: Vec<Option<Value>>,
    /// One of the claims `jsonwebtoken` validates appeared twice (its
    /// struct refuses that; the map keeps the last).
    repeated: bool,
}

impl ClaimSource for Claims<'_> {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.values.get(self.wanted.index(name)?)?.as_ref()
    }
}

impl Claims<'_> {
    /// What parsing the payload into [`ClaimsForValidation`] would give,
    /// read from the values already parsed; `None` where that parse could
    /// differ (see [`validation::from_values`]), which is left to that parse
    /// itself.
    fn for_validation(&self) -> Option<ClaimsForValidation<'_>> {
        if self.repeated {
            return None;
        }
        let slot = |i: usize| self.values[i].as_ref();
        validation::from_values(slot(SUB), slot(EXP), slot(NBF), slot(ISS), slot(AUD))
    }
}

/// How the JWT is to be checked.
pub struct Check<'a, 'w> {
    pub key: &'a DecodingKey,
    pub algorithm: Algorithm,
    pub validation: &'a Validation,
    pub wanted: &'w Wanted,
    /// Where to remember the header once `jsonwebtoken` has read it too;
    /// `None` when it was remembered already.
    pub headers: Option<(&'a Headers, Arc<RawHeader>)>,
    /// For HS256: the HMAC keyed once at startup ([`hs256_key`]).
    pub hs256: Option<&'a Hs256>,
}

/// HMAC-SHA256 with the secret already absorbed.
pub type Hs256 = Hmac<Sha256>;

/// The HS256 key of `secret`, prepared once: `jsonwebtoken::crypto::verify`
/// boxes a verifier and keys the HMAC (two SHA-256 blocks) on every call.
pub fn hs256_key(secret: &[u8]) -> Hs256 {
    // HMAC takes a key of any length.
    Hs256::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// The HS256 check `jsonwebtoken::crypto::verify` makes (the HMAC of the
/// message compared, in constant time, with the base64url-decoded
/// signature), with the key prepared once. `None` when the signature is not
/// 43 characters of canonical base64url (32 bytes): such a JWT goes to
/// `jsonwebtoken`'s own path, which decides it exactly as before.
fn hs256_signature(mac: &Hs256, parts: &Parts<'_>) -> Option<bool> {
    let mut signature = [0u8; 32];
    if parts.signature.len() != 43
        || URL_SAFE_NO_PAD.decode_slice(parts.signature, &mut signature) != Ok(32)
    {
        return None;
    }
    let mut mac = mac.clone();
    mac.update(parts.message.as_bytes());
    Some(mac.verify_slice(&signature).is_ok())
}

/// Whether [`Validation`] failed with an issuer or audience mismatch (the
/// signature and the required claims passed), or another way.
pub enum Failure<'w> {
    IssuerOrAudience(ServiceError, Claims<'w>),
    Other(ServiceError),
}

impl From<ServiceError> for Failure<'_> {
    fn from(e: ServiceError) -> Self {
        Self::Other(e)
    }
}

/// The verified claims the service reads ([`Wanted`]), checked as
/// `jsonwebtoken::decode::<Claims>(jwt, check.key, check.validation)`
/// checks them (see the module docs); `exp`/`nbf` are left to the caller.
pub fn decode<'w>(
    jwt: &str,
    parts: &Parts<'_>,
    check: Check<'_, 'w>,
) -> Result<Claims<'w>, Failure<'w>> {
    let error = |kind: ErrorKind| decode_error(&kind.into());
    debug_assert!(!check.validation.validate_exp && !check.validation.validate_nbf);
    debug_assert_eq!(check.validation.algorithms, [check.algorithm]);
    if let Some((headers, header)) = check.headers {
        jsonwebtoken::decode_header(jwt).map_err(|e| decode_error(&e))?;
        headers.remember(parts.header, header);
    }
    let fast = check.hs256.and_then(|mac| hs256_signature(mac, parts));
    let signed = match fast {
        Some(signed) => Ok(signed),
        None => jsonwebtoken::crypto::verify(
            parts.signature,
            parts.message.as_bytes(),
            check.key,
            check.algorithm,
        ),
    };
    match signed {
        Ok(true) => {}
        Ok(false) => return Err(error(ErrorKind::InvalidSignature).into()),
        Err(e) => return Err(decode_error(&e).into()),
    }
    let payload = URL_SAFE_NO_PAD
        .decode(parts.payload)
        .map_err(|e| error(ErrorKind::Base64(e)))?;
    let json = |e: serde_json::Error| error(ErrorKind::Json(Arc::new(e)));
    let mut de = serde_json::Deserializer::from_slice(&payload);
    let claims = ClaimsSeed(check.wanted)
        .deserialize(&mut de)
        .map_err(json)?;
    // As `serde_json::from_slice`: nothing but whitespace may follow.
    de.end().map_err(json)?;
    let checked = match claims.for_validation() {
        Some(for_validation) => validate(for_validation, check.validation),
        None => {
            let for_validation: ClaimsForValidation<'_> =
                serde_json::from_slice(&payload).map_err(json)?;
            validate(for_validation, check.validation)
        }
    };
    match checked {
        Ok(()) => Ok(claims),
        Err(kind @ (ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience)) => {
            Err(Failure::IssuerOrAudience(error(kind), claims))
        }
        Err(kind) => Err(error(kind).into()),
    }
}

/// Parses a JSON object into [`Claims`], the [`Wanted`] members (the last
/// of duplicates, as `serde_json`'s map keeps), every other member checked
/// as `serde_json::Value` would be and dropped.
struct ClaimsSeed<'w>(&'w Wanted);

impl<'de, 'w> DeserializeSeed<'de> for ClaimsSeed<'w> {
    type Value = Claims<'w>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Claims<'w>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 'w> Visitor<'de> for ClaimsSeed<'w> {
    type Value = Claims<'w>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims<'w>, A::Error> {
        let mut values = vec![None; self.0.slots()];
        let mut repeated = false;
        while let Some(Key(key)) = map.next_key()? {
            match self.0.index(&key) {
                Some(i) => {
                    let old = values[i].replace(map.next_value::<Value>()?);
                    repeated |= i <= AUD && old.is_some();
                }
                None => {
                    map.next_value::<Checked>()?;
                }
            }
        }
        Ok(Claims {
            wanted: self.0,
            values,
            repeated,
        })
    }
}

/// A map key, borrowed when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, read exactly as `serde_json::Value` reads one (the same
/// `deserialize_any` calls, so the same inputs fail), without keeping it.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Checked)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
        Checked::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Key<'de>>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

mod validation;

#[cfg(test)]
mod tests;
