//! `cargo xtask test`: every test of the project, in one command.

use crate::cmd::{cargo, run};

/// Runs the native test suite of the whole workspace, then the browser SDK's
/// tests in headless Chromium (wasm-bindgen-test and the npm package), then
/// the demo's end-to-end browser tests.
pub fn all() -> anyhow::Result<()> {
    run(cargo().args(["test", "--workspace", "--all-targets"]))?;
    run(cargo().args(["test", "--workspace", "--doc"]))?;
    crate::browser_test::all()?;
    crate::e2e::run_all()?;
    Ok(())
}
