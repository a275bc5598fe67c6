//! What a merge needs to know of the collations of the strings it compares.
//!
//! Rows reach the merge with column definitions that carry the connection's character
//! set, not the column's collation. The catalog records each string column's collation
//! as a data node reports it; here the per-node columns that are a table's column (or
//! MIN/MAX of one) get that collation, and the columns whose collation the merge cannot
//! assume are listed so comparing them, or expressions over them, is refused.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, SelectItem, SetExpr,
};
use strata_mysql::collation::Collation;

use crate::exprs::function_name;
use crate::scope::{Scope, ScopedTable};

/// The collation id of each per-node column of `per_node` where the plan knows it.
pub(crate) fn per_node_collations(per_node: &Query, scope: &Scope) -> Vec<Option<u16>> {
    let SetExpr::Select(select) = &*per_node.body else {
        return Vec::new();
    };
    // The outer block's tables: the select list's columns are theirs.
    let tables: Vec<&ScopedTable> = scope
        .blocks
        .iter()
        .filter(|b| b.outer)
        .flat_map(|b| &b.tables)
        .collect();
    let mut out = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                out.push(of_expr(e, &tables))
            }
            SelectItem::Wildcard(_) if tables.len() == 1 => {
                out.extend(all_columns(tables[0]));
            }
            SelectItem::QualifiedWildcard(name, _) => {
                let text = name.to_string();
                let text = text.strip_suffix(".*").unwrap_or(&text);
                let q = text
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .trim_matches('`');
                match tables
                    .iter()
                    .find(|t| t.table.qualifier.eq_ignore_ascii_case(q))
                {
                    Some(t) => out.extend(all_columns(t)),
                    // Later columns cannot be numbered.
                    None => break,
                }
            }
            _ => break,
        }
    }
    // Columns after the last known one need no entry.
    while out.last() == Some(&None) {
        out.pop();
    }
    out
}

/// The string columns (lowercase; `*`: all) of the statement's tables whose collation
/// a merge cannot assume: from the recorded collations, or what the CREATE TABLE text
/// named for tables without them.
pub(crate) fn other_collation_columns(scope: &Scope) -> Vec<String> {
    scope
        .tables()
        .flat_map(|t| match &t.table.info.column_collations {
            Some(recorded) => recorded
                .iter()
                .filter(|(_, name)| !is_assumed(name))
                .map(|(column, _)| column.clone())
                .collect(),
            None => t.table.info.other_collation_columns.clone(),
        })
        .collect()
}

/// Whether strings of this collation compare as merges do without being told:
/// utf8mb4_general_ci (ASCII and utf8mb3 general_ci agree with it) or bytewise, which
/// the BINARY flag of the column definition announces (`binary` and every `*_bin`).
pub(crate) fn is_assumed(name: &str) -> bool {
    const SAME: &[&str] = &[
        "utf8mb4",
        "utf8mb4_general_ci",
        "utf8",
        "utf8mb3",
        "utf8_general_ci",
        "utf8mb3_general_ci",
        "ascii",
        "ascii_general_ci",
        "binary",
        "default",
    ];
    let name = name.to_ascii_lowercase();
    SAME.contains(&name.as_str()) || name.ends_with("_bin")
}

fn all_columns(t: &ScopedTable) -> Vec<Option<u16>> {
    t.table
        .info
        .columns
        .iter()
        .map(|c| recorded(t, c))
        .collect()
}

fn of_expr(e: &Expr, tables: &[&ScopedTable]) -> Option<u16> {
    match e {
        Expr::Nested(inner) => of_expr(inner, tables),
        Expr::Identifier(id) => {
            // The one table of the statement that has the column.
            let mut found = tables.iter().filter_map(|t| recorded_name(t, &id.value));
            match (found.next(), found.next()) {
                (Some(name), None) => id_of(name),
                _ => None,
            }
        }
        Expr::CompoundIdentifier(parts) => {
            let [.., q, c] = parts.as_slice() else {
                return None;
            };
            let t = tables
                .iter()
                .find(|t| t.table.qualifier.eq_ignore_ascii_case(&q.value))?;
            recorded(t, &c.value)
        }
        Expr::Function(f) if matches!(function_name(f).as_str(), "MIN" | "MAX") => {
            let FunctionArguments::List(list) = &f.args else {
                return None;
            };
            match list.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))]
                    if list.duplicate_treatment.is_none() =>
                {
                    of_expr(arg, tables)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn recorded_name<'t>(t: &'t ScopedTable, column: &str) -> Option<&'t str> {
    t.table
        .info
        .column_collations
        .as_ref()?
        .get(&column.to_lowercase())
        .map(String::as_str)
}

fn recorded(t: &ScopedTable, column: &str) -> Option<u16> {
    recorded_name(t, column).and_then(id_of)
}

fn id_of(name: &str) -> Option<u16> {
    Collation::from_name(name).map(|c| c.id())
}
