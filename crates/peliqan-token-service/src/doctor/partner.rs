//! The partner side: the client-credentials exchange, which API dialect
//! this Peliqan answers, and whether the partner credentials are accepted.
//!
//! The dialect is told by read-only probes of each built-in dialect's
//! `list_subaccounts` route (the configured routes first). Django resolves
//! the URL before it authenticates, so a route that exists answers 2xx or
//! 401/403, while one that does not answers an HTML 404, a 405, a redirect
//! (a wrong trailing slash) or the "doesn't end in a slash" page, whatever
//! the credentials. Nothing is created here.

use super::probe::{PartnerAuth, Probe, RouteAnswer, classify};
use super::report::Check;
use crate::settings::UpstreamSettings;
use peliqan_api::dialect::{Target, Vars};
use peliqan_client::{Dialect, Error, Operation, PartnerApi, PartnerCredentials, Routes, Secret};
use std::time::Duration;

/// The fix for Peliqan failing on its side.
pub(super) const FIX_5XX: &str = "Peliqan is failing on its side (a 5xx answer): run the doctor \
     again in a few minutes, and contact Peliqan support with the time of this run if it persists";

/// The `oauth_token` exchange, sent by hand so a failure is its own line.
/// Returns the credential the probes use (`None` when the exchange failed:
/// then no partner call is tried, as each would fail the same way).
pub(super) async fn exchange(
    probe: &Probe,
    routes: &Routes,
    client_id: &str,
    client_secret: &Secret,
) -> (Check, PartnerAuth) {
    const NAME: &str = "oauth_token";
    const FIX_REJECTED: &str = "check PELIQAN_CLIENT_ID and PELIQAN_CLIENT_SECRET (or \
         PELIQAN_CLIENT_SECRET_FILE) against the OAuth application of your Peliqan partner account";
    let target = match routes.target(Operation::OauthToken, &Vars::default()) {
        Ok(t) => t,
        Err(e) => {
            let fix = format!(
                "set PELIQAN_API_DIALECT=partner (the dialect with client credentials), or set {}",
                Operation::OauthToken.config_key()
            );
            return (Check::fail(NAME, e.to_string(), fix), PartnerAuth::None);
        }
    };
    let shown = format!("{} {}", target.method, target.path);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose()),
    ];
    let req = probe
        .request(
            method(&target),
            &probe.url(&target.path_and_query()),
            &PartnerAuth::None,
        )
        .form(&form);
    let answer = match probe.send(req).await {
        Ok(a) => a,
        Err(why) => {
            let detail = format!("{shown} got no answer: {why}");
            return (Check::fail(NAME, detail, FIX_5XX), PartnerAuth::None);
        }
    };
    let status = answer.status;
    let check = match classify(answer) {
        RouteAnswer::Exists(a) if (200..300).contains(&status) => {
            #[derive(serde::Deserialize)]
            struct Token {
                access_token: String,
                expires_in: Option<f64>,
            }
            match serde_json::from_str::<Token>(&a.body) {
                Ok(t) => {
                    let lives = t
                        .expires_in
                        .map_or_else(|| "no expires_in".to_owned(), |s| format!("lives {s:.0} s"));
                    let detail = format!(
                        "client `{client_id}` exchanged its credentials at {shown} for an access \
                         token ({lives})"
                    );
                    return (
                        Check::pass(NAME, detail),
                        PartnerAuth::Bearer(Secret::new(t.access_token)),
                    );
                }
                Err(_) => Check::fail(
                    NAME,
                    format!("{shown} answered {status} without an `access_token`"),
                    format!(
                        "check that {} is Peliqan's OAuth token endpoint",
                        Operation::OauthToken.config_key()
                    ),
                ),
            }
        }
        RouteAnswer::Exists(a) => Check::fail(
            NAME,
            format!(
                "Peliqan refused the client credentials: {status} to {shown}: {}",
                a.message()
            ),
            FIX_REJECTED,
        ),
        RouteAnswer::Missing(why) => Check::fail(
            NAME,
            format!("{shown}: {why}"),
            format!(
                "set PELIQAN_API_DIALECT to the dialect your Peliqan speaks (see the dialect \
                 line), or set {} to its token endpoint",
                Operation::OauthToken.config_key()
            ),
        ),
        RouteAnswer::ServerError(a) => Check::fail(
            NAME,
            format!("Peliqan answered {status} to {shown}: {}", a.message()),
            FIX_5XX,
        ),
    };
    (check, PartnerAuth::None)
}

/// Which dialect answers; `Some(routes)` to use for the remaining checks
/// (the configured ones, or the built-in dialect that does answer).
pub(super) async fn dialect(
    probe: &Probe,
    auth: &PartnerAuth,
    configured: &Routes,
) -> (Check, Option<Routes>) {
    const NAME: &str = "dialect";
    let ours = configured.dialect();
    let (shown, answer) = match probe_list(probe, auth, configured).await {
        Ok(found) => found,
        Err(e) => return (Check::fail(NAME, e, FIX_5XX), None),
    };
    let why = match answer {
        Some(RouteAnswer::Exists(a)) => {
            let overrides = match configured.overrides().count() {
                0 => String::new(),
                n => format!(" with {n} route override(s)"),
            };
            let how = if (200..300).contains(&a.status) {
                a.status.to_string()
            } else {
                format!("{}, so the route exists", a.status)
            };
            let detail = format!(
                "Peliqan answers the configured `{ours}` dialect{overrides} ({shown}: {how})"
            );
            return (Check::pass(NAME, detail), Some(configured.clone()));
        }
        Some(RouteAnswer::ServerError(a)) => {
            let detail = format!(
                "Peliqan answered {} to {shown} ({}): a server error, so the dialect could not \
                 be told",
                a.status,
                a.message()
            );
            return (Check::fail(NAME, detail, FIX_5XX), None);
        }
        Some(RouteAnswer::Missing(why)) => why,
        None => "no route for list_subaccounts".to_owned(),
    };
    let mine = format!("the configured `{ours}` dialect's {shown} got {why}");
    for &other in Dialect::ALL {
        let routes = other.routes();
        if list_target(&routes) == list_target(configured) {
            continue;
        }
        let Ok((theirs, Some(RouteAnswer::Exists(a)))) = probe_list(probe, auth, &routes).await
        else {
            continue;
        };
        let detail = format!(
            "{mine}; the `{other}` dialect answers ({theirs}: {}), so the next checks use it",
            a.status
        );
        let key = Operation::ListSubaccounts.config_key();
        let fix = if other == ours {
            format!("remove {key}: the `{ours}` dialect's own route answers")
        } else {
            format!("set PELIQAN_API_DIALECT={other}")
        };
        return (Check::fail(NAME, detail, fix), Some(routes));
    }
    let detail = format!("{mine}, and no built-in dialect's list route answers either");
    let fix = format!(
        "check that PELIQAN_API_URL is Peliqan's API root (e.g. https://app.eu.peliqan.io), or \
         set {} to the route your account lists sub-accounts at",
        Operation::ListSubaccounts.config_key()
    );
    (Check::fail(NAME, detail, fix), None)
}

/// The filled `list_subaccounts` route (page 1, one per page: read-only and small).
fn list_target(routes: &Routes) -> Option<Target> {
    let vars = Vars {
        page: Some(1),
        per_page: Some(1),
        ..Vars::default()
    };
    routes.target(Operation::ListSubaccounts, &vars).ok()
}

/// `GET`s the `list_subaccounts` route of `routes`: `(shown route, answer)`,
/// the answer `None` when the routes have no such operation; `Err` when
/// nothing answered at all.
async fn probe_list(
    probe: &Probe,
    auth: &PartnerAuth,
    routes: &Routes,
) -> Result<(String, Option<RouteAnswer>), String> {
    let Some(target) = list_target(routes) else {
        return Ok(("list_subaccounts".to_owned(), None));
    };
    let shown = format!("{} {}", target.method, target.path_and_query());
    let req = probe.request(method(&target), &probe.url(&target.path_and_query()), auth);
    match probe.send(req).await {
        Ok(answer) => Ok((shown, Some(classify(answer)))),
        Err(why) => Err(format!("{shown} got no answer: {why}")),
    }
}

/// The reqwest method of a route target.
pub(super) fn method(target: &Target) -> reqwest::Method {
    reqwest::Method::from_bytes(target.method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET)
}

/// A read-only partner call through the project's client: the credentials
/// are accepted.
pub(super) async fn credentials(partner: &PartnerApi, upstream: &UpstreamSettings) -> Check {
    const NAME: &str = "partner_credentials";
    let kind = credential_kind(&upstream.credentials);
    match tokio::time::timeout(call_bound(upstream), partner.list_subaccounts()).await {
        Ok(Ok(list)) => Check::pass(
            NAME,
            format!(
                "Peliqan accepts {kind} (listing sub-accounts works: {} on the first page)",
                list.len()
            ),
        ),
        Ok(Err(e)) => failure(NAME, &e, upstream),
        Err(_) => timed_out(NAME, upstream),
    }
}

/// What the partner authenticates with, for messages.
fn credential_kind(c: &PartnerCredentials) -> String {
    match c {
        PartnerCredentials::Token(_) => "the partner token".to_owned(),
        PartnerCredentials::ClientCredentials { client_id, .. } => {
            format!("the client credentials of `{client_id}`")
        }
    }
}

/// The longest a client call may take with its retries (each attempt is
/// bounded by the client's own timeouts; this bounds the whole).
pub(super) fn call_bound(u: &UpstreamSettings) -> Duration {
    let attempt = u.connect_timeout + u.timeout + u.max_retry_after.max(Duration::from_secs(2));
    // Twice: with client credentials, the access-token exchange comes first.
    attempt * (u.max_retries + 1) * 2
}

/// A failed client call as a check line with its fix.
pub(super) fn failure(name: &'static str, e: &Error, upstream: &UpstreamSettings) -> Check {
    let detail = e.to_string();
    if e.route_mismatch().is_some() {
        return Check::fail(
            name,
            detail,
            "set PELIQAN_API_DIALECT to the dialect this Peliqan speaks (see the dialect line), \
             or override this operation's route with its PELIQAN_API_ROUTE_* key",
        );
    }
    if let Error::Route { operation, .. } = e {
        return Check::fail(name, detail, format!("set {}", operation.config_key()));
    }
    match e.status() {
        Some(401 | 403) => Check::fail(
            name,
            format!(
                "Peliqan refused {}: {detail}",
                credential_kind(&upstream.credentials)
            ),
            rejected_fix(&upstream.credentials),
        ),
        Some(429) => Check::fail(
            name,
            detail,
            "Peliqan is rate-limiting this partner: run the doctor again in a minute",
        ),
        Some(500..) => Check::fail(name, detail, FIX_5XX),
        Some(_) => Check::fail(
            name,
            detail,
            "read Peliqan's message above: it names what it did not accept",
        ),
        None if e.is_retryable() => Check::fail(
            name,
            detail,
            "check that Peliqan is up and reachable from here, then run the doctor again",
        ),
        None => Check::fail(
            name,
            detail,
            "Peliqan's answer did not have the expected shape: check PELIQAN_API_DIALECT and \
             the PELIQAN_API_ROUTE_* overrides",
        ),
    }
}

/// The fix for rejected credentials.
pub(super) fn rejected_fix(c: &PartnerCredentials) -> &'static str {
    match c {
        PartnerCredentials::Token(_) => {
            "set PELIQAN_PARTNER_TOKEN (or PELIQAN_PARTNER_TOKEN_FILE) to the current partner \
             token of your Peliqan partner account"
        }
        PartnerCredentials::ClientCredentials { .. } => {
            "check PELIQAN_CLIENT_ID and PELIQAN_CLIENT_SECRET (or PELIQAN_CLIENT_SECRET_FILE) \
             against the OAuth application of your Peliqan partner account"
        }
    }
}

/// A client call that outlived [`call_bound`].
pub(super) fn timed_out(name: &'static str, upstream: &UpstreamSettings) -> Check {
    Check::fail(
        name,
        format!(
            "no answer within {} s, retries included",
            call_bound(upstream).as_secs()
        ),
        "check that Peliqan is up and reachable from here, then run the doctor again",
    )
}
