//! Session variables that bound what the compute node's merges and joins may do:
//! `group_concat_max_len` caps a merged GROUP_CONCAT, and MAX_JOIN_SIZE or
//! SQL_BIG_SELECTS=0 keep joins to what the storage node would estimate and allow;
//! `sql_auto_is_null` asks for a value only the compute node has.

use strata_backend::SessionVars;
use strata_executor::DEFAULT_GROUP_CONCAT_MAX_LEN;

/// The session's `group_concat_max_len`: after a SET the storage node's effective value is
/// read back and recorded as a literal (MariaDB clamps what it is given), so it parses;
/// without one the storage nodes use MariaDB's default.
pub(super) fn group_concat_max_len(vars: &SessionVars) -> usize {
    vars.value("group_concat_max_len")
        .and_then(|v| v.trim_matches('\'').parse::<u64>().ok())
        .map_or(DEFAULT_GROUP_CONCAT_MAX_LEN, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
}

/// MAX_JOIN_SIZE below its default or SQL_BIG_SELECTS=0: MariaDB refuses a join whose
/// estimated size exceeds the limit (1104, main.select_safe). Either setting counts,
/// whichever came last, so a join the storage node would allow may be refused too.
pub(super) fn joins_limited(vars: &SessionVars) -> bool {
    let value = |name| {
        vars.value(name)
            .map(|v| v.trim_matches('\'').to_ascii_uppercase())
    };
    let big_selects_off = value("sql_big_selects").is_some_and(|v| v == "0" || v == "OFF");
    let max_join_size = value("max_join_size").and_then(|v| v.parse::<u64>().ok());
    big_selects_off || max_join_size.is_some_and(|n| n < u64::MAX)
}

/// `sql_auto_is_null` on: `WHERE id IS NULL` finds the row the previous INSERT gave an
/// AUTO_INCREMENT value (main.odbc). Over several data nodes that value is the compute
/// node's (each node saw a literal), so a data node would answer with no row.
pub(super) fn auto_is_null(vars: &SessionVars) -> bool {
    vars.value("sql_auto_is_null")
        .map(|v| v.trim_matches('\'').to_ascii_uppercase())
        .is_some_and(|v| v == "1" || v == "ON" || v == "TRUE")
}

#[cfg(test)]
mod tests {
    use super::{auto_is_null, group_concat_max_len, joins_limited, SessionVars};

    #[test]
    fn auto_is_null_is_on_after_a_set_to_one_or_on() {
        let mut vars = SessionVars::default();
        assert!(!auto_is_null(&vars));
        vars.set("sql_auto_is_null", "SESSION sql_auto_is_null = 1".into());
        assert!(auto_is_null(&vars));
        vars.set(
            "sql_auto_is_null",
            "SESSION sql_auto_is_null = 'OFF'".into(),
        );
        assert!(!auto_is_null(&vars));
    }

    #[test]
    fn group_concat_max_len_is_the_value_read_back_after_set() {
        let mut vars = SessionVars::default();
        assert_eq!(group_concat_max_len(&vars), 1 << 20);
        vars.set(
            "group_concat_max_len",
            "SESSION group_concat_max_len = '4'".into(),
        );
        assert_eq!(group_concat_max_len(&vars), 4);
    }

    #[test]
    fn joins_are_limited_by_a_max_join_size_below_its_default_or_big_selects_off() {
        let mut vars = SessionVars::default();
        assert!(!joins_limited(&vars));
        vars.set(
            "max_join_size",
            "SESSION max_join_size = 18446744073709551615".into(),
        );
        assert!(!joins_limited(&vars));
        vars.set("max_join_size", "SESSION max_join_size = 9".into());
        assert!(joins_limited(&vars));
        let mut vars = SessionVars::default();
        vars.set("sql_big_selects", "SESSION sql_big_selects = 'OFF'".into());
        assert!(joins_limited(&vars));
    }
}
