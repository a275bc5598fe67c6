//! Sequences (`CREATE/ALTER/DROP SEQUENCE`, `NEXTVAL(s)`, `NEXT VALUE FOR s`,
//! `LASTVAL(s)`, `PREVIOUS VALUE FOR s`, `SETVAL(s, n)`, `SHOW CREATE SEQUENCE`) in a
//! database over several data nodes. A MariaDB sequence lives on one storage node, and
//! its values would have to come from Strata's global sequences to stay unique across
//! nodes and compute nodes; until that is built they are refused here, with one error
//! for every form, instead of failing on a node (4091) or in the parser (1064). On one
//! data node sequences are forwarded like any statement.

use crate::error::PlanError;
use crate::source::Source;

/// Err when `src` creates, changes, reads or shows a sequence.
pub(crate) fn refuse_sequences(src: &Source<'_>) -> Result<(), PlanError> {
    let sql = src.sql;
    let lower_has = |needle: &[u8]| strata_sql::contains_ignore_ascii_case(sql.as_bytes(), needle);
    if !(lower_has(b"val") || lower_has(b"sequence")) {
        return Ok(());
    }
    let code: Vec<_> = src.tokens.iter().filter(|t| t.kind.is_code()).collect();
    let kw = |i: usize, k: &str| code.get(i).is_some_and(|t| t.is_keyword(sql, k));
    // CREATE [OR REPLACE] [TEMPORARY] SEQUENCE, ALTER/DROP/RENAME SEQUENCE, SHOW CREATE
    // SEQUENCE: the object word right after the verb and its modifiers.
    let verb = ["CREATE", "ALTER", "DROP", "SHOW", "RENAME"]
        .iter()
        .any(|k| kw(0, k));
    let object = verb && {
        let mut i = 1;
        while ["OR", "REPLACE", "TEMPORARY", "CREATE"]
            .iter()
            .any(|k| kw(i, k))
        {
            i += 1;
        }
        kw(i, "SEQUENCE")
    };
    let uses = object
        || (0..code.len()).any(|i| {
            let qualified = i > 0 && code[i - 1].is_punct(sql, ".");
            let call = ["NEXTVAL", "LASTVAL", "SETVAL"].iter().any(|f| kw(i, f))
                && code.get(i + 1).is_some_and(|t| t.is_punct(sql, "("))
                && !qualified;
            let value_for =
                (kw(i, "NEXT") || kw(i, "PREVIOUS")) && kw(i + 1, "VALUE") && kw(i + 2, "FOR");
            call || value_for
        });
    if uses {
        return Err(PlanError::unsupported(
            "sequences in a database over several data nodes (Strata's global sequences do not back them yet)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> bool {
        Source::new(sql).is_ok_and(|src| refuse_sequences(&src).is_err())
    }

    #[test]
    fn every_form_of_sequence_use_is_refused() {
        for sql in [
            "CREATE SEQUENCE s",
            "CREATE OR REPLACE TEMPORARY SEQUENCE s START WITH 10",
            "ALTER SEQUENCE s RESTART 5",
            "DROP SEQUENCE IF EXISTS s",
            "SELECT NEXTVAL(s)",
            "SELECT next value for db.s",
            "SELECT PREVIOUS VALUE FOR s",
            "SELECT lastval(s), setval(s, 10)",
            "INSERT INTO t VALUES (NEXTVAL(s), 1)",
        ] {
            assert!(refused(sql), "{sql}");
        }
        for sql in [
            "CREATE TABLE sequence (val INT, nextval INT)",
            "SELECT nextval, val FROM t WHERE val = 1",
            "INSERT INTO t (val) VALUES (1)",
            "SELECT db.nextval(1)",
        ] {
            assert!(!refused(sql), "{sql}");
        }
    }
}
