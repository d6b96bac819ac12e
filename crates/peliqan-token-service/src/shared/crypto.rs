//! What the shared tier writes to Redis, and how: every value is sealed
//! with XChaCha20-Poly1305 under the cache key, bound (as associated data)
//! to the Redis key it is stored under, so a Redis dump, a shared Redis or
//! a value copied to another tenant's key yields no usable token.
//!
//! Key names are `peliqan-embed:<kind>:<h>` with `h` a SHA-256 of the
//! tenant: they do not depend on the cache key, so replicas in the middle
//! of a key rotation (`new,old`) still share one name per tenant, and one
//! lock. The first key seals, every key opens.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use peliqan_api::ExternalId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Format version of a sealed value (its first byte).
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The cache keys: the first seals, all open.
pub struct Sealer {
    ciphers: Vec<XChaCha20Poly1305>,
}

impl Sealer {
    /// The sealer of `keys` (at least one; the settings ensure it).
    pub fn new(keys: &[[u8; 32]]) -> Self {
        Self {
            ciphers: keys
                .iter()
                .map(|k| XChaCha20Poly1305::new(k.into()))
                .collect(),
        }
    }

    /// `plain` sealed for storage under `name`.
    pub fn seal(&self, name: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self.ciphers[0]
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: name.as_bytes(),
                },
            )
            // Encryption only fails for messages beyond 256 GiB.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plain text of a value stored under `name`; `None` when no key
    /// opens it (another key, or tampered with).
    pub fn open(&self, name: &str, value: &[u8]) -> Option<Vec<u8>> {
        let (&version, rest) = value.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::from(<[u8; NONCE_LEN]>::try_from(nonce).ok()?);
        self.ciphers.iter().find_map(|c| {
            c.decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: name.as_bytes(),
                },
            )
            .ok()
        })
    }
}

/// What a Redis key holds.
#[derive(Clone, Copy)]
pub enum Kind {
    /// The tenant's sealed token.
    Token,
    /// The fetch lock (value: the holder's id).
    Lock,
    /// "Peliqan has no such tenant", noted by a replica.
    Unknown,
    /// The error the last lock holder's fetch ended with, for its waiters.
    Failed,
    /// A user's request count in the current rate-limit window.
    Rate,
}

impl Kind {
    /// The kind's part of a key name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Lock => "lock",
            Self::Unknown => "unknown",
            Self::Failed => "failed",
            Self::Rate => "rate",
        }
    }
}

/// The pub/sub channel on which replicas announce replaced tokens.
pub const CHANNEL: &str = "peliqan-embed:replaced";

/// Hex SHA-256 of `parts`, each length-prefixed (no two inputs collide).
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The Redis key of `kind` for `tenant`.
pub fn name(kind: Kind, tenant: &ExternalId) -> String {
    [
        "peliqan-embed:",
        kind.as_str(),
        ":",
        &digest(&[tenant.as_str()]),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_name_and_a_known_key() {
        let old = Sealer::new(&[[1; 32]]);
        let rotated = Sealer::new(&[[2; 32], [1; 32]]);
        let v = old.seal("a", b"token");
        assert!(!v.windows(5).any(|w| w == b"token"));
        assert_eq!(old.open("a", &v).as_deref(), Some(&b"token"[..]));
        assert_eq!(rotated.open("a", &v).as_deref(), Some(&b"token"[..]));
        assert_eq!(old.open("b", &v), None, "bound to its key name");
        let new = rotated.seal("a", b"token");
        assert_eq!(old.open("a", &new), None, "the old key cannot read the new");
        let mut tampered = v.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(old.open("a", &tampered), None);
        assert_eq!(old.open("a", &[]), None);
    }

    #[test]
    fn names_hide_the_tenant_and_differ_by_kind() {
        let t = ExternalId::from("acme_456");
        let n = name(Kind::Token, &t);
        assert!(!n.contains("acme"));
        assert_ne!(n, name(Kind::Lock, &t));
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
    }
}
