//! `ALTER TABLE` forms sqlparser cannot read that change nothing Strata records, run on
//! every data node of the table.

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::insert::fan_out;
use crate::keys::Placement;
use crate::plan::{Plan, WriteKind};
use crate::source::Source;

/// `ALTER TABLE t {DISABLE | ENABLE} KEYS` (mariadb-dump writes it around each table's
/// rows) and `ALTER TABLE t` with only table options that change nothing Strata records
/// (`COMMENT`, `ENGINE`, `ROW_FORMAT`, the default character set and collation; ORMs
/// set table comments this way), which sqlparser cannot read: they run on every data
/// node of the table. None for any other text.
pub(crate) fn plan_keys_toggle(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Plan>, PlanError> {
    let sql = src.sql;
    let code: Vec<strata_sql::Token> = strata_sql::code_tokens(sql)
        .filter(|t| !t.is_punct(sql, ";"))
        .collect();
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    let name = |i: usize| {
        code.get(i)
            .filter(|t| t.kind.is_ident())
            .map(|t| strata_sql::lexer::ident_value(t.text(sql)).into_owned())
    };
    if !(kw(0, "ALTER") && kw(1, "TABLE")) {
        return Ok(None);
    }
    let qualified = code.get(3).is_some_and(|t| t.is_punct(sql, "."));
    let (db, table, next) = if qualified {
        (name(2), name(4), 5)
    } else {
        (ctx.db.map(str::to_string), name(2), 3)
    };
    let keys_toggle = (kw(next, "DISABLE") || kw(next, "ENABLE"))
        && kw(next + 1, "KEYS")
        && code.len() == next + 2;
    if !keys_toggle && !only_table_options(sql, &code[next.min(code.len())..]) {
        return Ok(None);
    }
    let (Some(db), Some(table)) = (db, table) else {
        return Ok(None);
    };
    let Some(info) = catalog.table(&db, &table) else {
        return Ok(None);
    };
    let placement = Placement::of(&db, &info, catalog)?;
    Ok(Some(fan_out(
        &placement.nodes(),
        src.forward_text(ctx.params).into_owned(),
        WriteKind::DdlFanOut,
    )))
}

/// True when `code` is a non-empty list of table options that change nothing Strata
/// records: `COMMENT`, `ENGINE`, `ROW_FORMAT`, `[DEFAULT] CHARSET | CHARACTER SET` and
/// `[DEFAULT] COLLATE`, each `[=] value`, optionally separated by commas. (`CONVERT TO`
/// changes the columns' collations, which the catalog records, so it is not one.)
fn only_table_options(sql: &str, code: &[strata_sql::Token]) -> bool {
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    let mut i = 0;
    let mut options = 0;
    while i < code.len() {
        if options > 0 && code[i].is_punct(sql, ",") {
            i += 1;
        }
        if kw(i, "DEFAULT") {
            i += 1;
        }
        if kw(i, "CHARACTER") && kw(i + 1, "SET") {
            i += 2;
        } else if ["COMMENT", "ENGINE", "ROW_FORMAT", "CHARSET", "COLLATE"]
            .iter()
            .any(|k| kw(i, k))
        {
            i += 1;
        } else {
            return false;
        }
        if code.get(i).is_some_and(|t| t.is_punct(sql, "=")) {
            i += 1;
        }
        let value = code
            .get(i)
            .is_some_and(|t| t.kind.is_ident() || t.kind == strata_sql::TokenKind::String);
        if !value {
            return false;
        }
        i += 1;
        options += 1;
    }
    options > 0
}
