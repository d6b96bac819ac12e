//! Running child commands with a clear error when one fails.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the parent of `crates/xtask`).
pub fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .expect("xtask lives in crates/xtask")
        .to_path_buf()
}

/// Where `cargo build` (debug profile) puts the workspace binaries.
pub fn debug_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("debug")
}

/// The `cargo` that runs this xtask (rustup's), falling back to PATH.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// The command line of `cmd` for messages: program and arguments only.
/// `Command`'s own `Debug` also prints the environment it sets, which may
/// hold a partner token; that must never reach a log.
pub fn shown(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `cmd`, failing with its command line when it exits non-zero.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = shown(cmd);
    eprintln!("xtask: running {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}
