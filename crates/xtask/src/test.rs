//! `cargo xtask test`: every test of the project, in one command.

use crate::cmd::{cargo, run};
use peliqan_api::Dialect;
use std::time::Instant;

/// Checks formatting and clippy (warnings are errors), installs Debian's
/// `redis-server` (the token service's tests start their own on a free
/// port), runs the native test suite of the whole workspace, the client's
/// and the token service's integration suites again in every API dialect, then the
/// browser SDK's tests in headless Chromium (wasm-bindgen-test and the npm
/// package), then apps of real bundlers built on the packed package
/// (`cargo xtask consumers`), then the demo's end-to-end browser tests.
pub fn all() -> anyhow::Result<()> {
    let started = Instant::now();
    // Formatting and lints first: CI fails on them, not only habit.
    ensure_lint_tools()?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    ensure_redis_server()?;
    run(cargo().args(["test", "--workspace", "--all-targets"]))?;
    run(cargo().args(["test", "--workspace", "--doc"]))?;
    dialects()?;
    crate::browser_test::all()?;
    // The browser tests just packed the npm tarball: the apps use it.
    crate::consumers::run_consumers(&[], true)?;
    crate::e2e::run_all()?;
    crate::python_test::run_test()?;
    eprintln!(
        "xtask: every test passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The suites that talk to Peliqan, once per dialect against an emulator
/// speaking only that dialect with Django's strict trailing slashes (the
/// workspace run above covers the lenient default). The test binaries are
/// already built, so each run costs only its own time.
fn dialects() -> anyhow::Result<()> {
    for dialect in Dialect::ALL {
        eprintln!("xtask: client and token-service suites, `{dialect}` dialect, strict slashes");
        run(cargo()
            .args([
                "test",
                "-p",
                "peliqan-client",
                "-p",
                "peliqan-token-service",
            ])
            .args(["--test", "api"])
            .env("PELIQAN_TEST_DIALECT", dialect.name()))?;
    }
    Ok(())
}

/// The token service's integration tests start a real `redis-server` of
/// their own on a free loopback port (`tests/api/redis_server.rs`); this
/// installs Debian's package once (idempotent, like Chromium). The path is
/// the one the tests look for.
fn ensure_redis_server() -> anyhow::Result<()> {
    crate::wasm::ensure_apt("/usr/bin/redis-server", &["redis-server"])
}

/// rustfmt and clippy come with rustup's default profile; a minimal profile
/// lacks them, so add them (idempotent) or say what to run.
fn ensure_lint_tools() -> anyhow::Result<()> {
    let present = |sub: &str| {
        cargo()
            .args([sub, "--version"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if present("fmt") && present("clippy") {
        return Ok(());
    }
    run(std::process::Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))
        .map_err(|e| {
            anyhow::anyhow!(
                "{e:#}\nrustfmt and clippy are needed: run `rustup component add rustfmt clippy`"
            )
        })
}
