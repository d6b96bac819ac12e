//! What a non-2xx answer means: Peliqan's own error about the call
//! ([`Error::Api`]), or a sign that the route does not exist there
//! ([`Error::RouteMismatch`]).
//!
//! Peliqan is a Django REST Framework app. Its API errors are JSON objects
//! (`{"detail": ..}`, field errors, or the `partner` envelope
//! `{"error", "detail"}`), whereas a URL Django does not know is answered by
//! Django itself: a 404 HTML page, a 405 for a known path with another
//! method, a 301 to the slashed URL for a GET without its trailing slash
//! (`APPEND_SLASH`), and for a POST without it a 500 page explaining that it
//! cannot redirect. Those say the client calls routes of another dialect.

use crate::call::Call;
use crate::error::Error;
use peliqan_api::{ApiErrorBody, Dialect};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use std::time::Duration;
use url::Url;

/// The error for a non-2xx answer to `call`, made by a client of `dialect`
/// at `url`.
pub(crate) fn error_for(
    call: &Call,
    dialect: Dialect,
    url: &Url,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Error {
    let text = String::from_utf8_lossy(body);
    if let Some(why) = mismatch(status, headers, &text, url) {
        return Error::RouteMismatch {
            dialect,
            status: status.as_u16(),
            method: call.method_str(),
            path: call.path.clone(),
            why,
        };
    }
    let body = if text.trim().is_empty() {
        ApiErrorBody::detail(status.canonical_reason().unwrap_or("no error body"))
    } else {
        ApiErrorBody::parse(&text)
    };
    Error::Api {
        status: status.as_u16(),
        method: call.method_str(),
        path: call.path.clone(),
        body: Box::new(body),
        retry_after,
    }
}

/// Why an answer shows that the route does not exist, if it does.
fn mismatch(status: StatusCode, headers: &HeaderMap, text: &str, url: &Url) -> Option<String> {
    let code = status.as_u16();
    if status.is_redirection() {
        // Only the path of the target: its query may name a tenant.
        let target = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|loc| url.join(loc).ok())
            .map(|to| format!("redirected to {} (redirects are not followed)", to.path()));
        return Some(target.unwrap_or_else(|| "a redirect (not followed)".to_owned()));
    }
    match code {
        405 => Some("the method is not allowed on this path".to_owned()),
        404 if !is_json_object(text) => {
            Some("a page for an unknown URL, not an API error".to_owned())
        }
        500 if is_django_slash_page(text) => {
            Some("Django's page for a call without the trailing slash the route needs".to_owned())
        }
        _ => None,
    }
}

fn is_json_object(text: &str) -> bool {
    matches!(
        serde_json::from_str::<serde_json::Value>(text),
        Ok(serde_json::Value::Object(_))
    )
}

/// Django's `APPEND_SLASH` error for a non-GET call without a trailing slash:
/// "You called this URL via POST, but the URL doesn't end in a slash and you
/// have APPEND_SLASH set."
fn is_django_slash_page(text: &str) -> bool {
    text.contains("APPEND_SLASH") || text.contains("doesn't end in a slash")
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::Operation;
    use peliqan_api::dialect::Vars;
    use reqwest::header::HeaderValue;

    fn call() -> Call {
        let target = Dialect::Seed
            .routes()
            .target(Operation::Servertypes, &Vars::default())
            .unwrap();
        Call::new(Operation::Servertypes, target)
    }

    fn error(status: u16, headers: &HeaderMap, body: &str) -> Error {
        let url = Url::parse("http://peliqan.test/api/servertypes?x=1").unwrap();
        error_for(
            &call(),
            Dialect::Seed,
            &url,
            StatusCode::from_u16(status).unwrap(),
            headers,
            body.as_bytes(),
            None,
        )
    }

    #[test]
    fn route_level_answers_are_mismatches() {
        let none = HeaderMap::new();
        let mut moved = HeaderMap::new();
        moved.insert(
            LOCATION,
            HeaderValue::from_static("/api/servertypes/?tenant=secret"),
        );
        for (status, headers, body, why) in [
            (404, &none, "<html><h1>Not Found</h1></html>", "unknown URL"),
            (404, &none, "", "unknown URL"),
            (404, &none, "[]", "unknown URL"),
            (
                405,
                &none,
                r#"{"detail": "Method \"GET\" not allowed."}"#,
                "method",
            ),
            (301, &moved, "", "redirected to /api/servertypes/"),
            (302, &none, "", "redirect"),
            (
                500,
                &none,
                "<p>You called this URL via POST, but the URL doesn't end in a slash</p>",
                "trailing slash",
            ),
        ] {
            let err = error(status, headers, body);
            assert_eq!(err.route_mismatch(), Some(Dialect::Seed), "{status} {body}");
            assert_eq!(err.status(), Some(status));
            let text = err.to_string();
            assert!(text.contains(why) && !text.contains("secret"), "{text}");
        }
    }

    #[test]
    fn api_errors_about_the_call_are_not_mismatches() {
        let none = HeaderMap::new();
        for (status, body) in [
            (404, r#"{"detail": "Not found."}"#),
            (404, r#"{"error": "not_found", "detail": "No sub-account"}"#),
            (500, "<html>Server Error (500)</html>"),
            (400, "<html>Bad Request</html>"),
            (401, ""),
        ] {
            let err = error(status, &none, body);
            assert!(matches!(err, Error::Api { .. }), "{status} {body}: {err:?}");
        }
    }
}
