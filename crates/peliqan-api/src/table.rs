//! Query tables (`POST /table`) and scheduled Python scripts
//! (`POST /interface`) inside an end-customer account.

use crate::dialect::BodyShape;
use crate::ids::{InterfaceId, TableId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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
    /// Schema the table goes in (`partner` dialect), when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<u64>,
}

impl NewTable {
    /// The request body in a dialect's shape.
    pub fn body(&self, shape: BodyShape) -> Value {
        let mut body = match shape {
            BodyShape::Seed => json!({"name": self.name, "query": self.query}),
            // Peliqan's SDK: `{table_type: "query", schema_id, name, query}`.
            BodyShape::Partner => json!({
                "table_type": "query",
                "schema_id": self.schema_id,
                "name": self.name,
                "query": self.query,
            }),
        };
        if let Some(id) = self.database_id {
            body["database_id"] = id.into();
        }
        if let (BodyShape::Seed, Some(id)) = (shape, self.schema_id) {
            body["schema_id"] = id.into();
        }
        body
    }
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

impl NewInterface {
    /// The request body in a dialect's shape.
    pub fn body(&self, shape: BodyShape) -> Value {
        match shape {
            BodyShape::Seed => {
                json!({"name": self.name, "raw_code": self.raw_code, "schedule": self.schedule})
            }
            // Peliqan's SDK names the code `raw_script` and a script that
            // runs without a UI `run_mode: "SHELL"`; the schedule is kept
            // as in the seed (the SDK is silent on it).
            BodyShape::Partner => json!({
                "name": self.name,
                "raw_script": self.raw_code,
                "run_mode": "SHELL",
                "schedule": self.schedule,
            }),
        }
    }
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
