//! MariaDB's name resolution for HAVING: outside aggregate calls, a column reference
//! must name a select-list item (its alias or the same column) or a GROUP BY column,
//! else 1054 `Unknown column 'x' in 'HAVING'` (main.having). The per-node statements
//! carry such a column as a helper and the nodes, which see no HAVING, would accept it.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

use crate::error::PlanError;
use crate::exprs::{canonical, is_aggregate_call};

/// What a HAVING column may name: the select list's aliases (lower case) and the
/// canonical forms of its items and of the GROUP BY expressions.
pub(crate) struct HavingScope<'a> {
    /// Select-list aliases, lower case.
    pub aliases: Vec<String>,
    /// Canonical forms of the select-list items and the GROUP BY expressions.
    pub known: Vec<String>,
    /// Qualifiers canonical forms strip.
    pub qualifiers: &'a [String],
}

/// Why a HAVING column does not resolve, with its text.
enum Unresolved {
    /// 1054.
    Unknown(String),
    /// 1052: it names columns of two tables.
    Ambiguous(String),
}

impl HavingScope<'_> {
    /// MariaDB's 1054 for the first column of `having` it would not resolve.
    pub(crate) fn check(&self, having: &Expr) -> Result<(), PlanError> {
        match self.unknown(having) {
            Some(Unresolved::Unknown(name)) => Err(PlanError::Statement {
                code: 1054,
                sqlstate: "42S22",
                message: format!("Unknown column '{name}' in 'HAVING'"),
            }),
            Some(Unresolved::Ambiguous(name)) => Err(PlanError::Statement {
                code: 1052,
                sqlstate: "23000",
                message: format!("Column '{name}' in HAVING is ambiguous"),
            }),
            None => Ok(()),
        }
    }

    /// The text of the first unresolvable column reference outside aggregates. Shapes
    /// not walked here (subqueries, CASE, ...) are left to the planner's refusals.
    fn unknown(&self, expr: &Expr) -> Option<Unresolved> {
        match expr {
            Expr::Identifier(id) => {
                let name = id.value.to_ascii_lowercase();
                if self.aliases.contains(&name) || self.names_known(expr) {
                    return None;
                }
                // `col1` for a selected or grouped `t1.col1`; for both `t1.col1` and
                // `t2.col1`, MariaDB's 1052.
                let suffix = format!(".{name}");
                let mut matches: Vec<String> = self
                    .known
                    .iter()
                    .map(|k| k.replace('`', ""))
                    .filter(|k| k.ends_with(&suffix) && !k.contains(['(', ' ']))
                    .collect();
                matches.sort();
                matches.dedup();
                match matches.len() {
                    0 => Some(Unresolved::Unknown(id.value.clone())),
                    1 => None,
                    _ => Some(Unresolved::Ambiguous(id.value.clone())),
                }
            }
            Expr::CompoundIdentifier(parts) => (!self.names_known(expr)).then(|| {
                Unresolved::Unknown(
                    parts
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                )
            }),
            Expr::Nested(e)
            | Expr::UnaryOp { expr: e, .. }
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::IsTrue(e)
            | Expr::IsFalse(e)
            | Expr::Cast { expr: e, .. } => self.unknown(e),
            Expr::BinaryOp { left, right, .. } => {
                self.unknown(left).or_else(|| self.unknown(right))
            }
            Expr::Between {
                expr, low, high, ..
            } => self
                .unknown(expr)
                .or_else(|| self.unknown(low))
                .or_else(|| self.unknown(high)),
            Expr::InList { expr, list, .. } => self
                .unknown(expr)
                .or_else(|| list.iter().find_map(|e| self.unknown(e))),
            // Even an expression the select list or GROUP BY repeats: MariaDB resolves
            // the columns inside it (`GROUP BY ABS(a) HAVING ABS(a) > 1` is 1054).
            Expr::Function(f) if f.over.is_none() && !is_aggregate_call(expr) => {
                let FunctionArguments::List(args) = &f.args else {
                    return None;
                };
                args.args.iter().find_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(e),
                        ..
                    } => self.unknown(e),
                    _ => None,
                })
            }
            _ => None,
        }
    }

    fn names_known(&self, expr: &Expr) -> bool {
        self.known.contains(&canonical(expr, self.qualifiers))
    }
}
