//! Are the user-JWT settings complete? No request is made.
//!
//! With an asymmetric key (a PEM file or the IdP's JWKS), the IdP signs the
//! tokens of all its applications with the same keys: without an audience
//! check, a user's token meant for another application of the same IdP
//! would buy Peliqan tokens here, and without an issuer check, so would a
//! token of another tenant of a multi-tenant IdP that shares its keys.
//! An HS256 secret is shared with the partner's login system only.

use super::report::Check;
use crate::settings::{AuthSettings, JwtKey};

const NAME: &str = "user_jwt";

/// The user-JWT settings check.
pub(super) fn settings(auth: &AuthSettings) -> Check {
    let (mode, shared_keys) = match &auth.key {
        JwtKey::Hs256(_) => ("HS256 with a shared secret".to_owned(), false),
        JwtKey::PublicKey { algorithm, .. } => {
            (format!("{algorithm:?} with a PEM public key"), true)
        }
        JwtKey::Jwks(url) => (format!("keys from the JWKS at {url}"), true),
    };
    let issuer = auth.issuer.as_deref();
    let audience = !auth.audience.is_empty();
    let checked = match (issuer, audience) {
        (Some(iss), true) => format!("issuer `{iss}` and audience {:?} checked", auth.audience),
        (Some(iss), false) => format!("issuer `{iss}` checked, no audience"),
        (None, true) => format!("audience {:?} checked, no issuer", auth.audience),
        (None, false) => "neither issuer nor audience checked".to_owned(),
    };
    let detail = format!(
        "user JWTs: {mode}; {checked}; tenant from the `{}` claim",
        auth.tenant_claim
    );
    if !shared_keys {
        return Check::pass(NAME, detail);
    }
    if !audience {
        return Check::fail(
            NAME,
            format!(
                "{detail}: a token your IdP signed for any other application would buy Peliqan \
                 tokens here"
            ),
            "set TOKEN_SERVICE_JWT_AUDIENCE to the audience your IdP puts in tokens for this \
             app (and TOKEN_SERVICE_JWT_ISSUER to its issuer)",
        );
    }
    if issuer.is_none() {
        return Check::warn(
            NAME,
            format!(
                "{detail}: with keys shared across an IdP's tenants, another tenant's token for \
                 the same audience would be accepted"
            ),
            "set TOKEN_SERVICE_JWT_ISSUER to your IdP's issuer (the `iss` of its tokens)",
        );
    }
    Check::pass(NAME, detail)
}
