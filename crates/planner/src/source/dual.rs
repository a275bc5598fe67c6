//! `FROM DUAL`: MariaDB's "no table". sqlparser reads it as a table named `dual`, which
//! the planner would then look up (1146 "Table 'db.dual' doesn't exist" in a subquery),
//! so every SELECT block's lone unquoted `DUAL` is dropped and the block reads no table,
//! as it does on MariaDB. A quoted `` `dual` `` stays: that is an ordinary table name.

use std::ops::ControlFlow;

use sqlparser::ast::{Query, SetExpr, Statement, TableFactor, VisitMut, VisitorMut};

/// Removes `FROM DUAL` from every SELECT block of `stmt`.
pub(crate) fn drop_from_dual(stmt: &mut Statement) {
    let _ = stmt.visit(&mut DualRemover);
}

struct DualRemover;

impl VisitorMut for DualRemover {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        strip(&mut query.body);
        ControlFlow::Continue(())
    }
}

/// Strips `DUAL` from the SELECT blocks of one set expression (nested queries are
/// reached by the visitor itself).
fn strip(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            let only_dual = match select.from.as_slice() {
                [twj] => twj.joins.is_empty() && is_dual(&twj.relation),
                _ => false,
            };
            if only_dual {
                select.from.clear();
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            strip(left);
            strip(right);
        }
        _ => {}
    }
}

/// True for an unquoted, unqualified, unaliased `DUAL`.
fn is_dual(factor: &TableFactor) -> bool {
    let TableFactor::Table {
        name, alias, args, ..
    } = factor
    else {
        return false;
    };
    alias.is_none()
        && args.is_none()
        && match name.0.as_slice() {
            [part] => part
                .as_ident()
                .is_some_and(|i| i.quote_style.is_none() && i.value.eq_ignore_ascii_case("dual")),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(sql: &str) -> String {
        let mut stmt = crate::source::parse_one(sql).expect("parses");
        drop_from_dual(&mut stmt);
        stmt.to_string()
    }

    #[test]
    fn dual_is_dropped_in_every_block_but_a_quoted_dual_stays() {
        assert_eq!(
            stripped("SELECT a FROM t1 WHERE a = (SELECT 2000 FROM dual WHERE 1)"),
            "SELECT a FROM t1 WHERE a = (SELECT 2000 WHERE 1)"
        );
        assert_eq!(
            stripped("SELECT 1 FROM DUAL UNION SELECT 2 FROM Dual"),
            "SELECT 1 UNION SELECT 2"
        );
        assert_eq!(stripped("SELECT 1 FROM `dual`"), "SELECT 1 FROM `dual`");
    }
}
