//! Query tables (`POST /table`) and scheduled Python scripts
//! (`POST /interface`) inside an end-customer account.

use crate::dialect::BodyShape;
use crate::ids::{InterfaceId, TableId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
        // Built by hand, not with `json!`: its fallible path costs the
        // browser bundle serde_json's error formatting.
        let mut body = Map::new();
        if shape == BodyShape::Partner {
            // Peliqan's SDK: `{table_type: "query", schema_id, name, query}`.
            body.insert("table_type".into(), "query".into());
            body.insert("schema_id".into(), self.schema_id.into());
        } else if let Some(id) = self.schema_id {
            body.insert("schema_id".into(), id.into());
        }
        body.insert("name".into(), self.name.as_str().into());
        body.insert("query".into(), self.query.as_str().into());
        if let Some(id) = self.database_id {
            body.insert("database_id".into(), id.into());
        }
        Value::Object(body)
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
        let mut body = Map::new();
        body.insert("name".into(), self.name.as_str().into());
        match shape {
            BodyShape::Seed => {
                body.insert("raw_code".into(), self.raw_code.as_str().into());
            }
            // Peliqan's SDK names the code `raw_script` and a script that
            // runs without a UI `run_mode: "SHELL"`; the schedule is kept
            // as in the seed (the SDK is silent on it).
            BodyShape::Partner => {
                body.insert("raw_script".into(), self.raw_code.as_str().into());
                body.insert("run_mode".into(), "SHELL".into());
            }
        }
        body.insert("schedule".into(), self.schedule.into());
        Value::Object(body)
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
