//! Which Peliqan the browser calls, and in which API dialect.
//!
//! Peliqan has described its API in several forms ([`peliqan_api::Dialect`]);
//! the partner's token service knows which one its Peliqan speaks, so the
//! SDK needs no second copy of that configuration. Data flow:
//! - the constructor options may give `peliqanUrl`, `dialect` and `routes`
//!   ([`RoutingOptions`], checked once, wrong ones are `invalid_config` at
//!   construction);
//! - every token answer (`POST tokenUrl` or the `getToken` callback) may
//!   carry `peliqan_url`, `dialect` and `routes` too
//!   ([`peliqan_api::BrowserRouting`], read by [`crate::answers::token_routing`]);
//! - when a token arrives, [`Endpoint::resolve`] merges the two into the
//!   base URL and [`Routes`] used with that token. The options win: an
//!   explicit `peliqanUrl` over the answer's, a `dialect` option over the
//!   answer's dialect and route overrides; the `routes` option overrides
//!   single operations last.
//!
//! Every Peliqan call then asks [`Endpoint::url`] for an [`Operation`], so
//! no Peliqan path is written anywhere in the SDK.

use crate::error::{EmbedError, ErrorCode};
use crate::safe_url;
use peliqan_api::dialect::{Method, Vars};
use peliqan_api::{BrowserRouting, Operation, Routes};
use std::collections::BTreeMap;

fn invalid(msg: &str) -> EmbedError {
    EmbedError::new(ErrorCode::InvalidConfig, msg)
}

/// Peliqan's base URL without its trailing slash, if [`safe_url::allowed`].
fn base_url(url: &str) -> Option<String> {
    safe_url::allowed(url).then(|| url.trim_end_matches('/').to_owned())
}

/// The routing part of the constructor options, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutingOptions {
    /// Peliqan's base URL without a trailing slash, when given.
    pub peliqan_url: Option<String>,
    /// The `dialect` option and the `routes` overrides, in the token
    /// answer's form so that both are read by one parser.
    pub routing: BrowserRouting,
}

impl RoutingOptions {
    /// Checks `peliqanUrl`, `dialect` and `routes` (operation name -> route
    /// text such as `GET /api/servers/{id}/`); errors are `invalid_config`.
    pub fn new(
        peliqan_url: Option<String>,
        dialect: Option<String>,
        routes: BTreeMap<String, String>,
    ) -> Result<Self, EmbedError> {
        let peliqan_url = match peliqan_url {
            Some(url) => Some(
                base_url(&url).ok_or_else(|| invalid(&safe_url::refusal("peliqanUrl", &url)))?,
            ),
            None => None,
        };
        let routing = BrowserRouting {
            peliqan_url: None,
            dialect,
            routes,
        };
        // Checked now, so a wrong option fails at construction.
        routing
            .routes()
            .map_err(|e| invalid(&["dialect or routes option: ", &e].concat()))?;
        Ok(Self {
            peliqan_url,
            routing,
        })
    }
}

/// Where and how the calls made with one token go.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Peliqan's base URL without a trailing slash.
    pub base_url: String,
    /// The dialect's routes with all overrides applied.
    pub routes: Routes,
}

impl Endpoint {
    /// Merges the options with a token answer's routing. `source` names
    /// who answered (`the token service`, `getToken`) in error messages.
    /// A missing base URL is `invalid_config`; an answer naming an unknown
    /// dialect, operation or an unparsable route is `token_service`.
    pub fn resolve(
        options: &RoutingOptions,
        answer: &BrowserRouting,
        source: &str,
    ) -> Result<Endpoint, EmbedError> {
        let bad_answer = |what: &str| {
            EmbedError::new(
                ErrorCode::TokenService,
                [source, " answered ", what].concat(),
            )
        };
        let base_url = match (&options.peliqan_url, &answer.peliqan_url) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => base_url(url).ok_or_else(|| {
                let what = [source, "'s peliqan_url"].concat();
                EmbedError::new(ErrorCode::TokenService, safe_url::refusal(&what, url))
            })?,
            (None, None) => {
                return Err(invalid(
                    "peliqanUrl is needed: give the peliqanUrl option, or answer \
                     peliqan_url with the token (the project's token service does)",
                ));
            }
        };
        // A dialect option replaces the answer's routing (its overrides
        // belong to its dialect); the routes option overrides last.
        // Built by insertion, not `clone`d: a map clone is its own code.
        let mut merged = BrowserRouting {
            peliqan_url: None,
            dialect: options.routing.dialect.clone(),
            routes: BTreeMap::new(),
        };
        for (op, route) in &options.routing.routes {
            merged.routes.insert(op.clone(), route.clone());
        }
        if merged.dialect.is_none() {
            merged.dialect = answer.dialect.clone();
            for (op, route) in &answer.routes {
                merged
                    .routes
                    .entry(op.clone())
                    .or_insert_with(|| route.clone());
            }
        }
        // The options alone were checked at construction: what fails now
        // came with the answer.
        let routes = merged
            .routes()
            .map_err(|e| bad_answer(&["a routing this SDK cannot use: ", &e].concat()))?;
        Ok(Endpoint { base_url, routes })
    }

    /// The method and full URL of `op` filled with `vars`. An operation the
    /// dialect lacks, or a value its route needs that is missing, is
    /// `invalid_config` naming the operation.
    pub fn url(&self, op: Operation, vars: &Vars<'_>) -> Result<(Method, String), EmbedError> {
        let target = self.routes.target(op, vars).map_err(|e| invalid(&e.0))?;
        let url = [self.base_url.as_str(), &target.path_and_query()].concat();
        Ok((target.method, url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn answer(url: Option<&str>, dialect: Option<&str>, routes: &[(&str, &str)]) -> BrowserRouting {
        BrowserRouting {
            peliqan_url: url.map(str::to_owned),
            dialect: dialect.map(str::to_owned),
            routes: map(routes),
        }
    }

    fn id(n: u64) -> Vars<'static> {
        Vars {
            id: Some(n),
            ..Vars::default()
        }
    }

    #[test]
    fn the_token_answer_gives_url_and_dialect_when_the_options_do_not() {
        let e = Endpoint::resolve(
            &RoutingOptions::default(),
            &answer(Some("https://app.eu.peliqan.io/"), Some("partner"), &[]),
            "the token service",
        )
        .unwrap();
        assert_eq!(
            e.url(Operation::GetConnection, &id(7)).unwrap(),
            (
                Method::Get,
                "https://app.eu.peliqan.io/api/servers/7/".into()
            )
        );
        let (m, url) = e.url(Operation::AddConnection, &Vars::default()).unwrap();
        assert_eq!(
            (m, url.as_str()),
            (Method::Post, "https://app.eu.peliqan.io/api/servers/")
        );
    }

    #[test]
    fn an_answer_without_routing_means_the_seed_dialect() {
        let opts = RoutingOptions::new(Some("http://127.0.0.1:9/".into()), None, map(&[])).unwrap();
        let e = Endpoint::resolve(&opts, &BrowserRouting::default(), "getToken").unwrap();
        assert_eq!(
            e.url(Operation::ConnectionLogs, &id(3)).unwrap().1,
            "http://127.0.0.1:9/api/server/3/logs"
        );
    }

    #[test]
    fn explicit_options_win_over_the_answer() {
        let opts = RoutingOptions::new(
            Some("https://eu.example".into()),
            Some("sub-account".into()),
            map(&[("get_connection", "GET /api/v2/servers/{id}/")]),
        )
        .unwrap();
        let a = answer(
            Some("https://elsewhere.example"),
            Some("partner"),
            &[("list_connections", "GET /api/v9/servers/")],
        );
        let e = Endpoint::resolve(&opts, &a, "the token service").unwrap();
        assert_eq!(
            e.url(Operation::GetConnection, &id(1)).unwrap().1,
            "https://eu.example/api/v2/servers/1/"
        );
        // The answer's overrides belong to the answer's dialect: not used.
        assert_eq!(
            e.url(Operation::ListConnections, &Vars::default())
                .unwrap()
                .1,
            "https://eu.example/api/servers/"
        );
    }

    #[test]
    fn the_answers_route_overrides_apply_on_its_dialect() {
        let a = answer(
            Some("https://p.example"),
            Some("partner"),
            &[("get_connection", "GET /api/v2/servers/{id}/")],
        );
        let e = Endpoint::resolve(&RoutingOptions::default(), &a, "getToken").unwrap();
        assert_eq!(
            e.url(Operation::GetConnection, &id(2)).unwrap().1,
            "https://p.example/api/v2/servers/2/"
        );
    }

    #[test]
    fn no_base_url_anywhere_is_invalid_config() {
        let e = Endpoint::resolve(
            &RoutingOptions::default(),
            &answer(None, Some("partner"), &[]),
            "getToken",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        assert!(e.message.contains("peliqanUrl"), "{}", e.message);
    }

    #[test]
    fn a_bad_answer_is_a_clear_token_service_error() {
        let opts = RoutingOptions::default();
        let e = Endpoint::resolve(
            &opts,
            &answer(Some("https://p"), Some("v9"), &[]),
            "getToken",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::TokenService);
        assert!(
            e.message.starts_with("getToken answered") && e.message.contains("`v9`"),
            "{}",
            e.message
        );
        let bad_route = answer(Some("https://p"), None, &[("get_connection", "FETCH /x")]);
        let e = Endpoint::resolve(&opts, &bad_route, "the token service").unwrap_err();
        assert!(e.message.contains("FETCH /x"), "{}", e.message);
        let bad_op = answer(Some("https://p"), None, &[("teleport", "GET /x")]);
        let e = Endpoint::resolve(&opts, &bad_op, "the token service").unwrap_err();
        assert!(e.message.contains("teleport"), "{}", e.message);
        for url in ["ftp://p", "http://peliqan.example", "javascript:alert(1)"] {
            let e = Endpoint::resolve(&opts, &answer(Some(url), None, &[]), "getToken");
            let e = e.unwrap_err();
            assert_eq!(e.code, ErrorCode::TokenService);
            assert!(
                e.message.starts_with("getToken's peliqan_url: `"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn wrong_routing_options_are_invalid_config() {
        let cases = [
            (Some("app.peliqan.io"), None, None, "peliqanUrl"),
            (None, Some("v2"), None, "`v2`"),
            (None, None, Some(("teleport", "GET /x")), "teleport"),
            (None, None, Some(("get_connection", "GET x")), "`GET x`"),
        ];
        for (url, dialect, route, part) in cases {
            let routes = route.map(|r| map(&[r])).unwrap_or_default();
            let e = RoutingOptions::new(url.map(Into::into), dialect.map(Into::into), routes)
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidConfig);
            assert!(e.message.contains(part), "{part}: {}", e.message);
        }
    }

    #[test]
    fn the_routes_option_overrides_the_answers_routes() {
        let opts =
            RoutingOptions::new(None, None, map(&[("get_connection", "GET /mine/{id}/")])).unwrap();
        let a = answer(
            Some("https://p.example"),
            Some("partner"),
            &[
                ("get_connection", "GET /theirs/{id}/"),
                ("connection_logs", "GET /logs/{id}/"),
            ],
        );
        let e = Endpoint::resolve(&opts, &a, "getToken").unwrap();
        assert_eq!(
            e.url(Operation::GetConnection, &id(1)).unwrap().1,
            "https://p.example/mine/1/"
        );
        assert_eq!(
            e.url(Operation::ConnectionLogs, &id(1)).unwrap().1,
            "https://p.example/logs/1/"
        );
    }

    #[test]
    fn an_operation_the_dialect_lacks_names_it() {
        let opts =
            RoutingOptions::new(Some("https://p".into()), Some("seed".into()), map(&[])).unwrap();
        let e = Endpoint::resolve(&opts, &BrowserRouting::default(), "getToken").unwrap();
        let err = e.url(Operation::ListGroups, &Vars::default()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(err.message.contains("list_groups"), "{}", err.message);
    }
}
