//! [`PartnerCredentials`]: how the partner proves who it is to Peliqan.
//!
//! Either the partner JWT from the partner account (sent as
//! `Authorization: JWT <token>`), or OAuth client credentials exchanged at
//! the dialect's `oauth_token` route for a short-lived access token (sent as
//! `Authorization: Bearer <token>`), fetched, cached and renewed before it
//! expires by the client.

use crate::secret::Secret;

/// The partner's credentials.
#[derive(Clone)]
pub enum PartnerCredentials {
    /// The partner JWT (non-expiring; keep it on the server).
    Token(Secret),
    /// OAuth 2.0 client credentials (`grant_type=client_credentials`).
    ClientCredentials {
        /// The OAuth application's client id.
        client_id: String,
        /// The OAuth application's client secret.
        client_secret: Secret,
    },
}

impl std::fmt::Debug for PartnerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(***)"),
            Self::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"***")
                .finish(),
        }
    }
}

impl From<Secret> for PartnerCredentials {
    fn from(token: Secret) -> Self {
        Self::Token(token)
    }
}
