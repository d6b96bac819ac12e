//! The SDK's browser tests: run by `cargo xtask test` after the native
//! ones, and alone by `cargo xtask browser-test [--dialect NAME]...
//! [--browser chromium|firefox] [--no-npm]`.
//!
//! 1. `wasm-bindgen-test` tests (`crates/peliqan-embed/tests/browser/`) in
//!    headless Chromium through chromedriver, then in headless Firefox ESR
//!    through geckodriver (see [`firefox`]), once per API dialect, each
//!    time against fresh emulator processes speaking that dialect (strictly,
//!    with Django's trailing-slash answers, for every dialect but the
//!    default `seed`, which runs lenient as users get it): one allowing the
//!    test page's origin, one refusing it (for the `cors` error), and the
//!    project's token service in front of the first, configured with the
//!    same `PELIQAN_API_DIALECT`. The test page's address is fixed up front
//!    (`WASM_BINDGEN_TEST_ADDRESS`) so the emulator can allow it; the
//!    emulator's URL and partner token reach the tests at compile time (so
//!    each dialect rebuilds only the test crate), its dialect at run time
//!    (`GET /__emulator/info`). Both browsers share a dialect's emulators
//!    and test build (every test makes its own tenant), so Firefox costs
//!    its run time only.
//! 2. The packed npm tarball installed into a scratch folder and imported
//!    from a page in headless Chromium (`crates/peliqan-embed/js-tests`).

use crate::cmd::{cargo, root, run};
use crate::procs::Proc;
use crate::{firefox, wasm};
use anyhow::Context;
use peliqan_api::Dialect;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// A browser the wasm-bindgen tests run in.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// Debian's Chromium through chromedriver.
    Chromium,
    /// Debian's Firefox ESR through geckodriver.
    Firefox,
}

impl Browser {
    fn name(self) -> &'static str {
        match self {
            Self::Chromium => "Chromium",
            Self::Firefox => "Firefox",
        }
    }
}

/// Options of `cargo xtask browser-test`.
#[derive(clap::Args, Default)]
pub struct Args {
    /// Run the wasm-bindgen tests only in this API dialect (repeatable;
    /// default: seed, sub-account and partner).
    #[arg(long = "dialect", value_name = "NAME")]
    dialects: Vec<Dialect>,
    /// Run the wasm-bindgen tests only in this browser (default: Chromium,
    /// then Firefox). The npm package test always uses Chromium.
    #[arg(long, value_enum, value_name = "BROWSER")]
    browser: Option<Browser>,
    /// Skip the npm package's type check and import test.
    #[arg(long)]
    no_npm: bool,
}

/// A running emulator and what its first stdout line said.
struct Emulator {
    _proc: Proc,
    url: String,
    partner_token: String,
}

/// The emulator flags of `dialect`: the default `seed` runs lenient, as a
/// user starting the emulator gets it; every other dialect strictly, so a
/// wrong trailing slash fails the test that sent it.
fn dialect_args(dialect: Dialect) -> Vec<&'static str> {
    match dialect {
        Dialect::Seed => Vec::new(),
        d => vec!["--dialect", d.name(), "--strict-slashes"],
    }
}

/// Starts an emulator in `dialect` on a free port that allows exactly `origins`.
fn start_emulator(name: &str, dialect: Dialect, origins: &[String]) -> anyhow::Result<Emulator> {
    let mut cmd = Command::new(crate::cmd::debug_bin_dir().join("peliqan-emulator"));
    cmd.args(["--listen", "127.0.0.1:0"])
        .args(dialect_args(dialect));
    for o in origins {
        cmd.args(["--allowed-origin", o]);
    }
    let mut proc = Proc::spawn(name, cmd)?;
    let (url, partner_token) =
        proc.wait_for(Duration::from_secs(30), crate::procs::emulator_ready)?;
    Ok(Emulator {
        _proc: proc,
        url,
        partner_token,
    })
}

/// Starts the project's token service in front of `emulator`, in the
/// emulator's dialect, for the SDK's `tokenUrl` mode, and signs a user JWT
/// it accepts (the demo's first user).
fn start_token_service(
    emulator: &Emulator,
    dialect: Dialect,
    page: &str,
) -> anyhow::Result<(Proc, String, String)> {
    let secret = crate::demo_login::random_secret()?;
    let mut cmd = Command::new(crate::cmd::debug_bin_dir().join("peliqan-token-service"));
    cmd.env("PELIQAN_API_URL", &emulator.url)
        .env("PELIQAN_PARTNER_TOKEN", &emulator.partner_token)
        .env("TOKEN_SERVICE_LISTEN", "127.0.0.1:0")
        .env("TOKEN_SERVICE_ALLOWED_ORIGINS", page)
        .env("TOKEN_SERVICE_JWT_HS256_SECRET", &secret)
        .env("TOKEN_SERVICE_AUTO_PROVISION", "true")
        .env("NO_COLOR", "1");
    if dialect != Dialect::Seed {
        cmd.env("PELIQAN_API_DIALECT", dialect.name());
    }
    let mut proc = Proc::spawn("token-service", cmd)?;
    let url = proc.wait_for(Duration::from_secs(30), crate::procs::listening_url)?;
    let user = crate::demo_login::USERS[0].user;
    let (jwt, _) = crate::demo_login::login(user, &secret).context("no demo user")??;
    Ok((proc, url, jwt))
}

/// A port that is free now (the runner binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs all browser tests of the SDK (`cargo xtask test`).
pub fn all() -> anyhow::Result<()> {
    run_tests(Args::default())
}

/// Runs the browser tests `args` select, timing each stage.
pub fn run_tests(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let dialects = if args.dialects.is_empty() {
        Dialect::ALL.to_vec()
    } else {
        args.dialects
    };
    let browsers = match args.browser {
        Some(b) => vec![b],
        None => vec![Browser::Chromium, Browser::Firefox],
    };
    let tc = wasm::ensure()?;
    let bindgen_dir = wasm::ensure_bindgen()?;
    // Chromium also runs the npm package test.
    wasm::ensure_browser()?;
    let geckodriver = if browsers.contains(&Browser::Firefox) {
        Some(firefox::ensure()?)
    } else {
        None
    };
    let bins = [
        "-p",
        "peliqan-emulator",
        "-p",
        "peliqan-token-service",
        "--bins",
    ];
    run(cargo().arg("build").args(bins))?;
    for dialect in dialects {
        wasm_bindgen_tests(
            &tc,
            &bindgen_dir,
            dialect,
            &browsers,
            geckodriver.as_deref(),
        )?;
    }
    if !args.no_npm {
        let t = Instant::now();
        npm_import_test()?;
        eprintln!(
            "xtask: npm package tests passed ({:.0} s)",
            t.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "xtask: browser stage passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the wasm-bindgen tests in `dialect`, in each of `browsers` in turn,
/// against one set of emulators and one test build.
fn wasm_bindgen_tests(
    tc: &wasm::Toolchain,
    bindgen_dir: &std::path::Path,
    dialect: Dialect,
    browsers: &[Browser],
    geckodriver: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    eprintln!(
        "xtask: SDK browser tests, `{dialect}` dialect{}",
        if dialect == Dialect::Seed {
            ""
        } else {
            ", strict slashes"
        }
    );
    let port = free_port()?;
    let page = format!("http://127.0.0.1:{port}");
    let allowing = start_emulator("emulator", dialect, std::slice::from_ref(&page))?;
    let refusing = start_emulator(
        "emulator-nocors",
        dialect,
        &["http://127.0.0.1:1".to_owned()],
    )?;
    let (_token_service, token_service_url, user_jwt) =
        start_token_service(&allowing, dialect, &page)?;
    for &browser in browsers {
        let t = Instant::now();
        let mut test = tc.cargo("test");
        test.args(["-p", "peliqan-embed", "--test", "browser"])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                bindgen_dir.join("wasm-bindgen-test-runner"),
            )
            .env("WASM_BINDGEN_TEST_ADDRESS", format!("127.0.0.1:{port}"))
            .env("WASM_BINDGEN_TEST_TIMEOUT", "180")
            // The runner serves its page with COOP `same-origin` and COEP
            // `require-corp` (for SharedArrayBuffer) unless told not to. A
            // partner's page rarely has them, and under that COOP a real
            // popup navigated to another origin is cut off from its opener
            // (`closed` reads true, `close()` cannot reach it).
            .env("WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION", "1")
            .env("PELIQAN_EMULATOR_URL", &allowing.url)
            .env("PELIQAN_PARTNER_TOKEN", &allowing.partner_token)
            .env("PELIQAN_NOCORS_URL", &refusing.url)
            .env("PELIQAN_TOKEN_SERVICE_URL", &token_service_url)
            .env("PELIQAN_USER_JWT", &user_jwt)
            // webdriver.json (both browsers' options) is read from the
            // crate directory.
            .current_dir(root().join("crates/peliqan-embed"));
        match browser {
            // The runner takes GECKODRIVER over CHROMEDRIVER.
            Browser::Chromium => {
                test.env_remove("GECKODRIVER")
                    .env("CHROMEDRIVER", "/usr/bin/chromedriver");
            }
            Browser::Firefox => {
                firefox::configure(&mut test, geckodriver.context("geckodriver not set up")?);
            }
        }
        let name = browser.name();
        eprintln!("xtask: SDK browser tests in {name}, `{dialect}` dialect");
        run(&mut test).with_context(|| {
            format!("SDK browser tests failed in {name} in the `{dialect}` dialect")
        })?;
        eprintln!(
            "xtask: SDK browser tests passed in {name} in the `{dialect}` dialect ({:.0} s)",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn npm_import_test() -> anyhow::Result<()> {
    let tarball = crate::npm::build(true)?.context("npm pack gave no tarball")?;
    let scratch = root().join("target/npm-import-test");
    std::fs::create_dir_all(&scratch)?;
    // Written once: npm records the test tools in it, so that installing the
    // tarball with --no-save below does not prune them.
    if !scratch.join("package.json").exists() {
        std::fs::write(
            scratch.join("package.json"),
            "{\"private\": true, \"type\": \"module\"}\n",
        )?;
    }
    // Installs the tarball exactly as a partner would; playwright-core drives
    // Debian's Chromium (it cannot download its own browser here), and
    // TypeScript checks the package's types against typical partner code.
    let have = |p: &str| {
        scratch
            .join("node_modules")
            .join(p)
            .join("package.json")
            .exists()
    };
    if !have("typescript") || !have("playwright-core") {
        run(Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "playwright-core@1",
                "typescript@5",
            ])
            .current_dir(&scratch))?;
    }
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--no-save"])
        .arg(&tarball)
        .current_dir(&scratch))?;
    let tests = root().join("crates/peliqan-embed/js-tests");
    // Copied next to node_modules: imports resolve from the file's folder.
    for file in ["import-test.mjs", "types-check.ts"] {
        std::fs::copy(tests.join(file), scratch.join(file))?;
    }
    run(Command::new(scratch.join("node_modules/.bin/tsc"))
        .args([
            "--noEmit", "--strict", "--target", "es2022", "--module", "esnext",
        ])
        .args([
            "--moduleResolution",
            "bundler",
            "--lib",
            "es2022,dom",
            "types-check.ts",
        ])
        .current_dir(&scratch))
    .context("index.d.ts does not type-check typical partner code")?;
    let port = free_port()?;
    let page = format!("http://127.0.0.1:{port}");
    let emulator = start_emulator("emulator-npm", Dialect::Seed, std::slice::from_ref(&page))?;
    run(Command::new("node")
        .arg("import-test.mjs")
        .current_dir(&scratch)
        .env("PORT", port.to_string())
        .env("CHROMIUM", "/usr/bin/chromium")
        .env("PELIQAN_EMULATOR_URL", &emulator.url)
        .env("PELIQAN_PARTNER_TOKEN", &emulator.partner_token))
    .context("npm package import test failed")
}
