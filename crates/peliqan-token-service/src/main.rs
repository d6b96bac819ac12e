//! `peliqan-token-service [--config FILE] [doctor | tenants ... | hydrate ...]`.
//!
//! Without a subcommand it serves; `doctor` checks the Peliqan the same
//! configuration points at and exits non-zero when a check fails;
//! `tenants` and `hydrate` are the operator's command line
//! ([`peliqan_token_service::cli`]). The
//! configuration comes from the environment and an optional TOML file
//! (`--config FILE` or `TOKEN_SERVICE_CONFIG`).

use clap::builder::NonEmptyStringValueParser;
use clap::{Parser, Subcommand};
use peliqan_token_service::settings::ConfigError;
use peliqan_token_service::settings::load::{CONFIG_FILE_VAR, from_env_and_file};
use peliqan_token_service::{Application, cli, doctor, telemetry};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

// The token cache holds many small long-lived objects allocated between
// short-lived request buffers; with glibc malloc that fragmentation made the
// service ~25 % larger at 100,000 cached tenants (see the README's figures).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    run()
}

/// mimalloc asks the kernel for transparent huge pages (`MADV_HUGEPAGE`) on
/// its arenas; the cache's small entries then sit in 2 MB pages that are
/// resident as a whole. Measured with 100,000 cached tenants: 108 -> 95 MB
/// RSS (17 -> 11 MB at start; the few MB mimalloc faulted in before `main`
/// stay huge). The flag covers every thread and every later page fault.
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes no
    // memory the program can see; failure (old kernel) just keeps THP on.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        eprintln!("peliqan-token-service: could not disable transparent huge pages; continuing");
    }
}

#[cfg(not(target_os = "linux"))]
fn disable_transparent_huge_pages() {}

/// The token service: hands a logged-in user's browser a short-lived
/// Peliqan token for that user's tenant. Settings come from the environment
/// (see the README); a TOML file with the same keys is optional.
#[derive(Parser)]
#[command(name = "peliqan-token-service", version)]
struct Cli {
    /// A TOML file with the same keys as the environment (the environment wins).
    #[arg(long, value_name = "FILE", env = CONFIG_FILE_VAR, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check the Peliqan this configuration points at: one line per check,
    /// the fix under each failure; exits 1 when a check fails.
    Doctor {
        /// Also get a short-lived token for this tenant (external id); its
        /// sub-account is created only if TOKEN_SERVICE_AUTO_PROVISION is on.
        #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
        tenant: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The partner's tenants (sub-accounts): list, show, create, update,
    /// delete, token.
    Tenants {
        #[command(subcommand)]
        command: cli::TenantsCommand,
        /// Print JSON instead of text.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Apply a blueprint to one tenant or all of them, exactly once per
    /// step (resumable); exits 1 when a tenant failed.
    Hydrate {
        #[command(flatten)]
        args: cli::HydrateArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[actix_web::main]
async fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = from_env_and_file(cli.config.as_deref());
    let command = match cli.command {
        Some(Command::Tenants { command, json }) => {
            return cli::tenants(settings, command, json).await;
        }
        Some(Command::Hydrate { args, json }) => return cli::hydrate(settings, args, json).await,
        other => other,
    };
    if let Some(Command::Doctor { tenant, json }) = command {
        let report = match &settings {
            Ok(settings) => doctor::run(settings, &doctor::Options { tenant }).await,
            Err(e) => doctor::configuration_failed(e),
        };
        let text = if json {
            report.to_json() + "\n"
        } else {
            report.to_text()
        };
        // Not `print!`: it panics when the reader has gone (`doctor | head`).
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return if report.failed() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            // Before logging is set up (its format is a setting): plain stderr.
            eprintln!("peliqan-token-service: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_json);
    let app = match Application::build(settings).await {
        Ok(app) => app,
        // Settings that load but cannot be served (a JWKS without issuer and
        // audience checks): reported like any other configuration error.
        Err(e) if e.downcast_ref::<ConfigError>().is_some() => {
            eprintln!("peliqan-token-service: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            tracing::error!("{e:#}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
