//! Headless Firefox for the SDK's browser tests, set up by the xtask itself,
//! idempotently: Debian's `firefox-esr` from apt (as root) and `geckodriver`
//! built from crates.io at a pinned version into `~/.cargo/bin`.
//!
//! `wasm-bindgen-test-runner` picks Firefox when `GECKODRIVER` names the
//! driver; Firefox's options (binary, `-headless`, the pref that lets a test
//! page open popups without a user gesture) are in the crate's
//! `webdriver.json` under `moz:firefoxOptions`.

use crate::cmd::{cargo, run};
use crate::wasm::ensure_apt;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Debian's Firefox ESR, the one the project's standard names.
pub const FIREFOX: &str = "/usr/bin/firefox-esr";
/// geckodriver from crates.io; 0.37.1 builds with the registry mirror here
/// (without `--locked`, whose lock may pin versions the mirror lacks). A
/// debug build: it only relays WebDriver commands, and builds in about half
/// the time of a release one (3.5 min against 6.5 min on 2 busy cores).
const GECKODRIVER_VERSION: &str = "0.37.1";

/// Installs Firefox ESR and geckodriver unless present; returns geckodriver.
pub fn ensure() -> anyhow::Result<PathBuf> {
    if !Path::new(FIREFOX).exists() {
        let t = Instant::now();
        // On failure ensure_apt names the apt-get line to run.
        ensure_apt(FIREFOX, &["firefox-esr"]).context(
            "Firefox ESR is needed for the browser tests in Firefox; \
             `cargo xtask browser-test --browser chromium` skips them",
        )?;
        eprintln!(
            "xtask: installed firefox-esr in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    let bin = cargo_bin("geckodriver");
    let installed = Command::new(&bin).arg("--version").output().ok();
    let have = installed.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    // `geckodriver 0.37.1 (hash date)` on its first line.
    let want = format!("geckodriver {GECKODRIVER_VERSION}");
    let first = have.as_deref().and_then(|h| h.lines().next()).unwrap_or("");
    if first != want && !first.starts_with(&format!("{want} ")) {
        let t = Instant::now();
        eprintln!(
            "xtask: installing geckodriver {GECKODRIVER_VERSION} from crates.io (about 4 min, once)"
        );
        run(cargo().args([
            "install",
            "geckodriver",
            "--force",
            "--debug",
            "--version",
            GECKODRIVER_VERSION,
        ]))
        .with_context(|| {
            format!(
                "could not install geckodriver; run `cargo install geckodriver --version \
                 {GECKODRIVER_VERSION}` by hand, or skip Firefox with \
                 `cargo xtask browser-test --browser chromium`"
            )
        })?;
        eprintln!(
            "xtask: installed geckodriver in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(bin)
}

/// Sets up `cmd` (a `cargo test` whose runner is wasm-bindgen-test-runner)
/// to drive headless Firefox through `geckodriver`.
///
/// geckodriver gives Firefox a fresh profile in `TMPDIR` per session, so
/// nothing is read from or left in `HOME` (root's, on CI); `HOME` is not
/// overridden because the same environment runs `cargo`.
pub fn configure(cmd: &mut Command, geckodriver: &Path) {
    // The runner takes the first driver variable it finds.
    cmd.env_remove("CHROMEDRIVER")
        .env("GECKODRIVER", geckodriver)
        // geckodriver logs every WebDriver command at `info`.
        .env("GECKODRIVER_ARGS", "--log warn")
        // Also set by the runner's `-headless` argument; this covers any
        // Firefox geckodriver starts without it.
        .env("MOZ_HEADLESS", "1");
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin").join(name)
}
