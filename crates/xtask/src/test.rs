//! `cargo xtask test`: every test of the project, in one command.

use crate::cmd::{cargo, run};

/// Runs the native test suite of the whole workspace.
pub fn all() -> anyhow::Result<()> {
    run(cargo().args(["test", "--workspace", "--all-targets"]))?;
    run(cargo().args(["test", "--workspace", "--doc"]))?;
    Ok(())
}
