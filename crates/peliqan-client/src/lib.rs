//! A native async client for the Peliqan Partner (Embed) API.
//!
//! A partner (a SaaS company embedding Peliqan) uses it from its own Rust
//! backend to provision end-customer accounts ("sub-accounts"), mint their
//! tokens, read the connector catalogue and act inside an end-customer
//! account: add connections, follow their status and logs, create query
//! tables and scheduled scripts.
//!
//! - [`PeliqanClient`] holds the connection pool, the base URL, timeouts and
//!   the [`RetryPolicy`]; build it once with [`PeliqanClient::builder`] and
//!   clone it freely.
//! - [`PartnerApi`] makes the calls that take the partner token,
//!   [`SubaccountApi`] those that take an end-customer token. Tokens are
//!   [`Secret`]s: they are sent as a sensitive `Authorization: JWT <token>`
//!   header and never appear in `Debug` output, logs or errors.
//! - Every failure is an [`Error`]: Peliqan's own answer ([`Error::Api`],
//!   with its parsed body), a timeout, a transport failure, or a body that
//!   did not decode ([`Error::Decode`], naming the JSON path).
//! - Idempotent calls (`GET`, `PUT`, `DELETE`) are retried on timeouts,
//!   transport errors, `429` and `502`/`503`/`504` with capped exponential
//!   backoff and full jitter, honouring `Retry-After`. `POST`s are never
//!   retried, so a sub-account or connection is never created twice.
//!
//! The request and response types come from [`peliqan_api`], re-exported
//! here as [`api`] and, for the common ones, at the crate root.
//!
//! # Example: provisioning a tenant from a partner backend
//!
//! ```no_run
//! use peliqan_client::{Expiry, ExternalId, NewConnection, PeliqanClient, Secret, SubaccountInput};
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = PeliqanClient::builder("https://app.eu.peliqan.io")
//!         .timeout(Duration::from_secs(10))
//!         .build()?;
//!     // The partner's non-expiring token: keep it on the server.
//!     let partner = client.partner(Secret::new(std::env::var("PELIQAN_PARTNER_TOKEN")?));
//!
//!     // 1. A new customer signed up: give it its own Peliqan account.
//!     let account = partner
//!         .create_subaccount(&SubaccountInput {
//!             external_id: ExternalId::from("wood_123"),
//!             first_name: Some("John".into()),
//!             last_name: Some("Doe".into()),
//!             email: Some("john@woodsolutions.com".into()),
//!             language: Some("en".into()),
//!             company_name: Some("Wood Solutions Ltd".into()),
//!             ..Default::default()
//!         })
//!         .await?;
//!
//!     // 2. A short-lived token for that account (what a browser may hold).
//!     let token = partner.subaccount_token(account.id, Expiry::ShortLived).await?;
//!
//!     // 3. The connector catalogue says which fields a Pipedrive connection needs.
//!     let servertypes = partner.servertypes().await?;
//!     let pipedrive = servertypes
//!         .iter()
//!         .find(|st| st.name == "pipedrive")
//!         .ok_or("no Pipedrive connector")?;
//!     for field in &pipedrive.connect_form.fields {
//!         println!("{} (required: {})", field.name, field.required);
//!     }
//!
//!     // 4. Add the customer's Pipedrive connection inside its own account.
//!     let tenant = client.subaccount(Secret::from(token));
//!     let mut fields = serde_json::Map::new();
//!     fields.insert("api_token".into(), "the customer's Pipedrive API token".into());
//!     let created = tenant
//!         .add_connection(&NewConnection {
//!             servertype_id: pipedrive.id,
//!             name: Some("Pipedrive".into()),
//!             fields,
//!         })
//!         .await?;
//!     let server = tenant.connection(created.id).await?;
//!     println!("connection {} is {}", server.id, server.status);
//!
//!     // Errors carry Peliqan's answer, e.g. which form field was rejected.
//!     if let Err(err) = partner.subaccount(account.id).await {
//!         eprintln!("status {:?}: {err}", err.status());
//!     }
//!     Ok(())
//! }
//! ```
#![deny(missing_docs)]

mod builder;
mod call;
mod client;
mod credentials;
mod error;
mod partner;
mod retry;
mod secret;
mod subaccount;

pub use builder::ClientBuilder;
pub use client::PeliqanClient;
pub use credentials::PartnerCredentials;
pub use error::Error;
pub use partner::{Expiry, PartnerApi};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use subaccount::SubaccountApi;

/// The API types and paths ([`peliqan_api`]).
pub use peliqan_api as api;
pub use peliqan_api::{
    ApiErrorBody, ConnectionLogEntry, ConnectionStatus, CreatedConnection, Dialect, ExternalId,
    Interface, InterfaceId, NewConnection, NewInterface, NewTable, Operation, Routes, Server,
    ServerId, Servertype, ServertypeId, Subaccount, SubaccountId, SubaccountInput, SubaccountToken,
    Table, TableId,
};
