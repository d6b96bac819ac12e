//! `peliqan-token-service [--config FILE]`: configuration from the
//! environment and an optional TOML file (also `TOKEN_SERVICE_CONFIG`).

use peliqan_token_service::settings::load::{CONFIG_FILE_VAR, from_env_and_file};
use peliqan_token_service::{Application, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;

// The token cache holds many small long-lived objects allocated between
// short-lived request buffers; with glibc malloc that fragmentation made the
// service ~25 % larger at 100,000 cached tenants (see the README's figures).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file = std::env::var_os(CONFIG_FILE_VAR).map(PathBuf::from);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => file = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!(
                    "usage: peliqan-token-service [--config FILE]\nsee the README for the settings"
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("peliqan-token-service: unknown argument `{other}` (try --help)");
                return ExitCode::from(2);
            }
        }
    }
    let settings = match from_env_and_file(file.as_deref()) {
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
