//! Integration tests of peliqan-client against the in-process Peliqan
//! emulator (one per test, on port 0), one module per area of the Embed API.

mod connections;
mod errors;
mod faults;
mod helpers;
mod oauth;
mod subaccounts;
mod tables;
mod tokens;
