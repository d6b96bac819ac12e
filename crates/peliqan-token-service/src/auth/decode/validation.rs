//! `jsonwebtoken`'s own checks of required claims, `iss` and `aud`, on its
//! own struct of the claims it validates ([`ClaimsForValidation`]), and
//! that struct filled from claims the service already parsed
//! ([`from_values`]), for the payloads where that gives what parsing the
//! payload into it would.

use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;
use serde::de::{self, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The struct `jsonwebtoken` would parse the payload into, from the values
/// of `sub`, `exp`, `nbf`, `iss` and `aud` already parsed. `None` where
/// parsing the payload could end otherwise: `sub`, `exp` or `nbf` an array
/// or an object (`jsonwebtoken` swallows the type error there without
/// consuming the value, and the parse then fails). A claim given twice is
/// the caller's to refuse (its struct refuses duplicates; a map keeps the
/// last).
pub(super) fn from_values<'a>(
    sub: Option<&'a Value>,
    exp: Option<&'a Value>,
    nbf: Option<&'a Value>,
    iss: Option<&'a Value>,
    aud: Option<&'a Value>,
) -> Option<ClaimsForValidation<'a>> {
    Some(ClaimsForValidation {
        exp: numeric(exp)?,
        nbf: numeric(nbf)?,
        sub: match sub {
            None | Some(Value::Null) => TryParse::NotPresent,
            Some(Value::String(s)) => TryParse::Parsed(Cow::Borrowed(s)),
            Some(Value::Array(_) | Value::Object(_)) => return None,
            Some(_) => TryParse::FailedToParse,
        },
        iss: one_or_many(iss, Issuer::Single, Issuer::Multiple),
        aud: one_or_many(aud, Audience::Single, Audience::Multiple),
    })
}

/// `numeric_type` of an already parsed value (`None`: see [`from_values`]).
fn numeric(value: Option<&Value>) -> Option<TryParse<u64>> {
    Some(match value {
        None => TryParse::NotPresent,
        Some(Value::Array(_) | Value::Object(_)) => return None,
        Some(Value::Number(n)) => match (n.as_u64(), n.is_f64()) {
            (Some(u), _) => TryParse::Parsed(u),
            (None, true) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f >= 0.0 && f < (u64::MAX as f64) {
                    TryParse::Parsed(f.round() as u64)
                } else {
                    TryParse::FailedToParse
                }
            }
            // A negative integer: `numeric_type` has no `visit_i64`.
            (None, false) => TryParse::FailedToParse,
        },
        Some(_) => TryParse::FailedToParse,
    })
}

/// `Option<Issuer>` or `Option<Audience>` (untagged: a string, or an array
/// of strings) of an already parsed value.
fn one_or_many<'a, T>(
    value: Option<&'a Value>,
    single: impl FnOnce(Cow<'a, str>) -> T,
    multiple: impl FnOnce(HashSet<BorrowedCowIfPossible<'a>>) -> T,
) -> TryParse<T> {
    match value {
        None | Some(Value::Null) => TryParse::NotPresent,
        Some(Value::String(s)) => TryParse::Parsed(single(Cow::Borrowed(s))),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(|s| BorrowedCowIfPossible(Cow::Borrowed(s))))
            .collect::<Option<HashSet<_>>>()
            .map_or(TryParse::FailedToParse, |set| {
                TryParse::Parsed(multiple(set))
            }),
        Some(_) => TryParse::FailedToParse,
    }
}

// What follows is `jsonwebtoken` 10.3's `validation.rs` (MIT), copied
// because it is private there: `ClaimsForValidation` with its helpers, and
// `validate` without the `exp`/`nbf` part (this service checks those on its
// own clock, with `validate_exp`/`validate_nbf` off) and without `sub`
// (never configured).

#[derive(Deserialize)]
pub(super) struct ClaimsForValidation<'a> {
    #[serde(deserialize_with = "numeric_type", default)]
    #[allow(dead_code)]
    exp: TryParse<u64>,
    #[serde(deserialize_with = "numeric_type", default)]
    #[allow(dead_code)]
    nbf: TryParse<u64>,
    #[serde(borrow)]
    sub: TryParse<Cow<'a, str>>,
    #[serde(borrow)]
    iss: TryParse<Issuer<'a>>,
    #[serde(borrow)]
    aud: TryParse<Audience<'a>>,
}

#[derive(Default, Debug)]
enum TryParse<T> {
    Parsed(T),
    FailedToParse,
    #[default]
    NotPresent,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TryParse<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer) {
            Ok(Some(value)) => TryParse::Parsed(value),
            Ok(None) => TryParse::NotPresent,
            Err(_) => TryParse::FailedToParse,
        })
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience<'a> {
    Single(#[serde(borrow)] Cow<'a, str>),
    Multiple(#[serde(borrow)] HashSet<BorrowedCowIfPossible<'a>>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Issuer<'a> {
    Single(#[serde(borrow)] Cow<'a, str>),
    Multiple(#[serde(borrow)] HashSet<BorrowedCowIfPossible<'a>>),
}

#[derive(Deserialize, PartialEq, Eq, Hash)]
struct BorrowedCowIfPossible<'a>(#[serde(borrow)] Cow<'a, str>);

impl std::borrow::Borrow<str> for BorrowedCowIfPossible<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

fn is_subset(reference: &HashSet<String>, given: &HashSet<BorrowedCowIfPossible<'_>>) -> bool {
    // Check that intersection is non-empty, favoring iterating on smallest
    if reference.len() < given.len() {
        reference.iter().any(|a| given.contains(&**a))
    } else {
        given.iter().any(|a| reference.contains(&*a.0))
    }
}

// Kept as written there, so it can be compared line by line.
#[allow(clippy::collapsible_match)]
pub(super) fn validate(
    claims: ClaimsForValidation<'_>,
    options: &Validation,
) -> Result<(), ErrorKind> {
    for required_claim in &options.required_spec_claims {
        let present = match required_claim.as_str() {
            "exp" => matches!(claims.exp, TryParse::Parsed(_)),
            "sub" => matches!(claims.sub, TryParse::Parsed(_)),
            "iss" => matches!(claims.iss, TryParse::Parsed(_)),
            "aud" => matches!(claims.aud, TryParse::Parsed(_)),
            "nbf" => matches!(claims.nbf, TryParse::Parsed(_)),
            _ => continue,
        };

        if !present {
            return Err(ErrorKind::MissingRequiredClaim(required_claim.clone()));
        }
    }

    match (claims.iss, options.iss.as_ref()) {
        (TryParse::Parsed(Issuer::Single(iss)), Some(correct_iss)) => {
            if !correct_iss.contains(&*iss) {
                return Err(ErrorKind::InvalidIssuer);
            }
        }
        (TryParse::Parsed(Issuer::Multiple(iss)), Some(correct_iss)) => {
            if !is_subset(correct_iss, &iss) {
                return Err(ErrorKind::InvalidIssuer);
            }
        }
        _ => {}
    }

    if !options.validate_aud {
        return Ok(());
    }
    match (claims.aud, options.aud.as_ref()) {
        // Each principal intended to process the JWT MUST
        // identify itself with a value in the audience claim. If the principal
        // processing the claim does not identify itself with a value in the
        // "aud" claim when this claim is present, then the JWT MUST be
        //  rejected.
        (TryParse::Parsed(Audience::Multiple(aud)), None) => {
            if !aud.is_empty() {
                return Err(ErrorKind::InvalidAudience);
            }
        }
        (TryParse::Parsed(_), None) => {
            return Err(ErrorKind::InvalidAudience);
        }
        (TryParse::Parsed(Audience::Single(aud)), Some(correct_aud)) => {
            if !correct_aud.contains(&*aud) {
                return Err(ErrorKind::InvalidAudience);
            }
        }
        (TryParse::Parsed(Audience::Multiple(aud)), Some(correct_aud)) => {
            if !is_subset(correct_aud, &aud) {
                return Err(ErrorKind::InvalidAudience);
            }
        }
        _ => {}
    }

    Ok(())
}

fn numeric_type<'de, D>(deserializer: D) -> Result<TryParse<u64>, D::Error>
where
    D: de::Deserializer<'de>,
{
    struct NumericType;

    impl Visitor<'_> for NumericType {
        type Value = TryParse<u64>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("A NumericType that can be reasonably coerced into a u64")
        }

        fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E>
        where
            E: de::Error,
        {
            Ok(TryParse::Parsed(value))
        }

        fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E>
        where
            E: de::Error,
        {
            if value.is_finite() && value >= 0.0 && value < (u64::MAX as f64) {
                Ok(TryParse::Parsed(value.round() as u64))
            } else {
                Err(serde::de::Error::custom(
                    "NumericType must be representable as a u64",
                ))
            }
        }
    }

    match deserializer.deserialize_any(NumericType) {
        Ok(ok) => Ok(ok),
        Err(_) => Ok(TryParse::FailedToParse),
    }
}
