//! A native async client for the Peliqan Partner (Embed) API.
//!
//! A partner (a SaaS company embedding Peliqan) uses it from its own Rust
//! backend to provision end-customer accounts ("sub-accounts"), mint their
//! tokens, read the connector catalogue and act inside an end-customer
//! account: add connections, follow their status and logs, create query
//! tables and scheduled scripts.
//!
//! - [`PeliqanClient`] holds the connection pool, the base URL, timeouts,
//!   the [`RetryPolicy`] and the API dialect's [`Routes`]; build it once with
//!   [`PeliqanClient::builder`] and clone it freely.
//! - [`PartnerApi`] makes the calls that take the partner's credentials,
//!   [`SubaccountApi`] those that take an end-customer token. Tokens and
//!   client secrets are [`Secret`]s: they are sent in a sensitive
//!   `Authorization` header and never appear in `Debug` output, logs or
//!   errors.
//! - Every failure is an [`Error`]: Peliqan's own answer ([`Error::Api`],
//!   with its parsed body), a route that does not exist there
//!   ([`Error::RouteMismatch`]), a timeout, a transport failure, or a body
//!   that did not decode ([`Error::Decode`], naming the JSON path).
//! - Calls whose route is idempotent (`GET`, `PUT`, `DELETE`) are retried on
//!   timeouts, transport errors, `429` and `502`/`503`/`504` with capped
//!   exponential backoff and full jitter, honouring `Retry-After`. `POST`s
//!   are never retried, so a sub-account or connection is never created
//!   twice.
//!
//! # API dialects
//!
//! Peliqan has described its Partner API in more than one form, so no path
//! is written in this crate: each method names an [`Operation`], and the
//! client's [`Routes`] give its method, path (with the dialect's
//! trailing-slash rule) and query. Choose the form with
//! [`ClientBuilder::dialect`]:
//!
//! | [`Dialect`] | paths | |
//! |---|---|---|
//! | `seed` (default) | `/api/subaccount`, `/api/server/{id}`, `/table`, no trailing slash | the Partner API document this project started from |
//! | `sub-account` | `/api/sub-account/`, `POST .../integrate/` for tokens | Peliqan's older help text |
//! | `partner` | `/api/partner/sub-accounts/`, `/api/servers/{id}/`, every path ending in `/` | Peliqan's Python SDK 2.18.5 and current help text |
//!
//! A Peliqan whose account differs in one route is served by overriding that
//! operation alone ([`Routes::set_text`], then [`ClientBuilder::routes`]).
//! Dialect differences the client handles for you: the `partner` sub-account
//! list is read page by page ([`PartnerApi::list_subaccounts`]); a script is
//! created in the account's first group when the route needs a
//! `{group_id}` ([`SubaccountApi::create_interface`]); table and script
//! bodies take the dialect's shape. An operation the dialect lacks (e.g.
//! `delete_subaccount` in `partner`) is an [`Error::Route`] naming the
//! dialect and the `PELIQAN_API_ROUTE_<OPERATION>` key that would add it; no
//! request is sent.
//!
//! Redirects are never followed. When Peliqan answers that a route does not
//! exist (a 404 that is an HTML page rather than an API error, a 405, a
//! redirect such as Django's 301 to the slashed URL, or Django's 500 page
//! for a `POST` without its trailing slash), the error is an
//! [`Error::RouteMismatch`]: [`Error::route_mismatch`] returns the client's
//! dialect, and its message says that dialect is likely not the one this
//! Peliqan speaks.
//!
//! # Partner credentials
//!
//! [`PeliqanClient::partner`] takes the partner token (a non-expiring JWT,
//! sent as `Authorization: JWT <token>`). [`PeliqanClient::partner_with`]
//! also takes OAuth client credentials
//! ([`PartnerCredentials::ClientCredentials`]): they are exchanged at the
//! dialect's `oauth_token` route (`partner`: `POST /api/oauth2/token/`, form
//! `grant_type=client_credentials&client_id=..&client_secret=..`) for an
//! access token sent as `Authorization: Bearer <token>`. The token is cached
//! and shared by clones of the [`PartnerApi`], renewed `min(30 s, lifetime /
//! 2)` before its `expires_in` runs out (as Peliqan's SDK does) by one
//! exchange however many calls need it at once, and renewed once, with the
//! call replayed once, when Peliqan answers 401. A failed exchange is an
//! [`Error::ClientCredentials`] naming the route and status, never the
//! secret.
//!
//! ```no_run
//! use peliqan_client::{Dialect, PartnerCredentials, PeliqanClient, Secret};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = PeliqanClient::builder("https://app.eu.peliqan.io")
//!     .dialect(Dialect::Partner)
//!     .build()?;
//! let partner = client.partner_with(PartnerCredentials::ClientCredentials {
//!     client_id: std::env::var("PELIQAN_CLIENT_ID")?,
//!     client_secret: Secret::new(std::env::var("PELIQAN_CLIENT_SECRET")?),
//! });
//! match partner.list_subaccounts().await {
//!     Ok(accounts) => println!("{} sub-accounts", accounts.len()),
//!     // e.g. the account speaks the `seed` paths: say which dialect to fix.
//!     Err(err) if err.route_mismatch().is_some() => eprintln!("{err}"),
//!     Err(err) => return Err(err.into()),
//! }
//! # Ok(())
//! # }
//! ```
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

mod access_token;
mod answer;
mod auth;
mod builder;
mod call;
mod client;
mod credentials;
mod error;
mod list;
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

/// The API types and dialect routes ([`peliqan_api`]).
pub use peliqan_api as api;
pub use peliqan_api::{
    ApiErrorBody, ConnectionLogEntry, ConnectionStatus, CreatedConnection, Dialect, ExternalId,
    Group, GroupId, Interface, InterfaceId, NewConnection, NewInterface, NewTable, Operation,
    Routes, Server, ServerId, Servertype, ServertypeId, Subaccount, SubaccountId, SubaccountInfo,
    SubaccountInput, SubaccountToken, Table, TableId,
};
