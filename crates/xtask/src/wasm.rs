//! The WebAssembly toolchain, set up by the xtask itself, idempotently.
//!
//! Standard route: rustup's `wasm32-unknown-unknown` target. Machines that
//! cannot reach rustup's download server (where `rustup target add` hangs)
//! get the Debian route instead: Debian's `rustc-web` with the matching
//! standard-library sources builds `std` for wasm32 itself (`-Zbuild-std`,
//! allowed on a stable compiler through `RUSTC_BOOTSTRAP=1`) and LLVM's
//! `wasm-ld` links. See `../shared/notes/wasm-toolchain.md` for the recipe.
//! Builds go to `target/wasm`, so Debian's compiler never invalidates the
//! rustup-built native artefacts in `target/`.
//!
//! Also here: `wasm-bindgen` at exactly the `Cargo.lock` version, `wasm-opt`
//! from npm's `binaryen` (Debian's is too old), and Chromium + chromedriver.

use crate::cmd::{cargo, root, run};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-22"];
const BINARYEN: &str = "binaryen@132";
/// Minifies the package's JavaScript (the wasm-bindgen glue and the entry).
const ESBUILD: &str = "esbuild@0.28.2";

/// Which compiler builds wasm32.
pub enum Toolchain {
    /// rustup's toolchain has the target installed.
    Rustup,
    /// Debian's rustc-web with `-Zbuild-std`.
    Debian,
}

/// Finds or installs a wasm32 toolchain. `PELIQAN_WASM_TOOLCHAIN=debian`
/// (or `rustup`) forces a route, e.g. to compare their bundles.
pub fn ensure() -> anyhow::Result<Toolchain> {
    let forced = std::env::var("PELIQAN_WASM_TOOLCHAIN").unwrap_or_default();
    if forced == "rustup"
        || (forced != "debian" && (rustup_has_target() || try_rustup_target_add()))
    {
        return Ok(Toolchain::Rustup);
    }
    let why = if forced == "debian" {
        "PELIQAN_WASM_TOOLCHAIN=debian"
    } else {
        "rustup's target is unavailable"
    };
    eprintln!("xtask: {why}; building wasm with Debian's rustc-web (-Zbuild-std)");
    // One file of each package: any missing one installs them all at once.
    let probes = [
        "/usr/bin/rustc",
        "/usr/bin/cargo",
        "/usr/lib/rustlib/src/rust/library/std/Cargo.toml",
        "/usr/bin/wasm-ld-22",
    ];
    for probe in probes {
        ensure_apt(probe, DEBIAN_PACKAGES)?;
    }
    Ok(Toolchain::Debian)
}

impl Toolchain {
    /// The route, for build reports (bundle sizes differ between them).
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Rustup => "rustup wasm32 target",
            Self::Debian => "Debian rustc-web, build-std",
        }
    }

    /// `cargo <sub> --target wasm32-unknown-unknown ...` in `target/wasm`.
    pub fn cargo(&self, sub: &str) -> Command {
        let mut c = match self {
            Self::Rustup => cargo(),
            Self::Debian => {
                let mut c = Command::new("/usr/bin/cargo");
                c.current_dir(root())
                    .env("RUSTC", "/usr/bin/rustc")
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld-22");
                c
            }
        };
        c.env("CARGO_TARGET_DIR", root().join("target/wasm"))
            .args([sub, "--target", TARGET]);
        if let Self::Debian = self {
            c.arg("-Zbuild-std=std,panic_abort");
        }
        c
    }

    /// Size-tuned release settings for the npm bundle (profile overrides by
    /// environment, so the workspace's own release profile stays as is).
    ///
    /// Measured 2026-11-30 (gzipped, whole bundle): `opt-level = "z"` beats
    /// `"s"` by 4.4 KB; `-Zlocation-detail=none` (panic locations without
    /// file names, so no source paths in the bundle) takes 1.4 KB off; it
    /// needs `RUSTC_BOOTSTRAP=1` on a stable compiler, as the Debian route
    /// already does. `-Zshare-generics`, `-Zinline-mir=no`,
    /// `-Zmir-opt-level=1` and an LLVM inline threshold of 0 gained
    /// nothing or grew the bundle.
    pub fn release_for_size(&self, c: &mut Command) {
        c.arg("--release")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
            .env("CARGO_PROFILE_RELEASE_LTO", "true")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
            .env("RUSTC_BOOTSTRAP", "1");
        const FLAGS: &str = "-Zlocation-detail=none";
        match self {
            Self::Rustup => {
                c.env("CARGO_PROFILE_RELEASE_PANIC", "abort")
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", FLAGS);
            }
            // With std built from source, panics can abort without their
            // formatting machinery: tens of kilobytes off the bundle.
            Self::Debian => {
                c.arg("-Zpanic-immediate-abort")
                    .env("CARGO_PROFILE_RELEASE_PANIC", "immediate-abort")
                    .env(
                        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                        ["-Zunstable-options -Cpanic=immediate-abort ", FLAGS].concat(),
                    );
            }
        }
    }

    /// Where `cargo build` puts artefacts of `profile`.
    pub fn out_dir(profile: &str) -> PathBuf {
        root().join("target/wasm").join(TARGET).join(profile)
    }
}

fn rustup_has_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
}

/// Tries `rustup target add` once per machine, for at most 30 s: offline it
/// hangs instead of failing, so a timeout is remembered in a marker file.
fn try_rustup_target_add() -> bool {
    let marker = root().join("target/tools/rustup-wasm32-unavailable");
    if marker.exists() || Command::new("rustup").arg("--version").output().is_err() {
        return false;
    }
    eprintln!("xtask: trying `rustup target add {TARGET}` (30 s at most)");
    let ok = Command::new("rustup")
        .args(["target", "add", TARGET])
        .spawn()
        .ok()
        .and_then(|mut child| {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(status.success());
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
        .unwrap_or(false);
    if !ok {
        let _ = std::fs::create_dir_all(marker.parent().unwrap());
        let _ = std::fs::write(
            &marker,
            "rustup target add timed out or failed; delete to retry\n",
        );
    }
    ok && rustup_has_target()
}

/// The `wasm-bindgen` crate version in Cargo.lock.
fn locked_bindgen_version() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let v = lines.next().unwrap_or_default();
            if let Some(v) = v
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
            {
                return Ok(v.to_owned());
            }
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin").join(name)
}

/// `wasm-bindgen` and `wasm-bindgen-test-runner` at the locked version;
/// returns the directory holding them.
pub fn ensure_bindgen() -> anyhow::Result<PathBuf> {
    let version = locked_bindgen_version()?;
    let bin = cargo_bin("wasm-bindgen");
    let installed = Command::new(&bin).arg("--version").output().ok();
    let have = installed.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if have.as_deref() != Some(&format!("wasm-bindgen {version}")) {
        // No --locked: the CLI's own lock file pins versions the registry
        // mirror here may not serve.
        run(cargo().args(["install", "wasm-bindgen-cli", "--force", "--version", &version]))
            .context("could not install wasm-bindgen-cli; run `cargo install wasm-bindgen-cli --version VERSION` by hand")?;
    }
    Ok(bin.parent().unwrap().to_path_buf())
}

/// `wasm-opt` from npm's binaryen, in `target/tools`.
pub fn ensure_wasm_opt() -> anyhow::Result<PathBuf> {
    ensure_npm_tool("wasm-opt", BINARYEN)
}

/// `esbuild` from npm, in `target/tools`.
pub fn ensure_esbuild() -> anyhow::Result<PathBuf> {
    ensure_npm_tool("esbuild", ESBUILD)
}

/// The command `bin` of npm package `package` (`name@version`), installed
/// in `target/tools` unless already there.
fn ensure_npm_tool(bin: &str, package: &str) -> anyhow::Result<PathBuf> {
    let tools = root().join("target/tools");
    let path = tools.join("node_modules/.bin").join(bin);
    if !path.exists() {
        ensure_apt("npm", &["nodejs", "npm"])?;
        std::fs::create_dir_all(&tools)?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .arg(package))?;
    }
    Ok(path)
}

/// Chromium and chromedriver from Debian.
pub fn ensure_browser() -> anyhow::Result<()> {
    ensure_apt("/usr/bin/chromium", &["chromium", "chromium-driver"])?;
    ensure_apt("/usr/bin/chromedriver", &["chromium", "chromium-driver"])
}

/// Installs Debian `packages` unless `probe` (a path or a command) exists.
pub fn ensure_apt(probe: &str, packages: &[&str]) -> anyhow::Result<()> {
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
    let line = format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("{probe} is missing and installing it needs root: run `{line}` as root, then retry");
    }
    eprintln!("xtask: {probe} is missing; installing {packages:?}");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .with_context(|| format!("could not install {packages:?}; run `{line}`"))
}
