//! `peliqan-emulator`: runs the emulator until Ctrl-C or SIGTERM.
//!
//! The first stdout line is one JSON object with the URL, the partner
//! token and the OAuth client credentials, so scripts and tests can start
//! it on port 0 and read where it is; human-readable logs go to stderr.

use clap::Parser;
use peliqan_api::Dialect;
use peliqan_api::clock::ManualClock;
use peliqan_emulator::{Config, Emulator};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A local server speaking the Peliqan Partner (Embed) API.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8900")]
    listen: SocketAddr,
    /// Origin allowed to call the API from a browser (CORS); repeatable.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Lifetime of sub-account tokens, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    token_ttl: u64,
    /// Serve the OAuth pages with `Cross-Origin-Opener-Policy: same-origin`.
    #[arg(long)]
    coop: bool,
    /// The API dialect to serve: seed, sub-account or partner. Only that
    /// dialect's paths answer.
    #[arg(long, default_value = "seed", value_parser = |s: &str| s.parse::<Dialect>())]
    dialect: Dialect,
    /// Answer the wrong trailing-slash form as Django does: 301 to the
    /// right form for GET/HEAD, an error for other methods.
    #[arg(long)]
    strict_slashes: bool,
    /// Lifetime of OAuth access tokens from `POST /api/oauth2/token/`
    /// (`partner` dialect), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    access_token_ttl: u64,
    /// Run on a manual clock that starts at the real time and moves only
    /// through `POST /__emulator/clock {"advance_secs": N}`, so tests in
    /// another process can expire tokens without waiting. Never in production.
    #[arg(long)]
    manual_clock: bool,
    /// Create another sub-account when one with the same `external_id`
    /// exists, instead of answering 400; lookups by external id answer the
    /// lowest id. For tests proving a client provisions exactly once
    /// (`GET /__emulator/subaccounts?external_id=X` counts them).
    #[arg(long)]
    accept_duplicate_external_ids: bool,
    /// Also write the partner token to this file (mode 0600, replaced
    /// atomically) once listening, so a token service in another container
    /// can read it as `PELIQAN_PARTNER_TOKEN_FILE`.
    #[arg(long, value_name = "PATH")]
    partner_token_file: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_server=warn".into()),
        )
        .init();
    let args = Args::parse();
    let config = Config {
        listen: args.listen,
        allowed_origins: args.allowed_origins,
        token_ttl: Duration::from_secs(args.token_ttl),
        coop: args.coop,
        dialect: args.dialect,
        strict_slashes: args.strict_slashes,
        access_token_ttl: Duration::from_secs(args.access_token_ttl),
        manual_clock: args.manual_clock.then(ManualClock::new),
        accept_duplicate_external_ids: args.accept_duplicate_external_ids,
    };
    let emulator = Emulator::start(config).await?;
    if let Some(path) = &args.partner_token_file {
        write_secret(path, emulator.partner_token()).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("--partner-token-file {}: {e}", path.display()),
            )
        })?;
    }
    {
        // Written by hand so `url` comes first, as documented.
        let text = serde_json::Value::from;
        let line = format!(
            r#"{{"url":{},"partner_token":{},"client_id":{},"client_secret":{}}}"#,
            text(emulator.url()),
            text(emulator.partner_token()),
            text(emulator.client_id()),
            text(emulator.client_secret()),
        );
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    shutdown_signal().await;
    tracing::info!("stopping");
    emulator.stop().await;
    Ok(())
}

/// Writes `secret` to `path` readable by its owner only, through a
/// temporary file renamed over it, so a reader never sees half a token.
fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
