//! Are the user-JWT settings complete? No request is made.
//!
//! With an asymmetric key (a PEM file or the IdP's JWKS), the IdP signs the
//! tokens of all its applications with the same keys: without an audience
//! check, a user's token meant for another application of the same IdP
//! would buy Peliqan tokens here, and without an issuer check, so would a
//! token of another tenant of a multi-tenant IdP that shares its keys. The
//! service refuses to start that way unless told to; this line gives the
//! same verdict ([`AuthSettings::issuer_audience`]) before a deploy.
//! An HS256 secret is shared with the partner's login system only.

use super::report::Check;
use crate::settings::{AuthSettings, IssuerAudience, JwtKey};

const NAME: &str = "user_jwt";

/// The user-JWT settings check.
pub(super) fn settings(auth: &AuthSettings) -> Check {
    let Some(key) = &auth.key else {
        return Check::pass(
            NAME,
            "user JWTs are not used: users are identified by the configured introspection, \
             session or trusted-proxy source",
        );
    };
    let mode = match key {
        JwtKey::Hs256(_) => "HS256 with a shared secret".to_owned(),
        JwtKey::PublicKey { algorithm, .. } => format!("{algorithm:?} with a PEM public key"),
        JwtKey::Jwks(url) => format!("keys from the JWKS at {url}"),
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
    let set_them = "set TOKEN_SERVICE_JWT_AUDIENCE to the audience your IdP puts in tokens for \
                    this app and TOKEN_SERVICE_JWT_ISSUER to its issuer (the `iss` of its tokens)";
    match auth.issuer_audience() {
        IssuerAudience::Checked => Check::pass(NAME, detail),
        IssuerAudience::MissingRefused(_) => Check::fail(
            NAME,
            format!(
                "{detail}: the service refuses to start like this, because a token your IdP \
                 signed for any other application would buy Peliqan tokens here"
            ),
            format!(
                "{set_them}; or, to run without these checks, \
                 TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE=true"
            ),
        ),
        IssuerAudience::MissingAllowed(_) => Check::warn(
            NAME,
            format!(
                "{detail}, allowed by TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE: a token your \
                 IdP signed for any other application would buy Peliqan tokens here"
            ),
            set_them,
        ),
        IssuerAudience::MissingWithSharedSecret(_) => Check::warn(
            NAME,
            format!(
                "{detail}: fine while the secret signs tokens for this service only (the \
                 service warns at start)"
            ),
            "set TOKEN_SERVICE_JWT_ISSUER and TOKEN_SERVICE_JWT_AUDIENCE to what your login \
             system puts in these tokens",
        ),
    }
}
