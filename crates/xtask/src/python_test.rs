//! `cargo xtask python-test`: Peliqan's own Python SDK (`peliqan` 2.18.5
//! from PyPI) run against the emulator in the `partner` dialect with strict
//! trailing slashes (`tests/python/peliqan_sdk_test.py`). It is the best
//! public evidence of the API Peliqan speaks, so the emulator must satisfy
//! it call for call.
//!
//! Set up the way the browser tests set up Chromium: idempotently, by the
//! command itself. A virtualenv under `target/python-venv` (Debian's
//! `python3-venv` installed with apt-get when `python3 -m venv` cannot
//! work and we are root; otherwise the command to run is printed), the SDK
//! pip-installed into it once (pip brings its pandas/openai dependencies),
//! then the built emulator binary started on a free port, its first stdout
//! line read, and the script run with the URL and credentials in its
//! environment. The script prints its own closing line
//! (`python: N passed, M failed`).

use crate::cmd::{cargo, debug_bin_dir, root, run, shown};
use crate::procs::Proc;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The SDK release the `partner` dialect was written from.
const SDK_VERSION: &str = "2.18.5";

/// How long the script may run: its calls are local, but importing pandas
/// on a busy 2-core machine takes a while.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// What the emulator's first stdout line says.
struct Started {
    url: String,
    partner_token: String,
    client_id: String,
    client_secret: String,
}

/// Builds and starts what the test needs and runs it.
pub fn run_test() -> anyhow::Result<()> {
    let python = ensure_venv()?;
    ensure_sdk(&python)?;
    run(cargo().args(["build", "-p", "peliqan-emulator", "--bins"]))?;
    let mut cmd = Command::new(debug_bin_dir().join("peliqan-emulator"));
    cmd.args(["--dialect", "partner", "--strict-slashes"])
        .args(["--listen", "127.0.0.1:0"]);
    let mut emulator = Proc::spawn("emulator-python", cmd)?;
    let started = emulator.wait_for(Duration::from_secs(30), first_line)?;
    let script = root().join("tests/python/peliqan_sdk_test.py");
    let mut test = Command::new(&python);
    test.arg(&script)
        .env("PELIQAN_EMULATOR_URL", &started.url)
        .env("PELIQAN_PARTNER_TOKEN", &started.partner_token)
        .env("PELIQAN_CLIENT_ID", &started.client_id)
        .env("PELIQAN_CLIENT_SECRET", &started.client_secret)
        // Lines appear as they happen, interleaved right with the emulator's.
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("PQ_API_CREDENTIALS")
        .env_remove("PELIQAN_URL")
        .current_dir(root());
    run_with_timeout(&mut test, SCRIPT_TIMEOUT).context(
        "Peliqan's Python SDK failed against the emulator (`partner` dialect, strict slashes); \
         the failing step and its traceback are printed above",
    )
}

/// The emulator's startup line: `{"url", "partner_token", "client_id", "client_secret"}`.
fn first_line(line: &str) -> Option<Started> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    Some(Started {
        url: text("url")?,
        partner_token: text("partner_token")?,
        client_id: text("client_id")?,
        client_secret: text("client_secret")?,
    })
}

/// The virtualenv's python, creating the virtualenv if needed.
fn ensure_venv() -> anyhow::Result<PathBuf> {
    let venv = root().join("target/python-venv");
    let python = venv.join("bin/python");
    if works(Command::new(&python).args(["-c", "import sys"])) {
        return Ok(python);
    }
    crate::wasm::ensure_apt("python3", &["python3", "python3-venv"])?;
    if !make_venv(&venv) {
        // Debian's python3 lacks `ensurepip` until python3-venv is installed.
        let line = "apt-get update && apt-get install -y --no-install-recommends python3-venv";
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            bail!(
                "`python3 -m venv` does not work here and installing python3-venv needs root: \
                 run `{line}` as root, then retry"
            );
        }
        eprintln!("xtask: `python3 -m venv` failed; installing python3-venv");
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive"))
        .with_context(|| format!("could not install python3-venv; run `{line}`"))?;
        if !make_venv(&venv) {
            bail!(
                "`python3 -m venv {}` still fails after installing python3-venv",
                venv.display()
            );
        }
    }
    Ok(python)
}

/// `python3 -m venv DIR` from scratch (a half-made one is removed first).
fn make_venv(venv: &Path) -> bool {
    let _ = std::fs::remove_dir_all(venv);
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "venv"]).arg(venv);
    eprintln!("xtask: running {}", shown(&cmd));
    works(&mut cmd) && venv.join("bin/python").exists()
}

/// Installs the SDK into the virtualenv unless that version is there.
fn ensure_sdk(python: &Path) -> anyhow::Result<()> {
    let installed = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('peliqan'))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if installed.as_deref() == Some(SDK_VERSION) {
        return Ok(());
    }
    run(Command::new(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .arg(format!("peliqan=={SDK_VERSION}")))
    .context("could not install Peliqan's Python SDK from PyPI")
}

/// Whether `cmd` runs and exits 0 (its output discarded).
fn works(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` with inherited output; fails if it exits non-zero or runs
/// longer than `timeout` (then it is killed).
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> anyhow::Result<()> {
    let shown = shown(cmd);
    eprintln!("xtask: running {shown}");
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {shown}"))?;
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(timeout) {
        Ok(status) => status?,
        Err(_) => {
            // SAFETY: a plain signal to the child we started, which has not
            // been reaped (the waiting thread has not answered).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = rx.recv();
            bail!("{shown} did not finish within {timeout:?}; killed");
        }
    };
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_startup_line_gives_url_and_all_credentials() {
        let line = r#"{"url":"http://127.0.0.1:1","partner_token":"p","client_id":"i","client_secret":"s"}"#;
        let s = first_line(line).unwrap();
        assert_eq!(
            (
                s.url.as_str(),
                s.partner_token.as_str(),
                s.client_id.as_str(),
                s.client_secret.as_str()
            ),
            ("http://127.0.0.1:1", "p", "i", "s")
        );
        assert!(first_line(r#"{"url":"http://127.0.0.1:1","partner_token":"p"}"#).is_none());
    }
}
