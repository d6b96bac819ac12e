//! The sub-account JWT held in binary form.
//!
//! 100,000 cached tenants each hold a JWT of about 300 base64url characters;
//! decoded, its three parts take a quarter less, which moves the allocation
//! a size class or two down (about 13 MB at 100,000 tenants). Re-encoding
//! the ~250 bytes on each answer costs well under a microsecond. A header
//! of the usual few ([`HEADS`]) is stored as its index: 28 bytes less.
//!
//! Only a token that re-encodes to exactly the text Peliqan sent is stored
//! in binary form (canonical base64url, no padding, three parts, each part
//! shorter than 64 KiB); anything else is kept as text, so the browser
//! always gets the token byte for byte.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// First byte of the buffer: what follows.
const TEXT: u8 = 0;
const BINARY: u8 = 1;
const KNOWN_HEAD: u8 = 2;

/// Headers common enough to be stored as their index in this list: a
/// login system's tokens all carry the same header, 27 bytes decoded, which
/// a cache of 100,000 tenants would hold 100,000 times (the first is what
/// the emulator, and Rust's `jsonwebtoken`, write; the second PyJWT's and
/// Node's `jsonwebtoken`'s).
const HEADS: [&[u8]; 6] = [
    br#"{"typ":"JWT","alg":"HS256"}"#,
    br#"{"alg":"HS256","typ":"JWT"}"#,
    br#"{"alg":"HS256"}"#,
    br#"{"typ":"JWT","alg":"RS256"}"#,
    br#"{"alg":"RS256","typ":"JWT"}"#,
    br#"{"alg":"RS256"}"#,
];

/// `[TEXT][utf-8 token]`,
/// `[BINARY][head len u16][payload len u16][head][payload][signature]` or
/// `[KNOWN_HEAD][index in HEADS u8][payload len u16][payload][signature]`.
/// One boxed slice, no extra length fields: it sits in every cache entry.
pub struct CompactJwt(Box<[u8]>);

impl CompactJwt {
    /// Stores `jwt`, in binary form when that round-trips exactly.
    pub fn new(jwt: &str) -> Self {
        Self(binary(jwt).unwrap_or_else(|| {
            let mut v = Vec::with_capacity(1 + jwt.len());
            v.push(TEXT);
            v.extend_from_slice(jwt.as_bytes());
            v.into_boxed_slice()
        }))
    }

    /// Appends the token as a JSON string (quotes included) to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self.0.split_first() {
            Some((&(BINARY | KNOWN_HEAD), _)) => {
                out.push(b'"');
                // base64url and '.' need no JSON escaping.
                write_binary(&self.0, out);
                out.push(b'"');
            }
            Some((_, text)) => {
                let text = std::str::from_utf8(text).unwrap_or_default();
                // Writing a str into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, text);
            }
            None => out.extend_from_slice(b"\"\""),
        }
    }

    /// Length of the token text (for sizing the answer buffer).
    pub fn text_len(&self) -> usize {
        match self.0.split_first() {
            Some((&(BINARY | KNOWN_HEAD), _)) => {
                let (h, p, s) = split(&self.0);
                base64_len(h.len()) + base64_len(p.len()) + base64_len(s.len()) + 2
            }
            _ => self.0.len().saturating_sub(1),
        }
    }

    /// Whether the token's text is exactly `jwt` (a forced refresh names the
    /// token Peliqan rejected). Off the hot path: it may allocate.
    pub fn eq_text(&self, jwt: &str) -> bool {
        match self.0.split_first() {
            Some((&(BINARY | KNOWN_HEAD), _)) => {
                if jwt.len() != self.text_len() {
                    return false;
                }
                let mut text = Vec::with_capacity(jwt.len());
                write_binary(&self.0, &mut text);
                text == jwt.as_bytes()
            }
            Some((_, text)) => text == jwt.as_bytes(),
            None => jwt.is_empty(),
        }
    }

    /// The token as text (tests and diagnostics; the hot path streams it).
    #[cfg(test)]
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out);
        serde_json::from_slice(&out).unwrap_or_default()
    }
}

fn binary(jwt: &str) -> Option<Box<[u8]>> {
    let mut parts = jwt.split('.');
    let (head, payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let head = URL_SAFE_NO_PAD.decode(head).ok()?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let known = HEADS.iter().position(|h| *h == head.as_slice());
    // Sized exactly: shrinking later would keep the larger block (mimalloc
    // keeps a block shrunk by less than half).
    let stored_head = if known.is_some() { 2 } else { 3 + head.len() };
    let mut v = Vec::with_capacity(stored_head + 2 + payload.len() + sig.len());
    match known {
        Some(i) => {
            v.push(KNOWN_HEAD);
            v.push(u8::try_from(i).ok()?);
        }
        None => {
            v.push(BINARY);
            v.extend_from_slice(&u16::try_from(head.len()).ok()?.to_le_bytes());
        }
    }
    v.extend_from_slice(&u16::try_from(payload.len()).ok()?.to_le_bytes());
    if known.is_none() {
        v.extend_from_slice(&head);
    }
    v.extend_from_slice(&payload);
    v.extend_from_slice(&sig);
    // Belt and braces: the browser must get exactly what Peliqan sent.
    let mut back = Vec::with_capacity(jwt.len());
    write_binary(&v, &mut back);
    debug_assert_eq!(v.len(), v.capacity());
    (back == jwt.as_bytes()).then(|| v.into_boxed_slice())
}

/// Writes the token of a `BINARY` or `KNOWN_HEAD` buffer as text.
fn write_binary(buf: &[u8], out: &mut Vec<u8>) {
    let (head, payload, sig) = split(buf);
    encode_into(head, out);
    out.push(b'.');
    encode_into(payload, out);
    out.push(b'.');
    encode_into(sig, out);
}

/// The decoded header, payload and signature of a `BINARY` or
/// `KNOWN_HEAD` buffer.
fn split(buf: &[u8]) -> (&[u8], &[u8], &[u8]) {
    if buf[0] == KNOWN_HEAD {
        let head = HEADS[usize::from(buf[1])];
        let p = usize::from(u16::from_le_bytes([buf[2], buf[3]]));
        let body = &buf[4..];
        return (head, &body[..p], &body[p..]);
    }
    let h = usize::from(u16::from_le_bytes([buf[1], buf[2]]));
    let p = usize::from(u16::from_le_bytes([buf[3], buf[4]]));
    let body = &buf[5..];
    (&body[..h], &body[h..h + p], &body[h + p..])
}

fn base64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + base64_len(bytes.len()), 0);
    // The slot is sized exactly for the unpadded encoding.
    let _ = URL_SAFE_NO_PAD.encode_slice(bytes, &mut out[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_back_byte_for_byte() {
        let jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTU4MjU3MDh9.gXfPfs4VTwJniH2JHptjk-BBxo-xM9aWrRRE00afmBg";
        // A known header is stored as its index, another one in full.
        let other = jwt.replacen(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
            "eyJhbGciOiJIUzM4NCJ9",
            1,
        );
        for (jwt, form) in [(jwt, KNOWN_HEAD), (other.as_str(), BINARY)] {
            let c = CompactJwt::new(jwt);
            assert_eq!(c.0[0], form);
            assert_eq!(c.to_text(), jwt);
            assert_eq!(c.text_len(), jwt.len());
            assert!(c.eq_text(jwt));
            assert!(!c.eq_text(&jwt[..jwt.len() - 1]) && !c.eq_text(&format!("{jwt}x")));
            assert!(!c.eq_text(&jwt.replace("gXf", "gXg")));
        }
        // Tag, index, payload length, `{"exp":1795825708}`, HMAC: no header.
        assert_eq!(CompactJwt::new(jwt).0.len(), 1 + 1 + 2 + 18 + 32);
        // Every known header reads back as itself.
        for head in HEADS {
            let jwt = format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(head));
            let c = CompactJwt::new(&jwt);
            assert_eq!((c.0[0], c.to_text()), (KNOWN_HEAD, jwt));
        }
        // Padding, non-canonical trailing bits, odd shapes: kept as text.
        for odd in [
            "e30=.e30.c2ln",
            "e31.e30.c2ln",
            "a.b",
            "a.b.c.d",
            "",
            "e30.e30.",
            "x\"y.e30.e30",
        ] {
            let c = CompactJwt::new(odd);
            assert_eq!(c.to_text(), odd, "{odd}");
            assert_eq!(c.text_len(), odd.len(), "{odd}");
            assert!(c.eq_text(odd) && !c.eq_text("e30.e30.e30"), "{odd}");
        }
    }
}
