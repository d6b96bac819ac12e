//! Tests of the JWT decoding: it must answer exactly as
//! `jsonwebtoken::decode` does.

use super::super::{check_times, checked, decode_error, require_alg};
use super::*;
use crate::auth::VerifiedUser;
use jsonwebtoken::EncodingKey;
use proptest::prelude::*;

const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes!!";
const NOW: u64 = 1_700_000_000;
const LEEWAY: u64 = 30;

/// What a verification answers, comparable.
type Outcome = Result<(String, String, crate::auth::Profile, u64), ServiceError>;

fn outcome<C: ClaimSource>(r: Result<(C, u64), ServiceError>, tenant_claim: &str) -> Outcome {
    let (claims, exp) = r?;
    let user = VerifiedUser::from_claims(&claims, tenant_claim)?;
    Ok((user.subject, user.tenant.0, user.profile, exp))
}

/// The service's checks before this module: its own header reading,
/// then `jsonwebtoken::decode` into a map of every claim.
fn reference(jwt: &str, validation: &Validation, tenant_claim: &str) -> Outcome {
    let malformed = || ServiceError::InvalidToken("the JWT is malformed".into());
    let old_raw_header = |jwt: &str| -> Result<RawHeader, ServiceError> {
        let (head, rest) = jwt.split_once('.').ok_or_else(malformed)?;
        if rest.split('.').count() != 2 {
            return Err(malformed());
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(head.trim_end_matches('='))
            .map_err(|_| malformed())?;
        serde_json::from_slice(&bytes).map_err(|_| malformed())
    };
    let header = old_raw_header(jwt)?;
    require_alg(&header.alg, Algorithm::HS256)?;
    let key = DecodingKey::from_secret(SECRET);
    type Map = serde_json::Map<String, Value>;
    let r = match jsonwebtoken::decode::<Map>(jwt, &key, validation) {
        Ok(data) => check_times(&data.claims, NOW, LEEWAY).map(|exp| (data.claims, exp)),
        Err(e) => {
            if matches!(
                e.kind(),
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience
            ) {
                let part = jwt.split('.').nth(1).unwrap();
                let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
                if let Some(claims) = bytes.and_then(|b| serde_json::from_slice::<Map>(&b).ok()) {
                    check_times(&claims, NOW, LEEWAY)?;
                }
            }
            Err(decode_error(&e))
        }
    };
    outcome(r, tenant_claim)
}

/// This module's checks, as [`super::super::UserVerifier::verify`]
/// runs them for a static key.
fn fast(jwt: &str, validation: &Validation, tenant_claim: &str, headers: &Headers) -> Outcome {
    let parts = Parts::split(jwt)?;
    let known = headers.get(parts.header);
    let header = match &known {
        Some(h) => h.clone(),
        None => Arc::new(raw_header(&parts)?),
    };
    require_alg(&header.alg, Algorithm::HS256)?;
    let key = DecodingKey::from_secret(SECRET);
    let mac = hs256_key(SECRET);
    let wanted = Wanted::new(tenant_claim);
    let check = Check {
        key: &key,
        algorithm: Algorithm::HS256,
        validation,
        wanted: &wanted,
        headers: known.is_none().then(|| (headers, header.clone())),
        hs256: Some(&mac),
    };
    outcome(checked(jwt, &parts, check, (NOW, LEEWAY)), tenant_claim)
}

fn validation(iss: bool, aud: bool) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    let mut required = vec!["exp", "sub"];
    if iss {
        v.set_issuer(&["https://idp.example"]);
        required.push("iss");
    }
    if aud {
        v.set_audience(&["aud1", "aud2"]);
        required.push("aud");
    } else {
        v.validate_aud = false;
    }
    v.set_required_spec_claims(&required);
    v
}

fn jwt(header: &str, payload: &str, good_signature: bool) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = EncodingKey::from_secret(if good_signature { SECRET } else { b"other" });
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{message}.{signature}")
}

#[test]
fn hs256_signatures_of_every_shape_answer_as_jsonwebtoken_does() {
    let v = validation(false, false);
    let good = jwt(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(r#"{{"sub":"u","external_id":"t","exp":{}}}"#, NOW + 60),
        true,
    );
    let (message, signature) = good.rsplit_once('.').unwrap();
    let mut last_bits = signature.to_owned();
    // The last character carries 4 spare bits: another letter with the same
    // 2 data bits is non-canonical base64url.
    let flipped = if last_bits.ends_with('A') { 'B' } else { 'A' };
    last_bits.replace_range(42.., &flipped.to_string());
    let double = format!("{signature}{signature}");
    for sig in [
        signature,
        &signature[..42],
        &format!("{signature}A"),
        &last_bits,
        &format!("{}!", &signature[..42]),
        &format!("{}=", &signature[..42]),
        "",
        &double,
    ] {
        let candidate = format!("{message}.{sig}");
        let headers = Headers::default();
        assert_eq!(
            fast(&candidate, &v, "external_id", &headers),
            reference(&candidate, &v, "external_id"),
            "signature {sig:?}"
        );
    }
    assert!(fast(&good, &v, "external_id", &Headers::default()).is_ok());
}

const HEADERS_TRIED: &[&str] = &[
    r#"{"alg":"HS256","typ":"JWT"}"#,
    r#"{"alg":"HS256"}"#,
    r#"{"alg":"HS256","typ":5}"#,
    r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#,
    r#"{"alg":"RS256","typ":"JWT"}"#,
    r#"{"alg":"none"}"#,
    r#"{"typ":"JWT"}"#,
    r#"{"alg":"HS256","alg":"HS256"}"#,
    r#"[1]"#,
];

const KEYS: &[&str] = &[
    "sub",
    "exp",
    "nbf",
    "iss",
    "aud",
    "external_id",
    "app",
    "app.tenant",
    "email",
    "locale",
    "x",
    "e\\u0078p",
    "su\\u0062",
];

const VALUES: &[&str] = &[
    r#""u1""#,
    r#""acme""#,
    r#""""#,
    r#"" acme""#,
    r#""ac\u00e9me""#,
    r#""\ud800""#,
    r#""a\u002eb""#,
    r#""https://idp.example""#,
    r#""aud1""#,
    r#"["aud2","x"]"#,
    r#"["x"]"#,
    "[]",
    r#"["https://idp.example"]"#,
    "1000",
    "4102444800",
    "4102444800.4",
    "1700000020",
    "1699999960",
    "-5",
    "1.5e3",
    "1e400",
    "42",
    "null",
    "true",
    r#"{"tenant":"t1"}"#,
    r#"{"tenant":42,"tenant":"t2"}"#,
    r#"{"a":[1,{"b":null}]}"#,
];

fn payload() -> impl Strategy<Value = String> {
    let member = (0..KEYS.len(), 0..VALUES.len())
        .prop_map(|(k, v)| format!("\"{}\":{}", KEYS[k], VALUES[v]));
    let members = proptest::collection::vec(member, 0..4);
    let random = members.clone().prop_map(|m| format!("{{{}}}", m.join(",")));
    let pick = |options: &'static [&'static str]| proptest::sample::select(options);
    // Mostly well-formed: the usual claims with varied values, then
    // some random members (which may repeat one of them).
    let usual = (
        pick(&[r#""u1""#, r#""u1""#, r#""u\u0032""#, "5", "null", r#""""#]),
        pick(&[r#""acme""#, r#""acme""#, r#""acme""#, r#"" acme""#, "42", "4.5", r#""ac\u200bme""#, r#"{"tenant":"t1"}"#]),
        pick(&["4102444800", "4102444800", "1000", "1699999970", "1699999969", "4102444800.4", r#""soon""#]),
        pick(&["", "", r#","nbf":1700000030"#, r#","nbf":1700000031"#, r#","nbf":"x""#]),
        pick(&["", r#","iss":"https://idp.example""#, r#","iss":"https://other""#, r#","iss":["https://idp.example","x"]"#, r#","iss":5"#]),
        pick(&["", r#","aud":"aud1""#, r#","aud":"other""#, r#","aud":["x","aud2"]"#, r#","aud":[]"#, r#","aud":["x"]"#]),
        pick(&["", r#","email":"a@b.c","locale":"nl-BE""#, r#","app":{"tenant":"t2"}"#]),
        prop_oneof![3 => Just(Vec::new()), 1 => members],
    )
        .prop_map(|(sub, tenant, exp, nbf, iss, aud, profile, extra)| {
            let extra: String = extra.iter().map(|m| format!(",{m}")).collect();
            format!(r#"{{"sub":{sub},"external_id":{tenant},"exp":{exp}{nbf}{iss}{aud}{profile}{extra}}}"#)
        });
    prop_oneof![
        6 => usual,
        2 => random,
        1 => pick(&["[]", "null", "{\"sub\":", "{} x", "{} "]).prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn the_same_answer_as_jsonwebtoken_decode(
        header in prop_oneof![6 => Just(0), 1 => 0..HEADERS_TRIED.len()],
        payload in payload(),
        good_signature in proptest::bool::weighted(0.9),
        iss in any::<bool>(),
        aud in any::<bool>(),
        tenant_claim in prop_oneof![4 => Just("external_id"), 1 => Just("app.tenant")],
    ) {
        let jwt = jwt(HEADERS_TRIED[header], &payload, good_signature);
        let validation = validation(iss, aud);
        let expected = reference(&jwt, &validation, tenant_claim);
        let headers = Headers::default();
        // Twice: reading the header, then with it remembered.
        for _ in 0..2 {
            prop_assert_eq!(
                &fast(&jwt, &validation, tenant_claim, &headers),
                &expected,
                "{} {}", HEADERS_TRIED[header], payload
            );
        }
    }
}

#[test]
fn a_usual_jwt_passes_and_its_header_is_remembered_once() {
    let headers = Headers::default();
    let validation = validation(true, true);
    let payload = r#"{"sub":"u1","external_id":"acme","exp":4102444800,"iss":"https://idp.example","aud":"aud1"}"#;
    let token = jwt(HEADERS_TRIED[0], payload, true);
    let (sub, tenant, _, exp) = fast(&token, &validation, "external_id", &headers).unwrap();
    assert_eq!((&*sub, &*tenant, exp), ("u1", "acme", 4_102_444_800));
    assert_eq!(headers.known.read().len(), 1);
    fast(&token, &validation, "external_id", &headers).unwrap();
    assert_eq!(headers.known.read().len(), 1);
    // A header `jsonwebtoken` refuses is never remembered.
    let odd = jwt(HEADERS_TRIED[2], payload, true);
    assert!(fast(&odd, &validation, "external_id", &headers).is_err());
    assert_eq!(headers.known.read().len(), 1);
}

#[test]
fn the_header_memory_is_bounded() {
    let headers = Headers::default();
    for i in 0..100 {
        headers.remember(
            &format!("h{i}"),
            Arc::new(RawHeader {
                alg: "HS256".into(),
                kid: None,
            }),
        );
    }
    assert_eq!(headers.known.read().len(), HEADERS);
    assert!(headers.get("h99").is_some() && headers.get("h0").is_none());
}
