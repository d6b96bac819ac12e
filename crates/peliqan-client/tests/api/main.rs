//! Integration tests of peliqan-client against the in-process Peliqan
//! emulator (one per test, on port 0), one module per area of the Embed API.
//! `PELIQAN_TEST_DIALECT` picks the API dialect of the run (see `helpers`).

mod connections;
mod credentials;
mod dialects;
mod errors;
mod faults;
mod helpers;
mod oauth;
mod raw;
mod subaccounts;
mod tables;
mod tokens;
