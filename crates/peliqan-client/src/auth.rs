//! How a call proves who makes it: the `Authorization` header.
//!
//! A partner or sub-account token is sent as `Authorization: JWT <token>`
//! (the seed's scheme); an access token from OAuth client credentials as
//! `Authorization: Bearer <token>` ([`crate::access_token`]). The header is
//! marked sensitive, so HTTP-level logging redacts it.

use crate::access_token::AccessTokens;
use crate::call::Call;
use crate::error::Error;
use crate::secret::Secret;
use reqwest::header::HeaderValue;
use std::sync::Arc;

/// The credential a call is made with.
#[derive(Clone)]
pub(crate) enum Auth {
    /// A partner or sub-account JWT.
    Jwt(Secret),
    /// Access tokens from OAuth client credentials, shared by clones.
    ClientCredentials(Arc<AccessTokens>),
}

/// `Authorization: <scheme> <token>`, marked sensitive. A token that cannot
/// be a header value is an error that does not print it.
pub(crate) fn header(scheme: &str, token: &Secret, call: &Call) -> Result<HeaderValue, Error> {
    let mut value =
        HeaderValue::from_str(&format!("{scheme} {}", token.expose())).map_err(|_| {
            Error::InvalidToken {
                method: call.method_str(),
                path: call.path.clone(),
            }
        })?;
    value.set_sensitive(true);
    Ok(value)
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Jwt(_) => f.write_str("Jwt(***)"),
            Self::ClientCredentials(tokens) => f
                .debug_struct("ClientCredentials")
                .field("client_id", &tokens.client_id())
                .field("client_secret", &"***")
                .finish(),
        }
    }
}
