//! `cargo xtask demo`: the whole flow on one machine, with no Peliqan account.
//!
//! Order matters: the demo page's port is bound first, because its origin
//! goes into the CORS allow-lists of the emulator and the token service.
//! Then the emulator starts (its first stdout line gives its URL and the
//! partner token), then the token service configured against it (its
//! `listening on` log line gives its URL), then the page is served. Every
//! child runs in its own process group and is stopped when the demo stops:
//! on Ctrl-C, SIGTERM, a child dying, a panic, or (with `--print-config`)
//! its stdin closing, which is how the e2e tests stop it.

use crate::demo_login::{self, USERS};
use crate::demo_server::{self, DemoServer, Site};
use crate::procs::{Proc, listening_url};
use anyhow::{Context, bail};
use serde_json::json;
use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// The custom header the cookie-session variant requires (CSRF defence).
const CSRF_HEADER: &str = "X-Requested-With";

/// How long a child may take to print its readiness line.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Options of `cargo xtask demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Port of the demo page on 127.0.0.1 (a busy port falls back to a free one; 0 = any).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Serve the emulator's OAuth consent page with Cross-Origin-Opener-Policy,
    /// which makes `popup.closed` read true while the user is still deciding.
    #[arg(long)]
    coop: bool,
    /// Lifetime of the emulator's tenant tokens, in seconds.
    #[arg(long)]
    token_ttl: Option<u64>,
    /// Use a real Peliqan (e.g. https://app.eu.peliqan.io) instead of the
    /// emulator; the partner's credentials are read from PELIQAN_PARTNER_TOKEN,
    /// or PELIQAN_CLIENT_ID and PELIQAN_CLIENT_SECRET.
    #[arg(long, value_name = "URL")]
    peliqan_url: Option<String>,
    /// The Peliqan API dialect: seed (the default), sub-account or partner.
    /// The emulator serves only that dialect, with Django's strict trailing
    /// slashes, and the token service is configured with the same one.
    #[arg(long, env = "PELIQAN_API_DIALECT", default_value = "seed")]
    dialect: String,
    /// Skip building the binaries and the npm package (already built).
    #[arg(long)]
    no_build: bool,
    /// The cookie-session variant: the demo login sets a session cookie
    /// (no JWT), the token service checks it through the demo's who-am-I
    /// endpoint, and the SDK runs with `credentials: 'include'`.
    #[arg(long)]
    session: bool,
    /// Print the running configuration as one JSON line on stdout, and stop
    /// when stdin closes: the mode the e2e tests start the demo in.
    #[arg(long)]
    print_config: bool,
}

/// Everything the demo runs. Dropping it stops it all.
pub struct Stack {
    /// What `/demo/config.json` answers, plus the demo page's URL.
    pub config: serde_json::Value,
    _server: DemoServer,
    procs: Vec<Proc>,
}

/// Runs `cargo xtask demo` until it is told to stop.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    if !args.no_build {
        build()?;
    }
    let mut stack = start(&args)?;
    // A Ctrl-C before this point ends the xtask at once; the children's
    // parent-death signal (see procs.rs) takes them with it.
    let (tx, stop) = channel::<String>();
    let on_signal = tx.clone();
    ctrlc::set_handler(move || {
        let _ = on_signal.send("interrupted".into());
    })
    .context("could not install the Ctrl-C handler")?;
    if args.print_config {
        println!("{}", stack.config);
        // The parent holds our stdin; when it goes away, so do we.
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            let _ = tx.send("stdin closed".into());
        });
    } else {
        let url = stack.config["url"].as_str().unwrap_or_default();
        println!("\n  peliqan-embed demo is running. Open:\n\n      {url}/\n");
        println!("  Press Ctrl-C to stop it (the emulator and the token service stop too).\n");
    }
    loop {
        match stop.recv_timeout(Duration::from_millis(250)) {
            Ok(why) => {
                eprintln!("xtask: {why}; stopping the demo");
                drop(stack);
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some((name, status)) = stack.dead_child() {
                    bail!("{name} exited with {status}; demo stopped (its log is above)");
                }
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("`tx` lives in the handler"),
        }
    }
}

/// Builds what the demo runs: the two server binaries and the npm package.
/// Their output goes to stderr: stdout is reserved for the demo's own
/// answer (with `--print-config`, the one JSON line a caller parses).
pub fn build() -> anyhow::Result<()> {
    let bins = [
        "-p",
        "peliqan-emulator",
        "-p",
        "peliqan-token-service",
        "--bins",
    ];
    let mut cargo = crate::cmd::cargo();
    crate::cmd::run(cargo.arg("build").args(bins).stdout(std::io::stderr()))?;
    // `xtask npm` owns the wasm toolchain setup and the package layout.
    let me = std::env::current_exe().context("where is the xtask binary?")?;
    let mut npm = Command::new(me);
    crate::cmd::run(
        npm.arg("npm")
            .current_dir(crate::cmd::root())
            .stdout(std::io::stderr()),
    )
}

/// The npm package directory `cargo xtask npm` builds.
pub fn package_dir() -> PathBuf {
    crate::cmd::root().join("target/npm/peliqan-embed")
}

/// The demo's blueprint (`deploy/demo-blueprint/`).
fn demo_blueprint() -> std::path::PathBuf {
    crate::cmd::root().join("deploy/demo-blueprint/blueprint.toml")
}

/// Starts the emulator (unless a real Peliqan is named), the token service
/// and the demo server.
pub fn start(args: &DemoArgs) -> anyhow::Result<Stack> {
    let dialect: peliqan_api::Dialect = args
        .dialect
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--dialect: {e}"))?;
    let (listener, url) = demo_server::bind(args.port)?;
    // The page may be opened as localhost too; both are the same demo.
    let origins = [url.clone(), url.replace("127.0.0.1", "localhost")];
    let mut procs = Vec::new();
    let mut ts = Command::new(crate::cmd::debug_bin_dir().join("peliqan-token-service"));
    let peliqan_url = match &args.peliqan_url {
        // The partner's credentials reach the token service from this
        // environment as they are: a partner token, or client credentials.
        Some(real) => {
            let has = |k: &str| std::env::var_os(k).is_some();
            if !has("PELIQAN_PARTNER_TOKEN") && !has("PELIQAN_CLIENT_ID") {
                bail!(
                    "--peliqan-url needs the partner's credentials: PELIQAN_PARTNER_TOKEN, or \
                     PELIQAN_CLIENT_ID and PELIQAN_CLIENT_SECRET"
                );
            }
            real.trim_end_matches('/').to_string()
        }
        None => {
            let (emulator, (url, partner_token)) = start_emulator(args, dialect, &origins)?;
            procs.push(emulator);
            ts.env("PELIQAN_PARTNER_TOKEN", &partner_token);
            // Each new demo customer is hydrated with the demo blueprint (a
            // table and a script, shown on the page). Only on the emulator:
            // never written into a real account. The ledger is new per run,
            // as the emulator's state is.
            let ledger = std::env::temp_dir().join(format!(
                "peliqan-demo-ledger-{}.sqlite3",
                std::process::id()
            ));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", ledger.display()));
            }
            ts.env("TOKEN_SERVICE_BLUEPRINT_FILE", demo_blueprint())
                .env("TOKEN_SERVICE_HYDRATION_LEDGER_FILE", &ledger);
            // A real account's client credentials must not meet the emulator's token.
            for key in [
                "PELIQAN_CLIENT_ID",
                "PELIQAN_CLIENT_SECRET",
                "PELIQAN_CLIENT_SECRET_FILE",
            ] {
                ts.env_remove(key);
            }
            url
        }
    };
    let jwt_secret = demo_login::random_secret()?;
    ts.env("PELIQAN_API_URL", &peliqan_url)
        .env("PELIQAN_API_DIALECT", dialect.name())
        .env("TOKEN_SERVICE_LISTEN", "127.0.0.1:0")
        .env("TOKEN_SERVICE_ALLOWED_ORIGINS", origins.join(","))
        .env("TOKEN_SERVICE_AUTO_PROVISION", "true")
        .env("TOKEN_SERVICE_TENANT_CLAIM", "external_id")
        .env("NO_COLOR", "1");
    // One identity source: the demo login's JWT, or its session cookie.
    if args.session {
        for key in [
            "TOKEN_SERVICE_JWT_HS256_SECRET",
            "TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE",
            "TOKEN_SERVICE_JWT_JWKS_URL",
        ] {
            ts.env_remove(key);
        }
        ts.env("TOKEN_SERVICE_SESSION_URL", format!("{url}/demo/whoami"))
            .env("TOKEN_SERVICE_SESSION_COOKIES", demo_login::SESSION_COOKIE)
            .env("TOKEN_SERVICE_CSRF_HEADER", CSRF_HEADER);
    } else {
        ts.env("TOKEN_SERVICE_JWT_HS256_SECRET", &jwt_secret);
    }
    let mut ts = Proc::spawn("token-service", ts)?;
    let token_service = ts.wait_for(READY_TIMEOUT, listening_url)?;
    procs.push(ts);
    let config = json!({
        "url": url,
        "tokenServiceUrl": token_service,
        "tokenUrl": format!("{token_service}/v1/token"),
        "connectorsUrl": format!("{token_service}/v1/connectors"),
        "peliqanUrl": peliqan_url,
        "dialect": dialect.name(),
        "emulated": args.peliqan_url.is_none(),
        "blueprint": args.peliqan_url.is_none(),
        "coop": args.coop,
        "users": USERS,
        // The cookie-session variant: the SDK sends this header (the CSRF
        // defence) with `credentials: 'include'`, and no Authorization.
        "session": args.session.then(|| json!({"csrfHeader": CSRF_HEADER})),
    });
    let site = Site {
        web_root: crate::cmd::root().join("web-demo"),
        pkg_root: package_dir(),
        config: config.clone(),
        jwt_secret,
        sessions: args.session.then(demo_login::Sessions::default),
    };
    let server = DemoServer::start(listener, site)?;
    Ok(Stack {
        config,
        _server: server,
        procs,
    })
}

fn start_emulator(
    args: &DemoArgs,
    dialect: peliqan_api::Dialect,
    origins: &[String],
) -> anyhow::Result<(Proc, (String, String))> {
    let mut cmd = Command::new(crate::cmd::debug_bin_dir().join("peliqan-emulator"));
    // Strict slashes: a path our own parts get wrong fails here as it would
    // against Peliqan, instead of being forgiven.
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--dialect",
        dialect.name(),
        "--strict-slashes",
    ])
    .env("NO_COLOR", "1");
    for origin in origins {
        cmd.args(["--allowed-origin", origin]);
    }
    if args.coop {
        cmd.arg("--coop");
    }
    if let Some(ttl) = args.token_ttl {
        cmd.args(["--token-ttl", &ttl.to_string()]);
    }
    let mut emulator = Proc::spawn("emulator", cmd)?;
    let found = emulator.wait_for(READY_TIMEOUT, crate::procs::emulator_ready)?;
    Ok((emulator, found))
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Reverse start order: the token service goes before its upstream.
        while let Some(proc) = self.procs.pop() {
            drop(proc);
        }
    }
}

impl Stack {
    /// The first child that has exited, if any: the demo is broken then.
    fn dead_child(&mut self) -> Option<(String, std::process::ExitStatus)> {
        self.procs
            .iter_mut()
            .find_map(|p| Some((p.name().to_string(), p.exited()?)))
    }
}
