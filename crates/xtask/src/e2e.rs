//! `cargo xtask e2e`: the end-to-end browser tests in `tests/e2e`.
//!
//! Node's built-in test runner drives Debian's Chromium through
//! `playwright-core` (`npx playwright install` cannot download a browser
//! here, and needs not: Debian's works). Each test file starts its own demo
//! stack by running this same xtask binary as `demo --print-config`, so the
//! tests exercise exactly what `cargo xtask demo` runs.

use crate::cmd::{root, run};
use crate::wasm::ensure_apt;
use anyhow::Context;
use std::process::Command;

/// Where Debian puts Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs what the tests need, builds the demo, and runs the tests.
pub fn run_all() -> anyhow::Result<()> {
    ensure_apt("node", &["nodejs", "npm"])?;
    ensure_apt(CHROMIUM, &["chromium"])?;
    let dir = root().join("tests/e2e");
    // `npm ci` installs exactly the lock file; skipped when already done.
    if !installed_matches_lock(&dir) {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir))?;
    }
    crate::demo::build()?;
    let artifacts = root().join("target/e2e-artifacts");
    std::fs::create_dir_all(&artifacts)?;
    let me = std::env::current_exe().context("where is the xtask binary?")?;
    // The whole demo in every API dialect (strict slashes); the COOP popup
    // case, the drop-in UI and the cookie-session variant are about
    // browsers and identity, not dialects, so they run once.
    for dialect in peliqan_api::Dialect::ALL {
        let mut files = vec!["demo.test.mjs"];
        if *dialect == peliqan_api::Dialect::Seed {
            files.extend(["coop.test.mjs", "ui.test.mjs", "session.test.mjs"]);
        }
        eprintln!("xtask: e2e tests, `{dialect}` dialect");
        run(Command::new("node")
            // One file at a time: each starts a stack and a browser, on 2 cores.
            .args(["--test", "--test-concurrency=1", "--test-timeout=120000"])
            .args(&files)
            .current_dir(&dir)
            .env("XTASK_BIN", &me)
            .env("E2E_DIALECT", dialect.name())
            .env("CHROMIUM", CHROMIUM)
            .env("E2E_ARTIFACTS", &artifacts))?;
    }
    eprintln!(
        "xtask: e2e artefacts (screenshots, stack logs) in {}",
        artifacts.display()
    );
    Ok(())
}

/// Whether `node_modules` holds the versions the lock file names.
fn installed_matches_lock(dir: &std::path::Path) -> bool {
    let version = |path: std::path::PathBuf, pointer: &str| -> Option<String> {
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        json.pointer(pointer)?.as_str().map(str::to_string)
    };
    // Every dev dependency, so a checkout from before one was added installs it.
    ["playwright-core", "axe-core"].iter().all(|name| {
        let locked = version(
            dir.join("package-lock.json"),
            &["/packages/node_modules~1", name, "/version"].concat(),
        );
        let installed = version(
            dir.join("node_modules").join(name).join("package.json"),
            "/version",
        );
        locked.is_some() && locked == installed
    })
}
