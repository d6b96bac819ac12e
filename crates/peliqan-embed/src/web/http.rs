//! One fetch, with transport failures told apart as `network` or `cors`.
//!
//! A browser reports a CORS refusal and an unreachable server with the same
//! bare `TypeError: Failed to fetch`, on purpose. To still give partners a
//! useful code, a failed request is followed by one `mode: "no-cors"` probe
//! of the same URL: if that opaque request gets through, the server is up
//! and refused this origin (`cors`); if it fails too, it is `network`, with
//! a CORS hint in the message, because Chromium's Opaque Response Blocking
//! (<https://github.com/annevk/orb>) also fails the probe when the server
//! answers JSON or HTML.

use crate::config::Credentials;
use crate::error::{EmbedError, ErrorCode};
use gloo_net::http::{Method, RequestBuilder};
use std::collections::BTreeMap;
use web_sys::{RequestCredentials, RequestMode};

/// How to authenticate one request.
pub enum Auth<'a> {
    /// A Peliqan call: `Authorization: JWT <token>`, never cookies.
    Jwt(&'a str),
    /// A call to the partner's own token service: its cookies and headers.
    Partner(Credentials, &'a BTreeMap<String, String>),
}

/// The Fetch method of a dialect route's method.
pub fn fetch_method(m: peliqan_api::dialect::Method) -> Method {
    use peliqan_api::dialect::Method as M;
    match m {
        M::Get => Method::GET,
        M::Post => Method::POST,
        M::Put => Method::PUT,
        M::Patch => Method::PATCH,
        M::Delete => Method::DELETE,
    }
}

/// Sends one request; answers the status and body text of any HTTP answer.
pub async fn send(
    method: Method,
    url: &str,
    auth: Auth<'_>,
    json_body: Option<&str>,
) -> Result<(u16, String), EmbedError> {
    let mut b = RequestBuilder::new(url)
        .method(method)
        .header("Accept", "application/json");
    b = match auth {
        Auth::Jwt(token) => b
            .header("Authorization", &["JWT ", token].concat())
            .credentials(RequestCredentials::Omit),
        Auth::Partner(creds, headers) => {
            let b = b.credentials(match creds {
                Credentials::Omit => RequestCredentials::Omit,
                Credentials::SameOrigin => RequestCredentials::SameOrigin,
                Credentials::Include => RequestCredentials::Include,
            });
            headers.iter().fold(b, |b, (k, v)| b.header(k, v))
        }
    };
    let request = match json_body {
        Some(body) => b.header("Content-Type", "application/json").body(body),
        None => b.build(),
    };
    let request = request.map_err(|e| {
        EmbedError::new(
            ErrorCode::InvalidConfig,
            ["bad request: ", &e.to_string()].concat(),
        )
    })?;
    let response = match request.send().await {
        Ok(r) => r,
        Err(_) => return Err(transport_error(url).await),
    };
    let status = response.status();
    let text = response.text().await.map_err(|_| network(url))?;
    Ok((status, text))
}

fn network(url: &str) -> EmbedError {
    EmbedError::new(
        ErrorCode::Network,
        [
            "could not reach ",
            url,
            " (offline, server down, or a CORS refusal: is this page's origin allowed?)",
        ]
        .concat(),
    )
}

/// Classifies a failed fetch by probing the URL without CORS.
async fn transport_error(url: &str) -> EmbedError {
    let probe = RequestBuilder::new(url)
        .mode(RequestMode::NoCors)
        .credentials(RequestCredentials::Omit);
    match probe.send().await {
        Ok(_) => EmbedError::new(
            ErrorCode::Cors,
            [url, " answered without CORS headers for this page's origin; add the origin to the server's allow-list"]
                .concat(),
        ),
        Err(_) => network(url),
    }
}
