//! The per-node rewrite of a SELECT that runs on several data nodes, and the
//! [`MergeSpec`] that turns the per-node results into the client's result.
//!
//! Rewrites (column numbers are 0-based per-node columns):
//! - Visible select items come first, then helper columns the merge needs: ORDER BY
//!   expressions not in the select list, GROUP BY expressions, aggregates used only by
//!   HAVING or ORDER BY, AVG's COUNT. With `SELECT *` the helper columns come first
//!   instead (the width of `*` is known only at run time) and `*` becomes `t.*`.
//! - Unaliased rewritten or computed items keep their client-visible name through an
//!   alias holding the item's original text.
//! - `COUNT(*)`, `COUNT(x)`, `SUM(x)`, `MIN(x)`, `MAX(x)`, `GROUP_CONCAT(x [SEPARATOR s])`
//!   run per node and combine. `AVG(x)` becomes `SUM(x)` plus a helper `COUNT(x)`.
//!   `COUNT(DISTINCT x)` becomes the item `x` with `x` added to the per-node GROUP BY:
//!   each node returns its distinct values of `x` per group, and the merge counts the
//!   distinct non-NULL values across nodes (other partial aggregates still add up, as
//!   the extra grouping only splits them).
//! - GROUP BY runs per node and the merge regroups. HAVING is removed from the per-node
//!   query and evaluated by the merge (comparisons of output columns with literals,
//!   AND/OR/NOT, BETWEEN).
//! - Without aggregation, ORDER BY is pushed down (as column positions) and the merge
//!   is a k-way merge; `LIMIT o, n` becomes `LIMIT o+n` per node, and the merge skips
//!   `o` and keeps `n`. With aggregation, ORDER BY and LIMIT apply after regrouping
//!   only, and are not pushed down.
//! - DISTINCT runs per node and again in the merge.

use sqlparser::ast::{
    BinaryOperator, Distinct, Expr, FunctionArgumentClause, FunctionArguments, GroupByExpr, Ident,
    LimitClause, OrderBy, OrderByExpr, OrderByKind, OrderByOptions, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, UnaryOperator, Value,
    WildcardAdditionalOptions,
};
use strata_catalog::sharding::KeyLiteral;
use strata_sql::lexer::string_value;

use crate::error::PlanError;
use crate::exprs::{
    call, canonical, column_name, contains_aggregate, function_name, is_aggregate_call,
    is_count_star, number, single_arg,
};
use crate::having::HavingScope;
use crate::literal::expr_literal;
use crate::plan::{
    Aggregate, AggregateFunction, BitOp, CompareOp, Literal, MergeSpec, Predicate, SortKey,
};

/// AVG's extra decimals (MySQL's default div_precision_increment).
const AVG_SCALE: u32 = 4;

/// What the rewrite needs to know besides the query.
pub(crate) struct RewriteContext<'a> {
    /// Names that qualify the only table's columns (alias, table name), for comparing
    /// `t.a` with `a`; empty with several tables.
    pub qualifiers: Vec<String>,
    /// Qualifiers of the FROM relations in order, for expanding `*`; None when `*`
    /// cannot be expanded exactly (USING joins).
    pub star_expansion: Option<Vec<String>>,
    /// The original text of each select item, when it could be found.
    pub item_texts: Option<Vec<&'a str>>,
}

/// Rewrites a single-SELECT query for per-node execution.
pub(crate) fn rewrite_select(
    query: &Query,
    rc: &RewriteContext<'_>,
) -> Result<(Query, MergeSpec), PlanError> {
    let SetExpr::Select(select) = &*query.body else {
        return Err(PlanError::unsupported("this query shape across data nodes"));
    };
    let order_keys = order_keys(query)?;
    let (offset, limit) = limit_of(&query.limit_clause)?;
    let group_exprs: Vec<Expr> = match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs.clone(),
        _ => return Err(PlanError::unsupported("this GROUP BY across data nodes")),
    };
    if matches!(select.distinct, Some(Distinct::On(_))) {
        return Err(PlanError::unsupported("DISTINCT ON"));
    }
    let wildcard = select.projection.iter().any(|i| {
        matches!(
            i,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    let aggregating = !group_exprs.is_empty()
        || contains_aggregate(&select.projection)
        || select.having.is_some()
        || order_keys.iter().any(|k| contains_aggregate(&k.expr));
    if wildcard && aggregating {
        return Err(PlanError::unsupported(
            "SELECT * with GROUP BY, HAVING or aggregates across data nodes",
        ));
    }
    let mut cols = Columns {
        items: Vec::new(),
        visible: Vec::new(),
        aggregates: Vec::new(),
        extra_group: Vec::new(),
        helpers: Vec::new(),
        qualifiers: &rc.qualifiers,
        wildcard,
    };
    let mut merge = MergeSpec::default();
    if wildcard {
        merge.visible_to_end = true;
    } else {
        for (i, item) in select.projection.iter().enumerate() {
            let (expr, alias) = match item {
                SelectItem::UnnamedExpr(e) => (e.clone(), None),
                SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), Some(alias.clone())),
                _ => return Err(PlanError::unsupported("this select item across data nodes")),
            };
            let text = rc.item_texts.as_ref().and_then(|t| t.get(i)).copied();
            cols.visible.push(Visible {
                canon: canonical(&expr, &rc.qualifiers),
                alias: alias.as_ref().map(|a| a.value.to_ascii_lowercase()),
            });
            cols.items.push(named_item(expr, alias, text));
        }
        merge.visible_columns = cols.items.len();
        for i in 0..cols.items.len() {
            let Some(expr) = item_expr(&cols.items[i]).cloned() else {
                continue;
            };
            if is_aggregate_call(&expr) {
                let text = rc.item_texts.as_ref().and_then(|t| t.get(i)).copied();
                cols.rewrite_aggregate(i, &expr, text)?;
            } else if contains_aggregate(&expr) {
                return Err(PlanError::unsupported(
                    "aggregates inside expressions across data nodes",
                ));
            }
        }
    }

    // GROUP BY.
    if aggregating {
        for g in &group_exprs {
            let col = match position(g) {
                Some(p) if p < cols.visible.len() => p,
                Some(_) => return Err(PlanError::Parse("GROUP BY position out of range".into())),
                None => cols.resolve(g, true)?,
            };
            merge.group_by.push(col);
        }
    }

    // HAVING.
    if let Some(having) = &select.having {
        let mut known: Vec<String> = cols.visible.iter().map(|v| v.canon.clone()).collect();
        known.extend(group_exprs.iter().map(|g| canonical(g, &rc.qualifiers)));
        HavingScope {
            aliases: cols
                .visible
                .iter()
                .filter_map(|v| v.alias.clone())
                .collect(),
            known,
            qualifiers: &rc.qualifiers,
        }
        .check(having)?;
        merge.having = Some(cols.predicate(having)?);
    }

    // ORDER BY.
    for key in &order_keys {
        if key.options.nulls_first.is_some() || key.with_fill.is_some() {
            return Err(PlanError::unsupported("NULLS FIRST/LAST"));
        }
        if crate::exprs::calls_any(&key.expr, &["RAND"]) {
            return Err(PlanError::unsupported("ORDER BY RAND() across data nodes"));
        }
        let column = match position(&key.expr) {
            Some(p) if wildcard => cols.helpers.len() + p,
            Some(p) if p < cols.visible.len() => p,
            Some(_) => return Err(PlanError::Parse("ORDER BY position out of range".into())),
            None => cols.resolve(&key.expr, aggregating)?,
        };
        merge.order_by.push(SortKey {
            column,
            descending: key.options.asc == Some(false),
        });
    }

    // Without ORDER BY, MariaDB returns groups sorted by the GROUP BY columns (ORDER BY
    // NULL turns that off, and is an ORDER BY key here): the merge does the same.
    if order_keys.is_empty() {
        merge.order_by = merge
            .group_by
            .iter()
            .map(|&column| SortKey {
                column,
                descending: false,
            })
            .collect();
    }

    merge.distinct = select.distinct.is_some();
    if merge.distinct && !wildcard && !aggregating && !cols.helpers.is_empty() {
        return Err(PlanError::unsupported(
            "SELECT DISTINCT ordered by a column it does not select, across data nodes",
        ));
    }
    merge.offset = offset;
    merge.limit = limit;
    merge.aggregates = cols.aggregates.clone();

    // The per-node query.
    let mut out = query.clone();
    let SetExpr::Select(node_select) = &mut *out.body else {
        return Err(PlanError::unsupported("this query shape across data nodes"));
    };
    let helper_count = cols.helpers.len();
    node_select.projection = if wildcard {
        merge.visible_start = helper_count;
        let mut p: Vec<SelectItem> = cols
            .helpers
            .iter()
            .map(|(_, e)| SelectItem::UnnamedExpr(e.clone()))
            .collect();
        if helper_count > 0 {
            p.extend(expand_star(&select.projection, rc)?);
        } else {
            p.extend(select.projection.iter().cloned());
        }
        p
    } else {
        let mut p = cols.items.clone();
        p.extend(
            cols.helpers
                .iter()
                .map(|(_, e)| SelectItem::UnnamedExpr(e.clone())),
        );
        p
    };
    node_select.having = None;
    if !cols.extra_group.is_empty() {
        let mut g = group_exprs.clone();
        g.extend(cols.extra_group.iter().cloned());
        node_select.group_by = GroupByExpr::Expressions(g, vec![]);
    }
    if aggregating {
        node_select.distinct = None;
        out.order_by = None;
        out.limit_clause = None;
    } else {
        sort_and_limit_on_nodes(&mut out, &merge);
    }
    Ok((out, merge))
}

/// Has each node sort by the merge's keys (by position) and return no more rows than
/// the merge's offset plus limit: a node cannot know which of its rows the merge skips.
fn sort_and_limit_on_nodes(out: &mut Query, merge: &MergeSpec) {
    out.order_by = if merge.order_by.is_empty() {
        None
    } else {
        Some(OrderBy {
            kind: OrderByKind::Expressions(
                merge
                    .order_by
                    .iter()
                    .map(|k| positional(k.column + 1, k.descending))
                    .collect(),
            ),
            interpolate: None,
        })
    };
    out.limit_clause = merge.limit.map(|n| LimitClause::LimitOffset {
        limit: Some(number(merge.offset.saturating_add(n))),
        offset: None,
        limit_by: vec![],
    });
}

/// Rewrites a UNION [ALL] of plain SELECTs: every node runs the whole union; the merge
/// concatenates (ALL) or removes duplicates (DISTINCT), then sorts and limits.
pub(crate) fn rewrite_union(query: &Query) -> Result<(Query, MergeSpec), PlanError> {
    let mut branches = Vec::new();
    let mut quantifiers = Vec::new();
    flatten_union(&query.body, &mut branches, &mut quantifiers)?;
    let distinct = match (
        quantifiers.iter().all(|q| *q == SetQuantifier::All),
        quantifiers
            .iter()
            .all(|q| matches!(q, SetQuantifier::Distinct | SetQuantifier::None)),
    ) {
        (true, _) => false,
        (_, true) => true,
        _ => {
            return Err(PlanError::unsupported(
                "UNION mixing ALL and DISTINCT across data nodes",
            ))
        }
    };
    for b in &branches {
        if contains_aggregate(&b.projection)
            || b.having.is_some()
            || b.distinct.is_some()
            || !matches!(&b.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
        {
            return Err(PlanError::unsupported(
                "UNION of SELECTs with aggregates, GROUP BY or DISTINCT across data nodes",
            ));
        }
        if b.into.is_some() {
            return Err(PlanError::unsupported("SELECT ... INTO across data nodes"));
        }
    }
    let first = branches[0];
    let wildcard = first.projection.iter().any(|i| {
        matches!(
            i,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    let mut merge = MergeSpec {
        distinct,
        ..MergeSpec::default()
    };
    if wildcard {
        merge.visible_to_end = true;
    } else {
        merge.visible_columns = first.projection.len();
    }
    let names: Vec<Option<String>> = first
        .projection
        .iter()
        .map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_ascii_lowercase()),
            SelectItem::UnnamedExpr(e) => column_name(e),
            _ => None,
        })
        .collect();
    for key in order_keys(query)? {
        if key.options.nulls_first.is_some() || key.with_fill.is_some() {
            return Err(PlanError::unsupported("NULLS FIRST/LAST"));
        }
        let column = match position(&key.expr) {
            Some(p) if wildcard || p < names.len() => p,
            Some(_) => return Err(PlanError::Parse("ORDER BY position out of range".into())),
            None if wildcard => {
                return Err(PlanError::unsupported(
                    "ORDER BY a column name of a UNION of SELECT * across data nodes",
                ))
            }
            None => {
                let name = column_name(&key.expr).ok_or_else(|| {
                    PlanError::unsupported("ORDER BY an expression of a UNION across data nodes")
                })?;
                names
                    .iter()
                    .position(|n| n.as_deref() == Some(name.as_str()))
                    .ok_or_else(|| {
                        PlanError::Parse(format!("Unknown column '{name}' in 'order clause'"))
                    })?
            }
        };
        merge.order_by.push(SortKey {
            column,
            descending: key.options.asc == Some(false),
        });
    }
    let (offset, limit) = limit_of(&query.limit_clause)?;
    merge.offset = offset;
    merge.limit = limit;
    let mut out = query.clone();
    sort_and_limit_on_nodes(&mut out, &merge);
    Ok((out, merge))
}

fn flatten_union<'q>(
    body: &'q SetExpr,
    branches: &mut Vec<&'q Select>,
    quantifiers: &mut Vec<SetQuantifier>,
) -> Result<(), PlanError> {
    match body {
        SetExpr::Select(s) => {
            branches.push(s);
            Ok(())
        }
        SetExpr::SetOperation {
            op: SetOperator::Union,
            set_quantifier,
            left,
            right,
        } => {
            quantifiers.push(*set_quantifier);
            flatten_union(left, branches, quantifiers)?;
            flatten_union(right, branches, quantifiers)
        }
        SetExpr::SetOperation { op, .. } => {
            Err(PlanError::unsupported(format!("{op} across data nodes")))
        }
        SetExpr::Query(_) => Err(PlanError::unsupported(
            "parenthesized SELECT with ORDER BY or LIMIT inside a UNION across data nodes",
        )),
        _ => Err(PlanError::unsupported(
            "this UNION branch across data nodes",
        )),
    }
}

/// One visible select item as written.
struct Visible {
    /// Canonical text of its expression.
    canon: String,
    /// Its alias, lower-cased.
    alias: Option<String>,
}

/// The per-node select list under construction.
struct Columns<'a> {
    /// Visible items (rewritten in place).
    items: Vec<SelectItem>,
    /// What the visible items were.
    visible: Vec<Visible>,
    /// Merge aggregates.
    aggregates: Vec<Aggregate>,
    /// Per-node GROUP BY additions (COUNT(DISTINCT x)).
    extra_group: Vec<Expr>,
    /// Helper columns: canonical text and expression.
    helpers: Vec<(String, Expr)>,
    /// Qualifiers stripped for comparison.
    qualifiers: &'a [String],
    /// The select list has `*` (helpers come first).
    wildcard: bool,
}

impl Columns<'_> {
    /// Per-node column number of helper `i`.
    fn helper_column(&self, i: usize) -> usize {
        if self.wildcard {
            i
        } else {
            self.items.len() + i
        }
    }

    /// Adds (or finds) a helper column computing `expr`.
    fn helper(&mut self, expr: &Expr) -> usize {
        let canon = canonical(expr, self.qualifiers);
        if let Some(i) = self.helpers.iter().position(|(c, _)| *c == canon) {
            return self.helper_column(i);
        }
        self.helpers.push((canon, expr.clone()));
        self.helper_column(self.helpers.len() - 1)
    }

    /// The column holding `expr` (a select alias, a select item or a new helper);
    /// aggregate calls get merge aggregates.
    fn resolve(&mut self, expr: &Expr, aggregating: bool) -> Result<usize, PlanError> {
        if !self.wildcard {
            if let Expr::Identifier(id) = expr {
                let name = id.value.to_ascii_lowercase();
                if let Some(i) = self
                    .visible
                    .iter()
                    .position(|v| v.alias.as_deref() == Some(&name))
                {
                    return Ok(i);
                }
            }
            let canon = canonical(expr, self.qualifiers);
            if let Some(i) = self.visible.iter().position(|v| v.canon == canon) {
                return Ok(i);
            }
        }
        if is_aggregate_call(expr) {
            let canon = canonical(expr, self.qualifiers);
            if let Some(i) = self.helpers.iter().position(|(c, _)| *c == canon) {
                return Ok(self.helper_column(i));
            }
            let col = self.helper(expr);
            let item = self.helpers.len() - 1;
            self.rewrite_helper_aggregate(item, col, expr)?;
            return Ok(col);
        }
        if aggregating && contains_aggregate(expr) {
            return Err(PlanError::unsupported(
                "aggregates inside expressions across data nodes",
            ));
        }
        Ok(self.helper(expr))
    }

    /// Turns visible item `i` (an aggregate call) into its per-node partial.
    fn rewrite_aggregate(
        &mut self,
        i: usize,
        expr: &Expr,
        text: Option<&str>,
    ) -> Result<(), PlanError> {
        let (partial, function) = self.partial(expr)?;
        if let Some(p) = partial {
            // The client still sees the column under the original item's name.
            if let SelectItem::UnnamedExpr(original) = &self.items[i] {
                let name = text.map_or_else(|| original.to_string(), str::to_string);
                self.items[i] = SelectItem::ExprWithAlias {
                    expr: original.clone(),
                    alias: Ident::with_quote('`', name.replace('`', "``")),
                };
            }
            set_item_expr(&mut self.items[i], p);
        }
        self.aggregates.push(Aggregate {
            column: i,
            function,
        });
        Ok(())
    }

    /// Turns helper `item` (at column `col`) into its per-node partial.
    fn rewrite_helper_aggregate(
        &mut self,
        item: usize,
        col: usize,
        expr: &Expr,
    ) -> Result<(), PlanError> {
        let (partial, function) = self.partial(expr)?;
        if let Some(p) = partial {
            self.helpers[item].1 = p;
        }
        self.aggregates.push(Aggregate {
            column: col,
            function,
        });
        Ok(())
    }

    /// The per-node partial of an aggregate call (None: the call itself) and how
    /// partials combine; may add helper columns and per-node grouping.
    fn partial(&mut self, expr: &Expr) -> Result<(Option<Expr>, AggregateFunction), PlanError> {
        let Expr::Function(f) = expr else {
            return Err(PlanError::unsupported("this aggregate across data nodes"));
        };
        if f.filter.is_some() || !f.within_group.is_empty() {
            return Err(PlanError::unsupported("aggregate FILTER/WITHIN GROUP"));
        }
        let name = function_name(f);
        let arg = single_arg(f);
        match (name.as_str(), arg) {
            ("COUNT", _) if is_count_star(f) => Ok((None, AggregateFunction::Count)),
            ("COUNT", Some((_, false))) => Ok((None, AggregateFunction::Count)),
            ("COUNT", Some((x, true))) => {
                self.extra_group.push(x.clone());
                Ok((Some(x.clone()), AggregateFunction::CountDistinct))
            }
            ("SUM", Some((_, false))) => Ok((None, AggregateFunction::Sum)),
            ("MIN", Some(_)) => Ok((None, AggregateFunction::Min)),
            ("MAX", Some(_)) => Ok((None, AggregateFunction::Max)),
            ("BIT_AND", Some((_, false))) => Ok((None, AggregateFunction::Bit(BitOp::And))),
            ("BIT_OR", Some((_, false))) => Ok((None, AggregateFunction::Bit(BitOp::Or))),
            ("BIT_XOR", Some((_, false))) => Ok((None, AggregateFunction::Bit(BitOp::Xor))),
            ("AVG", Some((x, false))) => {
                let count = call("COUNT", x.clone());
                let count_column = self.helper(&count);
                Ok((
                    Some(call("SUM", x.clone())),
                    AggregateFunction::Avg {
                        count_column,
                        scale: AVG_SCALE,
                    },
                ))
            }
            ("GROUP_CONCAT", _) => {
                let FunctionArguments::List(list) = &f.args else {
                    return Err(PlanError::unsupported("GROUP_CONCAT across data nodes"));
                };
                if list.duplicate_treatment.is_some() {
                    return Err(PlanError::unsupported(
                        "GROUP_CONCAT(DISTINCT ...) across data nodes",
                    ));
                }
                let mut separator = ",".to_string();
                for clause in &list.clauses {
                    match clause {
                        FunctionArgumentClause::Separator(v) => {
                            separator = separator_text(v).ok_or_else(|| {
                                PlanError::unsupported("this GROUP_CONCAT separator")
                            })?;
                        }
                        _ => {
                            return Err(PlanError::unsupported(
                                "GROUP_CONCAT with ORDER BY across data nodes",
                            ))
                        }
                    }
                }
                Ok((None, AggregateFunction::GroupConcat { separator }))
            }
            ("COUNT" | "SUM" | "AVG", _) => Err(PlanError::unsupported(format!(
                "{name}(DISTINCT ...) or {name} of several arguments across data nodes"
            ))),
            _ => Err(PlanError::unsupported(format!(
                "{name}() across data nodes"
            ))),
        }
    }

    /// True when `expr`, an expression rather than a bare name, names a select item's
    /// alias: the per-node helper column computing it could not see the alias.
    fn names_an_alias(&self, expr: &Expr) -> bool {
        if matches!(expr, Expr::Identifier(_)) {
            return false;
        }
        let found = sqlparser::ast::visit_expressions(expr, |e| match e {
            Expr::Identifier(id)
                if self.visible.iter().any(|v| {
                    v.alias.as_deref() == Some(id.value.to_ascii_lowercase().as_str())
                }) =>
            {
                std::ops::ControlFlow::Break(())
            }
            _ => std::ops::ControlFlow::Continue(()),
        });
        found.is_break()
    }

    /// A HAVING condition as a merge predicate.
    fn predicate(&mut self, expr: &Expr) -> Result<Predicate, PlanError> {
        let refuse = || {
            PlanError::unsupported(
                "HAVING other than comparisons of output columns with literals across data nodes",
            )
        };
        match expr {
            Expr::Nested(inner) => self.predicate(inner),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => Ok(Predicate::Not(Box::new(self.predicate(expr)?))),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => Ok(Predicate::And(
                    Box::new(self.predicate(left)?),
                    Box::new(self.predicate(right)?),
                )),
                BinaryOperator::Or => Ok(Predicate::Or(
                    Box::new(self.predicate(left)?),
                    Box::new(self.predicate(right)?),
                )),
                _ => {
                    let cmp = compare_op(op).ok_or_else(refuse)?;
                    if self.names_an_alias(left) || self.names_an_alias(right) {
                        return Err(refuse());
                    }
                    if let Some(lit) = having_literal(right) {
                        let column = self.resolve(left, true)?;
                        Ok(Predicate::Compare {
                            column,
                            op: cmp,
                            literal: lit,
                        })
                    } else if let Some(lit) = having_literal(left) {
                        let column = self.resolve(right, true)?;
                        Ok(Predicate::Compare {
                            column,
                            op: flip(cmp),
                            literal: lit,
                        })
                    } else {
                        Err(refuse())
                    }
                }
            },
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (Some(lo), Some(hi)) = (having_literal(low), having_literal(high)) else {
                    return Err(refuse());
                };
                if self.names_an_alias(expr) {
                    return Err(refuse());
                }
                let column = self.resolve(expr, true)?;
                Ok(Predicate::between(column, lo, hi, *negated))
            }
            _ => Err(refuse()),
        }
    }
}

/// The item's expression (None for wildcards, which never reach the visible list).
fn item_expr(item: &SelectItem) -> Option<&Expr> {
    match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    }
}

fn set_item_expr(item: &mut SelectItem, new: Expr) {
    match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => *e = new,
        _ => {}
    }
}

/// A select item that keeps its client-visible name: computed unaliased items get their
/// original text as alias (MySQL names such columns by their text).
fn named_item(expr: Expr, alias: Option<Ident>, text: Option<&str>) -> SelectItem {
    match (alias, &expr) {
        (Some(alias), _) => SelectItem::ExprWithAlias { expr, alias },
        (None, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => SelectItem::UnnamedExpr(expr),
        (None, _) => match text {
            Some(t) if !t.is_empty() && t.len() <= 256 && expr.to_string() != t => {
                SelectItem::ExprWithAlias {
                    alias: Ident::with_quote('`', t.replace('`', "``")),
                    expr,
                }
            }
            _ => SelectItem::UnnamedExpr(expr),
        },
    }
}

/// `*` expanded to `q1.*, q2.*` so helper columns may precede it.
fn expand_star(
    projection: &[SelectItem],
    rc: &RewriteContext<'_>,
) -> Result<Vec<SelectItem>, PlanError> {
    let mut out = Vec::new();
    for item in projection {
        match item {
            SelectItem::Wildcard(_) => {
                let names = rc.star_expansion.as_ref().ok_or_else(|| {
                    PlanError::unsupported("SELECT * with USING joins ordered across data nodes")
                })?;
                for q in names {
                    out.push(SelectItem::QualifiedWildcard(
                        SelectItemQualifiedWildcardKind::ObjectName(
                            sqlparser::ast::ObjectName::from(vec![Ident::new(q)]),
                        ),
                        WildcardAdditionalOptions::default(),
                    ));
                }
            }
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

/// The ORDER BY keys of a query.
fn order_keys(query: &Query) -> Result<Vec<OrderByExpr>, PlanError> {
    match &query.order_by {
        None => Ok(Vec::new()),
        Some(OrderBy {
            kind: OrderByKind::Expressions(keys),
            interpolate: None,
        }) => Ok(keys.clone()),
        Some(_) => Err(PlanError::unsupported("this ORDER BY")),
    }
}

/// (offset, limit) of a LIMIT clause with literal values.
pub(crate) fn limit_of(limit: &Option<LimitClause>) -> Result<(u64, Option<u64>), PlanError> {
    let value = |e: &Expr| -> Result<u64, PlanError> {
        match expr_literal(e) {
            Some(KeyLiteral::Integer(s)) => s
                .parse()
                .map_err(|_| PlanError::Parse(format!("bad LIMIT value {s}"))),
            _ => Err(PlanError::unsupported(
                "LIMIT with a non-literal value across data nodes",
            )),
        }
    };
    match limit {
        None => Ok((0, None)),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return Err(PlanError::unsupported("LIMIT BY"));
            }
            let o = offset
                .as_ref()
                .map(|o| value(&o.value))
                .transpose()?
                .unwrap_or(0);
            let n = limit.as_ref().map(value).transpose()?;
            Ok((o, n))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            Ok((value(offset)?, Some(value(limit)?)))
        }
    }
}

/// A 0-based column for `ORDER BY <integer>`.
pub(crate) fn position(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match crate::literal::value_literal(&v.value) {
            Some(KeyLiteral::Integer(s)) => s.parse::<usize>().ok().and_then(|p| p.checked_sub(1)),
            _ => None,
        },
        _ => None,
    }
}

fn positional(pos: usize, descending: bool) -> OrderByExpr {
    OrderByExpr {
        expr: number(pos),
        options: OrderByOptions {
            asc: if descending { Some(false) } else { None },
            nulls_first: None,
        },
        with_fill: None,
    }
}

pub(crate) fn compare_op(op: &BinaryOperator) -> Option<CompareOp> {
    Some(match op {
        BinaryOperator::Eq => CompareOp::Eq,
        BinaryOperator::NotEq => CompareOp::Ne,
        BinaryOperator::Lt => CompareOp::Lt,
        BinaryOperator::LtEq => CompareOp::Le,
        BinaryOperator::Gt => CompareOp::Gt,
        BinaryOperator::GtEq => CompareOp::Ge,
        _ => return None,
    })
}

pub(crate) fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

/// A literal usable in a merge predicate.
pub(crate) fn having_literal(expr: &Expr) -> Option<Literal> {
    match expr_literal(expr)? {
        KeyLiteral::Null => Some(Literal::Null),
        KeyLiteral::Integer(s) | KeyLiteral::Number(s) => Some(Literal::Number(s)),
        KeyLiteral::String(b) => String::from_utf8(b).ok().map(Literal::String),
        KeyLiteral::Bytes(_) => None,
    }
}

/// A GROUP_CONCAT separator's value.
fn separator_text(v: &Value) -> Option<String> {
    match v {
        Value::SingleQuotedString(raw) => Some(string_value(&format!("'{raw}'")).into_owned()),
        Value::DoubleQuotedString(raw) => Some(string_value(&format!("\"{raw}\"")).into_owned()),
        _ => None,
    }
}
