//! Small questions about expressions the planners ask: is this an aggregate call, does
//! an expression contain one (or a window function, or a given function), are two
//! expressions the same up to identifier case, and constructors for the few
//! expressions the planner writes.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, visit_expressions_mut, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Value,
};

/// Aggregate functions MySQL knows.
const AGGREGATES: &[&str] = &[
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "GROUP_CONCAT",
    "STD",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "VARIANCE",
    "VAR_POP",
    "VAR_SAMP",
    "BIT_AND",
    "BIT_OR",
    "BIT_XOR",
    "JSON_ARRAYAGG",
    "JSON_OBJECTAGG",
];

/// The function's name (last part), upper-cased.
pub(crate) fn function_name(f: &Function) -> String {
    f.name
        .0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(|i| i.value.to_ascii_uppercase())
        .unwrap_or_default()
}

/// True for a call of an aggregate function (not a window function).
pub(crate) fn is_aggregate_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f) if f.over.is_none() && AGGREGATES.contains(&function_name(f).as_str()))
}

/// True if `expr` contains an aggregate call anywhere (subqueries included).
pub(crate) fn contains_aggregate<V: sqlparser::ast::Visit>(node: &V) -> bool {
    visit_expressions(node, |e| {
        if is_aggregate_call(e) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// True if the node contains a window function call.
pub(crate) fn contains_window<V: sqlparser::ast::Visit>(node: &V) -> bool {
    visit_expressions(node, |e| match e {
        Expr::Function(f) if f.over.is_some() => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// True if the node calls one of `names` (upper-case).
pub(crate) fn calls_any<V: sqlparser::ast::Visit>(node: &V, names: &[&str]) -> bool {
    visit_expressions(node, |e| match e {
        Expr::Function(f) if names.contains(&function_name(f).as_str()) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// The single plain argument of a call, with whether it was `DISTINCT`; None for `*`,
/// several arguments or extra clauses.
pub(crate) fn single_arg(f: &Function) -> Option<(&Expr, bool)> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.args.len() != 1 || !list.clauses.is_empty() {
        return None;
    }
    let distinct = matches!(
        list.duplicate_treatment,
        Some(sqlparser::ast::DuplicateTreatment::Distinct)
    );
    match &list.args[0] {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some((e, distinct)),
        _ => None,
    }
}

/// True for `COUNT(*)`.
pub(crate) fn is_count_star(f: &Function) -> bool {
    let FunctionArguments::List(list) = &f.args else {
        return false;
    };
    list.args.len() == 1
        && list.duplicate_treatment.is_none()
        && matches!(
            list.args[0],
            FunctionArg::Unnamed(FunctionArgExpr::Wildcard)
        )
}

/// A call `name(arg)`.
pub(crate) fn call(name: &str, arg: Expr) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// A number literal.
pub(crate) fn number(n: impl ToString) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

/// Literal SQL text written verbatim where an expression goes.
pub(crate) fn raw(text: impl Into<String>) -> Expr {
    Expr::value(Value::Placeholder(text.into()))
}

/// A canonical text of `expr` for comparing expressions: identifiers lower-cased, and
/// column qualifiers dropped when `qualifiers` lists the only table's names.
pub(crate) fn canonical(expr: &Expr, strip_qualifiers: &[String]) -> String {
    let mut e = expr.clone();
    let _ = visit_expressions_mut(&mut e, |x| {
        match x {
            Expr::Identifier(id) => lower(id),
            Expr::CompoundIdentifier(parts) => {
                let strip = parts.len() >= 2
                    && strip_qualifiers
                        .iter()
                        .any(|q| parts.len() == 2 && parts[0].value == *q);
                if strip {
                    if let Some(mut last) = parts.pop() {
                        lower(&mut last);
                        *x = Expr::Identifier(last);
                    }
                } else {
                    parts.iter_mut().for_each(lower);
                }
            }
            Expr::Function(f) => {
                for p in &mut f.name.0 {
                    if let ObjectNamePart::Identifier(id) = p {
                        lower(id);
                    }
                }
            }
            Expr::Nested(inner) => {
                let inner = std::mem::replace(&mut **inner, Expr::value(Value::Null));
                *x = inner;
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    e.to_string()
}

fn lower(id: &mut Ident) {
    id.value = id.value.to_ascii_lowercase();
    id.quote_style = None;
}

/// The identifier an expression names (column `a` or `t.a`), lower-cased, if it is one.
pub(crate) fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(id) => Some(id.value.to_ascii_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse_one;
    use sqlparser::ast::{SelectItem, SetExpr, Statement};

    fn items(sql: &str) -> Vec<Expr> {
        let Ok(Statement::Query(q)) = parse_one(sql) else {
            panic!("not a query: {sql}");
        };
        let SetExpr::Select(s) = *q.body else {
            panic!("not a select: {sql}");
        };
        s.projection
            .into_iter()
            .map(|i| match i {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => panic!("wildcard"),
            })
            .collect()
    }

    #[test]
    fn canonical_forms_ignore_identifier_case_and_own_qualifiers_only() {
        let e = items("SELECT COUNT(T.A), count(`t`.a), (a), t.A, u.a, 'A', 'a' FROM t");
        let q = vec!["T".to_string(), "t".to_string()];
        let c: Vec<String> = e.iter().map(|x| canonical(x, &q)).collect();
        assert_eq!(c[0], c[1]);
        assert_eq!(c[2], c[3]);
        assert_ne!(c[3], c[4]);
        assert_ne!(c[5], c[6]);
    }

    #[test]
    fn aggregates_are_recognized() {
        let e =
            items("SELECT COUNT(*), sum(a) + 1, a, ROW_NUMBER() OVER (), COUNT(DISTINCT b) FROM t");
        assert!(is_aggregate_call(&e[0]));
        assert!(!is_aggregate_call(&e[1]) && contains_aggregate(&e[1]));
        assert!(!contains_aggregate(&e[2]));
        assert!(contains_window(&e[3]));
        let Expr::Function(f) = &e[4] else {
            panic!("call")
        };
        assert_eq!(single_arg(f).map(|(_, d)| d), Some(true));
    }
}
