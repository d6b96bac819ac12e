//! The operator's command line: `tenants ...` and `hydrate ...`, as
//! subcommands of the service binary.
//!
//! Subcommands rather than a second binary: they need exactly the
//! service's configuration (Peliqan URL, dialect, partner credentials, the
//! ledger's place), read by the same loader, so an operator runs them with
//! the service's environment or `--config` file and nothing can disagree;
//! and there is one artefact to ship in the image. They make only partner
//! calls and never start the HTTP server.
//!
//! Output is for people by default and JSON with `--json` (one document on
//! stdout, errors included as `{"error": {"code", "message"}}`). Exit
//! codes: 0 done, 1 something failed (a tenant, an unknown tenant, a
//! Peliqan error), 2 configuration or usage (settings, a bad blueprint,
//! refused partner credentials). The partner credentials are never
//! printed; nor is a non-expiring token unless `tenants token
//! --non-expiring` asks for it (with a warning on stderr).

mod hydrate;
mod output;
mod tenants;

pub use hydrate::HydrateArgs;
pub use tenants::TenantsCommand;

use crate::settings::{ConfigError, Settings};
use output::{CliError, Out};
use std::process::ExitCode;

/// `tenants ...`: the partner's sub-accounts.
pub async fn tenants(
    settings: Result<Settings, ConfigError>,
    command: TenantsCommand,
    json: bool,
) -> ExitCode {
    let out = Out { json };
    let result = match settings {
        Ok(settings) => tenants::run(&settings, command, &out).await,
        Err(e) => Err(CliError::config(e)),
    };
    out.finish(result)
}

/// `hydrate ...`: apply a blueprint to one tenant or all of them.
pub async fn hydrate(
    settings: Result<Settings, ConfigError>,
    args: HydrateArgs,
    json: bool,
) -> ExitCode {
    let out = Out { json };
    let result = match settings {
        Ok(settings) => hydrate::run(&settings, args, &out).await,
        Err(e) => Err(CliError::config(e)),
    };
    out.finish(result)
}
