//! `cargo xtask consumers [NAME]...`: the packed npm tarball used by tiny
//! apps of real bundlers, each built and loaded in headless Chromium.
//!
//! Each app in `tests/consumers/NAME` (exact versions, lock file) is copied
//! to `target/consumers/NAME` with `tests/consumers/shared/checks.js`,
//! installed with `npm ci` (skipped while its `node_modules` matches the
//! lock) plus `npm install --no-save` of the tarball, built with its
//! bundler, and served: its `dist/` by a plain static server (a missing
//! file is a 404), and for the Vite and Next.js apps also their dev
//! server. The page (`tests/consumers/driver.mjs` checks it) must get a
//! `PeliqanError` from `new PeliqanEmbed` before `init()` and from `.wasm`
//! URLs answering 404 or HTML, then load the `.wasm` its bundler handled,
//! list connectors and add an API-key connection on the emulator. Vite 6 also runs its dev server
//! once without `optimizeDeps.exclude`, where `init()` must reject with a
//! `PeliqanError` naming that fix.

use crate::cmd::{cargo, root, run};
use crate::procs::Proc;
use crate::wasm::ensure_apt;
use anyhow::{Context, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where Debian puts Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Each app and how it is served: `static` (its built `dist/`), `dev` (its
/// Vite dev server), `dev-no-exclude` (the same without the README's fix).
const APPS: &[(&str, &[&str])] = &[
    ("vite8", &["static", "dev"]),
    ("vite7", &["static", "dev"]),
    ("vite6", &["static", "dev", "dev-no-exclude"]),
    ("esbuild", &["static"]),
    ("webpack", &["static"]),
    ("rollup", &["static"]),
    ("next", &["static", "dev"]),
];

/// Runs the apps named in `only` (all when empty). With `reuse_tarball`
/// (from `cargo xtask test`, right after the browser tests packed it) the
/// existing tarball is used instead of building the package again.
pub fn run_consumers(only: &[String], reuse_tarball: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    for name in only {
        if !APPS.iter().any(|(n, _)| n == name) {
            let known: Vec<_> = APPS.iter().map(|(n, _)| *n).collect();
            bail!("no consumer app `{name}` (known: {})", known.join(", "));
        }
    }
    ensure_apt("node", &["nodejs", "npm"])?;
    ensure_apt(CHROMIUM, &["chromium"])?;
    let playwright = ensure_playwright()?;
    run(cargo().args([
        "build",
        "-p",
        "peliqan-emulator",
        "--bin",
        "peliqan-emulator",
    ]))?;
    let existing = root().join(format!(
        "target/npm/peliqan-embed-{}.tgz",
        env!("CARGO_PKG_VERSION")
    ));
    let packed = if reuse_tarball && existing.exists() {
        existing
    } else {
        crate::npm::build(true)?.context("npm pack gave no tarball")?
    };
    let work = root().join("target/consumers");
    std::fs::create_dir_all(&work)?;
    // Our own copy: another build may repack target/npm meanwhile.
    let tarball = work.join("peliqan-embed.tgz");
    std::fs::copy(&packed, &tarball)?;
    let templates = root().join("tests/consumers");
    std::fs::copy(templates.join("driver.mjs"), work.join("driver.mjs"))?;

    let apps: Vec<_> = APPS
        .iter()
        .filter(|(n, _)| only.is_empty() || only.iter().any(|o| o == n))
        .collect();
    // One emulator for every run, allowing exactly the ports the apps get.
    // The listeners are held until every port is picked, so no two runs share one.
    let mut held = Vec::new();
    let mut runs: Vec<(&str, &str, u16)> = Vec::new();
    for (name, modes) in &apps {
        for mode in modes.iter() {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            runs.push((name, mode, listener.local_addr()?.port()));
            held.push(listener);
        }
    }
    drop(held);
    let mut emulator_cmd = Command::new(crate::cmd::debug_bin_dir().join("peliqan-emulator"));
    emulator_cmd.args(["--listen", "127.0.0.1:0"]);
    for (_, _, port) in &runs {
        emulator_cmd.args(["--allowed-origin", &format!("http://127.0.0.1:{port}")]);
    }
    let mut emulator = Proc::spawn("emulator-consumers", emulator_cmd)?;
    let (emu_url, partner_token) =
        emulator.wait_for(Duration::from_secs(30), crate::procs::emulator_ready)?;

    let mut timings = Vec::new();
    for (name, _) in &apps {
        let app_started = Instant::now();
        let dir = work.join(name);
        prepare(&templates, name, &dir, &tarball)?;
        if runs.iter().any(|(n, m, _)| n == name && *m == "static") {
            run(Command::new("npm")
                .args(["run", "--silent", "build"])
                .current_dir(&dir)
                .env("NEXT_TELEMETRY_DISABLED", "1"))
            .with_context(|| format!("the {name} app does not build with the packed tarball"))?;
        }
        for (_, mode, port) in runs.iter().filter(|(n, _, _)| n == name) {
            eprintln!("xtask: consumer {name}, {mode}");
            run(Command::new("node")
                .arg("../driver.mjs")
                .current_dir(&dir)
                .env("MODE", mode)
                .env("PORT", port.to_string())
                .env("EMU", &emu_url)
                .env("TOKEN", &partner_token)
                .env("CHROMIUM", CHROMIUM)
                .env("PLAYWRIGHT", &playwright))
            .with_context(|| {
                format!("the packed peliqan-embed does not work with {name} ({mode}); see the FAILED line above")
            })?;
        }
        timings.push(format!(
            "{name} {:.0} s",
            app_started.elapsed().as_secs_f64()
        ));
    }
    eprintln!(
        "xtask: consumer apps passed ({}; {:.0} s in all)",
        timings.join(", "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Copies the app's template over `dir`, installs its locked tools (unless
/// already done for this lock) and the tarball.
fn prepare(templates: &Path, name: &str, dir: &Path, tarball: &Path) -> anyhow::Result<()> {
    let src = templates.join(name);
    copy_tree(&src, dir).with_context(|| format!("could not copy {}", src.display()))?;
    std::fs::copy(templates.join("shared/checks.js"), dir.join("checks.js"))?;
    let dist = dir.join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    let lock = std::fs::read(src.join("package-lock.json"))
        .with_context(|| format!("{name} has no package-lock.json"))?;
    let stamp = dir.join("node_modules/.xtask-installed-lock.json");
    if std::fs::read(&stamp).ok().as_deref() != Some(&lock[..]) {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir))?;
        std::fs::write(&stamp, &lock)?;
    }
    // A fresh copy of the package each run, exactly as a partner installs it.
    let installed = dir.join("node_modules/peliqan-embed");
    if installed.exists() {
        std::fs::remove_dir_all(&installed)?;
    }
    run(Command::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
        ])
        .arg(tarball)
        .current_dir(dir))
}

/// Copies the files under `src` into `dest` (an app's template: no
/// `node_modules` or build output there).
fn copy_tree(src: &Path, dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dest)?;
    for entry in std::fs::read_dir(src)? {
        let p = entry?.path();
        let to = dest.join(p.file_name().unwrap_or_default());
        if p.is_dir() {
            if !p.ends_with("node_modules") {
                copy_tree(&p, &to)?;
            }
        } else {
            std::fs::copy(&p, &to)?;
        }
    }
    Ok(())
}

/// playwright-core from `tests/e2e` (installed from its lock when missing);
/// returns the path of its ES module entry.
fn ensure_playwright() -> anyhow::Result<PathBuf> {
    let e2e = root().join("tests/e2e");
    let entry = e2e.join("node_modules/playwright-core/index.mjs");
    if !entry.exists() {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e))?;
    }
    Ok(entry)
}
