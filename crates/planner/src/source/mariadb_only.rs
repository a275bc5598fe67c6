//! MariaDB syntax that sqlparser does not read but that changes nothing the planner
//! decides, masked out of the text sqlparser is given (same length, so positions stay):
//! ODBC escapes `{fn expr}`, `{oj join}` and `{any_word expr}` (what they hold), and in
//! CREATE / ALTER TABLE the column attributes `ZEROFILL` (read as the `UNSIGNED` it
//! implies) and `COMPRESSED[=zlib]`, a CREATE TABLE's `PARTITION BY` clause, which
//! only the data nodes act on (they receive the statement's own text), and the
//! `EXTENDED` / `PARTITIONS` of an EXPLAIN that the data nodes run; a quoted engine
//! name (`ENGINE='HEAP'`) is read as the name, `DROP TABLES` as `DROP TABLE`, an
//! ALTER TABLE's `DROP ... IF EXISTS` as the drop it may be and its `ADD ... IF NOT
//! EXISTS` as the addition; a length written `(5.2)` is read as MariaDB reads it, `(5)`,
//! and hex values of an `ENUM` / `SET` as strings (the planner never looks at them).

use strata_sql::Token;

/// Byte ranges to blank, and ranges to overwrite with a keyword of the same length.
#[derive(Debug, Default)]
pub(super) struct Edits {
    /// Ranges to replace by spaces.
    pub blank: Vec<(usize, usize)>,
    /// Ranges to overwrite (the text is exactly as long as the range).
    pub replace: Vec<(usize, usize, &'static str)>,
}

/// Numeric types `ZEROFILL` may follow (with or without a precision).
const NUMERIC_WORDS: &[&str] = &[
    "TINYINT",
    "SMALLINT",
    "MEDIUMINT",
    "MIDDLEINT",
    "INT",
    "INTEGER",
    "BIGINT",
    "INT1",
    "INT2",
    "INT3",
    "INT4",
    "INT8",
    "DECIMAL",
    "DEC",
    "NUMERIC",
    "FIXED",
    "FLOAT",
    "DOUBLE",
    "REAL",
    "PRECISION",
    "UNSIGNED",
    "SIGNED",
];

/// Words `COMPRESSED` (the attribute) may follow: string types and `NULL`; it may also
/// follow a `)` or a character set or collation name.
const BEFORE_COMPRESSED: &[&str] = &[
    "CHAR",
    "VARCHAR",
    "BINARY",
    "VARBINARY",
    "TEXT",
    "TINYTEXT",
    "MEDIUMTEXT",
    "LONGTEXT",
    "BLOB",
    "TINYBLOB",
    "MEDIUMBLOB",
    "LONGBLOB",
    "NULL",
    "BYTE",
    "ASCII",
    "UNICODE",
];

/// The edits for `code` (the statement's code tokens); `first` is its first word,
/// upper-cased.
pub(super) fn edits(code: &[Token], sql: &str, first: Option<&str>) -> Edits {
    let mut out = Edits::default();
    odbc_escapes(code, sql, &mut out);
    // EXPLAIN EXTENDED / PARTITIONS: the data nodes explain with the word (their text
    // is the statement's own); for planning it is a plain EXPLAIN.
    if matches!(first, Some("EXPLAIN") | Some("DESCRIBE") | Some("DESC")) {
        if let Some(word) = code
            .get(1)
            .filter(|w| w.is_keyword(sql, "EXTENDED") || w.is_keyword(sql, "PARTITIONS"))
        {
            out.blank.push((word.span.start, word.span.end));
        }
    }
    // DROP [TEMPORARY] TABLES: MariaDB's synonym of DROP TABLE.
    if first == Some("DROP") {
        let at = if code.get(1).is_some_and(|t| t.is_keyword(sql, "TEMPORARY")) {
            2
        } else {
            1
        };
        if let Some(word) = code.get(at).filter(|t| t.is_keyword(sql, "TABLES")) {
            out.replace.push((word.span.start, word.span.end, "TABLE "));
        }
    }
    let table_ddl = matches!(first, Some("CREATE") | Some("ALTER"))
        && code.iter().take(4).any(|t| t.is_keyword(sql, "TABLE"));
    if table_ddl {
        column_attributes(code, sql, &mut out);
        quoted_engine(code, sql, &mut out);
        type_arguments(code, sql, &mut out);
        if first == Some("CREATE") {
            partition_clause(code, sql, &mut out);
        } else {
            drop_if_exists(code, sql, &mut out);
            add_if_not_exists(code, sql, &mut out);
        }
    }
    out
}

/// `{fn expr}` and `{oj t1 LEFT OUTER JOIN t2 ON ...}`: the braces and the word go.
fn odbc_escapes(code: &[Token], sql: &str, out: &mut Edits) {
    for (i, t) in code.iter().enumerate() {
        let Some(word) = code.get(i + 1) else { break };
        // `{d '...'}`, `{t '...'}`, `{ts '...'}` are typed literals, which sqlparser reads;
        // with any other word the escape is what it holds.
        let literal = ["d", "t", "ts"].iter().any(|w| word.is_keyword(sql, w));
        if !t.is_punct(sql, "{") || word.kind != strata_sql::TokenKind::Ident || literal {
            continue;
        }
        let mut depth = 0usize;
        let close = code[i..].iter().find(|c| {
            if c.is_punct(sql, "{") {
                depth += 1;
            } else if c.is_punct(sql, "}") {
                depth -= 1;
                return depth == 0;
            }
            false
        });
        let Some(close) = close else { continue };
        // MariaDB takes one expression (`fn`) or table reference (`oj`) there: what is masked
        // must not turn what it rejects into something sqlparser reads.
        let inside: Vec<Token> = code
            .iter()
            .copied()
            .filter(|c| c.span.start > word.span.end && c.span.end <= close.span.start)
            .collect();
        let mut parens = 0i32;
        let mut top_level = Vec::new();
        for c in &inside {
            if c.is_punct(sql, "(") || c.is_punct(sql, "{") {
                parens += 1;
            } else if c.is_punct(sql, ")") || c.is_punct(sql, "}") {
                parens -= 1;
            } else if parens == 0 {
                top_level.push(*c);
            }
        }
        // A lone literal names its column after its value in MariaDB, not after the
        // escape's text as Strata would: left unread.
        let lone_literal = inside.len() == 1 && inside[0].kind.is_literal();
        let well_formed =
            !inside.is_empty() && !lone_literal && !top_level.iter().any(|c| c.is_punct(sql, ","));
        if well_formed {
            out.blank.push((t.span.start, word.span.end));
            out.blank.push((close.span.start, close.span.end));
        }
    }
}

/// `ZEROFILL` after a numeric type, `COMPRESSED` (and `=zlib`) after a column's type.
fn column_attributes(code: &[Token], sql: &str, out: &mut Edits) {
    for (i, t) in code.iter().enumerate().skip(1) {
        let prev = code[i - 1];
        let after_charset = i >= 2
            && ["SET", "CHARSET", "COLLATE"]
                .iter()
                .any(|w| code[i - 2].is_keyword(sql, w));
        // The type word itself, or the one before a precision `(...)`.
        let type_word = if prev.is_punct(sql, ")") {
            type_before_precision(code, sql, i - 1)
        } else {
            Some(prev)
        };
        let is_type =
            |words: &[&str]| type_word.is_some_and(|w| words.iter().any(|k| w.is_keyword(sql, k)));
        let after_type = after_charset || is_type(BEFORE_COMPRESSED);
        if t.is_keyword(sql, "ZEROFILL") && is_type(NUMERIC_WORDS) {
            let unsigned = prev.is_keyword(sql, "UNSIGNED")
                || code
                    .get(i + 1)
                    .is_some_and(|n| n.is_keyword(sql, "UNSIGNED"));
            if unsigned {
                out.blank.push((t.span.start, t.span.end));
            } else {
                out.replace.push((t.span.start, t.span.end, "UNSIGNED"));
            }
        } else if t.is_keyword(sql, "COMPRESSED") && after_type {
            let mut end = t.span.end;
            if let (Some(eq), Some(method)) = (code.get(i + 1), code.get(i + 2)) {
                if eq.is_punct(sql, "=") && method.kind.is_ident() {
                    end = method.span.end;
                }
            }
            out.blank.push((t.span.start, end));
        }
    }
}

/// Positions in `code` of the keyword `kw` outside parentheses (the statement's own
/// clauses, not a column definition's or a subquery's).
fn top_level_keyword<'a>(
    code: &'a [Token],
    sql: &'a str,
    kw: &'a str,
) -> impl Iterator<Item = usize> + 'a {
    let mut depth = 0i32;
    code.iter().enumerate().filter_map(move |(i, t)| {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        }
        (depth == 0 && t.is_keyword(sql, kw)).then_some(i)
    })
}

/// The token before the `(` that the `)` at `close` closes.
fn type_before_precision(code: &[Token], sql: &str, close: usize) -> Option<Token> {
    let mut depth = 0i32;
    for j in (0..=close).rev() {
        if code[j].is_punct(sql, ")") {
            depth += 1;
        } else if code[j].is_punct(sql, "(") {
            depth -= 1;
            if depth == 0 {
                return j.checked_sub(1).map(|k| code[k]);
            }
        }
    }
    None
}

/// `ENGINE = 'HEAP'`: a quoted engine name is read as the name.
fn quoted_engine(code: &[Token], sql: &str, out: &mut Edits) {
    for (i, t) in code.iter().enumerate() {
        if !t.is_keyword(sql, "ENGINE") {
            continue;
        }
        let at = if code.get(i + 1).is_some_and(|n| n.is_punct(sql, "=")) {
            i + 2
        } else {
            i + 1
        };
        let Some(name) = code
            .get(at)
            .filter(|n| n.kind == strata_sql::TokenKind::String)
        else {
            continue;
        };
        let text = name.text(sql);
        let plain = text.len() > 2
            && text.starts_with('\'')
            && text.ends_with('\'')
            && text[1..text.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if plain {
            out.blank.push((name.span.start, name.span.start + 1));
            out.blank.push((name.span.end - 1, name.span.end));
        }
    }
}

/// ALTER TABLE's `DROP [INDEX | KEY | FOREIGN KEY | CHECK] IF EXISTS name` and `DROP IF
/// EXISTS column`: read without `IF EXISTS` (the data nodes get the statement's own
/// text; the planner only looks at what is dropped), `KEY` as `INDEX` and `CHECK` as
/// `CONSTRAINT`, which sqlparser reads.
fn drop_if_exists(code: &[Token], sql: &str, out: &mut Edits) {
    for i in top_level_keyword(code, sql, "DROP") {
        let kw = |j: usize, k: &str| code.get(j).is_some_and(|n| n.is_keyword(sql, k));
        let (what, at) = if kw(i + 1, "FOREIGN") && kw(i + 2, "KEY") {
            (None, i + 3)
        } else if kw(i + 1, "KEY") {
            (Some("INDEX"), i + 2)
        } else if kw(i + 1, "CHECK") {
            (Some("CONSTRAINT"), i + 2)
        } else if kw(i + 1, "INDEX") {
            (None, i + 2)
        } else {
            (None, i + 1)
        };
        if !(kw(at, "IF") && kw(at + 1, "EXISTS")) {
            continue;
        }
        let exists_end = code[at + 1].span.end;
        match what {
            Some(word) => out.replace.push((code[i + 1].span.start, exists_end, word)),
            None => out.blank.push((code[at].span.start, exists_end)),
        }
    }
}

/// Types MariaDB gives a length written as a decimal number, `INT(5.2)`, which it reads
/// as its integer part.
const LENGTH_TYPES: &[&str] = &[
    "TINYINT",
    "SMALLINT",
    "MEDIUMINT",
    "INT",
    "INTEGER",
    "BIGINT",
    "DECIMAL",
    "DEC",
    "NUMERIC",
    "FIXED",
    "FLOAT",
    "CHAR",
    "VARCHAR",
    "BINARY",
    "VARBINARY",
    "BIT",
    "TIME",
    "DATETIME",
    "TIMESTAMP",
    "TEXT",
    "BLOB",
];

/// In a column's type: `INT(5.2)` is read as `INT(5)` (MariaDB keeps the integer part),
/// and an `ENUM` or `SET` value written in hex (`0xE4`, `X'E4'`) as the empty string,
/// the planner never looking at the values (the data nodes get the statement's text).
fn type_arguments(code: &[Token], sql: &str, out: &mut Edits) {
    for (i, t) in code.iter().enumerate().skip(2) {
        let open = code[i - 1];
        let word = code[i - 2];
        if !open.is_punct(sql, "(") {
            continue;
        }
        let closes = code.get(i + 1).is_some_and(|c| c.is_punct(sql, ")"));
        let text = t.text(sql);
        let is_length = LENGTH_TYPES.iter().any(|w| word.is_keyword(sql, w));
        if is_length && closes && t.kind == strata_sql::TokenKind::Decimal {
            if let Some(dot) = text.find('.').filter(|&d| d > 0) {
                out.blank.push((t.span.start + dot, t.span.end));
            }
        }
        if word.is_keyword(sql, "ENUM") || word.is_keyword(sql, "SET") {
            for v in code[i..].iter() {
                if v.is_punct(sql, ")") {
                    break;
                }
                if v.kind == strata_sql::TokenKind::HexNumber {
                    out.replace.push((v.span.start, v.span.end, "''"));
                }
            }
        }
    }
}

/// ALTER TABLE's `ADD [COLUMN | INDEX | KEY | UNIQUE ... | FOREIGN KEY ...] IF NOT
/// EXISTS`: read without `IF NOT EXISTS` (the data nodes get the statement's own text;
/// the planner checks the addition as if it were made, which refuses no less).
fn add_if_not_exists(code: &[Token], sql: &str, out: &mut Edits) {
    const BETWEEN: &[&str] = &[
        "COLUMN", "INDEX", "KEY", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN",
    ];
    for i in top_level_keyword(code, sql, "ADD") {
        let mut at = i + 1;
        while code
            .get(at)
            .is_some_and(|n| BETWEEN.iter().any(|w| n.is_keyword(sql, w)))
        {
            at += 1;
        }
        let kw = |j: usize, k: &str| code.get(j).is_some_and(|n| n.is_keyword(sql, k));
        // `ADD IF NOT EXISTS` right after ADD is sqlparser's own (columns, partitions).
        if at > i + 1 && kw(at, "IF") && kw(at + 1, "NOT") && kw(at + 2, "EXISTS") {
            out.blank.push((code[at].span.start, code[at + 2].span.end));
        }
    }
}

/// `PARTITION BY ...` after a CREATE TABLE's columns, up to the SELECT that may follow.
fn partition_clause(code: &[Token], sql: &str, out: &mut Edits) {
    let mut depth = 0i32;
    let mut start = None;
    for (i, t) in code.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth -= 1;
        } else if depth == 0 {
            if start.is_none()
                && t.is_keyword(sql, "PARTITION")
                && code.get(i + 1).is_some_and(|n| n.is_keyword(sql, "BY"))
            {
                start = Some(i);
            } else if let Some(s) = start {
                if ["SELECT", "AS", "IGNORE", "REPLACE", "WITH"]
                    .iter()
                    .any(|w| t.is_keyword(sql, w))
                {
                    out.blank.push((code[s].span.start, code[i - 1].span.end));
                    return;
                }
            }
        }
    }
    if let (Some(s), Some(last)) = (start, code.last()) {
        out.blank.push((code[s].span.start, last.span.end));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_one, Source};

    /// `sql` as sqlparser reads it, printed; and `plain` printed the same way.
    fn same(sql: &str, plain: &str) {
        let src = Source::new(sql).expect("lexes");
        let stmt = src.parse().unwrap_or_else(|e| panic!("{sql}: {e}"));
        let expected = parse_one(plain).expect("plain parses");
        assert_eq!(stmt.to_string(), expected.to_string(), "{sql}");
        assert_eq!(src.parse_text.len(), sql.len(), "{sql}");
    }

    #[test]
    fn odbc_escapes_are_their_expression() {
        same(
            "SELECT {fn concat(a, {fn ucase('x')})} FROM t",
            "SELECT concat(a, ucase('x')) FROM t",
        );
        same("SELECT {whatever 1 + 1} FROM t", "SELECT 1 + 1 FROM t");
        same(
            "SELECT * FROM {oj t1 LEFT OUTER JOIN t2 ON t1.a = t2.a} WHERE 1",
            "SELECT * FROM t1 LEFT OUTER JOIN t2 ON t1.a = t2.a WHERE 1",
        );
    }

    #[test]
    fn odbc_escapes_mariadb_rejects_or_names_otherwise_stay_unreadable() {
        for sql in [
            "SELECT {fn} a FROM t",
            "SELECT {fn a, b} FROM t",
            "SELECT * FROM {oj t1, t2}",
            "SELECT { date \"1997-10-20\"}",
        ] {
            assert!(Source::new(sql).expect("lexes").parse().is_err(), "{sql}");
        }
    }

    #[test]
    fn column_attributes_only_data_nodes_need_are_masked() {
        same(
            "CREATE TABLE t (a INT(5) ZEROFILL, b BIGINT UNSIGNED ZEROFILL, c VARCHAR(100) COMPRESSED, d BLOB COMPRESSED=zlib) ROW_FORMAT=COMPRESSED",
            "CREATE TABLE t (a INT(5) UNSIGNED, b BIGINT UNSIGNED, c VARCHAR(100), d BLOB) ROW_FORMAT=COMPRESSED",
        );
        same(
            "CREATE TABLE t (a INT) engine = 'HEAP'",
            "CREATE TABLE t (a INT) engine =  HEAP ",
        );
        same(
            "CREATE TABLE t (a TEXT CHARACTER SET latin1 COMPRESSED, b TEXT NULL COMPRESSED)",
            "CREATE TABLE t (a TEXT CHARACTER SET latin1, b TEXT NULL)",
        );
        same(
            "CREATE TABLE t2 SELECT (a) zerofill, f(b) compressed FROM t",
            "CREATE TABLE t2 SELECT (a) zerofill, f(b) compressed FROM t",
        );
        same(
            "CREATE TABLE t2 SELECT a compressed FROM t ORDER BY compressed",
            "CREATE TABLE t2 SELECT a compressed FROM t ORDER BY compressed",
        );
        same(
            "ALTER TABLE t CHANGE a compressed INT, RENAME COLUMN b TO compressed",
            "ALTER TABLE t CHANGE a compressed INT, RENAME COLUMN b TO compressed",
        );
        same(
            "CREATE TABLE t (compressed INT, zerofill INT)",
            "CREATE TABLE t (compressed INT, zerofill INT)",
        );
    }

    #[test]
    fn alter_tables_drop_if_exists_is_read() {
        same(
            "ALTER TABLE t DROP IF EXISTS a, DROP INDEX IF EXISTS i, DROP KEY IF EXISTS k",
            "ALTER TABLE t DROP a, DROP INDEX i, DROP INDEX k",
        );
        same(
            "alter table t drop foreign key if exists f, drop check if exists c, drop column if exists b",
            "ALTER TABLE t DROP FOREIGN KEY f, DROP CONSTRAINT c, DROP COLUMN IF EXISTS b",
        );
        same(
            "ALTER TABLE t DROP CONSTRAINT IF EXISTS c",
            "ALTER TABLE t DROP CONSTRAINT IF EXISTS c",
        );
    }

    #[test]
    fn alter_tables_add_if_not_exists_and_drop_key_are_read() {
        same(
            "ALTER TABLE t ADD COLUMN IF NOT EXISTS a INT, ADD INDEX IF NOT EXISTS i (a), \
             ADD UNIQUE KEY IF NOT EXISTS u (id), ADD IF NOT EXISTS b INT",
            "ALTER TABLE t ADD COLUMN a INT, ADD INDEX i (a), ADD UNIQUE KEY u (id), ADD b INT",
        );
        same(
            "ALTER TABLE t DROP KEY k, drop key `x`",
            "ALTER TABLE t DROP INDEX k, DROP INDEX `x`",
        );
    }

    #[test]
    fn decimal_lengths_and_hex_enum_values_are_read_as_mariadb_does() {
        same(
            "CREATE TABLE t (a DECIMAL(5.2), b INT(3.), c VARCHAR(10.9), d FLOAT(5.2))",
            "CREATE TABLE t (a DECIMAL(5), b INT(3), c VARCHAR(10), d FLOAT(5))",
        );
        same(
            "CREATE TABLE t (a ENUM(0xE4, 'b'), s SET(X'41', 0x42))",
            "CREATE TABLE t (a ENUM('', 'b'), s SET('', ''))",
        );
        // A decimal argument elsewhere is left to sqlparser.
        assert!(Source::new("CREATE TABLE t (a DOUBLE(7.3))")
            .expect("lexes")
            .parse()
            .is_err());
    }

    #[test]
    fn drop_tables_is_drop_table() {
        same("DROP TABLES t1, t2", "DROP TABLE t1, t2");
        same(
            "drop temporary tables if exists t1",
            "DROP TEMPORARY TABLE IF EXISTS t1",
        );
    }

    #[test]
    fn explain_extended_is_planned_as_explain() {
        same(
            "EXPLAIN EXTENDED SELECT password('x') FROM t",
            "EXPLAIN SELECT password('x') FROM t",
        );
        same("EXPLAIN PARTITIONS SELECT 1", "EXPLAIN SELECT 1");
    }

    #[test]
    fn a_create_tables_partitioning_is_masked() {
        same(
            "CREATE TABLE t (a INT, b INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
            "CREATE TABLE t (a INT, b INT)",
        );
        same(
            "CREATE TABLE t (a INT) ENGINE=InnoDB PARTITION BY HASH (a) PARTITIONS 4 SELECT 1 AS a",
            "CREATE TABLE t (a INT) ENGINE=InnoDB SELECT 1 AS a",
        );
    }
}
