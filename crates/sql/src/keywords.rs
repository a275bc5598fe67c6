//! MySQL reserved words: words that cannot be unquoted identifiers in MySQL 5.7/8.0 nor in
//! MariaDB 10.x. The digest lowercases them (they can never be case-sensitive names) and
//! the simple-select parser refuses them as bare aliases.

/// Reserved words, uppercase and sorted.
const RESERVED: &[&str] = &[
    "ACCESSIBLE",
    "ADD",
    "ALL",
    "ALTER",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ASENSITIVE",
    "BEFORE",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BLOB",
    "BOTH",
    "BY",
    "CALL",
    "CASCADE",
    "CASE",
    "CHANGE",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "CONDITION",
    "CONSTRAINT",
    "CONTINUE",
    "CONVERT",
    "CREATE",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "CURSOR",
    "DATABASE",
    "DATABASES",
    "DAY_HOUR",
    "DAY_MICROSECOND",
    "DAY_MINUTE",
    "DAY_SECOND",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DELAYED",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DETERMINISTIC",
    "DISTINCT",
    "DISTINCTROW",
    "DIV",
    "DOUBLE",
    "DROP",
    "DUAL",
    "EACH",
    "ELSE",
    "ELSEIF",
    "ENCLOSED",
    "ESCAPED",
    "EXISTS",
    "EXIT",
    "EXPLAIN",
    "FALSE",
    "FETCH",
    "FLOAT",
    "FLOAT4",
    "FLOAT8",
    "FOR",
    "FORCE",
    "FOREIGN",
    "FROM",
    "FULLTEXT",
    "GRANT",
    "GROUP",
    "HAVING",
    "HIGH_PRIORITY",
    "HOUR_MICROSECOND",
    "HOUR_MINUTE",
    "HOUR_SECOND",
    "IF",
    "IGNORE",
    "IN",
    "INDEX",
    "INFILE",
    "INNER",
    "INOUT",
    "INSENSITIVE",
    "INSERT",
    "INT",
    "INT1",
    "INT2",
    "INT3",
    "INT4",
    "INT8",
    "INTEGER",
    "INTERVAL",
    "INTO",
    "IS",
    "ITERATE",
    "JOIN",
    "KEY",
    "KEYS",
    "KILL",
    "LEADING",
    "LEAVE",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LINEAR",
    "LINES",
    "LOAD",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "LOCK",
    "LONG",
    "LONGBLOB",
    "LONGTEXT",
    "LOOP",
    "LOW_PRIORITY",
    "MATCH",
    "MAXVALUE",
    "MEDIUMBLOB",
    "MEDIUMINT",
    "MEDIUMTEXT",
    "MIDDLEINT",
    "MINUTE_MICROSECOND",
    "MINUTE_SECOND",
    "MOD",
    "MODIFIES",
    "NATURAL",
    "NOT",
    "NO_WRITE_TO_BINLOG",
    "NULL",
    "NUMERIC",
    "ON",
    "OPTIMIZE",
    "OPTION",
    "OPTIONALLY",
    "OR",
    "ORDER",
    "OUT",
    "OUTER",
    "OUTFILE",
    "PARTITION",
    "PRECISION",
    "PRIMARY",
    "PROCEDURE",
    "PURGE",
    "RANGE",
    "READ",
    "READS",
    "READ_WRITE",
    "REAL",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "RELEASE",
    "RENAME",
    "REPEAT",
    "REPLACE",
    "REQUIRE",
    "RESIGNAL",
    "RESTRICT",
    "RETURN",
    "REVOKE",
    "RIGHT",
    "RLIKE",
    "SCHEMA",
    "SCHEMAS",
    "SECOND_MICROSECOND",
    "SELECT",
    "SENSITIVE",
    "SEPARATOR",
    "SET",
    "SHOW",
    "SIGNAL",
    "SMALLINT",
    "SPATIAL",
    "SPECIFIC",
    "SQL",
    "SQLEXCEPTION",
    "SQLSTATE",
    "SQLWARNING",
    "SQL_BIG_RESULT",
    "SQL_CALC_FOUND_ROWS",
    "SQL_SMALL_RESULT",
    "SSL",
    "STARTING",
    "STRAIGHT_JOIN",
    "TABLE",
    "TERMINATED",
    "THEN",
    "TINYBLOB",
    "TINYINT",
    "TINYTEXT",
    "TO",
    "TRAILING",
    "TRIGGER",
    "TRUE",
    "UNDO",
    "UNION",
    "UNIQUE",
    "UNLOCK",
    "UNSIGNED",
    "UPDATE",
    "USAGE",
    "USE",
    "USING",
    "UTC_DATE",
    "UTC_TIME",
    "UTC_TIMESTAMP",
    "VALUES",
    "VARBINARY",
    "VARCHAR",
    "VARCHARACTER",
    "VARYING",
    "WHEN",
    "WHERE",
    "WHILE",
    "WITH",
    "WRITE",
    "XOR",
    "YEAR_MONTH",
    "ZEROFILL",
];

/// The longest reserved word's length.
const LONGEST: usize = {
    let mut longest = 0;
    let mut i = 0;
    while i < RESERVED.len() {
        if RESERVED[i].len() > longest {
            longest = RESERVED[i].len();
        }
        i += 1;
    }
    longest
};

/// True if `word` is a reserved word (case-insensitive).
pub fn is_reserved(word: &str) -> bool {
    // Digests call this for every identifier of every statement: only the words of
    // the same first letter and length are compared (0 to 3 of them), byte by byte.
    let bytes = word.as_bytes();
    let (Some(&first), true) = (bytes.first(), bytes.len() <= LONGEST) else {
        return false;
    };
    let Some(letter) = first.to_ascii_uppercase().checked_sub(b'A') else {
        return false;
    };
    let index = index();
    let Some(&(start, end)) = index
        .ranges
        .get(usize::from(letter) * (LONGEST + 1) + bytes.len())
    else {
        return false;
    };
    index.words[usize::from(start)..usize::from(end)]
        .iter()
        .any(|w| w.as_bytes().eq_ignore_ascii_case(bytes))
}

/// The reserved words ordered by first letter, then length, with where each
/// (letter, length) group starts and ends.
struct Index {
    words: Vec<&'static str>,
    ranges: Vec<(u16, u16)>,
}

fn index() -> &'static Index {
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let group = |w: &str| usize::from(w.as_bytes()[0] - b'A') * (LONGEST + 1) + w.len();
        let mut words = RESERVED.to_vec();
        words.sort_by_key(|w| group(w));
        let ranges = (0..26 * (LONGEST + 1))
            .map(|g| {
                let start = words.partition_point(|w| group(w) < g);
                let end = words.partition_point(|w| group(w) <= g);
                (start as u16, end as u16)
            })
            .collect();
        Index { words, ranges }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_uppercase_and_unique() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(RESERVED
            .iter()
            .all(|w| w.bytes().all(|b| !b.is_ascii_lowercase())));
        assert!(RESERVED.iter().all(|w| w.len() <= 20));
        assert!(RESERVED
            .iter()
            .all(|w| w.as_bytes()[0].is_ascii_uppercase()));
        for w in RESERVED {
            assert!(
                is_reserved(w) && is_reserved(&w.to_ascii_lowercase()),
                "{w}"
            );
        }
    }

    #[test]
    fn reserved_words_match_case_insensitively() {
        let cases = [
            ("select", true),
            ("FROM", true),
            ("Where", true),
            ("sql_calc_found_rows", true),
            ("status", false),
            ("orders", false),
            ("", false),
            ("selectx", false),
            ("rank", false),
        ];
        for (word, reserved) in cases {
            assert_eq!(is_reserved(word), reserved, "{word}");
        }
    }
}
