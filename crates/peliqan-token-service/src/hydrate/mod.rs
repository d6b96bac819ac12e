//! Tenant hydration: the partner's standard assets (query tables, scheduled
//! Python scripts) applied to each end-customer's sub-account, declared once
//! in a blueprint file and applied exactly once per tenant.
//!
//! - [`blueprint`]: the TOML file, checked on load (errors name file, line
//!   and field);
//! - [`ledger`]: what was applied where (SQLite, or Redis with the shared
//!   tier), which makes re-runs and resumed runs exactly-once;
//! - [`apply`]: one tenant, step by step, checking by name against Peliqan
//!   where the dialect can list, against the ledger elsewhere;
//! - [`service`]: the token service's hook after it provisions a tenant,
//!   with background retries.
//!
//! The operator's `hydrate` command ([`crate::cli`]) uses the same pieces.

pub mod apply;
pub mod blueprint;
pub mod ledger;
pub mod service;

pub use apply::{Hydrator, Options, Outcome, Report, Resolve, Target};
pub use blueprint::{Blueprint, BlueprintError};
pub use ledger::Ledger;
pub use service::Hydration;

use crate::settings::{ConfigError, Settings};
use std::path::Path;
use std::sync::Arc;

/// The ledger `settings` name: Redis when the shared tier is configured,
/// else the SQLite file `TOKEN_SERVICE_HYDRATION_LEDGER_FILE`.
pub fn ledger_of(settings: &Settings) -> anyhow::Result<Ledger> {
    match &settings.shared {
        Some(shared) => Ledger::redis(shared.redis_url.expose()),
        None => Ledger::sqlite(&settings.hydration.ledger_file),
    }
}

/// The blueprint at `file`, a [`ConfigError`] on `key` naming file, line
/// and field when it is wrong.
pub fn load_blueprint(key: &str, file: &Path) -> Result<Arc<Blueprint>, ConfigError> {
    Blueprint::load(file)
        .map(Arc::new)
        .map_err(|e| ConfigError::new(key, e.to_string()))
}

/// A hydrator for `blueprint` with `settings`' Peliqan and ledger.
pub fn hydrator(
    settings: &Settings,
    blueprint: Arc<Blueprint>,
    client: peliqan_client::PeliqanClient,
) -> anyhow::Result<Hydrator> {
    let partner = client.partner_with(settings.upstream.credentials.clone());
    Ok(Hydrator::new(
        blueprint,
        ledger_of(settings)?,
        client,
        partner,
    ))
}
