//! Values the compute node computes once so that several data nodes agree: the time
//! functions (NOW(), CURRENT_TIMESTAMP, CURDATE(), UTC_TIMESTAMP(), UNIX_TIMESTAMP(), ...)
//! become typed literals of the statement's time (`TIMESTAMP'2024-05-01 10:00:00'`), and
//! in INSERT rows RAND(), UUID() and UUID_SHORT() become literals of fresh values (each
//! call in a VALUES row is evaluated once, so this is exact). Used for writes to global
//! tables (copies must stay identical) and for statements that run on several nodes
//! (clocks differ).
//!
//! Local times (NOW(), CURDATE(), CURTIME(), SYSDATE()) are the session's: from a fixed
//! offset, or as the home data node gave them ([`LocalTime`]); without either the
//! statement asks for them ([`PlanError::NeedsLocalTime`]). SYSDATE() is the clock, not
//! the session's `timestamp`, as in MariaDB.
//!
//! Both forms of a statement are handled: parsed statements (rewritten and printed) and
//! original text (calls replaced token by token, everything else byte-identical).

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, VisitMut,
};
use strata_catalog::sharding::KeyLiteral;
use strata_sql::{Lexer, Token, TokenKind};

use crate::context::{DateTime, LocalTime, PlanContext, Random};
use crate::error::PlanError;
use crate::exprs::{function_name, raw};
use crate::literal::{expr_literal, quote_string};

/// Functions whose value depends on the time.
const TIME_FUNCTIONS: &[&str] = &[
    "NOW",
    "CURRENT_TIMESTAMP",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "SYSDATE",
    "CURDATE",
    "CURRENT_DATE",
    "CURTIME",
    "CURRENT_TIME",
    "UTC_TIMESTAMP",
    "UTC_DATE",
    "UTC_TIME",
    "UNIX_TIMESTAMP",
];

/// Functions that give a new random value at each call.
const RANDOM_FUNCTIONS: &[&str] = &["RAND", "UUID", "UUID_SHORT"];

/// Names usable without parentheses (reserved words in MySQL).
const BARE_NAMES: &[&str] = &[
    "CURRENT_TIMESTAMP",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "UTC_TIMESTAMP",
    "UTC_DATE",
    "UTC_TIME",
];

/// Which local time a function reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// The statement's instant as a DATETIME (NOW()): MariaDB stores it into a
    /// TIMESTAMP column as the instant, the literal through its text.
    Instant,
    /// The statement's date or time of day (CURDATE(), CURTIME()): text only.
    Wall,
    /// The clock at the call (SYSDATE()), stored through its text in MariaDB too.
    Clock,
}

/// What to do with random functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RandomCalls {
    /// Replace each call by a fresh value (INSERT rows).
    Replace,
    /// Leave them (each node evaluates them per row, which is their meaning).
    Keep,
    /// Refuse the statement (per-row values on several copies would differ).
    Refuse,
}

/// `sql` run under the statement's time as the session's `timestamp` (`SET STATEMENT
/// timestamp = ... FOR sql`), so every copy of a global table computes the same
/// `DEFAULT CURRENT_TIMESTAMP(n)`, implicit first-TIMESTAMP default and `ON UPDATE
/// CURRENT_TIMESTAMP(n)` value, at the column's own precision and only for rows MariaDB
/// itself changes. Unchanged when the statement time is unknown (0: plan checks).
pub(crate) fn pin_timestamp(ctx: &PlanContext<'_>, sql: String) -> String {
    let micros = ctx.now_micros;
    if micros <= 0 {
        return sql;
    }
    format!(
        "SET STATEMENT timestamp = {}.{:06} FOR {sql}",
        micros / 1_000_000,
        micros % 1_000_000
    )
}

/// Computes the literals.
pub(crate) struct Fixer<'c> {
    ctx: &'c PlanContext<'c>,
    rng: &'c Random,
}

impl<'c> Fixer<'c> {
    /// A fixer over the context's clock and the given generator.
    pub(crate) fn new(ctx: &'c PlanContext<'c>, rng: &'c Random) -> Fixer<'c> {
        Fixer { ctx, rng }
    }

    /// The literal text replacing a call of `name` (upper-case) with `args` (a literal
    /// fractional-seconds precision, or a seed), or None to keep the call.
    fn literal(
        &self,
        name: &str,
        arg: Option<Option<u32>>,
        random: RandomCalls,
    ) -> Result<Option<String>, PlanError> {
        let fsp = match arg {
            None => 0,
            Some(Some(f)) if f <= 6 => f,
            // A non-literal argument: leave the call alone.
            Some(_) => return Ok(None),
        };
        let utc = DateTime::from_unix_micros(self.ctx.now_micros, 0);
        let text = match name {
            "NOW" | "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" => {
                let local = self.local(name, Reading::Instant)?;
                format!("TIMESTAMP'{} {}'", local.date_text(), local.time_text(fsp))
            }
            // The clock at the call, not the session's `timestamp` (as in MariaDB).
            "SYSDATE" => {
                let local = self.local(name, Reading::Clock)?;
                format!("TIMESTAMP'{} {}'", local.date_text(), local.time_text(fsp))
            }
            "CURDATE" | "CURRENT_DATE" => {
                format!("DATE'{}'", self.local(name, Reading::Wall)?.date_text())
            }
            "CURTIME" | "CURRENT_TIME" => {
                format!("TIME'{}'", self.local(name, Reading::Wall)?.time_text(fsp))
            }
            "UTC_TIMESTAMP" => format!("TIMESTAMP'{} {}'", utc.date_text(), utc.time_text(fsp)),
            "UTC_DATE" => format!("DATE'{}'", utc.date_text()),
            "UTC_TIME" => format!("TIME'{}'", utc.time_text(fsp)),
            "UNIX_TIMESTAMP" if arg.is_none() => {
                self.ctx.now_micros.div_euclid(1_000_000).to_string()
            }
            "RAND" | "UUID" | "UUID_SHORT" if arg.is_none() => match random {
                RandomCalls::Keep => return Ok(None),
                RandomCalls::Refuse => {
                    return Err(PlanError::unsupported(format!(
                        "{name}() in a statement writing several copies of a global table"
                    )))
                }
                RandomCalls::Replace => match name {
                    "RAND" => format!("{:.17}", self.rng.next_f64()),
                    "UUID" => quote_string(&self.rng.uuid()),
                    _ => (self.rng.next_u64() >> 1).to_string(),
                },
            },
            _ => return Ok(None),
        };
        Ok(Some(text))
    }

    /// The session's local time as `reading` needs it; refused, and asked for, while it
    /// is not known.
    fn local(&self, name: &str, reading: Reading) -> Result<DateTime, PlanError> {
        let sysdate = reading == Reading::Clock;
        match self.ctx.local_time {
            LocalTime::Offset(offset) => {
                let micros = if sysdate {
                    self.ctx.sysdate_micros
                } else {
                    self.ctx.now_micros
                };
                Ok(DateTime::from_unix_micros(micros, offset))
            }
            LocalTime::Fetched {
                sysdate: at,
                ..
            } if sysdate => Ok(at),
            LocalTime::Fetched { now, now_exact, .. } if now_exact || reading == Reading::Wall => {
                Ok(now)
            }
            // A refusal the planner may plan around (a read runs on one node over copies
            // of its tables, which evaluates NOW() itself).
            LocalTime::Fetched { .. } => Err(PlanError::unsupported(format!(
                "{name}() over several data nodes in the hour repeated when daylight saving time ends"
            ))),
            LocalTime::Unknown => {
                if let Some(wants) = self.ctx.wants_local_time {
                    wants.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Err(PlanError::NeedsLocalTime(format!(
                    "{name}() over several data nodes under a time zone that is not a fixed offset, without the data node's local time"
                )))
            }
        }
    }

    /// Replaces the calls in a parsed statement; returns whether anything changed.
    pub(crate) fn fix_ast<V: VisitMut>(
        &self,
        node: &mut V,
        random: RandomCalls,
    ) -> Result<bool, PlanError> {
        let mut changed = false;
        let mut error = None;
        let _ = visit_expressions_mut(node, |e| {
            let replacement = match e {
                Expr::Function(f) if f.over.is_none() => {
                    let name = function_name(f);
                    if !TIME_FUNCTIONS.contains(&name.as_str())
                        && !RANDOM_FUNCTIONS.contains(&name.as_str())
                    {
                        return ControlFlow::Continue(());
                    }
                    let arg = match &f.args {
                        FunctionArguments::None => None,
                        FunctionArguments::List(l) if l.args.is_empty() => None,
                        FunctionArguments::List(l) if l.args.len() == 1 => match &l.args[0] {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(a)) => {
                                Some(match expr_literal(a) {
                                    Some(KeyLiteral::Integer(s)) => s.parse().ok(),
                                    _ => None,
                                })
                            }
                            _ => Some(None),
                        },
                        _ => Some(None),
                    };
                    self.literal(&name, arg, random)
                }
                Expr::Identifier(id)
                    if id.quote_style.is_none()
                        && ["UTC_TIMESTAMP", "UTC_DATE", "UTC_TIME"]
                            .iter()
                            .any(|n| id.value.eq_ignore_ascii_case(n)) =>
                {
                    self.literal(&id.value.to_ascii_uppercase(), None, random)
                }
                _ => Ok(None),
            };
            match replacement {
                Ok(Some(text)) => {
                    *e = raw(text);
                    changed = true;
                    ControlFlow::Continue(())
                }
                Ok(None) => ControlFlow::Continue(()),
                Err(err) => {
                    error = Some(err);
                    ControlFlow::Break(())
                }
            }
        });
        match error {
            Some(e) => Err(e),
            None => Ok(changed),
        }
    }

    /// Replaces the calls in statement text, token by token.
    pub(crate) fn fix_text(
        &self,
        sql: &str,
        random: RandomCalls,
    ) -> Result<Option<String>, PlanError> {
        let tokens: Vec<Token> = Lexer::new(sql).collect();
        let code: Vec<usize> = (0..tokens.len())
            .filter(|&i| tokens[i].kind.is_code())
            .collect();
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut c = 0;
        while c < code.len() {
            let t = tokens[code[c]];
            let name = t.text(sql).to_ascii_uppercase();
            let known = t.kind == TokenKind::Ident
                && (TIME_FUNCTIONS.contains(&name.as_str())
                    || RANDOM_FUNCTIONS.contains(&name.as_str()));
            let after_dot = c > 0 && tokens[code[c - 1]].is_punct(sql, ".");
            if !known || after_dot {
                c += 1;
                continue;
            }
            let next = code.get(c + 1).map(|&i| tokens[i]);
            if next.is_some_and(|n| n.is_punct(sql, "(")) {
                // name ( [integer] )
                let a = code.get(c + 2).map(|&i| tokens[i]);
                let b = code.get(c + 3).map(|&i| tokens[i]);
                let (arg, end, skip) = match (a, b) {
                    (Some(a), _) if a.is_punct(sql, ")") => (None, a.span.end, 3),
                    (Some(a), Some(b)) if a.kind == TokenKind::Integer && b.is_punct(sql, ")") => {
                        (Some(a.text(sql).parse().ok()), b.span.end, 4)
                    }
                    _ => {
                        c += 1;
                        continue;
                    }
                };
                if let Some(text) = self.literal(&name, arg, random)? {
                    edits.push((t.span.start, end, text));
                }
                c += skip;
            } else if BARE_NAMES.contains(&name.as_str()) {
                if let Some(text) = self.literal(&name, None, random)? {
                    edits.push((t.span.start, t.span.end, text));
                }
                c += 1;
            } else {
                c += 1;
            }
        }
        if edits.is_empty() {
            return Ok(None);
        }
        let mut out = String::with_capacity(sql.len() + 32);
        let mut at = 0;
        for (start, end, text) in edits {
            out.push_str(&sql[at..start]);
            out.push_str(&text);
            at = end;
        }
        out.push_str(&sql[at..]);
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn time_calls_in_text_become_literals_of_the_statement_time() {
        let mut ctx = PlanContext::new(None);
        ctx.now_micros = 1_700_000_000_123_456;
        ctx.sysdate_micros = 1_800_000_000_000_000;
        ctx.local_time = LocalTime::Offset(3600);
        let rng = Random::new(1);
        let fixer = Fixer::new(&ctx, &rng);
        let cases = [
            (
                "UPDATE g SET a = NOW(), b = CURRENT_TIMESTAMP, c = 'NOW()' WHERE d < CURDATE()",
                "UPDATE g SET a = TIMESTAMP'2023-11-14 23:13:20', b = TIMESTAMP'2023-11-14 23:13:20', c = 'NOW()' WHERE d < DATE'2023-11-14'",
            ),
            (
                "UPDATE g SET a = now(3), b = UTC_TIMESTAMP(), c = t.now, e = UNIX_TIMESTAMP()",
                "UPDATE g SET a = TIMESTAMP'2023-11-14 23:13:20.123', b = TIMESTAMP'2023-11-14 22:13:20', c = t.now, e = 1700000000",
            ),
        ];
        for (sql, fixed) in cases {
            assert_eq!(
                fixer
                    .fix_text(sql, RandomCalls::Keep)
                    .expect("fixes")
                    .as_deref(),
                Some(fixed)
            );
        }
        assert_eq!(
            fixer.fix_text("UPDATE g SET a = RAND()", RandomCalls::Keep),
            Ok(None)
        );
        assert!(fixer
            .fix_text("UPDATE g SET a = RAND()", RandomCalls::Refuse)
            .is_err());
    }

    #[test]
    fn local_times_come_from_the_offset_the_data_node_or_are_asked_for() {
        let mut ctx = PlanContext::new(None);
        ctx.now_micros = 1_000_000_000_500_000;
        ctx.sysdate_micros = 1_700_000_000_000_000;
        let rng = Random::new(1);
        let sql = "UPDATE g SET a = NOW(6), b = SYSDATE(), c = CURTIME(1), d = UTC_TIME()";
        // SYSDATE() is the clock, not the session's `timestamp`.
        assert_eq!(
            Fixer::new(&ctx, &rng).fix_text(sql, RandomCalls::Keep),
            Ok(Some("UPDATE g SET a = TIMESTAMP'2001-09-09 01:46:40.500000', b = TIMESTAMP'2023-11-14 22:13:20', c = TIME'01:46:40.5', d = TIME'01:46:40'".into()))
        );
        let parse = |t: &str| DateTime::parse(t).expect("parses");
        ctx.local_time = LocalTime::Fetched {
            now: parse("2001-09-09 05:46:40.500000"),
            sysdate: parse("2023-11-15 01:13:20.000001"),
            now_exact: true,
        };
        assert_eq!(
            Fixer::new(&ctx, &rng).fix_text(sql, RandomCalls::Keep),
            Ok(Some("UPDATE g SET a = TIMESTAMP'2001-09-09 05:46:40.500000', b = TIMESTAMP'2023-11-15 01:13:20', c = TIME'05:46:40.5', d = TIME'01:46:40'".into()))
        );
        // In the second pass of a repeated hour NOW()'s text names another instant;
        // SYSDATE() is stored through its text in MariaDB too.
        ctx.local_time = LocalTime::Fetched {
            now: parse("2025-11-02 01:30:00.000000"),
            sysdate: parse("2025-11-02 01:30:00.000000"),
            now_exact: false,
        };
        let fixer = Fixer::new(&ctx, &rng);
        assert!(matches!(
            fixer.fix_text("UPDATE g SET a = NOW()", RandomCalls::Keep),
            Err(PlanError::Unsupported(_))
        ));
        assert_eq!(
            fixer.fix_text(
                "UPDATE g SET a = SYSDATE(), b = CURDATE()",
                RandomCalls::Keep
            ),
            Ok(Some(
                "UPDATE g SET a = TIMESTAMP'2025-11-02 01:30:00', b = DATE'2025-11-02'".into()
            ))
        );
        let wanted = AtomicBool::new(false);
        ctx.local_time = LocalTime::Unknown;
        ctx.wants_local_time = Some(&wanted);
        let fixer = Fixer::new(&ctx, &rng);
        assert_eq!(
            fixer.fix_text(
                "UPDATE g SET d = UTC_TIME(), e = UNIX_TIMESTAMP()",
                RandomCalls::Keep
            ),
            Ok(Some(
                "UPDATE g SET d = TIME'01:46:40', e = 1000000000".into()
            ))
        );
        assert!(!wanted.load(Ordering::Relaxed));
        assert!(fixer
            .fix_text("UPDATE g SET a = CURDATE()", RandomCalls::Keep)
            .is_err());
        assert!(wanted.load(Ordering::Relaxed));
    }
}
