//! `INSTALL PLUGIN name SONAME 'lib'` / `INSTALL SONAME 'lib'` whose library name holds a
//! path (`/`): MariaDB refuses every such statement before it loads anything (1124
//! ER_UDF_NO_PATHS, after its privilege and already-installed checks), so it may reach
//! a storage server, as a statement or in a routine body: it can install nothing there.

use crate::lexer::{Token, TokenKind};

/// True when `toks` (from the INSTALL on) are such a statement, ending there or at `;`.
pub(super) fn installs_from_a_path(sql: &str, toks: &[Token]) -> bool {
    let kw = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if !kw(0, "INSTALL") {
        return false;
    }
    let mut i = 1;
    if kw(i, "PLUGIN") {
        i += 1;
        if kw(i, "IF") {
            if !(kw(i + 1, "NOT") && kw(i + 2, "EXISTS")) {
                return false;
            }
            i += 3;
        }
        if !toks.get(i).is_some_and(|t| t.kind.is_ident()) {
            return false;
        }
        i += 1;
    }
    if !kw(i, "SONAME") {
        return false;
    }
    let Some(lib) = toks.get(i + 1).filter(|t| t.kind == TokenKind::String) else {
        return false;
    };
    let ends = toks.get(i + 2).is_none_or(|t| t.is_punct(sql, ";"));
    ends && lib.text(sql).contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::code_tokens;

    fn from_path(sql: &str) -> bool {
        let toks: Vec<Token> = code_tokens(sql).collect();
        installs_from_a_path(sql, &toks)
    }

    #[test]
    fn only_a_library_path_is_let_through() {
        for sql in [
            "install plugin my_plug soname '/root/some_plugin.so'",
            "INSTALL PLUGIN IF NOT EXISTS p SONAME 'a/b.so'",
            "INSTALL SONAME '../x.so'",
            "INSTALL PLUGIN p SONAME '/x.so'; END",
        ] {
            assert!(from_path(sql), "{sql}");
        }
        for sql in [
            "INSTALL PLUGIN p SONAME 'ha_example.so'",
            "INSTALL SONAME 'ha_example'",
            "INSTALL PLUGIN p SONAME '/x.so', q SONAME 'y.so'",
            "INSTALL PLUGIN p SONAME CONCAT('/x', '.so')",
            "INSTALL PLUGIN p SONAME '/x.so' x",
            "INSTALL PLUGIN IF EXISTS p SONAME '/x.so'",
            "UNINSTALL PLUGIN p",
        ] {
            assert!(!from_path(sql), "{sql}");
        }
    }
}
