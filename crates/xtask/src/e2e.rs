//! `cargo xtask e2e`: the end-to-end browser tests in `tests/e2e`.
//!
//! Node's built-in test runner drives Debian's Chromium through
//! `playwright-core` (`npx playwright install` cannot download a browser
//! here, and needs not: Debian's works). Each test file starts its own demo
//! stack by running this same xtask binary as `demo --print-config`, so the
//! tests exercise exactly what `cargo xtask demo` runs.

use crate::cmd::{root, run};
use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// Where Debian puts Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs what the tests need, builds the demo, and runs the tests.
pub fn run_all() -> anyhow::Result<()> {
    ensure_apt("node", &["nodejs", "npm"])?;
    ensure_apt(CHROMIUM, &["chromium"])?;
    let dir = root().join("tests/e2e");
    // `npm ci` installs exactly the lock file; skipped when already done.
    if !dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir))?;
    }
    crate::demo::build()?;
    let artifacts = root().join("target/e2e-artifacts");
    std::fs::create_dir_all(&artifacts)?;
    let me = std::env::current_exe().context("where is the xtask binary?")?;
    run(Command::new("node")
        // One file at a time: each starts a stack and a browser, on 2 cores.
        .args(["--test", "--test-concurrency=1", "--test-timeout=120000"])
        .args(["demo.test.mjs", "coop.test.mjs"])
        .current_dir(&dir)
        .env("XTASK_BIN", me)
        .env("CHROMIUM", CHROMIUM)
        .env("E2E_ARTIFACTS", &artifacts))?;
    eprintln!(
        "xtask: e2e artefacts (screenshots, stack logs) in {}",
        artifacts.display()
    );
    Ok(())
}

/// Installs Debian `packages` unless `probe` (a path, or a command on PATH)
/// already exists.
fn ensure_apt(probe: &str, packages: &[&str]) -> anyhow::Result<()> {
    let present = if probe.starts_with('/') {
        Path::new(probe).exists()
    } else {
        Command::new(probe)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if present {
        return Ok(());
    }
    eprintln!("xtask: {probe} is missing; installing {packages:?} with apt-get");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
