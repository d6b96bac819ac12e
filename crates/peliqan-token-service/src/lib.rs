//! peliqan-token-service: hands a logged-in user's browser a short-lived
//! Peliqan token for that user's tenant only.
//!
//! A request flows: [`http`] middleware (metrics, CORS) -> [`routes`] ->
//! [`identity`] (the user's JWT, checked with the configured key by
//! [`auth`], or introspection, a session cookie, trusted proxy headers, or
//! the embedding app's session: see [`scope`]) ->
//! [`rate_limit`] -> [`tokens`] (per-tenant cache, refresh-ahead, one
//! upstream call per tenant at a time) -> [`upstream`] (Peliqan, with the
//! partner token that never leaves this process). [`startup::Application`]
//! wires it from [`settings::Settings`].
#![deny(missing_docs)]

pub mod auth;
pub mod cli;
pub mod connectors;
pub mod doctor;
pub mod error;
pub mod http;
pub mod hydrate;
pub mod identity;
pub mod metrics;
pub mod rate_limit;
pub mod readiness;
pub mod routes;
pub mod scope;
pub mod settings;
pub mod shared;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod upstream;

pub use scope::{Embedded, PartnerSession, PartnerUser};
pub use settings::Settings;
pub use startup::Application;
