//! Splits a multi-statement COM_QUERY into its statements at `;` outside quotes and
//! comments, borrowing slices of the original text. A compound statement (a routine,
//! trigger or event with a `BEGIN ... END` body, `BEGIN NOT ATOMIC`, a top-level `IF`,
//! loop or `CASE`) is one statement: its inner `;` do not split it.

use crate::lexer::{Lexer, Token, TokenKind};

/// The statements of `sql`, each trimmed of surrounding whitespace. Empty statements in the
/// middle are kept (the caller answers them with "Query was empty"); empty or comment-only
/// pieces at the end are dropped.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    // Whether the current piece has any code token: comment-only tails are dropped.
    let mut has_code = false;
    let mut last_code_piece = 0;
    let tokens: Vec<Token> = Lexer::new(sql).collect();
    let mut blocks = CompoundBlocks::default();
    for (i, t) in tokens.iter().enumerate() {
        blocks.see(sql, &tokens, i);
        if t.is_punct(sql, ";") && blocks.depth == 0 {
            pieces.push(sql[start..t.span.start].trim());
            if has_code {
                last_code_piece = pieces.len();
            }
            start = t.span.end;
            has_code = false;
            blocks = CompoundBlocks::default();
        } else if t.kind.is_code() || t.kind == TokenKind::Hint {
            has_code = true;
        }
    }
    pieces.push(sql[start..].trim());
    if has_code {
        last_code_piece = pieces.len();
    }
    pieces.truncate(last_code_piece);
    pieces
}

/// The open blocks of the statement being split: `BEGIN`, `IF`, `CASE`, `LOOP`,
/// `WHILE`, `REPEAT` and `FOR` open one, `END` (with or without its keyword) closes one.
/// Only a compound statement has blocks; a plain `BEGIN;` starts a transaction.
#[derive(Default)]
struct CompoundBlocks {
    /// None until the statement's head says whether it is compound.
    compound: Option<bool>,
    /// Blocks open at this token.
    depth: usize,
    /// Where a CREATE PROCEDURE/FUNCTION is before its body.
    routine: RoutineHead,
}

/// The head of a CREATE PROCEDURE/FUNCTION up to its body: a body that is a single
/// loop or IF without BEGIN (`CREATE PROCEDURE p() FOR i IN 1..3 DO ...; END FOR`)
/// follows the parameter list, RETURNS type or characteristics rather than a `;`.
#[derive(Default, Clone, Copy, PartialEq)]
enum RoutineHead {
    /// Not a routine, or its body has started.
    #[default]
    None,
    /// After PROCEDURE/FUNCTION, before the parameter list.
    Name,
    /// Inside the parameter list, at this parenthesis depth.
    Params(usize),
    /// After the parameter list: RETURNS, characteristics or the body's first token.
    Characteristics,
}

/// Words of a routine's RETURNS type and characteristics: the body has not started.
const CHARACTERISTIC_WORDS: &[&str] = &[
    "RETURNS",
    "LANGUAGE",
    "SQL",
    "NOT",
    "DETERMINISTIC",
    "CONTAINS",
    "NO",
    "READS",
    "MODIFIES",
    "DATA",
    "SECURITY",
    "DEFINER",
    "INVOKER",
    "COMMENT",
    "UNSIGNED",
    "SIGNED",
    "ZEROFILL",
    "CHARSET",
    "CHARACTER",
    "COLLATE",
    "BINARY",
    "ASCII",
    "UNICODE",
    "PRECISION",
    "VARYING",
    "NATIONAL",
];

impl CompoundBlocks {
    /// Accounts for token `i` of `tokens`.
    fn see(&mut self, sql: &str, tokens: &[Token], i: usize) {
        let t = tokens[i];
        if !t.kind.is_code() {
            return;
        }
        if self.compound.is_none() {
            self.compound = Some(is_compound_head(sql, tokens, i));
        }
        if self.compound != Some(true) {
            return;
        }
        if self.body_starts(sql, tokens, i) {
            self.depth += 1;
            return;
        }
        if t.kind != TokenKind::Ident {
            return;
        }
        let prev = previous_code(tokens, i);
        let after_end = prev.is_some_and(|p| tokens[p].is_keyword(sql, "END"));
        let word = t.text(sql).to_ascii_uppercase();
        match word.as_str() {
            "END" => self.depth = self.depth.saturating_sub(1),
            "BEGIN" | "CASE" if !after_end => self.depth += 1,
            "IF" | "LOOP" | "WHILE" | "REPEAT" | "FOR"
                if !after_end
                    && starts_statement(sql, tokens, i)
                    && !is_function_call(sql, tokens, i) =>
            {
                self.depth += 1
            }
            _ => {}
        }
    }
}

impl CompoundBlocks {
    /// Follows a CREATE PROCEDURE/FUNCTION head; true when token `i` is its body's first
    /// token and opens a block (a loop or IF: the block keywords count only where a
    /// statement starts, and no `;` comes before the body's first statement).
    fn body_starts(&mut self, sql: &str, tokens: &[Token], i: usize) -> bool {
        let t = tokens[i];
        match self.routine {
            RoutineHead::None => {
                if self.depth == 0
                    && (t.is_keyword(sql, "PROCEDURE") || t.is_keyword(sql, "FUNCTION"))
                    && previous_code(tokens, i).is_some_and(|p| !tokens[p].is_punct(sql, "."))
                {
                    self.routine = RoutineHead::Name;
                }
                false
            }
            RoutineHead::Name => {
                if t.is_punct(sql, "(") {
                    self.routine = RoutineHead::Params(1);
                }
                false
            }
            RoutineHead::Params(n) => {
                if t.is_punct(sql, "(") {
                    self.routine = RoutineHead::Params(n + 1);
                } else if t.is_punct(sql, ")") {
                    self.routine = if n <= 1 {
                        RoutineHead::Characteristics
                    } else {
                        RoutineHead::Params(n - 1)
                    };
                }
                false
            }
            RoutineHead::Characteristics => {
                let prev = previous_code(tokens, i).map(|p| tokens[p]);
                // The type after RETURNS, a charset or collation name, a comment, a
                // type's length: still the head.
                let named = prev.is_some_and(|p| {
                    ["RETURNS", "CHARSET", "COLLATE", "SET", "COMMENT"]
                        .iter()
                        .any(|k| p.is_keyword(sql, k))
                });
                // `CHARACTER SET` (a body's SET statement starts the body).
                let charset = t.is_keyword(sql, "SET")
                    && prev.is_some_and(|p| p.is_keyword(sql, "CHARACTER"));
                if named
                    || charset
                    || t.kind != TokenKind::Ident
                    || CHARACTERISTIC_WORDS.iter().any(|k| t.is_keyword(sql, k))
                {
                    if t.is_punct(sql, "(") {
                        // A type's length: `RETURNS VARCHAR(10)`.
                        self.routine = RoutineHead::Params(1);
                    }
                    return false;
                }
                self.routine = RoutineHead::None;
                let word = t.text(sql).to_ascii_uppercase();
                matches!(word.as_str(), "IF" | "LOOP" | "WHILE" | "REPEAT" | "FOR")
                    && !is_function_call(sql, tokens, i)
            }
        }
    }
}

/// True for a compound statement run at top level (`BEGIN NOT ATOMIC`, `IF`, a loop,
/// a labelled block) or a CREATE/ALTER of a routine, trigger, event or package.
pub fn is_compound_statement(sql: &str) -> bool {
    let tokens: Vec<Token> = Lexer::new(sql).collect();
    tokens
        .iter()
        .position(|t| t.kind.is_code())
        .is_some_and(|i| is_compound_head(sql, &tokens, i))
}

/// Index of the code token before `i`.
fn previous_code(tokens: &[Token], i: usize) -> Option<usize> {
    (0..i).rev().find(|&j| tokens[j].kind.is_code())
}

/// Index of the code token after `i`.
fn next_code(tokens: &[Token], i: usize) -> Option<usize> {
    (i + 1..tokens.len()).find(|&j| tokens[j].kind.is_code())
}

/// True when token `i` is where a statement of a compound body may start.
fn starts_statement(sql: &str, tokens: &[Token], i: usize) -> bool {
    let Some(p) = previous_code(tokens, i) else {
        return true;
    };
    let prev = tokens[p];
    if prev.is_punct(sql, ";") || prev.is_punct(sql, ":") {
        return true;
    }
    if prev.is_keyword(sql, "ROW") {
        // A trigger body: `FOR EACH ROW IF ... END IF`.
        return previous_code(tokens, p).is_some_and(|q| tokens[q].is_keyword(sql, "EACH"));
    }
    ["BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", "ATOMIC"]
        .iter()
        .any(|k| prev.is_keyword(sql, k))
}

/// True for `IF(...)` or `REPEAT(...)` used as a function inside an expression (the
/// parenthesis is not followed by `THEN` or an operator continuing a condition).
fn is_function_call(sql: &str, tokens: &[Token], i: usize) -> bool {
    let Some(open) = next_code(tokens, i).filter(|&j| tokens[j].is_punct(sql, "(")) else {
        return false;
    };
    let mut depth = 0usize;
    let mut close = None;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        if t.is_punct(sql, "(") {
            depth += 1;
        } else if t.is_punct(sql, ")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                close = Some(j);
                break;
            }
        }
    }
    let Some(close) = close else {
        return false;
    };
    next_code(tokens, close).is_none_or(|j| {
        let t = tokens[j];
        t.is_punct(sql, ",")
            || t.is_punct(sql, ")")
            || t.is_punct(sql, ";")
            || ["ELSE", "WHEN", "END", "AS", "FROM"]
                .iter()
                .any(|k| t.is_keyword(sql, k))
    })
}

/// True when the statement starting at code token `i` is compound: CREATE/ALTER of a
/// routine, trigger, event or package, `BEGIN NOT ATOMIC`, a labelled block or a
/// top-level `IF`, `CASE`, loop or `DECLARE`.
fn is_compound_head(sql: &str, tokens: &[Token], i: usize) -> bool {
    let t = tokens[i];
    let next = next_code(tokens, i).map(|j| tokens[j]);
    if t.kind.is_ident() && next.is_some_and(|n| n.is_punct(sql, ":")) {
        return true;
    }
    if t.kind != TokenKind::Ident {
        return false;
    }
    let word = t.text(sql).to_ascii_uppercase();
    match word.as_str() {
        "BEGIN" => next.is_some_and(|n| n.is_keyword(sql, "NOT")),
        "IF" | "CASE" | "LOOP" | "WHILE" | "REPEAT" | "FOR" => true,
        // `SET STATEMENT var = value, ... FOR <statement>` is compound when its
        // statement is.
        "SET" if next.is_some_and(|n| n.is_keyword(sql, "STATEMENT")) => {
            let mut parens = 0usize;
            let mut j = i;
            while let Some(k) = next_code(tokens, j) {
                let t = tokens[k];
                if t.is_punct(sql, "(") {
                    parens += 1;
                } else if t.is_punct(sql, ")") {
                    parens = parens.saturating_sub(1);
                } else if t.is_punct(sql, ";") {
                    return false;
                } else if parens == 0 && t.is_keyword(sql, "FOR") {
                    return next_code(tokens, k).is_some_and(|s| is_compound_head(sql, tokens, s));
                }
                j = k;
            }
            false
        }
        "CREATE" | "ALTER" => {
            for t in tokens[i..]
                .iter()
                .filter(|t| t.kind == TokenKind::Ident)
                .take(12)
            {
                let w = t.text(sql).to_ascii_uppercase();
                match w.as_str() {
                    "PROCEDURE" | "FUNCTION" | "TRIGGER" | "EVENT" | "PACKAGE" => return true,
                    "TABLE" | "VIEW" | "INDEX" | "DATABASE" | "SCHEMA" | "USER" | "ROLE"
                    | "SERVER" | "SEQUENCE" | "TABLESPACE" => return false,
                    _ => {}
                }
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let cases: &[(&str, &[&str])] = &[
            ("SELECT 1", &["SELECT 1"]),
            ("SELECT 1;", &["SELECT 1"]),
            ("  SELECT 1 ;\n SELECT 2;  ", &["SELECT 1", "SELECT 2"]),
            ("SELECT ';'; SELECT \";\"", &["SELECT ';'", "SELECT \";\""]),
            ("SELECT `a;b` FROM t", &["SELECT `a;b` FROM t"]),
            (
                "SELECT 1 /* ; */; SELECT 2 -- ;\n",
                &["SELECT 1 /* ; */", "SELECT 2 -- ;"],
            ),
            (
                "SELECT 'it\\';s'; SELECT 2",
                &["SELECT 'it\\';s'", "SELECT 2"],
            ),
            ("SELECT 1;;SELECT 2", &["SELECT 1", "", "SELECT 2"]),
            ("SELECT 1; -- done", &["SELECT 1"]),
            ("SELECT 1;;;", &["SELECT 1"]),
            ("", &[]),
            (" ; ", &[]),
            ("/*!strata:dnid=1*/", &["/*!strata:dnid=1*/"]),
            (
                "SELECT 'unterminated; SELECT 2",
                &["SELECT 'unterminated; SELECT 2"],
            ),
            (
                "SET autocommit=1; SET NAMES utf8mb4; SELECT @@version_comment LIMIT 1",
                &[
                    "SET autocommit=1",
                    "SET NAMES utf8mb4",
                    "SELECT @@version_comment LIMIT 1",
                ],
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(
                split_statements(sql),
                expected.to_vec(),
                "splitting {sql:?}"
            );
        }
    }

    #[test]
    fn keeps_compound_statements_whole() {
        let routine = "CREATE PROCEDURE p(x INT) BEGIN DECLARE i INT DEFAULT 0; \
            DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SET i = -1; END; \
            WHILE i < x DO SET i = i + 1; END WHILE; \
            IF i > 2 THEN SELECT IF(i > 3, 'a', 'b'); ELSEIF i = 1 THEN SELECT 1; ELSE SELECT 0; END IF; \
            lbl: LOOP LEAVE lbl; END LOOP lbl; \
            SELECT CASE WHEN i = 0 THEN 1 ELSE 2 END; \
            REPEAT SET i = i - 1; UNTIL i = 0 END REPEAT; \
            FOR j IN 1..3 DO SELECT j; END FOR; END";
        let with_next = format!("{routine}; CALL p(3); SELECT 2");
        assert_eq!(
            split_statements(&with_next),
            vec![routine, "CALL p(3)", "SELECT 2"]
        );
        let cases: &[(&str, &[&str])] = &[
            (
                "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
                &["BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"],
            ),
            ("BEGIN; SELECT 1; COMMIT", &["BEGIN", "SELECT 1", "COMMIT"]),
            (
                "SET STATEMENT sql_mode = '' FOR CREATE PROCEDURE p() BEGIN SET @a = 1; \
                 SELECT @a; END; SELECT 2",
                &[
                    "SET STATEMENT sql_mode = '' FOR CREATE PROCEDURE p() BEGIN SET @a = 1; \
                     SELECT @a; END",
                    "SELECT 2",
                ],
            ),
            (
                "SET STATEMENT max_statement_time = (1) FOR SELECT 1; SELECT 2",
                &["SET STATEMENT max_statement_time = (1) FOR SELECT 1", "SELECT 2"],
            ),
            (
                "IF 1 THEN SELECT 1; END IF; SELECT 2",
                &["IF 1 THEN SELECT 1; END IF", "SELECT 2"],
            ),
            (
                "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a > 1 THEN SET NEW.a = 1; END IF; INSERT INTO t VALUES (1)",
                &[
                    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a > 1 THEN SET NEW.a = 1; END IF",
                    "INSERT INTO t VALUES (1)",
                ],
            ),
            (
                "CREATE DEFINER=CURRENT_USER EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END; SELECT 1",
                &[
                    "CREATE DEFINER=CURRENT_USER EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END",
                    "SELECT 1",
                ],
            ),
            (
                "CREATE TABLE event (begin INT, `end` INT); SELECT IF(1, 2, 3); SELECT 4",
                &[
                    "CREATE TABLE event (begin INT, `end` INT)",
                    "SELECT IF(1, 2, 3)",
                    "SELECT 4",
                ],
            ),
            (
                "CREATE FUNCTION f() RETURNS INT RETURN 1; SELECT f()",
                &["CREATE FUNCTION f() RETURNS INT RETURN 1", "SELECT f()"],
            ),
            (
                "CREATE PROCEDURE p1() FOR i IN 1..10 DO set @x = 5; END FOR; CALL p1",
                &[
                    "CREATE PROCEDURE p1() FOR i IN 1..10 DO set @x = 5; END FOR",
                    "CALL p1",
                ],
            ),
            (
                "CREATE DEFINER=root@localhost FUNCTION test.f1() RETURNS VARCHAR(10) \
                 CHARACTER SET latin1 DETERMINISTIC COMMENT 'c' FOR i IN 1..10 DO \
                 RETURN 1; END FOR; SELECT f1()",
                &[
                    "CREATE DEFINER=root@localhost FUNCTION test.f1() RETURNS VARCHAR(10) \
                     CHARACTER SET latin1 DETERMINISTIC COMMENT 'c' FOR i IN 1..10 DO \
                     RETURN 1; END FOR",
                    "SELECT f1()",
                ],
            ),
            (
                "CREATE PROCEDURE p(a INT) MODIFIES SQL DATA WHILE a > 0 DO SET a = a - 1; \
                 END WHILE; CREATE PROCEDURE q() IF (1) THEN SELECT 1; END IF; SELECT 2",
                &[
                    "CREATE PROCEDURE p(a INT) MODIFIES SQL DATA WHILE a > 0 DO SET a = a - 1; \
                     END WHILE",
                    "CREATE PROCEDURE q() IF (1) THEN SELECT 1; END IF",
                    "SELECT 2",
                ],
            ),
            (
                "CREATE PROCEDURE p() SELECT IF(1, 2, 3) + 1; CREATE PROCEDURE q() \
                 SELECT * FROM t FOR UPDATE; SELECT 2",
                &[
                    "CREATE PROCEDURE p() SELECT IF(1, 2, 3) + 1",
                    "CREATE PROCEDURE q() SELECT * FROM t FOR UPDATE",
                    "SELECT 2",
                ],
            ),
            (
                "DROP PROCEDURE IF EXISTS p; SELECT 1",
                &["DROP PROCEDURE IF EXISTS p", "SELECT 1"],
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(
                split_statements(sql),
                expected.to_vec(),
                "splitting {sql:?}"
            );
        }
    }
}
