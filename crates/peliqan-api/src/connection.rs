//! Connections ("servers" in the API): adding one, its status and its logs.

use crate::ids::{ServerId, ServertypeId};
use crate::tolerant::tolerant_enum;
use serde::{Deserialize, Serialize};

/// Body of `POST /api/servers`: the servertype plus the connect-form fields
/// at the top level, e.g. `{"servertype_id": 123, "login": "x", "password": "y"}`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct NewConnection {
    /// Which connector.
    pub servertype_id: ServertypeId,
    /// Optional display name of the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The connect-form fields (may hold secrets).
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for NewConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Field values are credentials; only their names are printed.
        f.debug_struct("NewConnection")
            .field("servertype_id", &self.servertype_id)
            .field("name", &self.name)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Answer of `POST /api/servers`. `oauth_url` is set for OAuth connectors:
/// open it in a popup so the end-customer can grant access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedConnection {
    /// Id of the new connection, for `GET /api/server/{id}`.
    pub id: ServerId,
    /// Where the end-customer completes the OAuth flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_url: Option<String>,
}

tolerant_enum! {
    /// Status of a connection.
    pub enum ConnectionStatus {
        /// Created, waiting for an OAuth grant or a first check.
        Pending => "pending",
        /// Live: credentials work.
        Connected => "connected",
        /// Credentials refused or OAuth denied.
        Failed => "failed",
    }
}

impl ConnectionStatus {
    /// Whether the connection is live.
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Connected)
    }

    /// Whether the status will not change by itself any more.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Connected | Self::Failed)
    }
}

/// A connection as `GET /api/servers` and `GET /api/server/{id}` return it.
/// Credentials are never part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Connection id.
    pub id: ServerId,
    /// Which connector.
    #[serde(default)]
    pub servertype_id: Option<ServertypeId>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Current status.
    #[serde(default = "pending")]
    pub status: ConnectionStatus,
    /// Why the connection failed, when it did.
    #[serde(default)]
    pub status_message: Option<String>,
    /// When the connection was created (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the status last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

fn pending() -> ConnectionStatus {
    ConnectionStatus::Pending
}

tolerant_enum! {
    /// Severity of a log line.
    pub enum LogLevel {
        /// Normal progress.
        Info => "info",
        /// Something to look at.
        Warning => "warning",
        /// A failure.
        Error => "error",
    }
}

/// One line of `GET /api/server/{id}/logs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionLogEntry {
    /// When it happened (RFC 3339).
    pub timestamp: String,
    /// Severity.
    #[serde(default = "info")]
    pub level: LogLevel,
    /// What happened.
    pub message: String,
}

fn info() -> LogLevel {
    LogLevel::Info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_connection_flattens_form_fields_next_to_servertype() {
        let mut fields = serde_json::Map::new();
        fields.insert("login".into(), "john".into());
        fields.insert("password".into(), "s3cret".into());
        let body = NewConnection {
            servertype_id: ServertypeId(123),
            name: None,
            fields,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"servertype_id": 123, "login": "john", "password": "s3cret"})
        );
        assert!(!format!("{body:?}").contains("s3cret"));
        let back: NewConnection = serde_json::from_value(json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn unknown_status_is_kept_not_rejected() {
        let s: Server =
            serde_json::from_str(r#"{"id": 5, "status": "syncing", "extra": [1]}"#).unwrap();
        assert_eq!(s.status, ConnectionStatus::Other("syncing".into()));
        assert!(!s.status.is_final());
        let created: CreatedConnection =
            serde_json::from_str(r#"{"id": 12345, "oauth_url": "https://x/y"}"#).unwrap();
        assert_eq!(created.oauth_url.as_deref(), Some("https://x/y"));
    }
}
