//! Column defaults that would name the storage server's account: MariaDB evaluates
//! `DEFAULT USER()`, `CURRENT_USER()`, `CURRENT_ROLE()` (and their synonyms) when a
//! row is written, on the storage server, as Strata's own storage account; the rows
//! would record `strata@...` where the client's account belongs, a wrong answer.

use crate::lexer::Token;

/// Functions whose value is the session's account or role.
const ACCOUNT_FUNCTIONS: &[&str] = &[
    "USER",
    "CURRENT_USER",
    "CURRENT_ROLE",
    "SESSION_USER",
    "SYSTEM_USER",
];

/// The account function (uppercase) a `DEFAULT` expression of a CREATE or ALTER TABLE
/// calls, if one does.
pub(super) fn account_function_default(sql: &str, toks: &[Token]) -> Option<String> {
    for (i, t) in toks.iter().enumerate() {
        if !t.is_keyword(sql, "DEFAULT") {
            continue;
        }
        // The expression: one word (`DEFAULT CURRENT_USER`), a call, or a group.
        let mut depth = 0usize;
        for (j, e) in toks.iter().enumerate().skip(i + 1) {
            let word = e.text(sql).to_ascii_uppercase();
            let called = toks.get(j + 1).is_some_and(|n| n.is_punct(sql, "("));
            let bare = j == i + 1 && (word == "CURRENT_USER" || word == "CURRENT_ROLE");
            if ACCOUNT_FUNCTIONS.contains(&word.as_str())
                && (called || bare)
                && !(j > 0 && toks[j - 1].is_punct(sql, "."))
            {
                return Some(word);
            }
            if e.is_punct(sql, "(") {
                depth += 1;
            } else if e.is_punct(sql, ")") {
                depth = depth.saturating_sub(1);
            }
            let next_opens = toks.get(j + 1).is_some_and(|n| n.is_punct(sql, "("));
            if depth == 0 && !next_opens {
                break;
            }
        }
    }
    None
}
