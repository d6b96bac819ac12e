//! Integration tests: the service in-process on port 0, against an
//! in-process Peliqan emulator. One file per area.

mod auth;
mod cache;
mod cli;
mod cli_resume;
mod cors;
mod credentials;
mod deploy;
mod dialects;
mod doctor;
mod embedded;
mod fleet;
mod forced;
mod health;
mod helpers;
mod hydrate;
mod hydrate_fleet;
mod identity_fake;
mod implausible;
mod introspection;
mod jwks;
mod process;
mod provisioning;
mod proxy;
mod rate_limit;
mod redis_server;
mod routing;
mod secrets;
mod session;
mod shutdown;
mod startup;
mod tenancy;
mod token;
mod upstream;
