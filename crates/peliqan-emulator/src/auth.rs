//! `Authorization: JWT <token>` extractors for the two token scopes.
//!
//! Handlers take [`PartnerAuth`] or [`SubaccountAuth`] as an argument; the
//! extractor reads the header, verifies the token and checks its scope
//! before the handler runs. As in DRF, authentication failures are 401 and
//! a valid token of the wrong scope is 403. Where the dialect has the OAuth
//! token endpoint (`partner`), `Authorization: Bearer <access token>` from
//! [`crate::credentials`] counts as the partner token too.

use crate::error::ApiError;
use crate::state::{EmulatorState, PARTNER_ID};
use crate::tokens::{Claims, Scope};
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use peliqan_api::SubaccountId;
use std::future::{Ready, ready};

/// The caller holds the partner token.
pub(crate) struct PartnerAuth;

/// The caller holds a token for this (existing) sub-account.
pub(crate) struct SubaccountAuth {
    pub subaccount_id: SubaccountId,
}

impl FromRequest for PartnerAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(credential(req).and_then(|(_, c)| {
            match c {
                Credential::AccessToken => Ok(PartnerAuth),
                Credential::Jwt(c) => match c.scope {
                Scope::Partner => Ok(PartnerAuth),
                Scope::Subaccount => Err(ApiError::Forbidden(
                    "You do not have permission to perform this action: this endpoint needs the \
                 partner token, not a sub-account token."
                        .to_owned(),
                )),
                },
            }
        }))
    }
}

impl FromRequest for SubaccountAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(credential(req).and_then(|(emu, c)| {
            let (scope, subaccount_id) = match c {
                Credential::Jwt(c) => (c.scope, c.subaccount_id),
                Credential::AccessToken => (Scope::Partner, None),
            };
            match (scope, subaccount_id) {
                (Scope::Subaccount, Some(id)) => {
                    let id = SubaccountId(id);
                    // A token outlives a deleted account or a reset; DRF answers
                    // 401 when the token's user is gone.
                    if emu.state.lock().subaccounts.contains_key(&id) {
                        Ok(SubaccountAuth { subaccount_id: id })
                    } else {
                        Err(ApiError::Unauthenticated(
                            "User not found: the token's sub-account no longer exists.".to_owned(),
                        ))
                    }
                }
                _ => Err(ApiError::Forbidden(
                    "You do not have permission to perform this action: this endpoint needs a \
                 sub-account token, not the partner token."
                        .to_owned(),
                )),
            }
        }))
    }
}

/// What the caller authenticated with.
enum Credential {
    /// One of our JWTs (partner or sub-account).
    Jwt(Claims),
    /// A live OAuth access token: the partner.
    AccessToken,
}

fn credential(req: &HttpRequest) -> Result<(web::Data<EmulatorState>, Credential), ApiError> {
    let emu = req
        .app_data::<web::Data<EmulatorState>>()
        .cloned()
        .expect("EmulatorState registered as app data");
    let (scheme, token) = header_token(req, emu.bearer)?;
    if scheme == Scheme::Bearer {
        return if emu.credentials.accepts(token) {
            Ok((emu, Credential::AccessToken))
        } else {
            Err(ApiError::BadAccessToken)
        };
    }
    let claims = emu.keys.verify(token)?;
    if claims.partner_id != PARTNER_ID {
        return Err(ApiError::Unauthenticated(
            "Error decoding signature.".to_owned(),
        ));
    }
    Ok((emu, Credential::Jwt(claims)))
}

#[derive(PartialEq, Eq)]
enum Scheme {
    Jwt,
    Bearer,
}

/// The token out of `Authorization: JWT <token>` (or `Bearer <token>` when
/// `bearer`), with djangorestframework-jwt's messages for each way the
/// header can be wrong.
fn header_token(req: &HttpRequest, bearer: bool) -> Result<(Scheme, &str), ApiError> {
    let unauth = |m: &str| ApiError::Unauthenticated(m.to_owned());
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Err(unauth("Authentication credentials were not provided."));
    };
    let value = value
        .to_str()
        .map_err(|_| unauth("Invalid Authorization header."))?;
    let mut parts = value.split_whitespace();
    let scheme = match parts.next() {
        Some(p) if p.eq_ignore_ascii_case("jwt") => Scheme::Jwt,
        Some(p) if bearer && p.eq_ignore_ascii_case("bearer") => Scheme::Bearer,
        _ if bearer => {
            return Err(unauth(
                "Authentication credentials were not provided. Send `Authorization: JWT \
                 <partner token>` or `Authorization: Bearer <access token>`.",
            ));
        }
        _ => {
            return Err(unauth(
                "Authentication credentials were not provided. Send `Authorization: JWT <token>`.",
            ));
        }
    };
    let Some(token) = parts.next() else {
        return Err(unauth(
            "Invalid Authorization header. No credentials provided.",
        ));
    };
    if parts.next().is_some() {
        return Err(unauth(
            "Invalid Authorization header. Credentials string should not contain spaces.",
        ));
    }
    Ok((scheme, token))
}
