//! Newtype ids, so a sub-account id can never be passed where a connection
//! id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! numeric_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }
    };
}

numeric_id!(
    /// Id of an end-customer account (a Peliqan sub-account).
    SubaccountId
);
numeric_id!(
    /// Id of a connection ("server" in the API).
    ServerId
);
numeric_id!(
    /// Id of a connector definition ("servertype" in the API).
    ServertypeId
);
numeric_id!(
    /// Id of a query table.
    TableId
);
numeric_id!(
    /// Id of a scheduled script ("interface" in the API).
    InterfaceId
);

/// The partner's own unique id for an end-customer (tenant), e.g. `wood_123`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalId(pub String);

impl ExternalId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ExternalId {
    fn from(v: &str) -> Self {
        Self(v.to_owned())
    }
}

impl From<String> for ExternalId {
    fn from(v: String) -> Self {
        Self(v)
    }
}
