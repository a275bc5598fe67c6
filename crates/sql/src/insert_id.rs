//! Whether the id a storage node's OK packet reports after an INSERT is one it
//! generated. MariaDB reports the first generated AUTO_INCREMENT value, but when no row
//! generated one it reports the explicit value of the last row instead, which
//! `LAST_INSERT_ID()` does not take. Only a statement whose values are all literals, none
//! of them able to equal the reported id, shows from its text that the id was generated;
//! anything else leaves the session's `LAST_INSERT_ID()` to be read back from the
//! connection.

use crate::lexer::{code_tokens, string_value, Token, TokenKind};

/// True when `sql` is an `INSERT`/`REPLACE ... VALUES` or `... SET` whose values are
/// literals, `NULL`, `DEFAULT`, `TRUE`/`FALSE` or (`placeholders_differ`: the caller
/// checked that no parameter can be the id) `?`, none of which can store `reported` in
/// an AUTO_INCREMENT column: the id was then generated, as `LAST_INSERT_ID()` counts it.
pub fn insert_id_generated(sql: &str, reported: u64, placeholders_differ: bool) -> bool {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let Some(first) = toks.first() else {
        return false;
    };
    if !(first.is_keyword(sql, "INSERT") || first.is_keyword(sql, "REPLACE")) {
        return false;
    }
    // The values start after the first VALUES/VALUE/SET outside parentheses.
    let mut depth = 0usize;
    let mut start = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0
            && (t.is_keyword(sql, "VALUES")
                || t.is_keyword(sql, "VALUE")
                || t.is_keyword(sql, "SET"))
        {
            start = Some((i, t.is_keyword(sql, "SET")));
            break;
        }
        // INSERT ... SELECT / TABLE / WITH: the rows come from elsewhere.
        if t.is_keyword(sql, "SELECT") || t.is_keyword(sql, "TABLE") || t.is_keyword(sql, "WITH") {
            return false;
        }
    }
    let Some((start, set_form)) = start else {
        return false;
    };
    let values = &toks[start + 1..];
    for (i, t) in values.iter().enumerate() {
        let text = t.text(sql);
        let ok = match t.kind {
            TokenKind::Integer | TokenKind::Decimal | TokenKind::Float => {
                !number_could_be(text.as_bytes(), reported)
            }
            // Adjacent strings are one ('1' '2' is '12').
            TokenKind::String => {
                let joined = i > 0 && values[i - 1].kind == TokenKind::String;
                !joined && !number_could_be(string_value(text).as_bytes(), reported)
            }
            TokenKind::HexNumber | TokenKind::BitNumber => !radix_could_be(text, reported),
            TokenKind::Placeholder => placeholders_differ,
            // A sign, not an operator: `2+3` could be the id.
            TokenKind::Punct if matches!(text, "-" | "+") => {
                i > 0 && {
                    let before = values[i - 1].text(sql);
                    matches!(before, "(" | "," | "=" | "-" | "+")
                }
            }
            TokenKind::Punct => matches!(text, "(" | ")" | "," | "="),
            TokenKind::Ident => {
                let keyword = ["NULL", "DEFAULT", "TRUE", "FALSE"]
                    .iter()
                    .any(|k| text.eq_ignore_ascii_case(k));
                // A column named in the SET form: the next token is `=`.
                let column = set_form && values.get(i + 1).is_some_and(|n| n.is_punct(sql, "="));
                // Anything else (a function, ON DUPLICATE KEY UPDATE, RETURNING, a
                // column of the row) could store or change anything.
                keyword || column
            }
            TokenKind::QuotedIdent => {
                set_form && values.get(i + 1).is_some_and(|n| n.is_punct(sql, "="))
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// True when `text`, read as MariaDB converts a string or number to an integer (its
/// leading number, rounded), could be `reported`. Conservative: anything that looks like
/// a number within one of it counts, and so does its negative (an unsigned 64-bit id).
pub fn number_could_be(text: &[u8], reported: u64) -> bool {
    let s = std::str::from_utf8(text).unwrap_or("").trim_start();
    let end = s
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || ((c == '-' || c == '+') && (i == 0 || s[..i].ends_with(['e', 'E'])))
                || ((c == 'e' || c == 'E') && i > 0))
        })
        .map_or(s.len(), |(i, _)| i);
    let mut prefix = &s[..end];
    // "5e" or "5." parse only without their tail.
    let value = loop {
        if prefix.is_empty() {
            return false;
        }
        if let Ok(v) = prefix.parse::<f64>() {
            break v;
        }
        prefix = &prefix[..prefix.len() - 1];
    };
    // Big ids lose precision as f64: an exact integer text is compared exactly.
    // A sign before the literal is a token of its own: both signs count.
    let digits = prefix.trim_start_matches(['-', '+']);
    if let Ok(exact) = digits.parse::<u64>() {
        return exact == reported || exact.wrapping_neg() == reported;
    }
    let value = value.abs();
    (value - reported as f64).abs() < 1.0 || ((value as i64).wrapping_neg() as u64) == reported
}

/// True when a hexadecimal or bit literal's value could be `reported` (one longer
/// than eight bytes cannot be stored as it).
fn radix_could_be(text: &str, reported: u64) -> bool {
    let lower = text.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d.to_string(), 16)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d.to_string(), 2)
    } else if let Some(d) = lower.strip_prefix("x'") {
        (d.trim_end_matches('\'').to_string(), 16)
    } else if let Some(d) = lower.strip_prefix("b'") {
        (d.trim_end_matches('\'').to_string(), 2)
    } else {
        return true;
    };
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return reported == 0;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(v) => v == reported,
        // Longer than 64 bits: not an id.
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_other_than_the_id_show_it_was_generated() {
        assert!(insert_id_generated(
            "INSERT INTO t (a, b) VALUES (NULL, 'x'), (DEFAULT, 7)",
            5,
            false
        ));
        assert!(insert_id_generated("insert t values ()", 1, false));
        assert!(insert_id_generated(
            "INSERT INTO t SET b = 'x', `c` = -3",
            9,
            false
        ));
        assert!(insert_id_generated(
            "REPLACE INTO t VALUES (0, 1.5)",
            12,
            false
        ));
    }

    #[test]
    fn a_literal_that_could_be_the_id_leaves_it_unknown() {
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES (5, 'a')",
            5,
            false
        ));
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES ('5abc')",
            5,
            false
        ));
        assert!(!insert_id_generated("INSERT INTO t VALUES (4.6)", 5, false));
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES (0x05)",
            5,
            false
        ));
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES (b'101')",
            5,
            false
        ));
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES (-1)",
            u64::MAX,
            false
        ));
        assert!(!insert_id_generated(
            "INSERT INTO t SET id = ' 5'",
            5,
            false
        ));
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES ('1' '2')",
            12,
            false
        ));
        assert!(!insert_id_generated(
            "INSERT INTO t VALUES (- 5)",
            5u64.wrapping_neg(),
            false
        ));
    }

    #[test]
    fn values_that_are_not_literals_leave_it_unknown() {
        for sql in [
            "INSERT INTO t VALUES (2+3)",
            "INSERT INTO t VALUES (@id)",
            "INSERT INTO t VALUES (?)",
            "INSERT INTO t VALUES (f())",
            "INSERT INTO t SELECT * FROM u",
            "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2",
            "INSERT INTO t VALUES (1) RETURNING id",
            "UPDATE t SET a = 1",
            "CALL p()",
            "INSERT INTO t TABLE u",
        ] {
            assert!(!insert_id_generated(sql, 5, false), "{sql}");
        }
        assert!(insert_id_generated("INSERT INTO t VALUES (?, ?)", 5, true));
    }

    #[test]
    fn big_ids_are_compared_exactly() {
        assert!(number_could_be(b"18446744073709551615", u64::MAX));
        assert!(!number_could_be(b"18446744073709551614", u64::MAX));
        assert!(!number_could_be(b"abc", 5));
        assert!(number_could_be(b"5e0", 5));
        assert!(number_could_be(b"5.", 5));
    }
}
