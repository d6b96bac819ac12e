//! Types and routes of the Peliqan Partner (Embed) API.
//!
//! This crate is the one place where the shape of Peliqan's API is written
//! down: the request and answer types, and in [`dialect`] the route table of
//! each form of the API Peliqan has described. It has no I/O and no async runtime, so the native client, the
//! emulator, the token service and the wasm browser SDK all share it.
//!
//! Reading is tolerant on purpose: Peliqan's response shapes are not fully
//! documented, so unknown fields are ignored and unknown enum strings (a
//! connection status, a form field type) are kept as `Other(..)` rather than
//! rejected.
#![deny(missing_docs)]

// Native parts only: `Instant::now` does not exist in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub mod clock;
pub mod connection;
pub mod dialect;
pub mod embed;
pub mod error;
pub mod group;
pub mod ids;
pub mod servertype;
pub mod subaccount;
pub mod table;
mod tolerant;

pub use connection::{
    ConnectionLogEntry, ConnectionStatus, CreatedConnection, LogLevel, NewConnection, Server,
};
pub use dialect::{Dialect, Operation, Route, Routes};
pub use embed::{BrowserRouting, Problem, TokenAnswer};
pub use error::ApiErrorBody;
pub use group::{Group, GroupId};
pub use ids::{ExternalId, InterfaceId, ServerId, ServertypeId, SubaccountId, TableId};
pub use servertype::{AuthKind, ConnectForm, FieldKind, FormField, Servertype};
pub use subaccount::{Subaccount, SubaccountInfo, SubaccountInput, SubaccountToken, TokenQuery};
pub use table::{Interface, NewInterface, NewTable, Table};
