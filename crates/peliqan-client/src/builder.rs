//! [`ClientBuilder`]: timeouts, retries and the user agent of a
//! [`PeliqanClient`].
//!
//! reqwest has no timeout by default, so a hung Peliqan would hang the
//! caller (e.g. every page load of the token service) forever. The builder
//! always sets a connect timeout and a total timeout per attempt. It also
//! turns redirects off: Peliqan (Django) redirects only a route called
//! without its trailing slash, which means the client speaks another API
//! dialect, and a followed redirect would hide that (and turn a `POST` into
//! a `GET`).

use crate::client::{Inner, PeliqanClient};
use crate::error::Error;
use crate::retry::RetryPolicy;
use peliqan_api::clock::{SharedClock, SystemClock};
use peliqan_api::{Dialect, Routes};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Configures and builds a [`PeliqanClient`]. Start with
/// [`PeliqanClient::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    routes: Routes,
    clock: SharedClock,
}

impl ClientBuilder {
    pub(crate) fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            user_agent: concat!("peliqan-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            routes: Dialect::default().routes(),
            clock: SystemClock::shared(),
        }
    }

    /// Time allowed to open the TCP (and TLS) connection. Default 5 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time allowed for one attempt, from sending to the end of the answer's
    /// body. Default 15 s. Retries each get this much again.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// How failed idempotent calls are retried. Default [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header. Default `peliqan-client/<version>`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The API dialect this Peliqan speaks: which route (method, path,
    /// trailing slash, query) each operation calls and how table and script
    /// bodies are shaped. Default [`Dialect::Seed`].
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.routes = dialect.routes();
        self
    }

    /// The routes to call, for a dialect with some operations overridden
    /// (see [`Routes::set_text`]). Replaces [`ClientBuilder::dialect`].
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// The clock access-token renewal reads (when a partner access token
    /// is due). Default: the system clock; tests pass a
    /// [`peliqan_api::clock::ManualClock`] and advance it instead of waiting.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the client. Fails with [`Error::InvalidUrl`] when the base URL
    /// is not an absolute `http`/`https` URL without query or fragment.
    pub fn build(self) -> Result<PeliqanClient, Error> {
        let base_url = parse_base_url(&self.base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Build { source })?;
        Ok(PeliqanClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                retry: self.retry,
                routes: self.routes,
                clock: self.clock,
            }),
        })
    }
}

/// Parses and checks the base URL. A path prefix (`https://host/peliqan/`)
/// is kept; endpoint paths are appended to it.
fn parse_base_url(raw: &str) -> Result<Url, Error> {
    let invalid = |message: &str| Error::InvalidUrl {
        url: raw.to_owned(),
        message: message.to_owned(),
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(invalid("the URL must name a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the URL must not have a query string or fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_base_urls_are_rejected_naming_the_url() {
        for raw in [
            "not a url",
            "ftp://peliqan.io",
            "https://x/?a=1",
            "mailto:a@b",
        ] {
            let err = PeliqanClient::builder(raw).build().unwrap_err();
            assert!(
                matches!(&err, Error::InvalidUrl { url, .. } if url == raw),
                "{raw}: {err}"
            );
            assert!(err.to_string().contains(raw), "{err}");
        }
    }

    #[test]
    fn base_url_with_prefix_and_trailing_slash_is_kept() {
        let client = PeliqanClient::builder("https://app.peliqan.io/prefix/")
            .build()
            .unwrap();
        assert_eq!(client.base_url().as_str(), "https://app.peliqan.io/prefix/");
        assert_eq!(
            client.endpoint("/api/servertypes", &[]).as_str(),
            "https://app.peliqan.io/prefix/api/servertypes"
        );
        let bare = PeliqanClient::builder("http://127.0.0.1:9")
            .build()
            .unwrap();
        assert_eq!(
            bare.endpoint(
                "/api/subaccount/token",
                &[("external_id".to_owned(), "a b&c".to_owned())]
            )
            .as_str(),
            "http://127.0.0.1:9/api/subaccount/token?external_id=a+b%26c"
        );
    }
}
