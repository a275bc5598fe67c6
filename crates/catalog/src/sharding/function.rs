//! Sharding functions: validation and routing of a canonical key to a data node.

use std::collections::BTreeSet;

use super::{ShardingError, ShardingFunction};
use crate::DataNodeId;

const MAX_MODULUS: u64 = 2_147_483_647;

impl ShardingFunction {
    /// The function's type name in configuration and DDL (`auto_crc32`, `range`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            ShardingFunction::AutoCrc32 => "auto_crc32",
            ShardingFunction::AutoMod => "auto_mod",
            ShardingFunction::Range { .. } => "range",
            ShardingFunction::Match { .. } => "match",
            ShardingFunction::Route { .. } => "route",
            ShardingFunction::SimpleMod { .. } => "simple_mod",
            ShardingFunction::Crc32Mod { .. } => "crc32_mod",
        }
    }

    /// True for AUTO_CRC32 and AUTO_MOD, which spread keys over the rule's data node list
    /// by position; the others name their data nodes in their parameters.
    pub fn is_auto(&self) -> bool {
        matches!(
            self,
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod
        )
    }

    /// True when the function needs integer keys (AUTO_MOD, RANGE, ROUTE, SIMPLE_MOD).
    pub fn needs_integer_key(&self) -> bool {
        matches!(
            self,
            ShardingFunction::AutoMod
                | ShardingFunction::Range { .. }
                | ShardingFunction::Route { .. }
                | ShardingFunction::SimpleMod { .. }
        )
    }

    /// Data nodes named in the parameters, sorted, without repeats.
    pub fn referenced_nodes(&self) -> Vec<DataNodeId> {
        let mut set = BTreeSet::new();
        match self {
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod => {}
            ShardingFunction::Range {
                intervals,
                below_min,
                above_max,
            } => {
                set.extend(intervals.iter().map(|i| i.2));
                set.extend(below_min.iter().chain(above_max.iter()));
            }
            ShardingFunction::Match {
                values,
                empty_route,
            } => {
                set.extend(values.iter().map(|v| v.1));
                set.extend(empty_route.iter());
            }
            ShardingFunction::Route { values } => set.extend(values.iter().map(|v| v.1)),
            ShardingFunction::SimpleMod { remainders, .. }
            | ShardingFunction::Crc32Mod { remainders, .. } => {
                set.extend(remainders.iter().map(|r| r.2));
            }
        }
        set.into_iter().collect()
    }

    /// Sorts intervals, list entries and remainders (the canonical order `to_spec`
    /// writes); MATCH keeps its written order.
    pub fn normalized(mut self) -> Self {
        match &mut self {
            ShardingFunction::Range { intervals, .. } => intervals.sort_unstable(),
            ShardingFunction::Route { values } => values.sort_unstable(),
            ShardingFunction::SimpleMod { remainders, .. }
            | ShardingFunction::Crc32Mod { remainders, .. } => remainders.sort_unstable(),
            _ => {}
        }
        self
    }

    /// Checks the parameters: positive DNIDs; RANGE intervals with low <= high that do
    /// not overlap; MATCH and ROUTE values listed once; a modulus in 2..=2147483647 whose
    /// remainders 0..modulus-1 are each covered by exactly one interval.
    pub fn validate(&self) -> Result<(), ShardingError> {
        let bad = |reason: String| Err(ShardingError::invalid_rule(reason));
        if self.referenced_nodes().first() == Some(&DataNodeId::new(0)) {
            return bad("data node ids must be positive".into());
        }
        match self {
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod => Ok(()),
            ShardingFunction::Range { intervals, .. } => {
                if intervals.is_empty() {
                    return bad("RANGE needs at least one interval".into());
                }
                let mut sorted = intervals.clone();
                sorted.sort_unstable();
                for &(low, high, _) in &sorted {
                    if low > high {
                        return bad(format!("RANGE interval {low}:{high} has low > high"));
                    }
                }
                for pair in sorted.windows(2) {
                    if pair[1].0 <= pair[0].1 {
                        return bad(format!(
                            "RANGE intervals {}:{} and {}:{} overlap",
                            pair[0].0, pair[0].1, pair[1].0, pair[1].1
                        ));
                    }
                }
                Ok(())
            }
            ShardingFunction::Match {
                values,
                empty_route,
            } => {
                if values.is_empty() && empty_route.is_none() {
                    return bad("MATCH needs at least one value".into());
                }
                let mut seen = BTreeSet::new();
                for (value, _) in values {
                    if value.is_empty() {
                        return bad(
                            "MATCH lists the empty string as a value; use the empty-string route"
                                .into(),
                        );
                    }
                    if !seen.insert(value.as_str()) {
                        return bad(format!("MATCH value '{value}' is listed twice"));
                    }
                }
                Ok(())
            }
            ShardingFunction::Route { values } => {
                if values.is_empty() {
                    return bad("ROUTE needs at least one value".into());
                }
                let mut seen = BTreeSet::new();
                for (value, _) in values {
                    if !seen.insert(*value) {
                        return bad(format!("ROUTE value {value} is listed twice"));
                    }
                }
                Ok(())
            }
            ShardingFunction::SimpleMod {
                modulus,
                remainders,
            }
            | ShardingFunction::Crc32Mod {
                modulus,
                remainders,
            } => {
                let name = self.type_name().to_ascii_uppercase();
                if !(2..=MAX_MODULUS).contains(modulus) {
                    return bad(format!(
                        "{name} modulus {modulus} is outside 2..=2147483647"
                    ));
                }
                let mut sorted = remainders.clone();
                sorted.sort_unstable();
                let mut expected = 0u64;
                for &(low, high, _) in &sorted {
                    if low > high {
                        return bad(format!(
                            "{name} remainder interval {low}:{high} has low > high"
                        ));
                    }
                    if high >= *modulus {
                        return bad(format!(
                            "{name} remainder {high} is not below the modulus {modulus}"
                        ));
                    }
                    if low < expected {
                        return bad(format!("{name} remainder {low} is covered twice"));
                    }
                    if low > expected {
                        return bad(format!(
                            "{name} remainders {expected}..{} have no data node (every remainder below the modulus needs one)",
                            low - 1
                        ));
                    }
                    expected = high + 1;
                }
                if expected < *modulus {
                    return bad(format!(
                        "{name} remainders {expected}..{} have no data node (every remainder below the modulus needs one)",
                        modulus - 1
                    ));
                }
                Ok(())
            }
        }
    }
}
