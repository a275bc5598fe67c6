//! The first column a write reads from its own table: MariaDB checks SELECT on each
//! column a write reads (its WHERE, ORDER BY, the values it assigns, RETURNING, and the
//! columns `ON DUPLICATE KEY UPDATE` assigns) and refuses with 1143 naming the first.
//! An account without SELECT on the table may still `UPDATE t SET a = 1` or `DELETE FROM
//! t`, but not learn values through which rows a condition matched.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, Expr, FromTable, ObjectNamePart, OnInsert, Query, SelectItem, Statement,
    Visit, Visitor,
};

use crate::source::{parse_one, Source};

/// The first column (unquoted) of its own table that the single-table UPDATE or DELETE,
/// or the INSERT/REPLACE with RETURNING or ON DUPLICATE KEY UPDATE, `sql` reads, in the
/// order MariaDB checks them; None when it reads none, is of another kind, names
/// several tables, or cannot be parsed.
pub fn first_column_read(sql: &str) -> Option<String> {
    let src = Source::new(sql).ok()?;
    let stmt = src.parse().ok()?;
    match &stmt {
        Statement::Update {
            table,
            assignments,
            from,
            selection,
            ..
        } => {
            if from.is_some() || !table.joins.is_empty() {
                return None;
            }
            let order_keys = src
                .masked
                .update_order_keys
                .clone()
                .and_then(|keys| sql.get(keys))
                .and_then(|keys| parse_one(&format!("SELECT 1 ORDER BY {keys}")).ok());
            first_in(selection.as_ref())
                .or_else(|| order_keys.as_ref().and_then(first_in_statement))
                .or_else(|| assignments.iter().find_map(|a| first_in(Some(&a.value))))
        }
        Statement::Delete(delete) => {
            let from = match &delete.from {
                FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
            };
            if !delete.tables.is_empty()
                || delete.using.is_some()
                || from.len() != 1
                || from.iter().any(|t| !t.joins.is_empty())
            {
                return None;
            }
            // MariaDB checks a DELETE's RETURNING list before its WHERE.
            first_returned(delete.returning.as_deref())
                .or_else(|| first_in(delete.selection.as_ref()))
                .or_else(|| delete.order_by.iter().find_map(|o| first_in(Some(&o.expr))))
        }
        Statement::Insert(insert) => {
            let upsert = match &insert.on {
                Some(OnInsert::DuplicateKeyUpdate(assignments)) => assignments
                    .iter()
                    .find_map(|a| first_in(Some(&a.value)))
                    .or_else(|| {
                        assignments.iter().find_map(|a| match &a.target {
                            AssignmentTarget::ColumnName(name) => {
                                name.0.last().map(ObjectNamePart::to_string)
                            }
                            AssignmentTarget::Tuple(_) => None,
                        })
                    }),
                _ => None,
            };
            upsert.or_else(|| first_returned(insert.returning.as_deref()))
        }
        _ => None,
    }
    .map(|c| unquote(&c))
}

fn first_returned(items: Option<&[SelectItem]>) -> Option<String> {
    items?.iter().find_map(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => first_in(Some(e)),
        // `RETURNING *` reads every column; MariaDB names the first.
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => Some("*".to_string()),
    })
}

/// The first column named in `expr` outside its subqueries (which read other tables,
/// checked as SELECTs of their own).
fn first_in(expr: Option<&Expr>) -> Option<String> {
    let mut finder = FirstColumn::default();
    match expr?.visit(&mut finder) {
        ControlFlow::Break(name) => Some(name),
        ControlFlow::Continue(()) => None,
    }
}

/// [`first_in`] over the ORDER BY of a `SELECT 1 ORDER BY keys` parsed for the purpose.
fn first_in_statement(stmt: &Statement) -> Option<String> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let order = q.order_by.as_ref()?;
    match &order.kind {
        sqlparser::ast::OrderByKind::Expressions(keys) => {
            keys.iter().find_map(|k| first_in(Some(&k.expr)))
        }
        sqlparser::ast::OrderByKind::All(_) => None,
    }
}

#[derive(Default)]
struct FirstColumn {
    depth: usize,
}

impl Visitor for FirstColumn {
    type Break = String;

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::Identifier(ident) => ControlFlow::Break(ident.to_string()),
            Expr::CompoundIdentifier(parts) => match parts.last() {
                Some(last) => ControlFlow::Break(last.to_string()),
                None => ControlFlow::Continue(()),
            },
            _ => ControlFlow::Continue(()),
        }
    }
}

fn unquote(name: &str) -> String {
    match name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
        Some(inner) => inner.replace("``", "`"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::first_column_read as first;

    #[test]
    fn reads_in_mariadbs_order() {
        let cases = [
            ("UPDATE t9 SET a = b WHERE c = 1", Some("c")),
            ("UPDATE t9 SET a = 1 WHERE c = 1 ORDER BY b", Some("c")),
            ("UPDATE t9 SET a = 1 ORDER BY b LIMIT 1", Some("b")),
            ("UPDATE t9 SET a = a + 1", Some("a")),
            ("UPDATE t9 SET a = 1 WHERE 1 = 1", None),
            ("UPDATE t9 SET a = 1 LIMIT 1", None),
            ("UPDATE t9 SET b = DEFAULT(c)", Some("c")),
            ("UPDATE t9 SET a = (SELECT x FROM o) WHERE 0", None),
            ("DELETE FROM t9 WHERE t9.`c` > 5", Some("c")),
            ("DELETE FROM t9 ORDER BY b", Some("b")),
            ("DELETE FROM t9", None),
            ("DELETE FROM t9 RETURNING a", Some("a")),
            ("DELETE FROM t9 WHERE a = 99 RETURNING b", Some("b")),
            ("INSERT INTO t9 VALUES (5,5,5) RETURNING a", Some("a")),
            (
                "INSERT INTO t9 (a) VALUES (6) ON DUPLICATE KEY UPDATE b = c",
                Some("c"),
            ),
            (
                "INSERT INTO t9 (a) VALUES (7) ON DUPLICATE KEY UPDATE b = VALUES(c)",
                Some("c"),
            ),
            (
                "INSERT INTO t9 (a) VALUES (8) ON DUPLICATE KEY UPDATE b = 3",
                Some("b"),
            ),
            ("INSERT INTO t9 (a, b) SELECT x, y FROM o", None),
            ("UPDATE t1, t2 SET t1.a = t2.b", None),
        ];
        for (sql, want) in cases {
            assert_eq!(first(sql).as_deref(), want, "{sql}");
        }
    }
}
