//! Storage engines a CREATE or ALTER names: which Strata allows, which MariaDB knows.

use super::merge::MERGE_ENGINES;
use crate::lexer::{code_tokens, ident_value, Token};
use crate::StatementKind;

/// The engines `ENGINE[=]name` clauses of a CREATE or ALTER name, in order.
pub(super) fn engines_named(sql: &str, toks: &[Token]) -> Vec<String> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        }
        let next_is_eq = toks.get(i + 1).is_some_and(|n| n.is_punct(sql, "="));
        // Table options follow the column list; inside it `engine` may name a column.
        if t.is_keyword(sql, "ENGINE") && (depth == 0 || next_is_eq) {
            let j = if next_is_eq { i + 2 } else { i + 1 };
            if let Some(engine) = toks.get(j).filter(|n| n.kind.is_ident()) {
                out.push(ident_value(engine.text(sql)).into_owned());
            }
        }
    }
    out
}

/// An engine Strata lets a table use (its rows are MariaDB's and stay on the data
/// nodes).
pub(super) fn allowed_engine(name: &str) -> bool {
    ALLOWED_ENGINES
        .iter()
        .chain(MERGE_ENGINES)
        .any(|e| e.eq_ignore_ascii_case(name))
}

/// The storage engines MariaDB has (built in or as plugins, and their aliases): a name
/// among them that Strata does not allow is refused, never substituted, since a storage
/// server may have it.
const KNOWN_ENGINES: &[&str] = &[
    "INNOBASE",
    "CONNECT",
    "FEDERATED",
    "FEDERATEDX",
    "SPIDER",
    "S3",
    "OQGRAPH",
    "ROCKSDB",
    "MROONGA",
    "TOKUDB",
    "COLUMNSTORE",
    "SPHINX",
    "SPHINXSE",
    "PERFORMANCE_SCHEMA",
    "EXAMPLE",
    "NDB",
    "NDBCLUSTER",
    "PARTITION",
    "WSREP",
    "MYISAMMRG",
    "TEST_SQL_DISCOVERY",
    "UNUSABLE",
    "SEQUENCE",
];

pub(super) fn known_engine(name: &str) -> bool {
    allowed_engine(name) || KNOWN_ENGINES.iter().any(|e| e.eq_ignore_ascii_case(name))
}

/// The first engine a CREATE or ALTER TABLE names that no MariaDB engine is called
/// (MariaDB substitutes its default engine, with warnings 1286 and 1266, or refuses
/// with 1286 under NO_ENGINE_SUBSTITUTION): None when there is none.
pub fn unknown_engine(sql: &str, kind: StatementKind) -> Option<String> {
    if !matches!(kind, StatementKind::Create | StatementKind::Alter) {
        return None;
    }
    let toks: Vec<Token> = code_tokens(sql).collect();
    engines_named(sql, &toks)
        .into_iter()
        .find(|name| !known_engine(name))
}

/// Storage engines a table may use: those that keep rows in the storage node's own data
/// directory (CONNECT, FEDERATED, SPIDER, S3 and the like reach other servers or files).
const ALLOWED_ENGINES: &[&str] = &[
    "InnoDB",
    "MyISAM",
    "Aria",
    "MEMORY",
    "HEAP",
    "ARCHIVE",
    "BLACKHOLE",
    "CSV",
    "SEQUENCE",
];
