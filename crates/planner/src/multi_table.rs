//! Multi-table `UPDATE` and `DELETE` whose tables are not co-located: the join is read
//! first — `SELECT <each target's primary key>, <the other tables' columns the SET
//! values read> FROM <the statement's tables> WHERE <its WHERE>`, planned like any
//! SELECT (a cross-node join when the tables are spread) — and each target row is then
//! written by key (`UPDATE t SET ... WHERE pk IN (...)`, `DELETE FROM t WHERE pk IN
//! (...)`), planned again like a statement the client sent ([`ReadThenWrite`] with
//! [`RowsAs::ByKey`]). The SET values keep the target's own columns (the write reads
//! them, before it changes the row, as MySQL's multi-table UPDATE does) and take the
//! other tables' columns as literals of the values read.
//!
//! Refused with 1235: a target without a recorded PRIMARY KEY (only its values name
//! exactly one row each), a SET value that reads a column the statement also assigns
//! (MySQL's result then depends on its join order), subqueries in SET values, derived
//! tables, one table written under two aliases, UPDATE IGNORE (MariaDB counts the rows
//! it skips as changed), an UPDATE's ORDER BY and LIMIT (MySQL refuses them with
//! 1221; MariaDB applies them to the joined rows in its join order); a DELETE's are a
//! syntax error (1064) as in MariaDB. Setting a target's sharding
//! column is refused as for single-table writes. A target row that joined rows give
//! different new values is refused when the writes run (MySQL keeps the first in its
//! join order, which Strata's join does not reproduce).

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, Delete, Expr, FromTable, Ident, ObjectName, Statement, TableFactor,
    TableWithJoins, VisitMut, VisitorMut,
};

use strata_sql::{Lexer, Token};

use crate::catalog_view::CatalogView;
use crate::context::{PlanContext, Random};
use crate::error::PlanError;
use crate::keys::Placement;
use crate::nondeterministic::{Fixer, RandomCalls};
use crate::plan::{KeyedWrite, Plan, ReadThenWrite, RowsAs, SetPiece};
use crate::scope::{Resolver, TableRef};
use crate::source::Source;

/// What stands for a read column in a SET value until the row is known.
const MARKER: &str = "strata_read_value_";

/// Target keys per write statement.
const KEY_BATCH: usize = 1000;

/// Whether `stmt` is a multi-table UPDATE or DELETE (several tables, or a join).
pub(crate) fn applies(stmt: &Statement) -> bool {
    let several =
        |from: &[TableWithJoins]| from.len() > 1 || from.iter().any(|t| !t.joins.is_empty());
    match stmt {
        Statement::Update { table, from, .. } => {
            from.is_some() || several(std::slice::from_ref(table))
        }
        Statement::Delete(d) => {
            !d.tables.is_empty()
                || d.using.is_some()
                || match &d.from {
                    FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => several(f),
                }
        }
        _ => false,
    }
}

/// `sql` with the commas of a multi-table UPDATE's table list (`UPDATE t1, t2 SET`)
/// written as `CROSS JOIN`, which sqlparser reads (MySQL's comma join is an inner join
/// without condition); None for any other statement, and for a list that mixes commas
/// with JOIN.
pub(crate) fn comma_update_as_join(sql: &str) -> Option<String> {
    let code: Vec<Token> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    if !code.first()?.is_keyword(sql, "UPDATE") {
        return None;
    }
    let mut depth = 0i32;
    let mut commas = Vec::new();
    for t in &code[1..] {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0 && t.is_keyword(sql, "SET") {
            break;
        } else if depth == 0 && t.is_punct(sql, ",") {
            commas.push(t.span);
        } else if depth == 0 && (t.is_keyword(sql, "JOIN") || t.is_keyword(sql, "STRAIGHT_JOIN")) {
            // A comma binds looser than JOIN (`t1, t2 JOIN t3 ON <t1's column>` is an
            // error in MySQL): mixed lists keep sqlparser's answer.
            return None;
        }
    }
    if commas.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(sql.len() + commas.len() * 12);
    let mut at = 0;
    for span in commas {
        out.push_str(sql.get(at..span.start)?);
        out.push_str(" CROSS JOIN ");
        at = span.end;
    }
    out.push_str(sql.get(at..)?);
    Some(out)
}

/// Plans `stmt` (a multi-table UPDATE or DELETE) with its join read first, or returns
/// `refusal` (why the ordinary plan failed) when that does not apply.
pub(crate) fn plan(
    src: &Source<'_>,
    stmt: &Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
    refusal: PlanError,
) -> Result<Plan, PlanError> {
    if src.hint.is_some()
        || src.sql.contains(MARKER)
        || crate::dnid::mentions_dnid(stmt)
        || !applies(stmt)
    {
        return Err(refusal);
    }
    let (kind, joined, selection, ordered, limited) = match stmt {
        Statement::Update {
            table,
            from: None,
            selection,
            returning: None,
            limit,
            ..
        } => (
            "UPDATE",
            vec![table.clone()],
            selection,
            src.masked.update_order_by,
            limit.is_some(),
        ),
        Statement::Delete(Delete {
            from,
            using,
            selection,
            order_by,
            limit,
            returning: None,
            ..
        }) => {
            let joined = match (using, from) {
                (Some(using), _) => using.clone(),
                (None, FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f)) => f.clone(),
            };
            (
                "DELETE",
                joined,
                selection,
                !order_by.is_empty(),
                limit.is_some(),
            )
        }
        _ => return Err(refusal),
    };
    if (ordered || limited) && kind == "DELETE" {
        // MariaDB's grammar has no ORDER BY or LIMIT in a multi-table DELETE.
        return Err(PlanError::Parse(
            "ORDER BY and LIMIT are not allowed in a multi-table DELETE".into(),
        ));
    }
    if ordered || limited {
        // MariaDB applies them to the joined rows of an UPDATE in its own join order,
        // which the compute node's join does not reproduce.
        return Err(PlanError::unsupported(
            "multi-table UPDATE with ORDER BY or LIMIT across data nodes",
        ));
    }
    // The statement's parameters are bound in it: what is planned from it has none.
    let ctx = &PlanContext {
        params: None,
        ..*ctx
    };
    let resolver = Resolver::new(ctx, catalog);
    let mut tables = Vec::new();
    for twj in &joined {
        for relation in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation))
        {
            let TableFactor::Table { name, alias, .. } = relation else {
                return Err(PlanError::unsupported(format!(
                    "multi-table {kind} across data nodes with a derived or nested table"
                )));
            };
            tables.push(resolver.table(name, alias.as_ref().map(|a| a.name.value.as_str()))?);
        }
    }
    let ignore = has_modifier(src, "IGNORE");
    if ignore && kind == "UPDATE" {
        // MariaDB counts the rows its multi-table UPDATE IGNORE skips on a duplicate key
        // as changed, without a warning; the writes by key would count them as MySQL
        // does.
        return Err(PlanError::unsupported(
            "multi-table UPDATE IGNORE across data nodes",
        ));
    }
    let mut read = ReadColumns::default();
    let writes = match stmt {
        Statement::Update { assignments, .. } => {
            let mut assigned: Vec<(usize, String, &Expr)> = Vec::new();
            for a in assignments {
                let AssignmentTarget::ColumnName(col) = &a.target else {
                    return Err(PlanError::unsupported("UPDATE ... SET (a, b) = ..."));
                };
                let (t, column) = resolve(&tables, &name_parts(col))?;
                assigned.push((t, column, &a.value));
            }
            {
                let rng = Random::new(ctx.seed);
                update_writes(&tables, &assigned, &Fixer::new(ctx, &rng), &mut read)?
            }
        }
        Statement::Delete(Delete {
            tables: named,
            from,
            using,
            ..
        }) => {
            let names: Vec<ObjectName> = match (named.is_empty(), using, from) {
                (false, _, _) => named.clone(),
                (true, Some(_), FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f)) => f
                    .iter()
                    .filter_map(|t| match &t.relation {
                        TableFactor::Table { name, .. } => Some(name.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => return Err(refusal),
            };
            let mut targets: Vec<usize> = Vec::new();
            for name in &names {
                let t = delete_target(&tables, name)?;
                if !targets.contains(&t) {
                    targets.push(t);
                }
            }
            targets
                .into_iter()
                .map(|t| {
                    let (key, key_columns) = target_key(&tables[t], kind, &mut read)?;
                    Ok(KeyedWrite {
                        head: format!(
                            "DELETE {}FROM {}",
                            if ignore { "IGNORE " } else { "" },
                            table_name(&tables[t])
                        ),
                        set: Vec::new(),
                        key,
                        key_columns,
                        batch_rows: KEY_BATCH,
                    })
                })
                .collect::<Result<Vec<_>, PlanError>>()?
        }
        _ => return Err(refusal),
    };
    if writes
        .iter()
        .enumerate()
        .any(|(i, w)| writes[..i].iter().any(|o| o.head == w.head))
    {
        // Each alias's writes would meet the rows the other's changed.
        return Err(PlanError::unsupported(format!(
            "multi-table {kind} across data nodes writing one table under two names"
        )));
    }
    // Each write must plan (NULL stands for the values and keys here).
    for w in &writes {
        let nulls = vec!["NULL"; read.columns.len()];
        let key = match w.key_columns.len() {
            1 => "NULL".to_string(),
            n => format!("({})", vec!["NULL"; n].join(", ")),
        };
        crate::plan_statement(&w.statement(&w.set_text(&nulls), &[key]), ctx, catalog)?;
    }

    let from: Vec<String> = joined.iter().map(ToString::to_string).collect();
    let mut select = format!(
        "SELECT {} FROM {}",
        read.columns.join(", "),
        from.join(", ")
    );
    if let Some(w) = selection {
        select.push_str(&format!(" WHERE {w}"));
    }
    // A locking read, as MySQL's UPDATE reads: the latest committed rows, locked until
    // the statement's transaction ends (a join across nodes locks on each node what
    // its side reads there). A read that cannot lock is refused, not run unlocked.
    let source = plan_read(&format!("{select} FOR UPDATE"), ctx, catalog)?;
    Ok(Plan::ReadThenWrite(ReadThenWrite {
        source: Box::new(source),
        before: writes.first().map(|w| w.head.clone()).unwrap_or_default(),
        after: String::new(),
        rows: RowsAs::ByKey(writes),
    }))
}

/// Plans the read `sql`.
fn plan_read(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Plan, PlanError> {
    let src = Source::new(sql)?;
    let mut parsed = src.parse()?;
    src.bind(&mut parsed, None)?;
    let Statement::Query(query) = parsed else {
        return Err(PlanError::unsupported("this multi-table UPDATE or DELETE"));
    };
    crate::select::plan_query(&src, *query, ctx, catalog)
}

/// The read's select list, each column once.
#[derive(Default)]
struct ReadColumns {
    columns: Vec<String>,
}

impl ReadColumns {
    /// The index of `table`'s `column` in the read (added when new).
    fn of(&mut self, table: &TableRef, column: &str) -> usize {
        let text = format!(
            "{}.{}",
            Ident::with_quote('`', table.qualifier.as_str()),
            Ident::with_quote('`', column)
        );
        if let Some(i) = self.columns.iter().position(|c| *c == text) {
            return i;
        }
        self.columns.push(text);
        self.columns.len() - 1
    }
}

/// The writes of a multi-table UPDATE, one per target table in the order the SET
/// list first names them.
fn update_writes(
    tables: &[TableRef],
    assigned: &[(usize, String, &Expr)],
    fixer: &Fixer<'_>,
    read: &mut ReadColumns,
) -> Result<Vec<KeyedWrite>, PlanError> {
    let mut targets: Vec<usize> = Vec::new();
    for (t, column, _) in assigned {
        let table = &tables[*t];
        if let Placement::Sharded { column: key, .. } = &table.placement {
            if key.eq_ignore_ascii_case(column) {
                return Err(PlanError::ShardingColumnChange(format!(
                    "{}.{key} would move rows to another data node",
                    table.name
                )));
            }
        }
        if !targets.contains(t) {
            targets.push(*t);
        }
    }
    let mut writes = Vec::new();
    for target in targets {
        let table = &tables[target];
        let (key, key_columns) = target_key(table, "UPDATE", read)?;
        let mut set = Vec::new();
        let mut earlier: Vec<&str> = Vec::new();
        for (t, column, value) in assigned.iter().filter(|(t, ..)| *t == target) {
            let mut value = (*value).clone();
            let mut values = SetValue {
                tables,
                target: *t,
                assigned,
                earlier: &earlier,
                read: &mut *read,
                failure: None,
            };
            let _ = value.visit(&mut values);
            if let Some(e) = values.failure {
                return Err(e);
            }
            // NOW() and friends are the statement's time in every write, as in MySQL.
            fixer.fix_ast(&mut value, RandomCalls::Keep)?;
            if !set.is_empty() {
                set.push(SetPiece::Text(", ".into()));
            }
            set.push(SetPiece::Text(format!(
                "{} = ",
                Ident::with_quote('`', column.as_str())
            )));
            set.extend(pieces(&value.to_string()));
            earlier.push(column);
        }
        writes.push(KeyedWrite {
            head: format!("UPDATE {} SET ", table_name(table)),
            set,
            key,
            key_columns,
            batch_rows: KEY_BATCH,
        });
    }
    Ok(writes)
}

/// Rewrites a SET value for its single-table write: the target's own columns stay
/// columns (unqualified), other tables' columns become read columns (markers).
struct SetValue<'a, 'e> {
    tables: &'a [TableRef],
    target: usize,
    assigned: &'a [(usize, String, &'e Expr)],
    /// The target's columns assigned before this value.
    earlier: &'a [&'a str],
    read: &'a mut ReadColumns,
    failure: Option<PlanError>,
}

impl VisitorMut for SetValue<'_, '_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let parts: Vec<String> = match expr {
            // DEFAULT, and user and system variables (`@x`, `@@x`), are no columns.
            Expr::Identifier(id)
                if id.quote_style.is_none()
                    && (id.value.eq_ignore_ascii_case("DEFAULT") || id.value.starts_with('@')) =>
            {
                return ControlFlow::Continue(())
            }
            Expr::Identifier(id) => vec![id.value.clone()],
            Expr::CompoundIdentifier(ids) => ids.iter().map(|i| i.value.clone()).collect(),
            Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
                self.failure = Some(PlanError::unsupported(
                    "a subquery in the SET list of a multi-table UPDATE across data nodes",
                ));
                return ControlFlow::Break(());
            }
            _ => return ControlFlow::Continue(()),
        };
        let (t, column) = match resolve(self.tables, &parts) {
            Ok(found) => found,
            Err(e) => {
                self.failure = Some(e);
                return ControlFlow::Break(());
            }
        };
        let ambiguous = if t == self.target {
            self.earlier.iter().any(|c| c.eq_ignore_ascii_case(&column))
        } else {
            self.assigned
                .iter()
                .any(|(a, c, _)| *a == t && c.eq_ignore_ascii_case(&column))
        };
        if ambiguous {
            self.failure = Some(PlanError::unsupported(format!(
                "a multi-table UPDATE across data nodes whose SET value reads the column {column} it also assigns (MySQL's result depends on its join order)"
            )));
            return ControlFlow::Break(());
        }
        *expr = if t == self.target {
            Expr::Identifier(Ident::with_quote('`', column))
        } else {
            let i = self.read.of(&self.tables[t], &column);
            Expr::Identifier(Ident::new(format!("{MARKER}{i}")))
        };
        ControlFlow::Continue(())
    }
}

/// `text` cut at its markers.
fn pieces(text: &str) -> Vec<SetPiece> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARKER) {
        let after = &rest[at + MARKER.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>() {
            Ok(i) => {
                if at > 0 {
                    out.push(SetPiece::Text(rest[..at].to_string()));
                }
                out.push(SetPiece::Column(i));
            }
            Err(_) => out.push(SetPiece::Text(rest[..at + MARKER.len()].to_string())),
        }
        rest = &after[digits..];
    }
    if !rest.is_empty() {
        out.push(SetPiece::Text(rest.to_string()));
    }
    out
}

/// The primary key of a target as the left side of `IN`, and its read columns.
fn target_key(
    table: &TableRef,
    kind: &str,
    read: &mut ReadColumns,
) -> Result<(String, Vec<usize>), PlanError> {
    let key = table
        .info
        .unique_keys
        .as_ref()
        .and_then(|keys| keys.iter().find(|k| k.is_primary()))
        .map(|k| k.columns.clone())
        .filter(|columns| {
            !columns.is_empty()
                && columns
                    .iter()
                    .all(|c| table.info.columns.iter().any(|t| t.eq_ignore_ascii_case(c)))
        })
        .ok_or_else(|| {
            PlanError::unsupported(format!(
                "multi-table {kind} across data nodes of a table without a recorded PRIMARY KEY ({})",
                table.name
            ))
        })?;
    let quoted: Vec<String> = key
        .iter()
        .map(|c| Ident::with_quote('`', c.as_str()).to_string())
        .collect();
    let columns = key.iter().map(|c| read.of(table, c)).collect();
    let text = match quoted.as_slice() {
        [one] => one.clone(),
        several => format!("({})", several.join(", ")),
    };
    Ok((text, columns))
}

/// The table a column reference names and the column's name as the catalog has it:
/// MariaDB's 1054 for a column no table has, 1052 for one several tables have.
fn resolve(tables: &[TableRef], parts: &[String]) -> Result<(usize, String), PlanError> {
    let written = parts.join(".");
    let unknown = || PlanError::Statement {
        code: 1054,
        sqlstate: "42S22",
        message: format!("Unknown column '{written}' in 'field list'"),
    };
    let (candidates, column): (Vec<usize>, &String) = match parts {
        [column] => (
            (0..tables.len())
                .filter(|&i| has_column(&tables[i], column))
                .collect(),
            column,
        ),
        [q, column] => (
            (0..tables.len())
                .filter(|&i| tables[i].qualifier == *q)
                .collect(),
            column,
        ),
        [db, name, column] => (
            (0..tables.len())
                .filter(|&i| tables[i].db == *db && tables[i].name == *name)
                .collect(),
            column,
        ),
        _ => return Err(unknown()),
    };
    if tables.iter().any(|t| t.info.columns.is_empty()) {
        return Err(PlanError::unsupported(
            "a multi-table UPDATE across data nodes of a table whose columns are not recorded",
        ));
    }
    match candidates.as_slice() {
        [t] => tables[*t]
            .info
            .columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(column))
            .map(|c| (*t, c.clone()))
            .ok_or_else(unknown),
        [] => Err(unknown()),
        _ if parts.len() == 1 => Err(PlanError::Statement {
            code: 1052,
            sqlstate: "23000",
            message: format!("Column '{written}' in field list is ambiguous"),
        }),
        _ => Err(PlanError::unsupported(format!(
            "a multi-table UPDATE across data nodes naming {written} in several tables"
        ))),
    }
}

fn has_column(table: &TableRef, column: &str) -> bool {
    table
        .info
        .columns
        .iter()
        .any(|c| c.eq_ignore_ascii_case(column))
}

/// The joined table a DELETE target names (its alias, or its name when it has none):
/// MariaDB's 1109 otherwise.
fn delete_target(tables: &[TableRef], name: &ObjectName) -> Result<usize, PlanError> {
    let parts = name_parts(name);
    let found = (0..tables.len()).find(|&i| {
        let t = &tables[i];
        match parts.as_slice() {
            [n] => t.qualifier == *n,
            [db, n] => t.db == *db && t.name == *n && t.qualifier == t.name,
            _ => false,
        }
    });
    found.ok_or_else(|| PlanError::Statement {
        code: 1109,
        sqlstate: "42S02",
        message: format!(
            "Unknown table '{}' in MULTI DELETE",
            parts.last().map(String::as_str).unwrap_or_default()
        ),
    })
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| p.as_ident().map(crate::source::ident_name))
        .collect()
}

/// `db`.`table`, quoted.
fn table_name(table: &TableRef) -> String {
    format!(
        "{}.{}",
        // Doubled here: sqlparser prints a value as it was written (parsed unescaped).
        Ident::with_quote('`', table.db.replace('`', "``")),
        Ident::with_quote('`', table.name.replace('`', "``"))
    )
}

/// Whether the statement's leading modifiers (`UPDATE LOW_PRIORITY IGNORE ...`)
/// include `word`.
fn has_modifier(src: &Source<'_>, word: &str) -> bool {
    src.tokens
        .iter()
        .filter(|t| t.kind.is_code())
        .skip(1)
        .take_while(|t| {
            ["LOW_PRIORITY", "IGNORE", "QUICK"]
                .iter()
                .any(|m| t.is_keyword(src.sql, m))
        })
        .any(|t| t.is_keyword(src.sql, word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_read_columns() {
        assert_eq!(
            pieces("CONCAT(`name`, strata_read_value_3, strata_read_value_12)"),
            vec![
                SetPiece::Text("CONCAT(`name`, ".into()),
                SetPiece::Column(3),
                SetPiece::Text(", ".into()),
                SetPiece::Column(12),
                SetPiece::Text(")".into()),
            ]
        );
        assert_eq!(pieces("1"), vec![SetPiece::Text("1".into())]);
    }

    #[test]
    fn the_comma_form_of_update_reads_as_cross_joins() {
        assert_eq!(
            comma_update_as_join("UPDATE a, b AS x SET a.n = IF(x.m, 1, 2) WHERE a.id = x.id")
                .as_deref(),
            Some("UPDATE a CROSS JOIN  b AS x SET a.n = IF(x.m, 1, 2) WHERE a.id = x.id")
        );
        assert_eq!(comma_update_as_join("UPDATE a SET n = 1, m = 2"), None);
        assert_eq!(
            comma_update_as_join("UPDATE a, b JOIN c ON a.x = c.x SET a.n = 1"),
            None
        );
        assert_eq!(comma_update_as_join("DELETE a, b FROM a, b"), None);
    }
}
