//! The one identity step: who the caller is, from the source the settings
//! chose, as a [`VerifiedUser`] (`sub`, tenant, profile claims).
//!
//! [`Identity`] is built once at startup from
//! [`crate::settings::IdentitySettings`]; each request costs one `match` on
//! it, so the JWT path ([`crate::auth::UserVerifier`]) is exactly what it
//! was. The other sources live here: RFC 7662 introspection of an opaque
//! bearer token ([`introspect`]), a session cookie checked by the partner's
//! who-am-I endpoint ([`session`], with its CSRF checks), headers from a
//! trusted auth proxy ([`proxy`]), and the embedding app's own session
//! ([`crate::scope`]). Whatever follows (rate limit, tenant cache,
//! provisioning) does not know which source answered.

pub mod introspect;
mod memo;
pub mod proxy;
pub mod session;

use crate::auth::claims::lookup;
use crate::auth::tenant::tenant_id;
use crate::auth::{Profile, UserVerifier, VerifiedUser};
use crate::error::{IdentitySource, ServiceError};
use crate::routes::authorization;
use crate::settings::{IdentitySettings, Settings};
use actix_web::HttpRequest;
use anyhow::Context;
use futures::future::LocalBoxFuture;
use peliqan_api::ExternalId;
use peliqan_api::clock::SharedClock;
use serde_json::{Map, Value};
use std::sync::Arc;

/// How the embedding app's session becomes a user (see [`crate::scope`]).
pub type EmbeddedIdentity = Box<
    dyn Fn(&HttpRequest) -> LocalBoxFuture<'static, Result<Arc<VerifiedUser>, ServiceError>>
        + Send
        + Sync,
>;

/// The configured identity source, ready to check requests.
// One value per process, in `AppState`: the size difference costs nothing,
// and the JWT verifier (the hot path) stays inline, without a pointer hop.
#[allow(clippy::large_enum_variant)]
pub enum Identity {
    /// `Authorization: Bearer <user JWT>`.
    Jwt(UserVerifier),
    /// `Authorization: Bearer <opaque token>`, introspected.
    Introspection(introspect::Introspector),
    /// A session cookie, checked by the who-am-I endpoint.
    Session(session::SessionCheck),
    /// Headers from a trusted proxy.
    Proxy(proxy::ProxyHeaders),
    /// The embedding app's session.
    Embedded(EmbeddedIdentity),
}

impl Identity {
    /// The source `settings` configure, reading time from `clock`.
    pub fn new(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let tenant_field = &settings.auth.tenant_claim;
        Ok(match &settings.identity {
            IdentitySettings::Jwt => Self::Jwt(
                UserVerifier::new(&settings.auth, clock).context("Failed to set up JWT checks")?,
            ),
            IdentitySettings::Introspection(s) => Self::Introspection(
                introspect::Introspector::new(s, tenant_field, clock)
                    .context("Failed to set up token introspection")?,
            ),
            IdentitySettings::Session(s) => Self::Session(
                session::SessionCheck::new(s, tenant_field, &settings.allowed_origins, clock)
                    .context("Failed to set up session checks")?,
            ),
            IdentitySettings::Proxy(s) => Self::Proxy(proxy::ProxyHeaders::new(s)),
            // Until the embedding app installs its own (crate::scope).
            IdentitySettings::Embedded { .. } => Self::Embedded(Box::new(|_| {
                Box::pin(async { Err(ServiceError::NotSignedIn) })
            })),
        })
    }

    /// Who sent `req`.
    pub async fn identify(&self, req: &HttpRequest) -> Result<Arc<VerifiedUser>, ServiceError> {
        match self {
            Self::Jwt(verifier) => verifier.verify(authorization(req)).await,
            Self::Introspection(i) => i.verify(authorization(req)).await,
            Self::Session(s) => s.verify(req).await,
            Self::Proxy(p) => p.verify(req),
            Self::Embedded(f) => f(req).await,
        }
    }

    /// A short name of the source, for the startup log.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Jwt(_) => "user JWT",
            Self::Introspection(_) => "token introspection (RFC 7662)",
            Self::Session(_) => "session cookie (who-am-I endpoint)",
            Self::Proxy(_) => "trusted proxy headers",
            Self::Embedded(_) => "the embedding app's session",
        }
    }
}

/// The tenant named by `value` (the field `field` of `source`'s answer),
/// checked like a JWT's tenant claim ([`tenant_id`]); absent or empty is
/// the source's own `*_no_tenant`.
pub(crate) fn tenant_of(
    source: IdentitySource,
    field: &str,
    value: Option<&Value>,
) -> Result<ExternalId, ServiceError> {
    let no_tenant = || ServiceError::NoTenant(source, field.to_owned());
    let value = value.filter(|v| !v.is_null()).ok_or_else(no_tenant)?;
    match tenant_id(field, value) {
        Ok(t) => Ok(ExternalId(t)),
        Err(ServiceError::MissingTenantClaim(_)) => Err(no_tenant()),
        Err(e) => Err(e),
    }
}

/// A user from a JSON answer (introspection, who-am-I): the subject from
/// the first of `subject_fields` present, the tenant from `tenant_field`
/// (dotted paths allowed in both), the profile from the OIDC field names.
pub(crate) fn user_from_answer(
    answer: &Map<String, Value>,
    subject_fields: &[&str],
    tenant_field: &str,
    source: IdentitySource,
) -> Result<VerifiedUser, ServiceError> {
    let subject = subject_fields
        .iter()
        .find_map(|f| lookup(answer, f))
        .and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .ok_or_else(|| {
            tracing::warn!(
                fields = ?subject_fields,
                "the identity answer names no user in its subject field"
            );
            match source {
                IdentitySource::Introspection => ServiceError::IntrospectionUnavailable,
                _ => ServiceError::SessionUnavailable,
            }
        })?;
    let tenant = tenant_of(source, tenant_field, lookup(answer, tenant_field))?;
    let text = |k: &str| lookup(answer, k).and_then(Value::as_str).map(String::from);
    Ok(VerifiedUser {
        subject,
        tenant,
        profile: Profile::read(text),
    })
}

/// The JSON object a successful identity endpoint answered; any other
/// status, an unreadable body or not an object is `unavailable(why)`.
pub(crate) async fn json_object(
    res: reqwest::Response,
    unavailable: impl Fn(&dyn std::fmt::Display) -> ServiceError,
) -> Result<Map<String, Value>, ServiceError> {
    let status = res.status();
    if !status.is_success() {
        return Err(unavailable(&format_args!("it answered {status}")));
    }
    let bytes = res
        .bytes()
        .await
        .map_err(|e| unavailable(&introspect::without_url(e)))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| unavailable(&format_args!("its answer is not a JSON object: {e}")))
}

/// The HTTP client of an identity endpoint: its own timeouts, no
/// redirects (a login page is not an answer), no cookies kept.
pub(crate) fn client(timeout: std::time::Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("peliqan-token-service/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_becomes_a_user_with_its_tenant_from_the_configured_field() {
        let a = json!({"sub": "u1", "org": {"id": "acme"}, "email": "a@b.c"});
        let a = a.as_object().unwrap();
        let u = user_from_answer(a, &["sub"], "org.id", IdentitySource::Session).unwrap();
        assert_eq!((u.subject.as_str(), u.tenant.as_str()), ("u1", "acme"));
        assert_eq!(u.profile.email.as_deref(), Some("a@b.c"));
        let e = user_from_answer(a, &["sub"], "tenant", IdentitySource::Session).unwrap_err();
        assert_eq!(e.code(), "session_no_tenant");
        let bad = json!({"sub": "u1", "tenant": " acme"});
        let e = user_from_answer(
            bad.as_object().unwrap(),
            &["sub"],
            "tenant",
            IdentitySource::Introspection,
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_tenant_claim");
    }
}
