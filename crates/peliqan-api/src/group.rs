//! Script groups: Peliqan creates a script ("interface") inside a group
//! (`partner` dialect: `POST /api/interfaces/group/{group_id}/`, after
//! listing `GET /api/groups/`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Id of a script group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(pub u64);

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u64> for GroupId {
    fn from(v: u64) -> Self {
        Self(v)
    }
}

/// A script group as Peliqan returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    pub id: GroupId,
    /// Group name.
    #[serde(default)]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_reads_with_unknown_fields_and_without_a_name() {
        let g: Group = serde_json::from_str(r#"{"id": 4, "sort_order": 1}"#).unwrap();
        assert_eq!(g.id, GroupId(4));
        assert_eq!(g.name, None);
    }
}
