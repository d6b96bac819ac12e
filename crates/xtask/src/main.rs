//! `cargo xtask`: the project's own build and test driver.
//!
//! Every command installs what it needs by itself, idempotently, so that a
//! fresh machine and CI get a working setup from one command.

mod bench;
mod browser_test;
mod cmd;
mod consumers;
mod demo;
mod demo_http;
mod demo_login;
mod demo_server;
mod e2e;
mod firefox;
mod npm;
mod panic_stub;
mod procs;
mod python_test;
mod soak;
mod test;
mod wasm;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "peliqan-embed build, test and demo driver"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every test of the workspace.
    Test,
    /// Benchmark a component (`bench token-service [--quick]`).
    #[command(subcommand)]
    Bench(bench::Target),
    /// Soak the token service: steady load while the emulator injects faults (about 2.5 min).
    Soak(soak::Args),
    /// Run the demo (emulator, token service, demo page) and print its URL.
    Demo(demo::DemoArgs),
    /// Run the end-to-end browser tests of the demo (tests/e2e).
    E2e,
    /// Run the SDK's browser tests (every API dialect) and the npm package test.
    BrowserTest(browser_test::Args),
    /// Build tiny apps of real bundlers (Vite, esbuild, webpack, Rollup, Next.js) on the packed npm tarball and check them in Chromium.
    Consumers {
        /// Only these apps (vite8, vite7, vite6, esbuild, webpack, rollup, next); all by default.
        names: Vec<String>,
    },
    /// Run Peliqan's own Python SDK against the emulator (tests/python).
    PythonTest,
    /// Build the npm package `peliqan-embed` into target/npm/peliqan-embed.
    Npm {
        /// Also run `npm pack` (tarball in target/npm).
        #[arg(long)]
        pack: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Test => test::all(),
        Command::Bench(target) => bench::run_target(target),
        Command::Soak(args) => soak::run_soak(args),
        Command::Demo(args) => demo::run(args),
        Command::E2e => e2e::run_all(),
        Command::BrowserTest(args) => browser_test::run_tests(args),
        Command::Consumers { names } => consumers::run_consumers(&names, false),
        Command::PythonTest => python_test::run_test(),
        Command::Npm { pack } => npm::build(pack).map(drop),
    }
}
