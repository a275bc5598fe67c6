//! The columns an UPDATE or DELETE reads (SET values, WHERE, ORDER BY, join conditions,
//! RETURNING), read from its tokens. MySQL requires SELECT on every column a statement
//! reads, also where it only changes or removes rows: `UPDATE t SET a = a + 1` and
//! `DELETE FROM t WHERE a = 10` need SELECT on `a` (ER_COLUMNACCESS_DENIED_ERROR,
//! 1143), or its WHERE would tell the client values it may not read. Strata's
//! privileges are table-level, so the session needs to know only whether a column of
//! a table is read, and which one to name.

use crate::classify::StatementKind;
use crate::keywords::is_reserved;
use crate::lexer::{code_tokens, ident_value, Token, TokenKind};

/// A table an UPDATE changes or a DELETE removes rows from (or reads, in its list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTable {
    /// `db` of `db.t`, unquoted.
    pub schema: Option<String>,
    /// The table's name, unquoted.
    pub name: String,
    /// Its alias, if it has one.
    pub alias: Option<String>,
}

/// A column reference in a reading position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRead {
    /// `t` of `t.c` (a table name or alias), unquoted.
    pub qualifier: Option<String>,
    /// The column, unquoted.
    pub column: String,
}

/// What an UPDATE or DELETE names: its tables and the columns it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnReads {
    /// The tables of its table list, in order.
    pub tables: Vec<ListedTable>,
    /// The column references in reading positions, in order.
    pub reads: Vec<ColumnRead>,
    /// An UPDATE's assigned columns (the left of each `SET` item).
    pub targets: Vec<ColumnRead>,
}

impl ColumnReads {
    /// For an UPDATE of several tables whose every assigned column is qualified: the
    /// tables it only reads (no assignment names their alias or name). Empty otherwise.
    pub fn read_only_tables(&self) -> Vec<&ListedTable> {
        if self.tables.len() < 2 || self.targets.iter().any(|t| t.qualifier.is_none()) {
            return Vec::new();
        }
        self.tables
            .iter()
            .filter(|t| {
                let shown = t.alias.as_deref().unwrap_or(&t.name);
                !self.targets.iter().any(|a| {
                    a.qualifier
                        .as_deref()
                        .is_some_and(|q| q.eq_ignore_ascii_case(shown))
                })
            })
            .collect()
    }

    /// The first column read that may be a column of `table` (qualified with its
    /// alias or name, or unqualified: with several tables an unqualified name is
    /// counted against each of them).
    pub fn first_read_of(&self, table: &ListedTable) -> Option<&ColumnRead> {
        self.reads.iter().find(|r| match &r.qualifier {
            None => true,
            Some(q) => match &table.alias {
                Some(alias) => q.eq_ignore_ascii_case(alias),
                None => q.eq_ignore_ascii_case(&table.name),
            },
        })
    }
}

/// Words after which an unquoted word is not a column: a cast's type, a collation,
/// a character set, an interval's unit.
const NOT_A_COLUMN_AFTER: &[&str] = &["AS", "COLLATE", "USING", "CHARACTER", "CHARSET"];

/// Interval units and other unreserved words that stand in expressions as themselves.
const EXPRESSION_WORDS: &[&str] = &[
    "MICROSECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "UNKNOWN",
    "SIGNED",
    "ESCAPE",
];

/// The tables and column reads of `sql` when it is an UPDATE or DELETE (of kind
/// `kind`); None for other statements.
pub fn column_reads(sql: &str, kind: StatementKind) -> Option<ColumnReads> {
    let toks: Vec<Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let r = Reader { sql, toks: &toks };
    let mut i = 0;
    if !(r.kw(i, "UPDATE") || r.kw(i, "DELETE")) {
        return None;
    }
    i += 1;
    while ["LOW_PRIORITY", "IGNORE", "QUICK"]
        .iter()
        .any(|w| r.kw(i, w))
    {
        i += 1;
    }
    let mut out = ColumnReads::default();
    match kind {
        StatementKind::Update => {
            let set = r.find_top(i, &["SET"]);
            r.table_list(i, set, &mut out);
            // Each `col = value` of the SET list: the value is read, not the target.
            let end = r.find_top(set + 1, &["WHERE", "ORDER", "LIMIT", "RETURNING"]);
            let mut j = set + 1;
            while j < end {
                let eq = r.find_punct_top(j, end, &["=", ":="]);
                let next = r.find_punct_top(eq, end, &[","]);
                let before = out.reads.len();
                r.reads(j, eq, &mut out);
                let assigned: Vec<ColumnRead> = out.reads.drain(before..).collect();
                out.targets.extend(assigned);
                r.reads(eq + 1, next, &mut out);
                j = next + 1;
            }
            r.reads(end, toks.len(), &mut out);
        }
        StatementKind::Delete => {
            if r.kw(i, "FROM") {
                let end = r.find_top(i + 1, &["WHERE", "USING", "ORDER", "LIMIT", "RETURNING"]);
                r.table_list(i + 1, end, &mut out);
                let mut from = end;
                if r.kw(end, "USING") {
                    from = r.find_top(end + 1, &["WHERE", "ORDER", "LIMIT", "RETURNING"]);
                    r.table_list(end + 1, from, &mut out);
                }
                r.reads(from, toks.len(), &mut out);
            } else {
                let from = r.find_top(i, &["FROM"]);
                let end = r.find_top(from + 1, &["WHERE", "ORDER", "LIMIT"]);
                r.table_list(from + 1, end, &mut out);
                r.reads(end, toks.len(), &mut out);
            }
        }
        _ => return None,
    }
    Some(out)
}

struct Reader<'a> {
    sql: &'a str,
    toks: &'a [Token],
}

impl Reader<'_> {
    fn kw(&self, i: usize, k: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_keyword(self.sql, k))
    }

    fn punct(&self, i: usize, p: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_punct(self.sql, p))
    }

    /// Index after the parenthesis group opening at `i`.
    fn skip_parens(&self, i: usize) -> usize {
        let mut depth = 0usize;
        for j in i..self.toks.len() {
            if self.punct(j, "(") {
                depth += 1;
            } else if self.punct(j, ")") {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
        }
        self.toks.len()
    }

    /// The first of `words` at depth 0 from `i` (the end when none).
    fn find_top(&self, i: usize, words: &[&str]) -> usize {
        let mut j = i;
        while j < self.toks.len() {
            if self.punct(j, "(") {
                j = self.skip_parens(j);
                continue;
            }
            if words.iter().any(|w| self.kw(j, w)) {
                return j;
            }
            j += 1;
        }
        self.toks.len()
    }

    /// The first of `puncts` at depth 0 in `i..end` (`end` when none).
    fn find_punct_top(&self, i: usize, end: usize, puncts: &[&str]) -> usize {
        let mut j = i;
        while j < end {
            if self.punct(j, "(") {
                j = self.skip_parens(j);
                continue;
            }
            if puncts.iter().any(|p| self.punct(j, p)) {
                return j;
            }
            j += 1;
        }
        end
    }

    /// The table factors of `i..end` (names with their aliases; the ON conditions of
    /// joins are reads).
    fn table_list(&self, i: usize, end: usize, out: &mut ColumnReads) {
        let mut j = i;
        let mut expect_table = true;
        while j < end {
            if self.punct(j, "(") {
                j = self.skip_parens(j);
                continue;
            }
            if self.kw(j, "ON") {
                let stop = self.find_top(j + 1, &["JOIN", "STRAIGHT_JOIN", "INNER", "LEFT"]);
                let stop = stop.min(self.find_punct_top(j + 1, end, &[","])).min(end);
                self.reads(j + 1, stop, out);
                j = stop;
                continue;
            }
            if self.punct(j, ",") || self.kw(j, "JOIN") || self.kw(j, "STRAIGHT_JOIN") {
                expect_table = true;
                j += 1;
                continue;
            }
            if expect_table {
                if let Some((schema, name, next)) =
                    crate::sequences::name_at(self.toks, self.sql, j)
                {
                    let mut k = next;
                    if self.kw(k, "AS") {
                        k += 1;
                    }
                    let alias = self
                        .toks
                        .get(k)
                        .filter(|t| k < end && self.is_alias(t))
                        .map(|t| ident_value(t.text(self.sql)).into_owned());
                    if alias.is_some() {
                        k += 1;
                    }
                    out.tables.push(ListedTable {
                        schema,
                        name,
                        alias,
                    });
                    expect_table = false;
                    j = k;
                    continue;
                }
            }
            j += 1;
        }
    }

    fn is_alias(&self, t: &Token) -> bool {
        match t.kind {
            TokenKind::QuotedIdent => true,
            TokenKind::Ident => !is_reserved(t.text(self.sql)),
            _ => false,
        }
    }

    /// The column references of `i..end` (subqueries left out: their tables need
    /// SELECT of their own).
    fn reads(&self, i: usize, end: usize, out: &mut ColumnReads) {
        let mut j = i;
        while j < end {
            let t = self.toks[j];
            if self.punct(j, "(") && self.kw(j + 1, "SELECT") {
                j = self.skip_parens(j);
                continue;
            }
            if !matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent) {
                j += 1;
                continue;
            }
            // `q.c` and `db.q.c`: the column is the last name.
            let mut names = vec![j];
            while self.punct(names[names.len() - 1] + 1, ".")
                && self
                    .toks
                    .get(names[names.len() - 1] + 2)
                    .is_some_and(|n| n.kind.is_ident())
            {
                names.push(names[names.len() - 1] + 2);
            }
            let last = names[names.len() - 1];
            let after = last + 1;
            if names.len() == 1 && !self.column_word(j) {
                j = after;
                continue;
            }
            if self.punct(after, "(") {
                // A function call (a stored one when qualified).
                j = after;
                continue;
            }
            let value = |k: usize| ident_value(self.toks[k].text(self.sql)).into_owned();
            out.reads.push(ColumnRead {
                qualifier: (names.len() > 1).then(|| value(names[names.len() - 2])),
                column: value(last),
            });
            j = after;
        }
    }

    /// Whether the lone word at `j` can be a column name where it stands.
    fn column_word(&self, j: usize) -> bool {
        let t = self.toks[j];
        if t.kind == TokenKind::QuotedIdent {
            return true;
        }
        let word = t.text(self.sql).to_ascii_uppercase();
        if is_reserved(&word) || EXPRESSION_WORDS.contains(&word.as_str()) {
            return false;
        }
        // `DATE '2020-01-01'`, `_utf8mb4'x'` and the like are literals.
        if self
            .toks
            .get(j + 1)
            .is_some_and(|n| n.kind == TokenKind::String)
        {
            return false;
        }
        !(j > 0 && NOT_A_COLUMN_AFTER.iter().any(|w| self.kw(j - 1, w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(sql: &str) -> Vec<String> {
        let kind = crate::classify(sql);
        column_reads(sql, kind)
            .map(|c| {
                c.reads
                    .iter()
                    .map(|r| match &r.qualifier {
                        Some(q) => format!("{q}.{}", r.column),
                        None => r.column.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn reading_positions_only() {
        assert_eq!(reads("UPDATE t1 SET a = a + 1"), ["a"]);
        assert_eq!(reads("UPDATE t1 SET a = 5"), Vec::<String>::new());
        assert_eq!(
            reads("UPDATE t1 SET a = 5, b = NOW() LIMIT 1"),
            Vec::<String>::new()
        );
        assert_eq!(reads("UPDATE t1 SET a = 5 WHERE `b` = 2"), ["b"]);
        assert_eq!(
            reads("UPDATE t1, t2 SET t1.a = t1.a + 1 WHERE t1.a = t2.a"),
            ["t1.a", "t1.a", "t2.a"]
        );
        assert_eq!(reads("DELETE FROM t1"), Vec::<String>::new());
        assert_eq!(reads("DELETE FROM t1 WHERE a = 10"), ["a"]);
        assert_eq!(reads("DELETE FROM t1 ORDER BY a LIMIT 1"), ["a"]);
        assert_eq!(
            reads("UPDATE t SET d = d + INTERVAL 1 DAY, c = CAST(x AS SIGNED) WHERE e = DATE '2020-01-01'"),
            ["d", "x", "e"]
        );
        assert_eq!(
            reads("DELETE FROM t WHERE a IN (SELECT b FROM t2) AND c IS NOT NULL"),
            ["a", "c"]
        );
        assert_eq!(reads("SELECT a FROM t"), Vec::<String>::new());
    }

    #[test]
    fn tables_with_aliases() {
        let c = column_reads(
            "UPDATE db.t1 AS x JOIN t2 y ON x.a = y.b SET x.c = 1",
            StatementKind::Update,
        )
        .unwrap_or_default();
        let names: Vec<_> = c
            .tables
            .iter()
            .map(|t| (t.name.as_str(), t.alias.as_deref()))
            .collect();
        assert_eq!(names, [("t1", Some("x")), ("t2", Some("y"))]);
        let only_read: Vec<_> = c
            .read_only_tables()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(only_read, ["t2"]);
        let u = column_reads(
            "UPDATE t1, t2 SET t1.a = t1.a + 1 WHERE t1.a = t2.a",
            StatementKind::Update,
        )
        .unwrap_or_default();
        let only_read: Vec<_> = u
            .read_only_tables()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(only_read, ["t2"]);
        let x = &c.tables[0];
        assert_eq!(c.first_read_of(x).map(|r| r.column.as_str()), Some("a"));
        let d = column_reads(
            "DELETE FROM t1 USING t1, t2 WHERE t1.a = t2.a",
            StatementKind::Delete,
        )
        .unwrap_or_default();
        assert_eq!(d.tables.len(), 3);
    }
}
