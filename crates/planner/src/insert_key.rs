//! Sharding-key values of INSERT rows that are not plain literals.
//!
//! - Literal forms a read writes (`_utf8mb4 X'..'`, `DATE'..'`, `TIMESTAMP'..'`) are read
//!   here, without a round trip, when they convert to the key's type as their text does.
//! - A constant expression (`-1+2`, `CONCAT('a','b')`, `'a' COLLATE ...`, `CAST(...)`,
//!   `DATE_FORMAT(...)`): no column, variable or subquery, no call whose value depends
//!   on the connection. Time functions and RAND()/UUID() become literals of the
//!   statement's values first (the compute node's, written into the statement, so the
//!   data node stores what was routed). What remains is evaluated once by MariaDB: the
//!   planner asks for it ([`KeyValues::wanted`]), the server runs [`KeyValues::query`]
//!   (`SELECT e1, e2, ...`, one round trip for all rows) on the session's connection to
//!   its home data node, hands the values back and plans again. The value routes the
//!   row as a literal of the value's type would; the data node receives the original
//!   expression, so warnings and errors (strict mode, ...) are its own.

use std::ops::ControlFlow;
use std::sync::Mutex;

use sqlparser::ast::{visit_expressions, DataType, Expr, Value};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use strata_catalog::sharding::{KeyLiteral, KeyType};

use crate::error::PlanError;
use crate::exprs::function_name;
use crate::literal::{expr_literal, quote_string, value_literal};
use crate::nondeterministic::{Fixer, RandomCalls};
use strata_mysql::charset::{Encoding, Unit};

/// Functions whose value depends on the connection or has effects: a value evaluated on
/// another connection would not be the data node's.
const SESSION_FUNCTIONS: &[&str] = &[
    "BENCHMARK",
    "CONNECTION_ID",
    "CURRENT_ROLE",
    "CURRENT_USER",
    "DATABASE",
    "FOUND_ROWS",
    "GET_LOCK",
    "IS_FREE_LOCK",
    "IS_USED_LOCK",
    "LASTVAL",
    "LAST_INSERT_ID",
    "LAST_VALUE",
    "LOAD_FILE",
    "MASTER_GTID_WAIT",
    "MASTER_POS_WAIT",
    "NEXTVAL",
    "RELEASE_ALL_LOCKS",
    "RELEASE_LOCK",
    "ROW_COUNT",
    "SCHEMA",
    "SESSION_USER",
    "SETVAL",
    "SLEEP",
    "SYSTEM_USER",
    "USER",
    "VALUES",
    "DEFAULT",
    "RAND",
    "UUID",
    "UUID_SHORT",
    "SYS_GUID",
    "ROWNUM",
];

/// An expression planning needed: the row, the expression as the statement wrote it,
/// and as it is evaluated and written (time functions and random calls replaced).
#[derive(Debug, Clone)]
struct Wanted {
    row: usize,
    original: String,
    fixed: Expr,
}

/// The values of constant key expressions, as the home data node gave them: the
/// server's side of the exchange described in the module comment. Kept for one
/// statement: planned again, it finds each row's expression with the time and random
/// values of the first planning.
#[derive(Debug, Default)]
pub struct KeyValues {
    /// Expressions planning needed and did not have.
    wanted: Mutex<Vec<Wanted>>,
    /// Unqualified function names the wanted expressions call (lower-case).
    functions: Mutex<Vec<String>>,
    /// The wanted expressions with their values (as literals).
    given: Vec<(Wanted, String)>,
}

impl Clone for KeyValues {
    fn clone(&self) -> KeyValues {
        KeyValues {
            wanted: Mutex::new(lock(&self.wanted).clone()),
            functions: Mutex::new(lock(&self.functions).clone()),
            given: self.given.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the server runs to evaluate the wanted expressions.
#[derive(Debug, Clone)]
pub struct KeyQuery {
    /// `SELECT e1, e2, ...[, count of stored functions named as the calls]`.
    pub sql: String,
    /// Each wanted expression with its column in the result.
    wanted: Vec<(Wanted, usize)>,
    /// The columns of expressions.
    width: usize,
    /// The last column counts the database's stored functions named as calls of the
    /// expressions (such a function may read tables: refused when not 0).
    counts_functions: bool,
}

impl KeyValues {
    /// The query for the expressions planning wanted, if any (taking them).
    pub fn query(&self) -> Option<KeyQuery> {
        let wanted = std::mem::take(&mut *lock(&self.wanted));
        let functions = std::mem::take(&mut *lock(&self.functions));
        if wanted.is_empty() {
            return None;
        }
        let mut columns: Vec<String> = Vec::new();
        let wanted: Vec<(Wanted, usize)> = wanted
            .into_iter()
            .map(|w| {
                let text = w.fixed.to_string();
                let col = match columns.iter().position(|c| *c == text) {
                    Some(c) => c,
                    None => {
                        columns.push(text);
                        columns.len() - 1
                    }
                };
                (w, col)
            })
            .collect();
        let mut sql = format!("SELECT {}", columns.join(", "));
        let counts_functions = !functions.is_empty();
        if counts_functions {
            let names: Vec<String> = functions.iter().map(|f| quote_string(f)).collect();
            sql.push_str(&format!(
                ", (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION' AND LOWER(ROUTINE_NAME) IN ({}))",
                names.join(", ")
            ));
        }
        Some(KeyQuery {
            sql,
            wanted,
            width: columns.len(),
            counts_functions,
        })
    }

    /// Records the values of `query` (its result row's literals) for the next planning.
    pub fn give(&mut self, query: &KeyQuery, values: &[&str]) -> Result<(), PlanError> {
        let width = query.width + usize::from(query.counts_functions);
        if values.len() != width {
            return Err(PlanError::data_nodes(format!(
                "the home data node returned {} values for {width} expressions",
                values.len()
            )));
        }
        if query.counts_functions && values.last().is_some_and(|c| c.trim() != "0") {
            return Err(PlanError::unsupported(
                "INSERT over several data nodes with a sharding key value that calls a stored function",
            ));
        }
        for (w, col) in &query.wanted {
            let v = values.get(*col).copied().unwrap_or("NULL");
            self.given.push((w.clone(), v.to_string()));
        }
        Ok(())
    }

    /// Forgets everything (a new statement).
    pub fn clear(&mut self) {
        *self = KeyValues::default();
    }

    /// The first planning's expression of `row` and its value.
    fn value(&self, row: usize, original: &str) -> Option<(&Expr, &str)> {
        self.given
            .iter()
            .find(|(w, _)| w.row == row && w.original == original)
            .map(|(w, v)| (&w.fixed, v.as_str()))
    }
}

/// What a row's key value is.
pub(crate) enum KeyValue {
    /// Known: route by it.
    Known(KeyLiteral),
    /// Known, and the cell must be written as this expression (time functions and
    /// random calls replaced by the values routed).
    Rewritten(KeyLiteral, Box<Expr>),
    /// Asked of the server; planning is refused until it answers.
    Wanted,
}

/// The key literal row `row`'s key expression `e` stands for, for a key of `key_type`.
pub(crate) fn key_value(
    row: usize,
    e: &Expr,
    key_type: &KeyType,
    fixer: &Fixer<'_>,
    values: Option<&KeyValues>,
) -> Result<KeyValue, PlanError> {
    if let Some(lit) = expr_literal(e) {
        return Ok(KeyValue::Known(lit));
    }
    if let Some(lit) = written_literal(e, key_type) {
        return Ok(KeyValue::Known(lit));
    }
    let original = e.to_string();
    if let Some((fixed, v)) = values.and_then(|values| values.value(row, &original)) {
        let lit = returned_literal(v, key_type).ok_or_else(|| {
            PlanError::unsupported(format!(
                "INSERT over several data nodes with a sharding key value of this type ({v}) for a {key_type} key"
            ))
        })?;
        return Ok(KeyValue::Rewritten(lit, Box::new(fixed.clone())));
    }
    let mut fixed = e.clone();
    let changed = fixer.fix_ast(&mut fixed, RandomCalls::Replace)?;
    if let Some(lit) = expr_literal(&fixed).or_else(|| written_literal(&fixed, key_type)) {
        return Ok(match changed {
            true => KeyValue::Rewritten(lit, Box::new(fixed)),
            false => KeyValue::Known(lit),
        });
    }
    let functions = constant_calls(&fixed)?;
    let Some(values) = values else {
        return Err(refused());
    };
    lock(&values.wanted).push(Wanted {
        row,
        original,
        fixed,
    });
    let mut names = lock(&values.functions);
    for f in functions {
        if !names.contains(&f) {
            names.push(f);
        }
    }
    Ok(KeyValue::Wanted)
}

/// The refusal when expressions were wanted (or no server can evaluate them).
pub(crate) fn refused() -> PlanError {
    PlanError::unsupported("INSERT with a sharding key value that is not a literal")
}

/// The function names a constant expression calls (lower-case); refuses columns,
/// variables, subqueries and calls whose value is not the data node's.
fn constant_calls(e: &Expr) -> Result<Vec<String>, PlanError> {
    let mut names = Vec::new();
    let mut why = None;
    let _ = visit_expressions(e, |e| {
        let reason = match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                Some("names a column or a variable")
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                Some("has a subquery")
            }
            Expr::Function(f) => {
                let name = function_name(f);
                if f.name.0.len() > 1 {
                    Some("calls a stored function")
                } else if f.over.is_some() {
                    Some("has a window function")
                } else if SESSION_FUNCTIONS.contains(&name.as_str()) {
                    Some("calls a function whose value is not the data node's")
                } else {
                    let lower = name.to_ascii_lowercase();
                    if !names.contains(&lower) {
                        names.push(lower);
                    }
                    None
                }
            }
            Expr::Value(v) if matches!(v.value, Value::Placeholder(ref p) if p == "?") => {
                Some("has a parameter")
            }
            _ => None,
        };
        match reason {
            Some(r) => {
                why = Some(r);
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    });
    if e.to_string().contains(":=") {
        why = Some("assigns a variable");
    }
    match why {
        Some(why) => Err(PlanError::unsupported(format!(
            "INSERT over several data nodes with a sharding key value that {why}"
        ))),
        None => Ok(names),
    }
}

/// The literal a value the data node returned stands for (as `LiteralRows` writes it).
fn returned_literal(text: &str, key_type: &KeyType) -> Option<KeyLiteral> {
    let mut parser = Parser::new(&MySqlDialect {}).try_with_sql(text).ok()?;
    let e = parser.parse_expr().ok()?;
    expr_literal(&e).or_else(|| written_literal(&e, key_type))
}

/// The literal forms a read writes that [`expr_literal`] leaves: a string of a UTF-8
/// (or ASCII) character set in hexadecimal, and typed dates and times whose conversion
/// to the key's type is their text's (`DATE'..'` into DATE, DATETIME or YEAR,
/// `TIMESTAMP'..'` into DATETIME, DATE or YEAR, `TIME'..'` into TIME).
fn written_literal(e: &Expr, key_type: &KeyType) -> Option<KeyLiteral> {
    match e {
        Expr::Nested(inner) => written_literal(inner, key_type),
        // Literal text the planner wrote (a time function's value).
        Expr::Value(v) if matches!(&v.value, Value::Placeholder(p) if p != "?") => {
            let Value::Placeholder(text) = &v.value else {
                return None;
            };
            let mut parser = Parser::new(&MySqlDialect {}).try_with_sql(text).ok()?;
            let parsed = parser.parse_expr().ok()?;
            if matches!(&parsed, Expr::Value(_)) {
                return None;
            }
            written_literal(&parsed, key_type)
        }
        Expr::Prefixed { prefix, value } => {
            let KeyLiteral::Bytes(b) = expr_literal(value)? else {
                return None;
            };
            let charset = prefix.value.to_ascii_lowercase();
            match charset.as_str() {
                "_utf8mb4" | "_utf8mb3" | "_utf8" | "_ascii" => {
                    std::str::from_utf8(&b).ok()?;
                    Some(KeyLiteral::String(b))
                }
                // Strings are routed by their UTF-8 text.
                "_latin1" => {
                    let text: Option<String> = Encoding::Latin1
                        .decode(&b)
                        .map(|u| match u {
                            Unit::Char(c) => char::from_u32(c),
                            Unit::Byte(_) => None,
                        })
                        .collect();
                    Some(KeyLiteral::String(text?.into_bytes()))
                }
                _ => None,
            }
        }
        Expr::TypedString(ts) => {
            let Some(KeyLiteral::String(body)) = value_literal(&ts.value.value) else {
                return None;
            };
            let text = String::from_utf8(body).ok()?;
            let kind = match key_type {
                KeyType::Temporal { kind } => kind,
                _ => return temporal_as(&ts.data_type, &text, key_type),
            };
            let fits = matches!(
                (&ts.data_type, kind.as_str()),
                (DataType::Date, "date" | "datetime" | "year")
                    | (
                        DataType::Timestamp(..) | DataType::Datetime(_),
                        "datetime" | "date" | "year"
                    )
                    | (DataType::Time(..), "time")
            );
            if !fits {
                return None;
            }
            if kind == "year" {
                let year = text
                    .get(..4)
                    .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?;
                return Some(KeyLiteral::Integer(year.to_string()));
            }
            Some(KeyLiteral::String(text.into_bytes()))
        }
        _ => None,
    }
}

/// A date or time literal (`DATE'..'`, `TIME'..'`, `TIMESTAMP'..'` in MariaDB's own
/// format) stored into a number or string key: a number `YYYYMMDD`, `hhmmss` or
/// `YYYYMMDDhhmmss` (an integer column drops the fraction, a decimal one keeps it), a
/// string its text. None for any other form.
fn temporal_as(data_type: &DataType, text: &str, key_type: &KeyType) -> Option<KeyLiteral> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time = |t: &str| -> Option<(String, String)> {
        let (t, frac) = t.split_once('.').unwrap_or((t, ""));
        let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
        let parts: Vec<&str> = t.split(':').collect();
        let [h, m, s] = parts.as_slice() else {
            return None;
        };
        let ok = (digits(h, 2) || digits(h, 3))
            && digits(m, 2)
            && digits(s, 2)
            && frac.len() <= 6
            && frac.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| {
            let sign = if neg { "-" } else { "" };
            (format!("{sign}{h}{m}{s}"), frac.to_string())
        })
    };
    let date = |d: &str| -> Option<String> {
        let parts: Vec<&str> = d.split('-').collect();
        match parts.as_slice() {
            [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => Some(format!("{y}{m}{d}")),
            _ => None,
        }
    };
    let (int, frac) = match data_type {
        DataType::Date => (date(text)?, String::new()),
        DataType::Time(..) => time(text)?,
        DataType::Timestamp(..) | DataType::Datetime(_) => {
            let (d, t) = text.split_once(' ')?;
            let (t, frac) = time(t)?;
            if t.starts_with('-') || t.len() != 6 {
                return None;
            }
            (format!("{}{t}", date(d)?), frac)
        }
        _ => return None,
    };
    match key_type {
        KeyType::Integer { .. } => Some(KeyLiteral::Integer(int.parse::<i128>().ok()?.to_string())),
        KeyType::Decimal { .. } if frac.is_empty() => Some(KeyLiteral::Integer(int)),
        KeyType::Decimal { .. } => Some(KeyLiteral::Number(format!("{int}.{frac}"))),
        KeyType::String { .. } => Some(KeyLiteral::String(text.as_bytes().to_vec())),
        _ => None,
    }
}
