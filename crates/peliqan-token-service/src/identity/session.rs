//! A session cookie, checked by the partner's own who-am-I endpoint
//! (`TOKEN_SERVICE_SESSION_URL`): for apps (Rails, Django, Laravel,
//! Express...) that keep their users in a cookie and have no JWT to hand
//! the browser.
//!
//! Flow: CSRF checks ([`check_csrf`]) -> the configured cookies only
//! (`TOKEN_SERVICE_SESSION_COOKIES`; any other cookie the browser sends is
//! never forwarded) -> a positive answer remembered for this cookie (by its
//! hash, for `TOKEN_SERVICE_SESSION_CACHE_SECS`) -> else `GET` the who-am-I
//! URL with those cookies. A 200 JSON object is the user: its subject field
//! (`TOKEN_SERVICE_SESSION_SUBJECT_FIELD`) and tenant field
//! (`TOKEN_SERVICE_TENANT_CLAIM`); a 401, 403 or redirect (to a login page)
//! is 401 `session_invalid`; anything else 503 `session_unavailable`.
//!
//! CSRF: a cookie rides along with any request the browser makes, also one
//! a foreign page starts, so every request must carry the custom header
//! `TOKEN_SERVICE_CSRF_HEADER` (a form cannot set one, and a `fetch` with it
//! needs a CORS preflight that only allow-listed origins pass), and a
//! state-changing one (`POST /v1/token`) must also carry an `Origin` that is
//! exactly one of `TOKEN_SERVICE_ALLOWED_ORIGINS`. See
//! <https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html>.

use super::memo::Memo;
use super::{client, introspect::without_url, json_object, user_from_answer};
use crate::auth::VerifiedUser;
use crate::error::{IdentitySource, ServiceError};
use crate::settings::SessionSettings;
use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName};
use peliqan_api::clock::SharedClock;
use serde_json::{Map, Value};
use std::sync::Arc;

/// See the module docs.
pub struct SessionCheck {
    http: reqwest::Client,
    url: url::Url,
    cookies: Vec<String>,
    subject_field: String,
    tenant_field: String,
    cache_secs: u64,
    csrf_header: HeaderName,
    allowed_origins: Vec<String>,
    memo: Memo,
    clock: SharedClock,
}

impl SessionCheck {
    /// The session check `settings` describe; `allowed_origins` are the
    /// origins a state-changing request may come from.
    pub fn new(
        settings: &SessionSettings,
        tenant_field: &str,
        allowed_origins: &[String],
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            http: client(settings.timeout)?,
            url: settings.url.clone(),
            cookies: settings.cookies.clone(),
            subject_field: settings.subject_field.clone(),
            tenant_field: tenant_field.to_owned(),
            cache_secs: settings.cache_for.as_secs(),
            csrf_header: HeaderName::from_bytes(settings.csrf_header.as_bytes())?,
            allowed_origins: allowed_origins.to_vec(),
            memo: Memo::new(),
            clock,
        })
    }

    /// The signed-in user of `req`'s session.
    pub async fn verify(&self, req: &HttpRequest) -> Result<Arc<VerifiedUser>, ServiceError> {
        check_csrf(req, &self.csrf_header, &self.allowed_origins)?;
        let cookie = forwarded_cookies(req, &self.cookies).ok_or(ServiceError::SessionMissing)?;
        let key = Memo::key(&cookie);
        let now = self.clock.unix_secs();
        if let Some(user) = self.memo.get(&key, now) {
            return Ok(user);
        }
        let answer = self.who_am_i(&cookie).await?;
        let fields = [self.subject_field.as_str()];
        let user = Arc::new(user_from_answer(
            &answer,
            &fields,
            &self.tenant_field,
            IdentitySource::Session,
        )?);
        let now = self.clock.unix_secs();
        self.memo
            .insert(key, user.clone(), now.saturating_add(self.cache_secs), now);
        Ok(user)
    }

    async fn who_am_i(&self, cookie: &str) -> Result<Map<String, Value>, ServiceError> {
        let unavailable = |why: &dyn std::fmt::Display| {
            // The cookie is never logged; the URL is configuration.
            tracing::warn!(url = %self.url, "the session check failed: {why}");
            ServiceError::SessionUnavailable
        };
        let res = self
            .http
            .get(self.url.clone())
            .header(reqwest::header::COOKIE, cookie)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(&without_url(e)))?;
        let status = res.status();
        if matches!(status.as_u16(), 401 | 403) || status.is_redirection() {
            return Err(ServiceError::SessionInvalid);
        }
        json_object(res, unavailable).await
    }
}

/// The CSRF checks of a cookie-authenticated request (see the module docs):
/// the custom header on every request, and on a state-changing one an
/// `Origin` that is exactly an allowed origin.
pub fn check_csrf(
    req: &HttpRequest,
    csrf_header: &HeaderName,
    allowed_origins: &[String],
) -> Result<(), ServiceError> {
    let has_header = req
        .headers()
        .get(csrf_header)
        .is_some_and(|v| !v.as_bytes().is_empty());
    if !has_header {
        return Err(ServiceError::CsrfRefused(format!(
            "a cookie-authenticated request must carry the `{csrf_header}` header (set it with \
             the SDK's `headers` option)"
        )));
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        if !origin.is_some_and(|o| allowed_origins.iter().any(|a| a == o)) {
            return Err(ServiceError::CsrfRefused(
                "a cookie-authenticated POST must come from an allowed origin (its `Origin` \
                 header must be exactly one of TOKEN_SERVICE_ALLOWED_ORIGINS)"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// `name=value; ...` of the configured cookies found in `req`'s `Cookie`
/// headers, in the configured order; `None` when there is none.
fn forwarded_cookies(req: &HttpRequest, names: &[String]) -> Option<String> {
    let pairs: Vec<(&str, &str)> = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let mut out = String::new();
    for name in names {
        if let Some((n, v)) = pairs.iter().find(|(n, _)| n == name) {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(n);
            out.push('=');
            out.push_str(v);
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn only_the_configured_cookies_are_forwarded() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "other=x; _app_session=abc; csrftoken=t"))
            .to_http_request();
        let names = ["_app_session".to_owned(), "remember".to_owned()];
        assert_eq!(
            forwarded_cookies(&req, &names).as_deref(),
            Some("_app_session=abc")
        );
        let none = TestRequest::default()
            .insert_header((header::COOKIE, "other=x"))
            .to_http_request();
        assert_eq!(forwarded_cookies(&none, &names), None);
    }

    #[test]
    fn csrf_needs_the_header_and_on_post_an_exact_allowed_origin() {
        let h = HeaderName::from_static("x-requested-with");
        let allowed = ["https://app.test".to_owned()];
        let check = |req: TestRequest| check_csrf(&req.to_http_request(), &h, &allowed);
        let post = || TestRequest::post().insert_header((h.clone(), "1"));
        assert!(check(post().insert_header((header::ORIGIN, "https://app.test"))).is_ok());
        for bad in [
            post(),
            post().insert_header((header::ORIGIN, "https://app.test.evil")),
            post().insert_header((header::ORIGIN, "null")),
            TestRequest::post().insert_header((header::ORIGIN, "https://app.test")),
        ] {
            assert_eq!(check(bad).unwrap_err().code(), "csrf_refused");
        }
        assert!(check(TestRequest::get().insert_header((h.clone(), "1"))).is_ok());
        assert!(check(TestRequest::get()).is_err());
    }
}
