//! Opaque access tokens, checked by OAuth 2.0 token introspection
//! (RFC 7662, <https://www.rfc-editor.org/rfc/rfc7662>).
//!
//! `Authorization: Bearer <token>` -> a positive answer remembered for this
//! token (by its hash, [`super::memo`]) -> else `POST` the token to
//! `TOKEN_SERVICE_INTROSPECTION_URL` as a form, authenticated with the
//! service's client credentials (HTTP Basic, RFC 7662 §2.1). `active: false`
//! (or an `exp` already past) is 401 `introspection_inactive`; an endpoint
//! that cannot be reached, refuses the service's credentials or answers
//! something unusable is 503 `introspection_unavailable`, never a 401: the
//! user's token may well be fine. An active answer is remembered for at most
//! `TOKEN_SERVICE_INTROSPECTION_CACHE_SECS`, never past its `exp`; so a
//! revoked token is honoured at most that long.

use super::memo::Memo;
use super::{client, json_object, user_from_answer};
use crate::auth::VerifiedUser;
use crate::auth::bearer;
use crate::error::{IdentitySource, ServiceError};
use crate::settings::IntrospectionSettings;
use peliqan_api::clock::SharedClock;
use peliqan_client::Secret;
use reqwest::header;
use serde_json::{Map, Value};
use std::sync::Arc;

/// See the module docs.
pub struct Introspector {
    http: reqwest::Client,
    url: url::Url,
    client_id: String,
    client_secret: Secret,
    tenant_field: String,
    cache_secs: u64,
    memo: Memo,
    clock: SharedClock,
}

impl Introspector {
    /// The introspection client `settings` describe.
    pub fn new(
        settings: &IntrospectionSettings,
        tenant_field: &str,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: client(settings.timeout)?,
            url: settings.url.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            tenant_field: tenant_field.to_owned(),
            cache_secs: settings.cache_for.as_secs(),
            memo: Memo::new(),
            clock,
        })
    }

    /// The user the bearer token in `authorization` belongs to.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
    ) -> Result<Arc<VerifiedUser>, ServiceError> {
        let token = bearer(authorization)?;
        let key = Memo::key(token);
        let now = self.clock.unix_secs();
        if let Some(user) = self.memo.get(&key, now) {
            return Ok(user);
        }
        let answer = self.introspect(token).await?;
        if answer.get("active") != Some(&Value::Bool(true)) {
            return Err(ServiceError::IntrospectionInactive);
        }
        // RFC 7662 makes `exp` optional; when given, it bounds everything.
        // A NumericDate may be written with a fraction; rounded down (sooner).
        let exp = answer.get("exp").and_then(|v| {
            v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            })
        });
        let now = self.clock.unix_secs();
        if exp.is_some_and(|exp| exp <= now) {
            return Err(ServiceError::IntrospectionInactive);
        }
        let user = Arc::new(user_from_answer(
            &answer,
            &["sub", "username"],
            &self.tenant_field,
            IdentitySource::Introspection,
        )?);
        let until = now
            .saturating_add(self.cache_secs)
            .min(exp.unwrap_or(u64::MAX));
        self.memo.insert(key, user.clone(), until, now);
        Ok(user)
    }

    /// The endpoint's answer for `token`, a JSON object.
    async fn introspect(&self, token: &str) -> Result<Map<String, Value>, ServiceError> {
        let unavailable = |why: &dyn std::fmt::Display| {
            // The token is never logged; the URL is configuration.
            tracing::warn!(url = %self.url, "token introspection failed: {why}");
            ServiceError::IntrospectionUnavailable
        };
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("token_type_hint", "access_token")
            .finish();
        let res = self
            .http
            .post(self.url.clone())
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| unavailable(&without_url(e)))?;
        let status = res.status();
        if matches!(status.as_u16(), 401 | 403) {
            tracing::error!(
                url = %self.url,
                %status,
                "the introspection endpoint REFUSED THE SERVICE'S CLIENT CREDENTIALS \
                 (TOKEN_SERVICE_INTROSPECTION_CLIENT_ID/_SECRET)"
            );
            return Err(ServiceError::IntrospectionUnavailable);
        }
        json_object(res, unavailable).await
    }
}

/// A reqwest error without its URL (the configured URL is logged apart).
pub(crate) fn without_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}
