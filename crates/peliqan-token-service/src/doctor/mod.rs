//! `peliqan-token-service doctor`: checks the Peliqan the service's own
//! configuration points at, and says for each problem how to fix it.
//!
//! [`run`] takes the [`Settings`] exactly as the service loads them and
//! returns a [`Report`]: one [`Check`] per line, in this order —
//! `configuration`, `url` (TLS, or plain http on loopback only), `clock`
//! (skew against Peliqan's `Date`), `oauth_token` (client credentials
//! only), `dialect` (read-only probes of each built-in dialect), then
//! through the project's own client `partner_credentials`, with
//! `--tenant` `tenant_token` and `subaccount_api`, `cors` (one line per
//! allowed origin), `connectors`, and `user_jwt` (settings only).
//!
//! A check that cannot tell anything once an earlier one failed is left
//! out (no credential is sent over plain http to another host; no partner
//! call is made when no dialect answers), and the failing line says so.
//! Nothing is created unless `--tenant` names a tenant without a
//! sub-account and `TOKEN_SERVICE_AUTO_PROVISION` is on, as the service
//! itself would. Every request has the service's timeouts; no secret is
//! ever part of a line.

mod connectors;
mod cors;
mod partner;
mod probe;
mod reach;
mod report;
mod tenant;
mod user_jwt;

pub use report::{Check, Report, Status};

use crate::settings::{ConfigError, Settings, UpstreamSettings};
use peliqan_client::PartnerCredentials;
use probe::{PartnerAuth, Probe};

/// What to check beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--tenant NAME`: also get a short-lived token for this external id
    /// (creating its sub-account only when auto-provisioning is on).
    pub tenant: Option<String>,
}

/// The report of a configuration that does not load: one failed line
/// naming the key.
pub fn configuration_failed(err: &ConfigError) -> Report {
    let mut report = Report::new();
    report.push(Check::fail(
        "configuration",
        format!("{}: {}; nothing else was checked", err.key, err.message),
        format!(
            "correct {} (the settings table in the token service README lists every key)",
            err.key
        ),
    ));
    report
}

/// Runs every check against the Peliqan `settings` point at.
pub async fn run(settings: &Settings, options: &Options) -> Report {
    let mut report = Report::new();
    report.push(configuration(settings));
    remote(settings, options, &mut report).await;
    report.push(user_jwt::settings(&settings.auth));
    report
}

/// Every check that talks to Peliqan, stopping where nothing more can be told.
async fn remote(settings: &Settings, options: &Options, report: &mut Report) {
    let upstream = &settings.upstream;
    let probe = match Probe::new(upstream) {
        Ok(p) => p,
        Err(e) => {
            report.push(Check::fail(
                "url",
                format!("could not build an HTTP client: {e}"),
                "check PELIQAN_API_URL",
            ));
            return;
        }
    };
    let (check, answer) = reach::url(&probe).await;
    report.push(check);
    let Some(answer) = answer else { return };
    report.push(reach::clock(&answer, settings.auth.leeway_secs));

    let auth = match &upstream.credentials {
        PartnerCredentials::Token(token) => PartnerAuth::Jwt(token.clone()),
        PartnerCredentials::ClientCredentials {
            client_id,
            client_secret,
        } => {
            let (mut check, auth) =
                partner::exchange(&probe, &upstream.routes, client_id, client_secret).await;
            if check.status == Status::Fail {
                check.detail.push_str("; no partner call was tried");
            }
            report.push(check);
            auth
        }
    };
    let (check, routes) = partner::dialect(&probe, &auth, &upstream.routes).await;
    report.push(check);
    // With a wrong dialect, the rest is checked on the routes that answer,
    // so one fix (the dialect line's) is not reported again on every line.
    let origins = &settings.allowed_origins;
    let Some(routes) = routes else {
        report.push_all(cors::preflights(&probe, &upstream.routes, origins).await);
        return;
    };
    if matches!(auth, PartnerAuth::None) {
        // The client-credentials exchange failed (its line says why): every
        // partner call would fail the same way.
        report.push_all(cors::preflights(&probe, &routes, origins).await);
        return;
    }
    let effective = UpstreamSettings {
        routes: routes.clone(),
        ..upstream.clone()
    };
    let client = match effective.client() {
        Ok(c) => c,
        Err(e) => {
            report.push(Check::fail(
                "partner_credentials",
                format!("could not build the Peliqan client: {e}"),
                "check PELIQAN_API_URL",
            ));
            return;
        }
    };
    let api = client.partner_with(upstream.credentials.clone());
    let check = partner::credentials(&api, &effective).await;
    let accepted = check.status == Status::Pass;
    report.push(check);
    if accepted && let Some(tenant) = &options.tenant {
        let (check, token) = tenant::token(&api, settings, tenant).await;
        report.push(check);
        if let Some(token) = token {
            report.push(tenant::subaccount_api(&client, token, settings).await);
        }
    }
    report.push_all(cors::preflights(&probe, &routes, origins).await);
    if accepted {
        report.push(connectors::catalogue(&api, &effective).await);
    }
}

/// What was loaded, without a secret.
fn configuration(settings: &Settings) -> Check {
    let u = &settings.upstream;
    let overrides: Vec<&str> = u.routes.overrides().map(|(op, _)| op.name()).collect();
    let overrides = match overrides.as_slice() {
        [] => String::new(),
        ops => format!(" with overrides for {}", ops.join(", ")),
    };
    let credentials = match &u.credentials {
        PartnerCredentials::Token(_) => "a partner token".to_owned(),
        PartnerCredentials::ClientCredentials { client_id, .. } => {
            format!("client credentials of `{client_id}`")
        }
    };
    Check::pass(
        "configuration",
        format!(
            "Peliqan at {}, `{}` dialect{overrides}, {credentials}, {} allowed origin(s), \
             auto-provisioning {}",
            url::Url::parse(&u.base_url)
                .map_or_else(|_| u.base_url.clone(), |url| probe::shown_url(&url)),
            u.routes.dialect(),
            settings.allowed_origins.len(),
            if settings.auto_provision { "on" } else { "off" },
        ),
    )
}

impl Report {
    fn push_all(&mut self, checks: Vec<Check>) {
        for c in checks {
            self.push(c);
        }
    }
}
