//! The identifier of a data node (HotDB's DNID), a type of its own so that it cannot be
//! confused with a position in a list of nodes. It is written as its bare number
//! everywhere outside the program: in SQL (`ON DATANODE '1-4'`, `/*!strata:dnid=2*/`),
//! configuration files, metadata records, result sets, JSON and metrics labels.

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A data node's id (DNID), serialized, displayed and debug-printed as its bare number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DataNodeId(u32);

impl DataNodeId {
    /// The id with number `n`.
    pub const fn new(n: u32) -> DataNodeId {
        DataNodeId(n)
    }

    /// The bare number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The ids of bare numbers, as the SQL parsers read lists like `'1,3-4'`.
    pub fn from_numbers(numbers: &[u32]) -> Vec<DataNodeId> {
        numbers.iter().copied().map(DataNodeId).collect()
    }
}

impl fmt::Display for DataNodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The bare number, so that logs and messages that print node lists with `{:?}` read as
/// they did when ids were plain integers.
impl fmt::Debug for DataNodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl FromStr for DataNodeId {
    type Err = ParseIntError;

    /// Reads the bare number, as `u32` does.
    fn from_str(s: &str) -> Result<DataNodeId, ParseIntError> {
        s.parse().map(DataNodeId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        id: DataNodeId,
        nodes: Vec<DataNodeId>,
    }

    #[test]
    fn displays_and_parses_as_the_bare_number() {
        assert_eq!(DataNodeId::new(17).to_string(), "17");
        assert_eq!(format!("{:>4}", DataNodeId::new(7)), "   7");
        assert_eq!(
            format!("{:?}", [DataNodeId::new(1), DataNodeId::new(2)]),
            "[1, 2]"
        );
        assert_eq!("42".parse::<DataNodeId>(), Ok(DataNodeId::new(42)));
        assert!("x".parse::<DataNodeId>().is_err());
        assert!("-1".parse::<DataNodeId>().is_err());
    }

    #[test]
    fn serializes_as_the_bare_number_in_toml_and_back() {
        let holder = Holder {
            id: DataNodeId::new(3),
            nodes: vec![DataNodeId::new(1), DataNodeId::new(2)],
        };
        let text = toml::to_string(&holder).unwrap();
        assert_eq!(text, "id = 3\nnodes = [1, 2]\n");
        assert_eq!(toml::from_str::<Holder>(&text).unwrap(), holder);
    }

    #[test]
    fn refuses_what_u32_refuses_with_the_same_message() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Bare {
            id: u32,
        }
        for text in ["id = -1", "id = 4294967296", "id = \"1\""] {
            let ours = toml::from_str::<Holder>(&format!("{text}\nnodes = []")).unwrap_err();
            let bare = toml::from_str::<Bare>(text).unwrap_err();
            assert_eq!(ours.message(), bare.message(), "{text}");
        }
    }
}
