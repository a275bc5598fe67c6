//! MERGE tables: `CREATE/ALTER TABLE ... ENGINE=MERGE UNION=(t1, t2, ...)`. A MERGE
//! table reads and writes the tables of its UNION list on the storage node that holds
//! it, so the session allows one only where that node holds all of them (a database
//! over one data node, tables of that database) and the account may read and change
//! them (see `Session::check_merge_table`).

use crate::lexer::{code_tokens, ident_value, Token};

/// Engines that are MariaDB's MERGE.
pub const MERGE_ENGINES: &[&str] = &["MERGE", "MRG_MYISAM"];

/// A table name as written: an optional qualifier and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenTable {
    /// The database qualifier, if one was written.
    pub schema: Option<String>,
    /// The table's name.
    pub name: String,
}

/// What a CREATE or ALTER TABLE says of a MERGE table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeTable {
    /// The table created or altered (None when it cannot be read).
    pub table: Option<WrittenTable>,
    /// The tables of its `UNION=(...)` option (empty without one).
    pub union: Vec<WrittenTable>,
}

/// The MERGE side of a CREATE or ALTER TABLE: Some when it names a MERGE engine or has
/// a `UNION [=] (...)` table option; None otherwise.
pub fn merge_table(sql: &str) -> Option<MergeTable> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let mut depth = 0usize;
    let mut merge = false;
    let mut union = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        }
        if depth != 0 {
            continue;
        }
        let after_eq = |j: usize| {
            if toks.get(j).is_some_and(|n| n.is_punct(sql, "=")) {
                j + 1
            } else {
                j
            }
        };
        if t.is_keyword(sql, "ENGINE") || t.is_keyword(sql, "TYPE") {
            if let Some(engine) = toks.get(after_eq(i + 1)).filter(|n| n.kind.is_ident()) {
                let name = ident_value(engine.text(sql));
                merge |= MERGE_ENGINES.iter().any(|e| e.eq_ignore_ascii_case(&name));
            }
        }
        if t.is_keyword(sql, "UNION") {
            let open = after_eq(i + 1);
            let is_list = toks.get(open).is_some_and(|n| n.is_punct(sql, "("))
                && !toks
                    .get(open + 1)
                    .is_some_and(|n| n.is_keyword(sql, "SELECT") || n.is_keyword(sql, "WITH"));
            if is_list {
                union = Some(table_list(sql, &toks, open + 1));
            }
        }
    }
    if !merge && union.is_none() {
        return None;
    }
    let table = toks
        .iter()
        .position(|t| t.is_keyword(sql, "TABLE"))
        .and_then(|i| {
            let mut j = i + 1;
            while toks.get(j).is_some_and(|t| {
                t.is_keyword(sql, "IF") || t.is_keyword(sql, "NOT") || t.is_keyword(sql, "EXISTS")
            }) {
                j += 1;
            }
            written_table(sql, &toks, j).map(|(t, _)| t)
        });
    Some(MergeTable {
        table,
        union: union.unwrap_or_default(),
    })
}

/// The names of `t1, db.t2, ...` from `start` to the closing parenthesis.
fn table_list(sql: &str, toks: &[Token], start: usize) -> Vec<WrittenTable> {
    let mut tables = Vec::new();
    let mut i = start;
    while let Some((table, next)) = written_table(sql, toks, i) {
        tables.push(table);
        if !toks.get(next).is_some_and(|t| t.is_punct(sql, ",")) {
            break;
        }
        i = next + 1;
    }
    tables
}

/// The (possibly qualified) table name at `i`, and the index after it.
fn written_table(sql: &str, toks: &[Token], i: usize) -> Option<(WrittenTable, usize)> {
    let first = toks.get(i).filter(|t| t.kind.is_ident())?;
    let first = ident_value(first.text(sql)).into_owned();
    if toks.get(i + 1).is_some_and(|t| t.is_punct(sql, ".")) {
        let second = toks.get(i + 2).filter(|t| t.kind.is_ident())?;
        let table = WrittenTable {
            schema: Some(first),
            name: ident_value(second.text(sql)).into_owned(),
        };
        return Some((table, i + 3));
    }
    let table = WrittenTable {
        schema: None,
        name: first,
    };
    Some((table, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(schema: Option<&str>, name: &str) -> WrittenTable {
        WrittenTable {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn merge_tables_and_their_union_lists_are_read() {
        let m = merge_table(
            "CREATE TABLE m (a INT) ENGINE=MRG_MyISAM UNION=(t1, `db`.t2) INSERT_METHOD=LAST",
        );
        assert_eq!(
            m,
            Some(MergeTable {
                table: Some(written(None, "m")),
                union: vec![written(None, "t1"), written(Some("db"), "t2")],
            })
        );
        let m = merge_table("ALTER TABLE d.m UNION (t3)").map(|m| (m.table, m.union));
        assert_eq!(
            m,
            Some((Some(written(Some("d"), "m")), vec![written(None, "t3")]))
        );
        let m = merge_table("CREATE TABLE IF NOT EXISTS m (a INT) ENGINE = MERGE");
        assert_eq!(m.and_then(|m| m.table), Some(written(None, "m")));
        // Neither a MERGE engine nor a UNION table option.
        assert_eq!(
            merge_table("CREATE TABLE t (`union` INT) ENGINE=MyISAM"),
            None
        );
        assert_eq!(merge_table("CREATE TABLE t SELECT 1 UNION SELECT 2"), None);
        assert_eq!(
            merge_table("CREATE TABLE t SELECT 1 UNION (SELECT 2)"),
            None
        );
    }
}
