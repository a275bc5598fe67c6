//! Tables of MariaDB's Sequence engine, which exist in every database without a CREATE.

/// `seq_1_to_10000` or `seq_1_to_100_step_2`: a table MariaDB's Sequence engine makes up
/// in any database (main.cset_narrowing). Not in the catalog, it is no 1146.
pub(crate) fn is_sequence_engine_table(name: &str) -> bool {
    let numbers = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = name
        .to_ascii_lowercase()
        .strip_prefix("seq_")
        .map(str::to_string)
    else {
        return false;
    };
    let (range, step) = match rest.split_once("_step_") {
        Some((range, step)) => (range.to_string(), Some(step.to_string())),
        None => (rest, None),
    };
    range
        .split_once("_to_")
        .is_some_and(|(from, to)| numbers(from) && numbers(to))
        && step.is_none_or(|s| numbers(&s))
}

#[cfg(test)]
mod tests {
    use super::is_sequence_engine_table;

    #[test]
    fn sequence_engine_names_are_recognised() {
        assert!(is_sequence_engine_table("seq_1_to_10000"));
        assert!(is_sequence_engine_table("SEQ_0_to_9_step_3"));
        assert!(!is_sequence_engine_table("seq_a_to_b"));
        assert!(!is_sequence_engine_table("seq_1_to_"));
        assert!(!is_sequence_engine_table("sequence"));
    }
}
