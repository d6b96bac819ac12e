//! The tenant claim, taken exactly as written or refused; never normalised.
//!
//! Trimming or otherwise cleaning the claim would let different claims land
//! on one tenant (`"acme\u{a0}"`, `"\tacme\n"` and `"acme"` all becoming
//! `acme`), so a claim that would need cleaning is refused instead: leading
//! or trailing whitespace, any control character, any format character
//! (Unicode category Cf: zero-width, bidirectional and other invisible
//! marks) and the line and paragraph separators. A number is accepted as an
//! integer only, written in decimal (`42` is the tenant `"42"`); `42.0` or
//! `1e3` would be a choice of spelling, so they are refused.

use crate::error::ServiceError;
use serde_json::Value;

/// Longest accepted tenant id, in bytes.
pub const MAX_LEN: usize = 256;

/// The tenant named by `value`, the claim `name`'s value: its exact text.
pub fn tenant_id(name: &str, value: &Value) -> Result<String, ServiceError> {
    let refuse = |why: &str| {
        ServiceError::InvalidTenantClaim(format!("`{name}` = {} ({why})", shown(value)))
    };
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(_) => return Err(refuse("a number that is not an integer")),
        _ => return Err(refuse("neither a string nor an integer")),
    };
    if text.is_empty() {
        return Err(ServiceError::MissingTenantClaim(name.to_owned()));
    }
    if text.len() > MAX_LEN {
        return Err(refuse(&format!("longer than {MAX_LEN} bytes")));
    }
    if text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace) {
        return Err(refuse("leading or trailing whitespace"));
    }
    if let Some(c) = text.chars().find(|&c| forbidden(c)) {
        return Err(refuse(&format!(
            "contains the invisible character U+{:04X}",
            u32::from(c)
        )));
    }
    Ok(text)
}

/// A control (Cc), format (Cf), line separator (Zl) or paragraph separator
/// (Zp) character.
pub fn forbidden(c: char) -> bool {
    if c.is_ascii() {
        // No ASCII character is Cf, Zl or Zp; its controls are Cc.
        return c.is_ascii_control();
    }
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// Unicode general category Cf (Unicode 16.0). `std` has no category
/// lookup, and this short list changes rarely (new entries are also
/// invisible, so missing one only means accepting it as before).
fn is_format(c: char) -> bool {
    const CF: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let c = u32::from(c);
    CF.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// The claim as JSON with every non-ASCII character escaped, cut short: the
/// caller sees exactly what was refused, and nothing invisible.
fn shown(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if out.len() >= 80 {
            out.push('…');
            break;
        }
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn code(v: Value) -> &'static str {
        match tenant_id("external_id", &v) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn a_claim_that_would_need_cleaning_is_refused_not_cleaned() {
        for bad in [
            "acme\u{a0}",
            "\tacme\n",
            " acme",
            "acme ",
            "ac\nme",
            "ac\rme",
            "ac\u{1b}[2Kme",
            "acme\u{200b}",
            "ac\u{202e}me",
            "ac\u{2028}me",
            "ac\u{85}me",
            "\u{feff}acme",
            " 42 ",
        ] {
            assert_eq!(code(json!(bad)), "invalid_tenant_claim", "{bad:?}");
        }
        for bad in [
            json!(42.0),
            json!(1e3),
            json!(-0.5),
            json!(true),
            json!(["acme"]),
        ] {
            assert_eq!(code(bad.clone()), "invalid_tenant_claim", "{bad}");
        }
        assert_eq!(code(json!("")), "missing_tenant_claim");
        assert_eq!(code(json!("x".repeat(MAX_LEN + 1))), "invalid_tenant_claim");
        assert_eq!(
            tenant_id("t", &json!("x".repeat(MAX_LEN))).unwrap().len(),
            MAX_LEN
        );
    }

    #[test]
    fn integers_are_their_decimal_text_and_inner_spaces_are_kept() {
        assert_eq!(tenant_id("t", &json!(42)).unwrap(), "42");
        assert_eq!(tenant_id("t", &json!(-7)).unwrap(), "-7");
        assert_eq!(
            tenant_id("t", &json!(u64::MAX)).unwrap(),
            u64::MAX.to_string()
        );
        assert_eq!(tenant_id("t", &json!("acme corp")).unwrap(), "acme corp");
        assert_eq!(tenant_id("t", &json!("Ærø-Ost")).unwrap(), "Ærø-Ost");
    }

    #[test]
    fn the_refusal_shows_the_claim_escaped() {
        let e = tenant_id("external_id", &json!("\tacme\u{a0}\n")).unwrap_err();
        let detail = e.to_string();
        assert!(
            detail.contains(r#"`external_id` = "\tacme\u00a0\n""#),
            "{detail}"
        );
        assert!(
            !detail.contains('\n') && !detail.contains('\u{a0}'),
            "{detail}"
        );
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_the_categories() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let slow = c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c);
            assert_eq!(forbidden(c), slow, "U+{:04X}", u32::from(c));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn an_accepted_claim_is_exactly_its_own_text(s in "(?s).{0,24}|\\PC{0,24}|[ \t\n\u{a0}\u{200b}]{0,2}[a-z0-9]{1,8}[ \t\n\u{a0}\u{2028}]{0,2}") {
            if let Ok(tenant) = tenant_id("t", &json!(s)) {
                prop_assert_eq!(&tenant, &s);
                prop_assert!(!s.starts_with(char::is_whitespace) && !s.ends_with(char::is_whitespace));
                prop_assert!(!s.chars().any(forbidden));
            }
        }

        #[test]
        fn an_integer_is_its_decimal_text(n in any::<i64>()) {
            prop_assert_eq!(tenant_id("t", &json!(n)).unwrap(), n.to_string());
        }

        #[test]
        fn two_different_accepted_claims_are_two_tenants(a in "\\PC{1,12}", b in "\\PC{1,12}") {
            if let (Ok(x), Ok(y)) = (tenant_id("t", &json!(a)), tenant_id("t", &json!(b))) {
                prop_assert_eq!(x == y, a == b);
            }
        }
    }
}
