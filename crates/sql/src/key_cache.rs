//! `CACHE INDEX t, ... IN cache` and `LOAD INDEX INTO CACHE t, ...`: they assign a
//! MyISAM table's indexes to a key cache of the storage server, or read them into it.
//! Both act on the client's own tables (the session checks each name like any
//! statement's and runs them on the tables' data nodes); this module tells the two
//! statements apart and reads the tables they name.

use crate::lexer::{code_tokens, Token};

/// Which key-cache statement a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCacheOp {
    /// `CACHE INDEX tbl_index_list [, ...] IN key_cache_name`.
    Assign,
    /// `LOAD INDEX INTO CACHE tbl_index_list [, ...]`.
    Preload,
}

impl KeyCacheOp {
    /// The statement's name as MariaDB's ER_TABLEACCESS_DENIED_ERROR (1142) prints it.
    pub fn command(self) -> &'static str {
        match self {
            KeyCacheOp::Assign => "CACHE INDEX",
            KeyCacheOp::Preload => "LOAD INDEX INTO CACHE",
        }
    }

    /// Index of the first table name among the statement's code tokens.
    fn first_name(self) -> usize {
        match self {
            KeyCacheOp::Assign => 2,
            KeyCacheOp::Preload => 4,
        }
    }
}

/// The key-cache statement `sql` is, if any.
pub fn key_cache_op(sql: &str) -> Option<KeyCacheOp> {
    let mut toks = code_tokens(sql);
    let mut next_is = |k: &str| toks.next().is_some_and(|t| t.is_keyword(sql, k));
    if next_is("CACHE") {
        return next_is("INDEX").then_some(KeyCacheOp::Assign);
    }
    let mut toks = code_tokens(sql);
    let mut next_is = |k: &str| toks.next().is_some_and(|t| t.is_keyword(sql, k));
    (next_is("LOAD") && next_is("INDEX") && next_is("INTO") && next_is("CACHE"))
        .then_some(KeyCacheOp::Preload)
}

/// One table of a key-cache statement's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCacheItem {
    /// The schema qualifier as written (unquoted), if any.
    pub schema: Option<String>,
    /// The table's name (unquoted).
    pub name: String,
    /// The item's text in the statement: the name with its `PARTITION (...)`,
    /// `{INDEX|KEY} (...)` and `IGNORE LEAVES`.
    pub span: std::ops::Range<usize>,
}

/// The tables a key-cache statement names, `(schema as written, table)` in order; None
/// when `sql` is not one or a list item does not start with a name.
pub fn key_cache_tables(sql: &str) -> Option<Vec<(Option<String>, String)>> {
    Some(
        key_cache_items(sql)?
            .into_iter()
            .map(|i| (i.schema, i.name))
            .collect(),
    )
}

/// The items of a key-cache statement's table list, in order (the text before the first
/// is the statement's words, the text after the last its `IN cache`); None when `sql`
/// is not one or an item does not start with a name.
pub fn key_cache_items(sql: &str) -> Option<Vec<KeyCacheItem>> {
    let op = key_cache_op(sql)?;
    let toks: Vec<Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let mut out = Vec::new();
    let mut i = op.first_name();
    loop {
        let (schema, name, mut j) = crate::sequences::name_at(&toks, sql, i)?;
        let start = toks.get(i)?.span.start;
        let mut end = toks.get(j - 1)?.span.end;
        // Skip `PARTITION (...)`, `{INDEX|KEY} (...)`, `IGNORE LEAVES` to the next
        // item's `,`, or to `IN cache` / the end.
        loop {
            let Some(t) = toks.get(j) else {
                out.push(KeyCacheItem {
                    schema,
                    name,
                    span: start..end,
                });
                return Some(out);
            };
            if t.is_punct(sql, "(") {
                j = closing(&toks, sql, j)?;
                end = toks.get(j)?.span.end;
                j += 1;
            } else if t.is_punct(sql, ",") {
                out.push(KeyCacheItem {
                    schema,
                    name,
                    span: start..end,
                });
                i = j + 1;
                break;
            } else if op == KeyCacheOp::Assign && t.is_keyword(sql, "IN") {
                out.push(KeyCacheItem {
                    schema,
                    name,
                    span: start..end,
                });
                return Some(out);
            } else {
                end = t.span.end;
                j += 1;
            }
        }
    }
}

/// The index of the `)` closing the `(` at `open`.
fn closing(toks: &[Token], sql: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Option<Vec<String>> {
        key_cache_tables(sql).map(|v| {
            v.into_iter()
                .map(|(s, n)| match s {
                    Some(s) => format!("{s}.{n}"),
                    None => n,
                })
                .collect()
        })
    }

    #[test]
    fn statements_and_their_tables() {
        assert_eq!(
            key_cache_op("cache index t1 in kc"),
            Some(KeyCacheOp::Assign)
        );
        assert_eq!(
            key_cache_op("LOAD INDEX INTO CACHE t1"),
            Some(KeyCacheOp::Preload)
        );
        assert_eq!(key_cache_op("LOAD DATA INFILE 'x' INTO TABLE t"), None);
        assert_eq!(key_cache_op("CACHE t1"), None);
        assert_eq!(key_cache_op("SELECT 1"), None);
        assert_eq!(
            names("CACHE INDEX t1 KEY (a, b), `db`.t2, t3 PARTITION (p0, p1) IN kc"),
            Some(vec!["t1".into(), "db.t2".into(), "t3".into()])
        );
        assert_eq!(
            names("load index into cache t1 partition (all) index (a) ignore leaves, d.t2"),
            Some(vec!["t1".into(), "d.t2".into()])
        );
        assert_eq!(names("cache index t1 in `in`"), Some(vec!["t1".into()]));
        assert_eq!(names("cache index (t1) in kc"), None);
        let sql = "LOAD INDEX INTO CACHE t1 KEY (a) IGNORE LEAVES , d.t2 /* c */";
        let spans: Vec<&str> = key_cache_items(sql)
            .unwrap_or_default()
            .into_iter()
            .map(|i| &sql[i.span])
            .collect();
        assert_eq!(spans, ["t1 KEY (a) IGNORE LEAVES", "d.t2"]);
        assert_eq!(names("cache index t1 key (a in kc"), None);
    }
}
