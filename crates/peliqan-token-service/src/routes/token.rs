//! `POST /v1/token`: the tenant's short-lived Peliqan token for the browser.
//!
//! The body is empty, or a JSON object; its one field the service reads is
//! `rejected_token`, which makes the request a forced refresh (the browser
//! reports that Peliqan answered 401 to that token; see
//! [`crate::tokens::TokenCache::get_forced`]). Other fields are ignored: the
//! tenant never comes from the body.

use super::read_body;
use crate::error::ServiceError;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use std::borrow::Cow;

/// Verifies the user and answers `{"token","expires_at","subaccount_id",
/// "external_id","peliqan_url","dialect"[,"routes"]}` ([`peliqan_api::TokenAnswer`]).
// A debug-level span: at `info` it costs nothing on the hot path.
#[tracing::instrument(name = "issue_token", level = "debug", skip_all, fields(tenant = tracing::field::Empty))]
pub async fn issue_token(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ServiceError> {
    let body = read_body(&req, body, state.max_body_bytes).await?;
    let user = state.authenticate(&req).await?;
    tracing::Span::current().record("tenant", user.tenant.as_str());
    let token = match rejected_token(&body)? {
        None => state.tokens.get(&user.tenant, &user.profile).await?,
        Some(rejected) => {
            state
                .tokens
                .get_forced(&user.tenant, &user.profile, &rejected)
                .await?
        }
    };
    let mut res = HttpResponse::with_body(
        StatusCode::OK,
        token.body(&user.tenant, &state.token_routing),
    );
    // Static values: no header text is parsed or copied per answer.
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // A token must not sit in a browser or proxy cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(res.map_into_boxed_body())
}

/// What the request body asks for: `None` for a plain request (no body,
/// whitespace, or an object without `rejected_token` or with it `null`),
/// else the rejected token. The error never quotes the body: it may hold a
/// token.
fn rejected_token(body: &[u8]) -> Result<Option<Cow<'_, str>>, ServiceError> {
    #[derive(serde::Deserialize)]
    struct TokenRequest<'a> {
        #[serde(default, borrow)]
        rejected_token: Option<Cow<'a, str>>,
    }
    let invalid = |why: String| {
        ServiceError::InvalidRequest(format!(
            "POST /v1/token takes no body, or a JSON object \
             {{\"rejected_token\": \"<the Peliqan token Peliqan rejected>\"}}: {why}"
        ))
    };
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Ok(None),
        Some(b'{') => {}
        Some(_) => return Err(invalid("the body is not a JSON object".into())),
    }
    serde_json::from_slice::<TokenRequest<'_>>(body)
        .map(|r| r.rejected_token)
        .map_err(|e| {
            invalid(if e.is_data() {
                "`rejected_token` must be a string".into()
            } else {
                format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_empty_or_names_the_rejected_token() {
        for plain in [
            "",
            " \n",
            "{}",
            r#"{"rejected_token": null, "tenant": "x"}"#,
        ] {
            assert_eq!(rejected_token(plain.as_bytes()).unwrap(), None, "{plain:?}");
        }
        let escaped = rejected_token(br#"{"rejected_token": "a\u002eb"}"#).unwrap();
        assert_eq!(escaped.as_deref(), Some("a.b"));
        for bad in [
            "[]",
            "x",
            "\"t\"",
            r#"{"rejected_token": 1}"#,
            "{",
            r#"{"a": "secret"#,
        ] {
            let err = rejected_token(bad.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "invalid_request", "{bad}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }
}
