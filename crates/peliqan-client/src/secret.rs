//! [`Secret`]: a string that never shows up in logs.
//!
//! Partner and sub-account tokens travel through this crate as `Secret`s, so
//! a stray `{:?}` in a log line or an error message prints `***` instead of a
//! credential. The only way to the text is the explicit [`Secret::expose`].

use std::fmt;

/// A secret string (a JWT, an API key). `Debug` and `Display` print `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text. Call this only where the value must go on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<peliqan_api::SubaccountToken> for Secret {
    /// Takes the JWT out of a token answer, e.g. to build a
    /// [`crate::SubaccountApi`] with it.
    fn from(answer: peliqan_api::SubaccountToken) -> Self {
        Self(answer.token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_print_the_value() {
        let s = Secret::new("eyJhbGciOi.secret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "eyJhbGciOi.secret");
        assert_eq!(Secret::from(String::from("x")).clone().expose(), "x");
    }
}
