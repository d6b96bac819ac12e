//! Query tables (`POST /table`) and scheduled Python scripts
//! (`POST /interface`) inside an end-customer account.

use crate::ids::{InterfaceId, TableId};
use serde::{Deserialize, Serialize};

/// Body of `POST /table`: a table defined by an SQL query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTable {
    /// Table name.
    pub name: String,
    /// The SQL query that defines the table.
    pub query: String,
    /// Database (connection) the table belongs to, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_id: Option<u64>,
}

/// A query table as Peliqan returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Table id.
    pub id: TableId,
    /// Table name.
    #[serde(default)]
    pub name: Option<String>,
    /// The defining query.
    #[serde(default)]
    pub query: Option<String>,
}

/// Body of `POST /interface`: a Python script run on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInterface {
    /// Script name.
    pub name: String,
    /// The Python source, usually copied from a template.
    pub raw_code: String,
    /// Run interval in seconds; must be positive.
    pub schedule: u64,
}

/// A scheduled script as Peliqan returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    /// Script id.
    pub id: InterfaceId,
    /// Script name.
    #[serde(default)]
    pub name: Option<String>,
    /// Run interval in seconds.
    #[serde(default)]
    pub schedule: Option<u64>,
}
