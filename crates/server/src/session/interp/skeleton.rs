//! The control-flow skeleton of a procedure body the compute node interprets: blocks,
//! declarations, handlers, IF/CASE/loops, LEAVE/ITERATE; every other statement is kept
//! as its text (MariaDB evaluates all expressions). What the interpreter cannot run
//! (cursors, named conditions, RETURN, ...) is an error naming the construct, given at
//! CALL time.

use strata_sql::{code_tokens, Token, TokenKind};

/// One statement of an interpreted body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stmt {
    /// `[label:] BEGIN [NOT ATOMIC] decls; handlers; statements END [label]`.
    Block(Block),
    /// `IF c THEN ... [ELSEIF c THEN ...] [ELSE ...] END IF`; CASE without an operand
    /// too (`WHEN c THEN`), CASE with one as `operand = value` conditions.
    If {
        /// Condition and statements of each arm, in order.
        arms: Vec<(String, Vec<Stmt>)>,
        /// The ELSE statements (None: no ELSE).
        otherwise: Option<Vec<Stmt>>,
        /// A CASE statement without ELSE raises 1339 when no arm matches.
        case: bool,
    },
    /// `WHILE c DO ... END WHILE`, `REPEAT ... UNTIL c END REPEAT`, `LOOP ... END LOOP`.
    Loop {
        /// The loop's label.
        label: Option<String>,
        /// Checked before each round (WHILE).
        before: Option<String>,
        /// Checked after each round: the loop ends when it is true (REPEAT).
        until: Option<String>,
        /// The loop's statements.
        body: Vec<Stmt>,
    },
    /// `LEAVE label`.
    Leave(String),
    /// `ITERATE label`.
    Iterate(String),
    /// `OPEN cursor`.
    Open(String),
    /// `FETCH [[NEXT] FROM] cursor INTO a, b`.
    Fetch {
        /// The cursor.
        cursor: String,
        /// The locals assigned.
        targets: Vec<String>,
    },
    /// `CLOSE cursor`.
    Close(String),
    /// `FOR var IN ... DO ... END FOR`.
    For {
        /// The loop's label.
        label: Option<String>,
        /// The index or record variable, lowercased.
        var: String,
        /// What it runs over.
        over: ForOver,
        /// The loop's statements.
        body: Vec<Stmt>,
    },
    /// `RESIGNAL` without a condition or SET (the handler's condition, raised again).
    Resignal,
    /// Any other statement, as written.
    Sql(String),
}

/// What a FOR loop runs over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ForOver {
    /// `[REVERSE] lower .. upper`: a BIGINT index.
    Range {
        /// The lower bound's expression.
        lower: String,
        /// The upper bound's expression.
        upper: String,
        /// Counts down from the upper bound.
        reverse: bool,
    },
    /// `(SELECT ...)`: a record per row.
    Rows(String),
    /// A cursor declared in an enclosing block: a record per row.
    Cursor(String),
}

/// A BEGIN ... END block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// Its label.
    pub label: Option<String>,
    /// Its local variables, in declaration order.
    pub vars: Vec<VarDecl>,
    /// Its handlers.
    pub handlers: Vec<Handler>,
    /// Its cursors: name and SELECT.
    pub cursors: Vec<(String, String)>,
    /// Its statements.
    pub body: Vec<Stmt>,
}

/// `DECLARE a, b type [DEFAULT expr]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarDecl {
    /// The names declared.
    pub names: Vec<String>,
    /// The type as written.
    pub ty: String,
    /// The DEFAULT expression.
    pub default: Option<String>,
}

/// `DECLARE CONTINUE|EXIT HANDLER FOR conditions statement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handler {
    /// EXIT leaves the block declaring it; CONTINUE goes on after the failed statement.
    pub exit: bool,
    /// The conditions it handles.
    pub conditions: Vec<Condition>,
    /// What runs.
    pub body: Box<Stmt>,
}

/// A condition a handler names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    /// A MariaDB error number.
    Code(u16),
    /// `SQLSTATE [VALUE] 'xxxxx'`.
    State(String),
    /// `SQLEXCEPTION`: every error.
    Exception,
    /// `NOT FOUND`: no row for SELECT ... INTO.
    NotFound,
}

/// Why a body cannot be interpreted: the construct, for 1235.
pub(crate) type Unsupported = String;

/// Parses a procedure body (`BEGIN ... END` or a single statement).
pub(crate) fn parse_body(body: &str) -> Result<Vec<Stmt>, Unsupported> {
    let toks: Vec<Token> = code_tokens(body).collect();
    let mut p = Parser {
        src: body,
        toks,
        at: 0,
        named: Vec::new(),
    };
    let list = p.list(&[])?;
    if p.at < p.toks.len() {
        return Err(format!("'{}' in a procedure body", p.word(p.at)));
    }
    Ok(list)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    at: usize,
    /// The named conditions of the enclosing blocks, innermost last.
    named: Vec<(String, Condition)>,
}

impl Parser<'_> {
    fn word(&self, i: usize) -> String {
        self.toks
            .get(i)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(self.src).to_ascii_uppercase())
            .unwrap_or_default()
    }

    fn is(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_keyword(self.src, kw))
    }

    fn punct(&self, i: usize, p: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_punct(self.src, p))
    }

    fn expect(&mut self, kw: &str) -> Result<(), Unsupported> {
        if self.is(self.at, kw) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "a procedure body this parser does not read (expected {kw})"
            ))
        }
    }

    /// The text of tokens `from..to`.
    fn text(&self, from: usize, to: usize) -> String {
        match (
            self.toks.get(from),
            to.checked_sub(1).and_then(|l| self.toks.get(l)),
        ) {
            (Some(a), Some(b)) if to > from => self
                .src
                .get(a.span.start..b.span.end)
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        }
    }

    /// The index of the first token at or after `self.at`, outside parentheses and
    /// CASE ... END expressions, that is one of `stops` (or `;`); the end when none.
    fn scan(&self, stops: &[&str]) -> usize {
        let mut depth = 0usize;
        let mut cases = 0usize;
        let mut i = self.at;
        while i < self.toks.len() {
            let t = self.toks[i];
            if t.is_punct(self.src, "(") {
                depth += 1;
            } else if t.is_punct(self.src, ")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is_punct(self.src, ";") {
                return i;
            } else if depth == 0 && t.is_keyword(self.src, "CASE") {
                cases += 1;
            } else if depth == 0 && cases > 0 && t.is_keyword(self.src, "END") {
                cases -= 1;
            } else if depth == 0 && cases == 0 && stops.iter().any(|s| t.is_keyword(self.src, s)) {
                return i;
            }
            i += 1;
        }
        i
    }

    /// Statements up to one of `ends` at a statement's start (or the end of the text).
    fn list(&mut self, ends: &[&str]) -> Result<Vec<Stmt>, Unsupported> {
        let mut out = Vec::new();
        while self.at < self.toks.len() {
            if ends.iter().any(|e| self.is(self.at, e)) {
                break;
            }
            if self.punct(self.at, ";") {
                self.at += 1;
                continue;
            }
            out.push(self.statement()?);
            if self.punct(self.at, ";") {
                self.at += 1;
            } else if self.at < self.toks.len() && !ends.iter().any(|e| self.is(self.at, e)) {
                return Err(format!("'{}' in a procedure body", self.word(self.at)));
            }
        }
        Ok(out)
    }

    fn label_end(&mut self, label: &Option<String>) {
        if let Some(l) = label {
            if self
                .toks
                .get(self.at)
                .is_some_and(|t| t.kind.is_ident() && ident(t.text(self.src)) == *l)
            {
                self.at += 1;
            }
        }
    }

    fn statement(&mut self) -> Result<Stmt, Unsupported> {
        let mut label = None;
        if self.toks.get(self.at).is_some_and(|t| t.kind.is_ident()) && self.punct(self.at + 1, ":")
        {
            label = Some(ident(self.toks[self.at].text(self.src)));
            self.at += 2;
        }
        let first = self.word(self.at);
        match first.as_str() {
            "BEGIN" if !self.is(self.at + 1, "WORK") => self.block(label).map(Stmt::Block),
            "IF" => {
                self.at += 1;
                let mut arms = Vec::new();
                let mut otherwise = None;
                loop {
                    let end = self.scan(&["THEN"]);
                    let cond = self.text(self.at, end);
                    self.at = end;
                    self.expect("THEN")?;
                    let body = self.list(&["ELSEIF", "ELSE", "END"])?;
                    arms.push((cond, body));
                    if self.is(self.at, "ELSEIF") {
                        self.at += 1;
                        continue;
                    }
                    if self.is(self.at, "ELSE") {
                        self.at += 1;
                        otherwise = Some(self.list(&["END"])?);
                    }
                    break;
                }
                self.expect("END")?;
                self.expect("IF")?;
                Ok(Stmt::If {
                    arms,
                    otherwise,
                    case: false,
                })
            }
            "CASE" => {
                self.at += 1;
                let operand = if self.is(self.at, "WHEN") {
                    None
                } else {
                    let end = self.scan(&["WHEN"]);
                    let o = self.text(self.at, end);
                    self.at = end;
                    Some(o)
                };
                let mut arms = Vec::new();
                let mut otherwise = None;
                while self.is(self.at, "WHEN") {
                    self.at += 1;
                    let end = self.scan(&["THEN"]);
                    let value = self.text(self.at, end);
                    self.at = end;
                    self.expect("THEN")?;
                    let cond = match &operand {
                        Some(o) => format!("({o}) = ({value})"),
                        None => value,
                    };
                    arms.push((cond, self.list(&["WHEN", "ELSE", "END"])?));
                }
                if self.is(self.at, "ELSE") {
                    self.at += 1;
                    otherwise = Some(self.list(&["END"])?);
                }
                self.expect("END")?;
                self.expect("CASE")?;
                Ok(Stmt::If {
                    arms,
                    otherwise,
                    case: true,
                })
            }
            "WHILE" => {
                self.at += 1;
                let end = self.scan(&["DO"]);
                let cond = self.text(self.at, end);
                self.at = end;
                self.expect("DO")?;
                let body = self.list(&["END"])?;
                self.expect("END")?;
                self.expect("WHILE")?;
                self.label_end(&label);
                Ok(Stmt::Loop {
                    label,
                    before: Some(cond),
                    until: None,
                    body,
                })
            }
            "REPEAT" => {
                self.at += 1;
                let body = self.list(&["UNTIL"])?;
                self.expect("UNTIL")?;
                let end = self.scan(&["END"]);
                let cond = self.text(self.at, end);
                self.at = end;
                self.expect("END")?;
                self.expect("REPEAT")?;
                self.label_end(&label);
                Ok(Stmt::Loop {
                    label,
                    before: None,
                    until: Some(cond),
                    body,
                })
            }
            "LOOP" => {
                self.at += 1;
                let body = self.list(&["END"])?;
                self.expect("END")?;
                self.expect("LOOP")?;
                self.label_end(&label);
                Ok(Stmt::Loop {
                    label,
                    before: None,
                    until: None,
                    body,
                })
            }
            "LEAVE" | "ITERATE" => {
                let target = self
                    .toks
                    .get(self.at + 1)
                    .filter(|t| t.kind.is_ident())
                    .map(|t| ident(t.text(self.src)))
                    .ok_or_else(|| format!("{first} without a label"))?;
                self.at += 2;
                Ok(if first == "LEAVE" {
                    Stmt::Leave(target)
                } else {
                    Stmt::Iterate(target)
                })
            }
            "FOR" => self.for_loop(label),
            "DECLARE" => Err("DECLARE after a block's first statement".into()),
            "RETURN" => Err("RETURN in a procedure".into()),
            "OPEN" | "CLOSE" => {
                let name = self.name_at(self.at + 1)?;
                self.at += 2;
                Ok(if first == "OPEN" {
                    Stmt::Open(name)
                } else {
                    Stmt::Close(name)
                })
            }
            "FETCH" => {
                self.at += 1;
                if self.is(self.at, "NEXT") {
                    self.at += 1;
                }
                if self.is(self.at, "FROM") {
                    self.at += 1;
                }
                let cursor = self.name_at(self.at)?;
                self.at += 1;
                self.expect("INTO")?;
                let mut targets = vec![self.name_at(self.at)?];
                self.at += 1;
                while self.punct(self.at, ",") {
                    targets.push(self.name_at(self.at + 1)?);
                    self.at += 2;
                }
                Ok(Stmt::Fetch { cursor, targets })
            }
            "RESIGNAL" if self.punct(self.at + 1, ";") || self.at + 1 >= self.toks.len() => {
                self.at += 1;
                Ok(Stmt::Resignal)
            }
            "RESIGNAL" => {
                Err("RESIGNAL with a condition or SET in an interpreted procedure".into())
            }
            "SIGNAL" if self.named_at(self.at + 1).is_some() => {
                let state = match self.named_at(self.at + 1) {
                    Some(Condition::State(s)) => s.clone(),
                    _ => return Err("SIGNAL of a condition declared for an error number".into()),
                };
                let end = self.scan(&[]);
                let rest = self.text(self.at + 2, end);
                self.at = end;
                Ok(Stmt::Sql(format!("SIGNAL SQLSTATE '{state}' {rest}")))
            }
            _ if label.is_some() => Err("a label on a statement other than a block or loop".into()),
            _ => {
                let end = self.scan(&[]);
                let text = self.text(self.at, end);
                self.at = end;
                Ok(Stmt::Sql(text))
            }
        }
    }

    /// `FOR var IN [REVERSE] a .. b | (SELECT ...) | cursor DO ... END FOR [label]`.
    fn for_loop(&mut self, label: Option<String>) -> Result<Stmt, Unsupported> {
        let var = self.name_at(self.at + 1)?;
        self.at += 2;
        self.expect("IN")?;
        let end = self.scan(&["DO"]);
        let over = if self.punct(self.at, "(") && end > self.at + 1 {
            let inner = self.text(self.at + 1, end - 1);
            if !self.punct(end - 1, ")") {
                return Err("a FOR loop this parser does not read".into());
            }
            ForOver::Rows(inner)
        } else if end == self.at + 1 && !self.is(self.at, "REVERSE") {
            ForOver::Cursor(self.name_at(self.at)?)
        } else {
            let reverse = self.is(self.at, "REVERSE");
            let from = self.at + usize::from(reverse);
            let text = self.text(from, end);
            let (lower, upper) =
                range_bounds(&text).ok_or("a FOR loop this parser does not read")?;
            ForOver::Range {
                lower,
                upper,
                reverse,
            }
        };
        self.at = end;
        self.expect("DO")?;
        let body = self.list(&["END"])?;
        self.expect("END")?;
        self.expect("FOR")?;
        self.label_end(&label);
        Ok(Stmt::For {
            label,
            var,
            over,
            body,
        })
    }

    /// The named condition token `i` names, if it is one.
    fn named_at(&self, i: usize) -> Option<&Condition> {
        let t = self.toks.get(i).filter(|t| t.kind.is_ident())?;
        let n = ident(t.text(self.src));
        self.named
            .iter()
            .rev()
            .find(|(name, _)| *name == n)
            .map(|(_, c)| c)
    }

    fn name_at(&self, i: usize) -> Result<String, Unsupported> {
        self.toks
            .get(i)
            .filter(|t| t.kind.is_ident())
            .map(|t| ident(t.text(self.src)))
            .ok_or_else(|| "a cursor statement this parser does not read".to_string())
    }

    fn block(&mut self, label: Option<String>) -> Result<Block, Unsupported> {
        self.expect("BEGIN")?;
        if self.is(self.at, "NOT") && self.is(self.at + 1, "ATOMIC") {
            self.at += 2;
        }
        let mut vars = Vec::new();
        let mut handlers = Vec::new();
        let mut cursors = Vec::new();
        let outer_named = self.named.len();
        while self.is(self.at, "DECLARE") {
            self.at += 1;
            match self.word(self.at).as_str() {
                "CONTINUE" | "EXIT" | "UNDO" if self.is(self.at + 1, "HANDLER") => {
                    let exit = match self.word(self.at).as_str() {
                        "CONTINUE" => false,
                        "EXIT" => true,
                        _ => return Err("UNDO HANDLER".into()),
                    };
                    self.at += 2;
                    self.expect("FOR")?;
                    let conditions = self.conditions()?;
                    let body = Box::new(self.statement()?);
                    handlers.push(Handler {
                        exit,
                        conditions,
                        body,
                    });
                }
                _ => {
                    let mut names = Vec::new();
                    loop {
                        let t = self
                            .toks
                            .get(self.at)
                            .filter(|t| t.kind.is_ident())
                            .ok_or("a DECLARE this parser does not read")?;
                        names.push(ident(t.text(self.src)));
                        self.at += 1;
                        if self.punct(self.at, ",") {
                            self.at += 1;
                        } else {
                            break;
                        }
                    }
                    if self.is(self.at, "CONDITION") && self.is(self.at + 1, "FOR") {
                        self.at += 2;
                        let [name] = names.as_slice() else {
                            return Err("a DECLARE this parser does not read".into());
                        };
                        let condition = match self.conditions()?.as_slice() {
                            [c @ (Condition::Code(_) | Condition::State(_))] => c.clone(),
                            _ => return Err("a DECLARE this parser does not read".into()),
                        };
                        self.named.push((name.clone(), condition));
                        if !self.punct(self.at, ";") {
                            return Err("a DECLARE this parser does not read".into());
                        }
                        self.at += 1;
                        continue;
                    }
                    if self.is(self.at, "CURSOR") {
                        if names.len() != 1 || !self.is(self.at + 1, "FOR") {
                            return Err(
                                "cursors with parameters in an interpreted procedure".into()
                            );
                        }
                        self.at += 2;
                        let end = self.scan(&[]);
                        cursors.push((names.remove(0), self.text(self.at, end)));
                        self.at = end;
                        if !self.punct(self.at, ";") {
                            return Err("a DECLARE this parser does not read".into());
                        }
                        self.at += 1;
                        continue;
                    }
                    let end = self.scan(&["DEFAULT"]);
                    let ty = self.text(self.at, end);
                    let upper = ty.to_ascii_uppercase();
                    if upper.starts_with("ROW") || upper.contains("TYPE OF") {
                        return Err("ROW and TYPE OF variables in an interpreted procedure".into());
                    }
                    self.at = end;
                    let mut default = None;
                    if self.is(self.at, "DEFAULT") {
                        self.at += 1;
                        let end = self.scan(&[]);
                        default = Some(self.text(self.at, end));
                        self.at = end;
                    }
                    vars.push(VarDecl { names, ty, default });
                }
            }
            if !self.punct(self.at, ";") {
                return Err("a DECLARE this parser does not read".into());
            }
            self.at += 1;
        }
        let body = self.list(&["END"])?;
        self.named.truncate(outer_named);
        self.expect("END")?;
        self.label_end(&label);
        Ok(Block {
            label,
            vars,
            handlers,
            cursors,
            body,
        })
    }

    fn conditions(&mut self) -> Result<Vec<Condition>, Unsupported> {
        let mut out = Vec::new();
        loop {
            let t = self
                .toks
                .get(self.at)
                .copied()
                .ok_or("a handler without a condition")?;
            let w = self.word(self.at);
            if t.kind == TokenKind::Integer {
                let code = t
                    .text(self.src)
                    .parse()
                    .map_err(|_| "a handler's error number")?;
                out.push(Condition::Code(code));
                self.at += 1;
            } else if w == "SQLSTATE" {
                self.at += 1;
                if self.is(self.at, "VALUE") {
                    self.at += 1;
                }
                let s = self
                    .toks
                    .get(self.at)
                    .filter(|t| t.kind == TokenKind::String)
                    .map(|t| strata_sql::lexer::string_value(t.text(self.src)).into_owned())
                    .ok_or("a handler's SQLSTATE")?;
                out.push(Condition::State(s));
                self.at += 1;
            } else if w == "SQLEXCEPTION" {
                out.push(Condition::Exception);
                self.at += 1;
            } else if w == "NOT" && self.is(self.at + 1, "FOUND") {
                out.push(Condition::NotFound);
                self.at += 2;
            } else if w == "SQLWARNING" {
                return Err("SQLWARNING handlers in an interpreted procedure".into());
            } else if let Some((_, c)) = t
                .kind
                .is_ident()
                .then(|| ident(t.text(self.src)))
                .and_then(|n| self.named.iter().rev().find(|(name, _)| *name == n))
            {
                out.push(c.clone());
                self.at += 1;
            } else {
                return Err("a handler's condition this parser does not read".into());
            }
            if self.punct(self.at, ",") {
                self.at += 1;
            } else {
                return Ok(out);
            }
        }
    }
}

/// The bounds of `lower .. upper` (the `..` outside string literals and parentheses).
fn range_bounds(text: &str) -> Option<(String, String)> {
    let mut depth = 0usize;
    let mut at = None;
    for t in code_tokens(text) {
        let s = t.text(text);
        if t.kind == TokenKind::String {
            continue;
        }
        if t.is_punct(text, "(") {
            depth += 1;
        } else if t.is_punct(text, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            // `1..64` reads as the numbers `1.` and `.64`.
            if let Some(i) = s.find("..") {
                at = Some(t.span.start + i);
            } else if s.ends_with('.') && text.get(t.span.end..)?.starts_with('.') {
                at = Some(t.span.end - 1);
            }
            if at.is_some() {
                break;
            }
        }
    }
    let at = at?;
    let lower = text.get(..at)?.trim();
    let upper = text.get(at + 2..)?.trim();
    (!lower.is_empty() && !upper.is_empty()).then(|| (lower.to_string(), upper.to_string()))
}

/// An identifier's name (backquotes removed), lowercased: local names compare so.
pub(crate) fn ident(text: &str) -> String {
    strata_sql::lexer::ident_value(text).to_lowercase()
}

/// True when `sql` names one of `locals` (lowercased) as an identifier not after a `.`
/// or `AS` (an alias): the statement must run where the variables are declared (an
/// over-approximation: a column of that name reads the variable in a routine too).
pub(crate) fn mentions(sql: &str, locals: &[&str]) -> bool {
    if locals.is_empty() {
        return false;
    }
    let toks: Vec<Token> = code_tokens(sql).collect();
    toks.iter().enumerate().any(|(i, t)| {
        t.kind.is_ident()
            && !(i > 0 && (toks[i - 1].is_punct(sql, ".") || toks[i - 1].is_keyword(sql, "AS")))
            && locals.contains(&ident(t.text(sql)).as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_parses_into_its_skeleton() {
        let body = "BEGIN
  DECLARE q TEXT DEFAULT 'SELECT 1';
  DECLARE CONTINUE HANDLER FOR 1064, SQLSTATE '42S02' BEGIN SET q = NULL; END;
  IF (x <> '') THEN SET q = REPLACE(q, '1', x); ELSEIF CASE WHEN 1 THEN 0 END THEN SELECT 2; ELSE SELECT 3; END IF;
  l: WHILE n > 0 DO SET n = n - 1; IF n = 2 THEN LEAVE l; END IF; END WHILE l;
  EXECUTE IMMEDIATE q;
END";
        let list = parse_body(body).expect("parses");
        let [Stmt::Block(b)] = list.as_slice() else {
            panic!("{list:?}")
        };
        assert_eq!(b.vars[0].names, ["q"]);
        assert_eq!(b.vars[0].ty, "TEXT");
        assert_eq!(b.vars[0].default.as_deref(), Some("'SELECT 1'"));
        assert_eq!(
            b.handlers[0].conditions,
            [Condition::Code(1064), Condition::State("42S02".into())]
        );
        assert_eq!(b.body.len(), 3);
        assert_eq!(b.body[2], Stmt::Sql("EXECUTE IMMEDIATE q".into()));
        let Stmt::If { arms, .. } = &b.body[0] else {
            panic!()
        };
        assert_eq!(arms[1].0, "CASE WHEN 1 THEN 0 END");
        assert_eq!(
            parse_body("EXECUTE s").expect("one"),
            [Stmt::Sql("EXECUTE s".into())]
        );
        let list = parse_body(
            "BEGIN DECLARE v INT; DECLARE c CURSOR FOR SELECT a FROM t; OPEN c; FETCH c INTO v; CLOSE c; END",
        )
        .expect("cursor");
        let [Stmt::Block(b)] = list.as_slice() else {
            panic!("{list:?}")
        };
        assert_eq!(
            b.cursors,
            [("c".to_string(), "SELECT a FROM t".to_string())]
        );
        assert_eq!(
            b.body[1],
            Stmt::Fetch {
                cursor: "c".into(),
                targets: vec!["v".into()]
            }
        );
        assert!(parse_body("BEGIN DECLARE c CURSOR (a INT) FOR SELECT a; END").is_err());
    }

    #[test]
    fn mentions_finds_locals_but_not_qualified_names() {
        assert!(mentions("SELECT q AS ``", &["q"]));
        assert!(!mentions("SELECT t.q FROM t", &["q"]));
        assert!(mentions("SELECT `Q`", &["q"]));
        assert!(!mentions("SELECT 'q'", &["q"]));
    }
}
