//! Unique keys and the sharding column. Each data node enforces a PRIMARY KEY or UNIQUE
//! key only over the rows it holds, so on a table whose rows are spread over several
//! data nodes a key is enforced for the whole table only when it contains the column
//! that places rows: two rows with equal key values then always land on the same node.
//! This module holds that rule once ([`UniqueKey::contains`], [`violating_key`]) for the
//! planner's DDL checks, and [`unique_key_violations`] for the start-up report and the
//! admin surface.

use serde::{Deserialize, Serialize};

use crate::sharding::Distribution;
use crate::table::TableInfo;

/// A PRIMARY KEY or UNIQUE key of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueKey {
    /// `PRIMARY` for the primary key, else the index name as MySQL records it.
    pub name: String,
    /// Key parts in order: a column name, or the part's text when it is not a plain
    /// column (a prefix `c(10)` or an expression), which never counts as the column.
    pub columns: Vec<String>,
}

impl UniqueKey {
    /// The name MySQL gives a primary key.
    pub const PRIMARY: &'static str = "PRIMARY";

    /// True for the primary key.
    pub fn is_primary(&self) -> bool {
        self.name.eq_ignore_ascii_case(Self::PRIMARY)
    }

    /// True when a whole key part is `column` (MySQL column names ignore case).
    pub fn contains(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.eq_ignore_ascii_case(column))
    }

    /// `PRIMARY KEY (a, b)` or `UNIQUE KEY name (a, b)`, for messages.
    pub fn describe(&self) -> String {
        let columns = self.columns.join(", ");
        if self.is_primary() {
            format!("PRIMARY KEY ({columns})")
        } else {
            format!("UNIQUE KEY {} ({columns})", self.name)
        }
    }
}

/// The first key that does not contain `sharding_column`.
pub fn violating_key<'k>(keys: &'k [UniqueKey], sharding_column: &str) -> Option<&'k UniqueKey> {
    keys.iter().find(|k| !k.contains(sharding_column))
}

/// The column whose value places a table's rows when they are spread over several data
/// nodes (a child's is its joining column), or None when every node holds whole copies
/// or all rows (global, vertical, or a rule over one node).
pub fn distributing_column(table: &TableInfo) -> Option<&str> {
    if table.data_nodes.len() < 2 {
        return None;
    }
    match &table.distribution {
        Distribution::Sharded { column, .. } | Distribution::Child { column, .. } => Some(column),
        Distribution::Global { .. } | Distribution::Vertical { .. } => None,
    }
}

/// A recorded key that data nodes cannot enforce across the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyViolation {
    /// Logical database.
    pub db: String,
    /// Table.
    pub table: String,
    /// The key without the sharding column.
    pub key: UniqueKey,
    /// The column that places the table's rows.
    pub sharding_column: String,
}

impl std::fmt::Display for KeyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}: {} does not contain the sharding column {}",
            self.db,
            self.table,
            self.key.describe(),
            self.sharding_column
        )
    }
}

/// Every key of `tables` (database, name, table) that does not contain the table's
/// sharding column, for tables spread over several data nodes. Tables whose keys are
/// not recorded are skipped: the caller reads those from a data node first.
pub fn unique_key_violations<'a>(
    tables: impl IntoIterator<Item = (&'a str, &'a str, &'a TableInfo)>,
) -> Vec<KeyViolation> {
    let mut out = Vec::new();
    for (db, name, table) in tables {
        let (Some(column), Some(keys)) = (distributing_column(table), &table.unique_keys) else {
            continue;
        };
        out.extend(
            keys.iter()
                .filter(|k| !k.contains(column))
                .map(|k| KeyViolation {
                    db: db.to_string(),
                    table: name.to_string(),
                    key: k.clone(),
                    sharding_column: column.to_string(),
                }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sharding::{KeyType, ShardingRule};
    use crate::DataNodeId;

    fn dn(n: u32) -> DataNodeId {
        DataNodeId::new(n)
    }

    fn key(name: &str, columns: &[&str]) -> UniqueKey {
        UniqueKey {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn sharded_on(column: &str, nodes: &[u32], keys: Option<Vec<UniqueKey>>) -> TableInfo {
        let rule = ShardingRule::auto_mod(nodes.iter().copied().map(dn).collect())
            .unwrap_or_else(|e| panic!("{e}"));
        let distribution = Distribution::sharded(
            column,
            KeyType::Integer {
                unsigned: false,
                bytes: None,
            },
            rule,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut t = TableInfo::new(distribution);
        t.unique_keys = keys;
        t
    }

    #[test]
    fn a_key_contains_a_column_in_any_position_and_letter_case() {
        let k = key("PRIMARY", &["id", "K"]);
        assert!(k.contains("k"));
        assert!(k.contains("ID"));
        assert!(!k.contains("s"));
        // A prefix of the column does not make equal keys land on one node.
        assert!(!key("u", &["k(3)"]).contains("k"));
    }

    #[test]
    fn violations_list_each_key_without_the_sharding_column() {
        let bad = sharded_on(
            "k",
            &[1, 2, 3, 4],
            Some(vec![
                key("PRIMARY", &["id"]),
                key("uk", &["k", "s"]),
                key("email", &["email"]),
            ]),
        );
        let good = sharded_on("k", &[1, 2], Some(vec![key("PRIMARY", &["id", "k"])]));
        let one_node = sharded_on("k", &[3], Some(vec![key("PRIMARY", &["id"])]));
        let unknown = sharded_on("k", &[1, 2], None);
        let global = {
            let mut t = TableInfo::new(Distribution::Global {
                data_nodes: vec![dn(1), dn(2)],
            });
            t.unique_keys = Some(vec![key("PRIMARY", &["id"])]);
            t
        };
        let tables = [
            ("d", "bad", &bad),
            ("d", "good", &good),
            ("d", "one_node", &one_node),
            ("d", "unknown", &unknown),
            ("d", "global", &global),
        ];
        let found: Vec<String> = unique_key_violations(tables)
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            found,
            [
                "d.bad: PRIMARY KEY (id) does not contain the sharding column k",
                "d.bad: UNIQUE KEY email (email) does not contain the sharding column k",
            ]
        );
    }

    #[test]
    fn a_child_is_checked_against_its_joining_column() {
        let mut child = TableInfo::new(Distribution::Child {
            parent: "orders".into(),
            parent_column: "id".into(),
            column: "order_id".into(),
        });
        child.data_nodes = vec![dn(1), dn(2)];
        child.unique_keys = Some(vec![
            key("PRIMARY", &["line_id"]),
            key("x", &["ORDER_ID", "n"]),
        ]);
        let found = unique_key_violations([("d", "lines", &child)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, key("PRIMARY", &["line_id"]));
        assert_eq!(found[0].sharding_column, "order_id");
    }
}
