//! The pure parts of the materialize operator (`driver/materialize.rs` runs it): the
//! temporary table's definition from the base table's `SHOW CREATE TABLE`, the exact
//! form in which each column is read from a data node and written back as an SQL
//! literal, and the INSERT batches that fill the copy. No I/O.
//!
//! A copy must not change any value. The text protocol is exact for integers, DECIMAL,
//! dates and times (read in UTC, so a TIMESTAMP in a daylight-saving overlap keeps its
//! instant), and bytes; it is not for FLOAT (printed with 6 digits) nor for a DOUBLE
//! column with declared decimals, so both are read as `CAST(c AS DOUBLE)`, whose text
//! is the shortest that reads back as the same double. Character strings are read as
//! their bytes in the column's own character set (`CAST(c AS BINARY)`: nothing is
//! converted through the connection's character set) and written as `_charset X'..'`;
//! binary strings and BIT as `X'..'`. Generated columns are not written (the copy
//! computes them). A column of a type not listed here refuses the copy (1235) rather
//! than approximate it.

use strata_planner::plan::quote_ident;

use crate::error::MergeError;

/// SQL text of one INSERT batch past which it is sent (far below MariaDB's default
/// `max_allowed_packet` of 16 MiB).
pub(crate) const BATCH_BYTES: usize = 512 * 1024;

/// Rows of one INSERT batch past which it is sent.
pub(crate) const BATCH_ROWS: usize = 2000;

/// How the copy's statements run on both ends: the definition read and created with
/// the default SQL mode (so `ANSI_QUOTES` or `ORACLE` in the session's mode do not
/// change its text) and read in utf8mb4 (so no ENUM label or name is lost to the
/// session's character set; the scratch connection speaks utf8mb4 while it copies),
/// rows read and written in UTC with explicit zeros kept (`NO_AUTO_VALUE_ON_ZERO`), in
/// strict mode (a value the copy cannot store as it is fails the statement instead of
/// being changed; zero dates are allowed) and without CHECK constraints (the values
/// were valid where they come from). The values carry `_latin1` introducers: the
/// node's own connection reads a plain literal in the session's
/// `collation_connection`, and under utf16 `'+00:00'` is no time zone (1298, ctype_utf16).
pub(crate) const DEFINITION_READ_MODE: &str =
    "SET STATEMENT sql_mode='', character_set_results=utf8mb4 FOR ";
/// See [`DEFINITION_READ_MODE`].
pub(crate) const COLUMNS_READ_MODE: &str = "SET STATEMENT character_set_results=utf8mb4 FOR ";
/// See [`DEFINITION_READ_MODE`].
pub(crate) const DEFINITION_MODE: &str = "SET STATEMENT sql_mode='' FOR ";
/// See [`DEFINITION_READ_MODE`].
pub(crate) const READ_MODE: &str = "SET STATEMENT time_zone=_latin1'+00:00' FOR ";
/// See [`DEFINITION_READ_MODE`].
pub(crate) const WRITE_MODE: &str = "SET STATEMENT sql_mode=_latin1'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO', time_zone=_latin1'+00:00', check_constraint_checks=0 FOR ";

/// How a column's values are read and written back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// Integers, DECIMAL, YEAR: the text as is.
    Number,
    /// FLOAT, DOUBLE: read as `CAST(c AS DOUBLE)`, written as a double literal.
    Float,
    /// DATE, DATETIME, TIMESTAMP, TIME: a quoted string.
    Temporal,
    /// Binary strings and BIT: `X'..'`.
    Bytes,
    /// Character strings, ENUM, SET: their bytes in `charset`, `_charset X'..'`.
    Text {
        /// The column's character set.
        charset: String,
    },
    /// INET4, INET6, UUID: their text form, quoted.
    Address,
}

/// A column that is copied (generated columns are not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyColumn {
    /// Its name.
    pub name: String,
    /// How its values travel.
    pub kind: ValueKind,
}

/// The copied columns from `SHOW FULL COLUMNS` rows (Field, Type, Collation, Null, Key,
/// Default, Extra, ...) of `table`.
pub(crate) fn copy_columns(
    table: &str,
    rows: &[Vec<Option<Vec<u8>>>],
) -> Result<Vec<CopyColumn>, MergeError> {
    let text = |row: &[Option<Vec<u8>>], i: usize| -> Option<String> {
        row.get(i)?
            .as_ref()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let mut out = Vec::new();
    for row in rows {
        let (Some(name), Some(ty)) = (text(row, 0), text(row, 1)) else {
            return Err(MergeError::InvalidSpec(format!(
                "SHOW FULL COLUMNS of {table} returned a row without a name or type"
            )));
        };
        let extra = text(row, 6).unwrap_or_default().to_ascii_lowercase();
        if extra.contains("generated") {
            continue;
        }
        let ty = ty.to_ascii_lowercase();
        let base: String = ty
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let kind = match base.as_str() {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
            | "numeric" | "year" => ValueKind::Number,
            "float" | "double" | "real" => ValueKind::Float,
            "date" | "datetime" | "timestamp" | "time" => ValueKind::Temporal,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "bit" => {
                ValueKind::Bytes
            }
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
            | "set" | "json" => {
                let collation = text(row, 2).unwrap_or_default();
                let charset = collation.split('_').next().unwrap_or_default();
                if charset == "binary" {
                    ValueKind::Bytes
                } else if !charset.is_empty() && charset.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    ValueKind::Text {
                        charset: charset.to_string(),
                    }
                } else {
                    return Err(refuse(table, &name, &ty));
                }
            }
            "inet4" | "inet6" | "uuid" => ValueKind::Address,
            _ => return Err(refuse(table, &name, &ty)),
        };
        out.push(CopyColumn { name, kind });
    }
    Ok(out)
}

fn refuse(table: &str, column: &str, ty: &str) -> MergeError {
    MergeError::Unsupported(format!(
        "copying column {column} of type {ty} (table {table}) to another data node"
    ))
}

/// The statement that reads `columns` of `qualified` (`` `db`.`t` ``), each in its
/// exact form, in UTC.
pub(crate) fn read_statement(qualified: &str, columns: &[CopyColumn]) -> String {
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let name = quote_ident(&c.name);
            match c.kind {
                ValueKind::Float => format!("CAST({name} AS DOUBLE)"),
                ValueKind::Text { .. } => format!("CAST({name} AS BINARY)"),
                _ => name,
            }
        })
        .collect();
    let list = if list.is_empty() {
        "1".to_string()
    } else {
        list.join(", ")
    };
    format!("{READ_MODE}SELECT {list} FROM {qualified}")
}

/// The `CREATE TEMPORARY TABLE` of `qualified` from the base table `table`'s `SHOW CREATE
/// TABLE` text (read with the default SQL mode): the same columns, keys and CHECK
/// constraints, character set and collation; no foreign keys (their parent tables are
/// not there), no partitioning and no other table options. InnoDB, or Aria when the
/// table has FULLTEXT or SPATIAL keys (InnoDB refuses them in temporary tables) or is
/// MyISAM or Aria itself.
pub(crate) fn temporary_table(
    create: &str,
    table: &str,
    qualified: &str,
) -> Result<String, MergeError> {
    let bad = |why: &str| {
        MergeError::InvalidSpec(format!(
            "cannot read the definition of table {table} for a temporary copy: {why}"
        ))
    };
    let head = format!("CREATE TABLE {} (\n", quote_ident(table));
    let rest = create
        .strip_prefix(&head)
        .ok_or_else(|| bad("it does not start with CREATE TABLE and the name"))?;
    // Definitions are indented; the first line that starts with `)` closes them
    // (newlines inside definitions are printed as `\n`).
    let (body, options) = match rest.find("\n)") {
        Some(end) => (&rest[..end], &rest[end + 2..]),
        None => return Err(bad("no end of the column list")),
    };
    let definitions: Vec<&str> = body
        .split('\n')
        .map(|line| line.trim_end().trim_end_matches(','))
        .filter(|line| {
            let l = line.trim_start();
            let foreign_key = l.starts_with("FOREIGN KEY ")
                || (l.starts_with("CONSTRAINT ") && l.contains(" FOREIGN KEY "));
            !foreign_key
        })
        .collect();
    let definitions: Vec<String> = definitions
        .into_iter()
        .map(without_auto_increment)
        .collect();
    // Options before the first quoted value (COMMENT='...') name the character set
    // and collation: `ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=x COLLATE=y ...`.
    let plain = options.split('\'').next().unwrap_or_default();
    let option = |key: &str| -> Option<&str> {
        let at = plain.find(key)? + key.len();
        let value = plain[at..].split(char::is_whitespace).next()?;
        (!value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(value)
    };
    // A MyISAM or Aria source keeps MyISAM's semantics in Aria: MATCH ... IN BOOLEAN
    // MODE without a FULLTEXT key (InnoDB: 1191, main.fulltext_derived_4257).
    let myisam = option(" ENGINE=")
        .is_some_and(|e| e.eq_ignore_ascii_case("MyISAM") || e.eq_ignore_ascii_case("Aria"));
    let aria = myisam
        || definitions.iter().any(|l| {
            let l = l.trim_start();
            l.starts_with("FULLTEXT ") || l.starts_with("SPATIAL ")
        });
    let mut out = format!(
        "{DEFINITION_MODE}CREATE TEMPORARY TABLE {qualified} (\n{}\n) ENGINE={}",
        definitions.join(",\n"),
        if aria { "Aria" } else { "InnoDB" }
    );
    if let Some(charset) = option(" CHARSET=") {
        out.push_str(&format!(" DEFAULT CHARSET={charset}"));
    }
    if let Some(collation) = option(" COLLATE=") {
        out.push_str(&format!(" COLLATE={collation}"));
    }
    Ok(out)
}

/// A column definition without AUTO_INCREMENT: the copy is filled with the source's
/// values, and InnoDB refuses an AUTO_INCREMENT column that is not first in a key, which
/// MyISAM and Aria tables may have (main.ctype_latin1_de: `INDEX (a, b)`, `b`
/// AUTO_INCREMENT). Keys, checks and other lines are kept as they are.
fn without_auto_increment(line: &str) -> String {
    let Some(name_len) = line
        .trim_start()
        .strip_prefix('`')
        .and_then(|rest| rest.find('`'))
    else {
        return line.to_string();
    };
    // After the name, before any quoted text (a COMMENT, a DEFAULT string).
    let start = line.len() - line.trim_start().len() + name_len + 2;
    let end = line[start..].find('\'').map_or(line.len(), |q| start + q);
    match line[start..end].find(" AUTO_INCREMENT") {
        Some(at) => {
            let at = start + at;
            format!("{}{}", &line[..at], &line[at + " AUTO_INCREMENT".len()..])
        }
        None => line.to_string(),
    }
}

/// Appends `value` of a column of `kind` to `out` as an SQL literal that stores exactly
/// that value; an error for text that is not what such a column returns.
pub(crate) fn push_literal(
    out: &mut String,
    kind: &ValueKind,
    value: &[u8],
) -> Result<(), MergeError> {
    let bad = |expected: &'static str| MergeError::BadValue {
        column: 0,
        value: String::from_utf8_lossy(value).into_owned(),
        expected,
    };
    let only = |allowed: fn(u8) -> bool| !value.is_empty() && value.iter().all(|&b| allowed(b));
    match kind {
        ValueKind::Number => {
            if !only(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.')) {
                return Err(bad("number"));
            }
            push_ascii(out, value);
        }
        ValueKind::Float => {
            if !only(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
                return Err(bad("double"));
            }
            push_ascii(out, value);
            if !value.iter().any(|b| matches!(b, b'e' | b'E')) {
                out.push_str("e0");
            }
        }
        ValueKind::Temporal => {
            if !only(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'.' | b' ')) {
                return Err(bad("date or time"));
            }
            out.push('\'');
            push_ascii(out, value);
            out.push('\'');
        }
        ValueKind::Address => {
            if !only(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-')) {
                return Err(bad("address"));
            }
            out.push('\'');
            push_ascii(out, value);
            out.push('\'');
        }
        ValueKind::Bytes => push_hex(out, value),
        ValueKind::Text { charset } => {
            out.push('_');
            out.push_str(charset);
            out.push(' ');
            push_hex(out, value);
        }
    }
    Ok(())
}

fn push_ascii(out: &mut String, value: &[u8]) {
    out.extend(value.iter().map(|&b| char::from(b)));
}

fn push_hex(out: &mut String, value: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(value.len() * 2 + 3);
    out.push_str("X'");
    for &b in value {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out.push('\'');
}

/// The rows of one INSERT into a copy, as they accumulate.
#[derive(Debug)]
pub(crate) struct InsertBatch {
    head: String,
    sql: String,
    rows: usize,
}

impl InsertBatch {
    /// An empty batch for `columns` of `qualified`.
    pub(crate) fn new(qualified: &str, columns: &[CopyColumn]) -> InsertBatch {
        let names: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
        InsertBatch {
            head: format!(
                "{WRITE_MODE}INSERT INTO {qualified} ({}) VALUES ",
                names.join(", ")
            ),
            sql: String::new(),
            rows: 0,
        }
    }

    /// Adds one row (a text-protocol row of the read statement's columns).
    pub(crate) fn push(
        &mut self,
        columns: &[CopyColumn],
        values: &[Option<&[u8]>],
    ) -> Result<(), MergeError> {
        if values.len() != columns.len().max(1) {
            return Err(MergeError::InvalidSpec(format!(
                "a copied row has {} values for {} columns",
                values.len(),
                columns.len()
            )));
        }
        let before = self.sql.len();
        if self.sql.is_empty() {
            self.sql.push_str(&self.head);
        } else {
            self.sql.push_str(", ");
        }
        self.sql.push('(');
        for (i, (column, value)) in columns.iter().zip(values).enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            let pushed = match value {
                None => {
                    self.sql.push_str("NULL");
                    Ok(())
                }
                Some(v) => push_literal(&mut self.sql, &column.kind, v),
            };
            if let Err(e) = pushed {
                self.sql.truncate(before);
                return Err(match e {
                    MergeError::BadValue {
                        value, expected, ..
                    } => MergeError::BadValue {
                        column: i,
                        value,
                        expected,
                    },
                    other => other,
                });
            }
        }
        self.sql.push(')');
        self.rows += 1;
        Ok(())
    }

    /// Whether the batch is large enough to send.
    pub(crate) fn is_full(&self) -> bool {
        self.sql.len() >= BATCH_BYTES || self.rows >= BATCH_ROWS
    }

    /// The INSERT of the rows so far (None when there are none); the batch is empty
    /// afterwards.
    pub(crate) fn take(&mut self) -> Option<String> {
        if self.rows == 0 {
            return None;
        }
        self.rows = 0;
        Some(std::mem::take(&mut self.sql))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::show_column;

    fn row(values: &[Option<&str>]) -> Vec<Option<Vec<u8>>> {
        values
            .iter()
            .map(|v| v.map(|s| s.as_bytes().to_vec()))
            .collect()
    }

    /// `SHOW FULL COLUMNS` rows as MariaDB 10.11 returns them for
    /// `CREATE TABLE t (id INT PRIMARY KEY, f FLOAT, d2 DOUBLE(10,2), e ENUM('a','b'),
    /// b BIT(8), g INT AS (id*2) VIRTUAL, h INT AS (id+1) STORED, c VARCHAR(10) CHARSET
    /// latin1, ts TIMESTAMP(6) NULL, u INET6, vb VARBINARY(4))`.
    fn columns_rows() -> Vec<Vec<Option<Vec<u8>>>> {
        let latin1 = Some("latin1_swedish_ci");
        [
            show_column("id", "int(11)", None, "NO", "PRI", ""),
            show_column("f", "float", None, "YES", "", ""),
            show_column("d2", "double(10,2)", None, "YES", "", ""),
            show_column("e", "enum('a','b')", latin1, "YES", "", ""),
            show_column("b", "bit(8)", None, "YES", "", ""),
            show_column("g", "int(11)", None, "YES", "", "VIRTUAL GENERATED"),
            show_column("h", "int(11)", None, "YES", "", "STORED GENERATED"),
            show_column("c", "varchar(10)", latin1, "YES", "", ""),
            show_column("ts", "timestamp(6)", None, "YES", "", ""),
            show_column("u", "inet6", None, "YES", "", ""),
            show_column("vb", "varbinary(4)", None, "YES", "", ""),
        ]
        .iter()
        .map(|r| row(r))
        .collect()
    }

    #[test]
    fn generated_columns_are_left_out_and_each_type_gets_its_exact_form() {
        let columns = copy_columns("t", &columns_rows()).unwrap();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "f", "d2", "e", "b", "c", "ts", "u", "vb"]);
        assert_eq!(
            read_statement("`db`.`t`", &columns),
            "SET STATEMENT time_zone=_latin1'+00:00' FOR SELECT `id`, CAST(`f` AS DOUBLE), \
             CAST(`d2` AS DOUBLE), CAST(`e` AS BINARY), `b`, CAST(`c` AS BINARY), `ts`, `u`, `vb` \
             FROM `db`.`t`"
        );
    }

    #[test]
    fn types_without_an_exact_copy_are_refused() {
        let rows = vec![row(&show_column("g", "geometry", None, "YES", "", ""))];
        assert_eq!(
            copy_columns("t", &rows),
            Err(MergeError::Unsupported(
                "copying column g of type geometry (table t) to another data node".into()
            ))
        );
    }

    #[test]
    fn rows_become_literals_that_store_the_same_values() {
        let columns = copy_columns("t", &columns_rows()).unwrap();
        let mut batch = InsertBatch::new("`db`.`t`", &columns);
        let values: Vec<Option<&[u8]>> = vec![
            Some(b"-7"),
            Some(b"1234567"),
            Some(b"0.30000000000000004"),
            Some(b"b"),
            Some(&[0x05]),
            Some(&[0xE9, b'\'']),
            Some(b"2024-03-31 01:30:00.500000"),
            Some(b"::1"),
            None,
        ];
        batch.push(&columns, &values).unwrap();
        // A row that fails leaves the batch as it was.
        let mut wrong = values.clone();
        wrong[0] = Some(b"1e300");
        assert!(matches!(
            batch.push(&columns, &wrong),
            Err(MergeError::BadValue { column: 0, .. })
        ));
        let sql = batch.take().unwrap();
        assert_eq!(
            sql,
            "SET STATEMENT sql_mode=_latin1'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO', time_zone=_latin1'+00:00', check_constraint_checks=0 FOR \
             INSERT INTO `db`.`t` (`id`, `f`, `d2`, `e`, `b`, `c`, `ts`, `u`, `vb`) VALUES \
             (-7, 1234567e0, 0.30000000000000004e0, _latin1 X'62', X'05', _latin1 X'E927', \
             '2024-03-31 01:30:00.500000', '::1', NULL)"
        );
        assert_eq!(batch.take(), None);
    }

    #[test]
    fn values_that_are_not_what_the_column_returns_are_errors() {
        let mut out = String::new();
        assert!(push_literal(&mut out, &ValueKind::Number, b"1; DROP TABLE t").is_err());
        assert!(push_literal(&mut out, &ValueKind::Temporal, b"2024-01-01' OR '1").is_err());
        assert!(push_literal(&mut out, &ValueKind::Float, b"").is_err());
        assert!(out.is_empty());
        push_literal(&mut out, &ValueKind::Float, b"-1.5e-7").unwrap();
        assert_eq!(out, "-1.5e-7");
    }

    #[test]
    fn batches_fill_up_by_rows() {
        let columns = vec![CopyColumn {
            name: "a".into(),
            kind: ValueKind::Number,
        }];
        let mut batch = InsertBatch::new("`t`", &columns);
        for _ in 0..BATCH_ROWS - 1 {
            batch.push(&columns, &[Some(b"1")]).unwrap();
        }
        assert!(!batch.is_full());
        batch.push(&columns, &[Some(b"1")]).unwrap();
        assert!(batch.is_full());
    }

    #[test]
    fn the_temporary_table_keeps_columns_keys_and_checks_but_not_foreign_keys_or_partitions() {
        let create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `pid` int(11) DEFAULT NULL,\n  \
                      `note` varchar(10) DEFAULT 'a,\\n)b',\n  PRIMARY KEY (`id`),\n  KEY `pid` (`pid`),\n  \
                      CONSTRAINT `fk` FOREIGN KEY (`pid`) REFERENCES `p` (`id`),\n  \
                      CONSTRAINT `c1` CHECK (`id` > 0)\n) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=latin1 \
                      COLLATE=latin1_swedish_ci COMMENT='x CHARSET=y'\n PARTITION BY HASH (`id`)\nPARTITIONS 2";
        assert_eq!(
            temporary_table(create, "t", "`db`.`t`").unwrap(),
            "SET STATEMENT sql_mode='' FOR CREATE TEMPORARY TABLE `db`.`t` (\n  `id` int(11) NOT NULL,\n  \
             `pid` int(11) DEFAULT NULL,\n  `note` varchar(10) DEFAULT 'a,\\n)b',\n  PRIMARY KEY (`id`),\n  \
             KEY `pid` (`pid`),\n  CONSTRAINT `c1` CHECK (`id` > 0)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1 \
             COLLATE=latin1_swedish_ci"
        );
        let fulltext = "CREATE TABLE `f` (\n  `a` text DEFAULT NULL,\n  FULLTEXT KEY `a` (`a`)\n) ENGINE=InnoDB";
        assert_eq!(
            temporary_table(fulltext, "f", "`f`").unwrap(),
            "SET STATEMENT sql_mode='' FOR CREATE TEMPORARY TABLE `f` (\n  `a` text DEFAULT NULL,\n  \
             FULLTEXT KEY `a` (`a`)\n) ENGINE=Aria"
        );
        assert!(temporary_table("CREATE VIEW `v` AS select 1", "v", "`v`").is_err());
        let auto = "CREATE TABLE `a` (\n  `a` char(20) NOT NULL,\n  \
                    `b` int(11) NOT NULL AUTO_INCREMENT COMMENT ' AUTO_INCREMENT',\n  \
                    KEY `a` (`a`,`b`)\n) ENGINE=MyISAM AUTO_INCREMENT=3";
        assert_eq!(
            temporary_table(auto, "a", "`a`").unwrap(),
            "SET STATEMENT sql_mode='' FOR CREATE TEMPORARY TABLE `a` (\n  `a` char(20) NOT NULL,\n  \
             `b` int(11) NOT NULL COMMENT ' AUTO_INCREMENT',\n  KEY `a` (`a`,`b`)\n) ENGINE=Aria"
        );
    }
}
