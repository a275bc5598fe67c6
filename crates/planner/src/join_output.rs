//! The select list, GROUP BY, HAVING, ORDER BY, DISTINCT and LIMIT of a join run in the compute
//! node (`join.rs`): each value the client sees is a column of one table's per-node
//! query (a plain column, or an expression over one table's columns computed there),
//! or an aggregate over such a column; the joined row carries the client's columns
//! first, then helper columns (sort and group keys it does not select, AVG's count).
//! Expressions over several tables, HAVING other than comparisons with literals, and
//! aggregates other than COUNT [DISTINCT], SUM, MIN, MAX and AVG are refused with 1235.

use sqlparser::ast::{Expr, GroupByExpr, OrderBy, OrderByKind, Query, Select, SelectItem};

use crate::error::PlanError;
use crate::exprs::{
    calls_any, contains_aggregate, function_name, is_aggregate_call, is_count_star, single_arg,
};
use crate::join::{JoinTable, Tables};
use crate::plan::{
    Aggregate, AggregateFunction, Columns, JoinColumn, Operator, Predicate, SortKey,
};
use crate::scatter::{compare_op, flip, having_literal};
use crate::source::{select_item_texts, Source};
use sqlparser::ast::{BinaryOperator, UnaryOperator};

/// AVG's decimals beyond the SUM's (div_precision_increment's default).
const AVG_SCALE: u32 = 4;

/// Functions whose value differs per evaluation: computed once per table row they
/// would repeat over every joined row of it.
const VOLATILE: &[&str] = &["RAND", "UUID", "UUID_SHORT", "SYSDATE", "SLEEP"];

/// What the operators above the join do, over the joined row's columns.
#[derive(Debug)]
pub(crate) struct Output {
    /// The joined row's columns: the client's first, then helpers.
    pub output: Vec<JoinColumn>,
    /// The collation id of each joined column where the catalog knows it.
    pub collations: Vec<Option<u16>>,
    /// String columns whose collation the merge cannot know (see `MergeSpec`).
    pub other_collation_columns: Vec<String>,
    visible: usize,
    aggregating: bool,
    group_by: Vec<usize>,
    aggregates: Vec<Aggregate>,
    having: Option<Predicate>,
    distinct: bool,
    order_by: Vec<SortKey>,
    offset: u64,
    limit: Option<u64>,
}

impl Output {
    /// The operator tree over `leaf` (the join): aggregate -> DISTINCT -> sort -> LIMIT
    /// -> project, MySQL's order.
    pub(crate) fn lower(&self, leaf: Operator) -> Operator {
        let mut op = leaf;
        if self.aggregating {
            op = Operator::HashAggregate {
                input: Box::new(op),
                group_by: self.group_by.clone(),
                aggregates: self.aggregates.clone(),
            };
        }
        if let Some(predicate) = &self.having {
            op = Operator::Having {
                input: Box::new(op),
                predicate: predicate.clone(),
            };
        }
        if self.distinct {
            op = Operator::Distinct {
                input: Box::new(op),
                columns: Columns::First(self.visible),
            };
        }
        if !self.order_by.is_empty() {
            op = Operator::Sort {
                input: Box::new(op),
                keys: self.order_by.clone(),
                keep: self.limit.map(|l| self.offset.saturating_add(l)),
            };
        }
        if self.offset > 0 || self.limit.is_some() {
            op = Operator::Limit {
                input: Box::new(op),
                offset: self.offset,
                limit: self.limit,
            };
        }
        Operator::Project {
            input: Box::new(op),
            columns: Columns::First(self.visible),
        }
    }
}

/// A visible item: its column and what GROUP BY / ORDER BY may match it by.
struct Item {
    column: usize,
    alias: Option<String>,
    text: String,
    aggregate: bool,
}

struct Builder<'t> {
    tables: &'t mut Tables,
    visible: Vec<JoinColumn>,
    visible_collations: Vec<Option<u16>>,
    helpers: Vec<JoinColumn>,
    helper_collations: Vec<Option<u16>>,
    /// The number of visible columns (known before they are built: helpers follow).
    width: usize,
    aggregates: Vec<Aggregate>,
}

/// Plans what happens to the joined rows.
pub(crate) fn plan_output(
    src: &Source<'_>,
    query: &Query,
    select: &Select,
    tables: &mut Tables,
) -> Result<Output, PlanError> {
    let group_exprs: Vec<Expr> = match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs.clone(),
        _ => return Err(PlanError::unsupported("this GROUP BY across data nodes")),
    };
    let order_keys = match &query.order_by {
        None => Vec::new(),
        Some(OrderBy {
            kind: OrderByKind::Expressions(keys),
            interpolate: None,
        }) => keys.clone(),
        Some(_) => return Err(PlanError::unsupported("this ORDER BY")),
    };
    let (offset, limit) = crate::scatter::limit_of(&query.limit_clause)?;
    let texts = select_item_texts(src.sql);
    let mut width = 0;
    for item in &select.projection {
        width += match item {
            SelectItem::Wildcard(_) => tables.list.iter().map(|t| t.columns.len()).sum(),
            SelectItem::QualifiedWildcard(name, _) => {
                let t = wildcard_table(tables, &name.to_string())?;
                tables.list[t].columns.len()
            }
            _ => 1,
        };
    }
    let mut b = Builder {
        tables,
        visible: Vec::new(),
        visible_collations: Vec::new(),
        helpers: Vec::new(),
        helper_collations: Vec::new(),
        width,
        aggregates: Vec::new(),
    };
    let mut items = Vec::new();
    for (i, item) in select.projection.iter().enumerate() {
        match item {
            SelectItem::Wildcard(_) => {
                for t in b.tables.from_order.clone() {
                    b.all_columns(t);
                }
            }
            SelectItem::QualifiedWildcard(name, _) => {
                let t = wildcard_table(b.tables, &name.to_string())?;
                b.all_columns(t);
            }
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                let alias = match item {
                    SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
                    _ => None,
                };
                let written = texts.as_ref().and_then(|t| t.get(i)).map(|t| t.to_string());
                let name = alias.clone().or_else(|| match e {
                    Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
                    _ => Some(written.clone().unwrap_or_else(|| e.to_string())),
                });
                let aggregate = is_aggregate_call(e);
                let column = if aggregate {
                    b.aggregate(e, name, true)?
                } else {
                    let (col, collation) = b.value(e, name)?;
                    b.push(true, col, collation)
                };
                items.push(Item {
                    column,
                    alias: alias.map(|a| a.to_lowercase()),
                    text: e.to_string().to_lowercase(),
                    aggregate,
                });
            }
        }
    }
    let aggregating = !group_exprs.is_empty()
        || !b.aggregates.is_empty()
        || select.having.as_ref().is_some_and(contains_aggregate);
    let having = match &select.having {
        Some(h) if aggregating => Some(b.having(h, &items)?),
        Some(_) => {
            return Err(PlanError::unsupported(
                "HAVING without GROUP BY or aggregates in joins across data nodes",
            ))
        }
        None => None,
    };
    let mut group_by = Vec::new();
    for g in &group_exprs {
        if contains_aggregate(g) {
            return Err(PlanError::Parse("Can't group on an aggregate".into()));
        }
        group_by.push(b.key(g, &items, false)?);
    }
    let mut order_by = Vec::new();
    for key in &order_keys {
        if key.options.nulls_first.is_some() || key.with_fill.is_some() {
            return Err(PlanError::unsupported("NULLS FIRST/LAST"));
        }
        if calls_any(&key.expr, &["RAND"]) {
            return Err(PlanError::unsupported("ORDER BY RAND() across data nodes"));
        }
        let column = if is_aggregate_call(&key.expr) {
            match items
                .iter()
                .find(|i| i.text == key.expr.to_string().to_lowercase())
            {
                Some(item) => item.column,
                None => b.aggregate(&key.expr, Some(key.expr.to_string()), false)?,
            }
        } else if contains_aggregate(&key.expr) {
            return Err(PlanError::unsupported(
                "aggregates inside expressions across data nodes",
            ));
        } else {
            b.key(&key.expr, &items, true)?
        };
        order_by.push(SortKey {
            column,
            descending: key.options.asc == Some(false),
        });
    }
    if order_keys.is_empty() {
        // MariaDB returns groups sorted by the GROUP BY columns without ORDER BY.
        order_by = group_by
            .iter()
            .map(|&column| SortKey {
                column,
                descending: false,
            })
            .collect();
    }
    let distinct = select.distinct.is_some();
    if distinct && !aggregating && !b.helpers.is_empty() {
        return Err(PlanError::unsupported(
            "SELECT DISTINCT ordered by a column it does not select, across data nodes",
        ));
    }
    if b.aggregates.iter().any(|a| group_by.contains(&a.column)) {
        return Err(PlanError::Parse("Can't group on an aggregate".into()));
    }
    let mut output = b.visible;
    output.extend(b.helpers);
    let mut collations = b.visible_collations;
    collations.extend(b.helper_collations);
    let other_collation_columns = other_collation_columns(&b.tables.list);
    Ok(Output {
        output,
        collations,
        other_collation_columns,
        visible: width,
        aggregating,
        group_by,
        aggregates: b.aggregates,
        having,
        distinct,
        order_by,
        offset,
        limit,
    })
}

impl Builder<'_> {
    /// Adds a joined column; returns its number.
    fn push(&mut self, visible: bool, col: JoinColumn, collation: Option<u16>) -> usize {
        if visible {
            self.visible.push(col);
            self.visible_collations.push(collation);
            self.visible.len() - 1
        } else {
            self.helpers.push(col);
            self.helper_collations.push(collation);
            self.width + self.helpers.len() - 1
        }
    }

    /// Every column of table `t`, visible.
    fn all_columns(&mut self, t: usize) {
        let table = &mut self.tables.list[t];
        let names = table.columns.clone();
        for c in names {
            let column = table.plain_column(&c);
            let collation = table.collation(&c);
            self.visible.push(JoinColumn::Side {
                side: t,
                column,
                name: None,
            });
            self.visible_collations.push(collation);
        }
    }

    /// The side column that computes `e` (a column of one table, or an expression over
    /// one table's columns computed in its per-node query), named `name` for the client.
    fn value(
        &mut self,
        e: &Expr,
        name: Option<String>,
    ) -> Result<(JoinColumn, Option<u16>), PlanError> {
        if let Some((t, c)) = self.tables.column(e)? {
            let table = &mut self.tables.list[t];
            let column = table.plain_column(&c);
            let name = name.or_else(|| written_name(e));
            return Ok((
                JoinColumn::Side {
                    side: t,
                    column,
                    name,
                },
                table.collation(&c),
            ));
        }
        if contains_aggregate(e) {
            return Err(PlanError::unsupported(
                "aggregates inside expressions across data nodes",
            ));
        }
        if calls_any(e, VOLATILE) {
            return Err(PlanError::unsupported(
                "RAND(), UUID() and the like in joins across data nodes",
            ));
        }
        let used = self.tables.tables_of(e)?;
        let t = match used.len() {
            0 => 0,
            1 => *used.iter().next().unwrap_or(&0),
            _ => {
                return Err(PlanError::unsupported(
                    "expressions over columns of several tables in joins across data nodes",
                ))
            }
        };
        let table: &mut JoinTable = &mut self.tables.list[t];
        if table.outer {
            // Computed on the table's rows, it would be NULL (not its value over NULLs)
            // in rows where the LEFT JOIN found no match.
            return Err(PlanError::unsupported(
                "expressions over the inner table of a LEFT JOIN across data nodes",
            ));
        }
        let column = table.column_for(format!("expr {e}"), e.clone());
        Ok((
            JoinColumn::Side {
                side: t,
                column,
                name,
            },
            None,
        ))
    }

    /// An aggregate call's column (and AVG's helper count); returns its number.
    fn aggregate(
        &mut self,
        e: &Expr,
        name: Option<String>,
        visible: bool,
    ) -> Result<usize, PlanError> {
        let Expr::Function(f) = e else {
            return Err(PlanError::unsupported("this aggregate across data nodes"));
        };
        if f.filter.is_some() || !f.within_group.is_empty() {
            return Err(PlanError::unsupported("aggregate FILTER/WITHIN GROUP"));
        }
        let fname = function_name(f);
        let name = name.unwrap_or_else(|| e.to_string());
        if fname == "COUNT" && is_count_star(f) {
            let column = self.push(visible, JoinColumn::Count { of: None, name }, None);
            self.aggregates.push(Aggregate {
                column,
                function: AggregateFunction::Count,
            });
            return Ok(column);
        }
        let refuse = || {
            PlanError::unsupported(format!(
                "{fname}(DISTINCT ...) or {fname} of several arguments in joins across data nodes"
            ))
        };
        let (arg, distinct) = single_arg(f).ok_or_else(refuse)?;
        if distinct && !matches!(fname.as_str(), "COUNT" | "MIN" | "MAX") {
            return Err(refuse());
        }
        let (col, collation) = self.value(arg, Some(name.clone()))?;
        let JoinColumn::Side { side, column, .. } = col else {
            return Err(PlanError::unsupported("this aggregate across data nodes"));
        };
        let (function, col, collation) = match fname.as_str() {
            // The joined rows carry the values; the merge counts the distinct ones that
            // are not NULL, under the column's collation.
            "COUNT" if distinct => (AggregateFunction::CountDistinct, col, collation),
            "COUNT" => (
                AggregateFunction::Count,
                JoinColumn::Count {
                    of: Some((side, column)),
                    name,
                },
                None,
            ),
            "SUM" => (AggregateFunction::Sum, col, None),
            "MIN" => (AggregateFunction::Min, col, collation),
            "MAX" => (AggregateFunction::Max, col, collation),
            "AVG" => {
                let count = JoinColumn::Count {
                    of: Some((side, column)),
                    name: format!("COUNT({arg})"),
                };
                let count_column = self.push(false, count, None);
                (
                    AggregateFunction::Avg {
                        count_column,
                        scale: AVG_SCALE,
                    },
                    col,
                    None,
                )
            }
            _ => {
                return Err(PlanError::unsupported(format!(
                    "{fname}() in joins across data nodes"
                )))
            }
        };
        let column = self.push(visible, col, collation);
        self.aggregates.push(Aggregate { column, function });
        Ok(column)
    }

    /// The column a GROUP BY or ORDER BY key names: a position, a select alias, a
    /// selected expression, or a helper column. A name that is both an alias and a
    /// table's column is the alias in ORDER BY and the column in GROUP BY (MySQL's
    /// lookup order for each).
    fn key(&mut self, e: &Expr, items: &[Item], alias_first: bool) -> Result<usize, PlanError> {
        if let Some(p) = crate::scatter::position(e) {
            let item = items
                .get(p)
                .filter(|_| self.width == items.len())
                .ok_or_else(|| {
                    PlanError::Parse("GROUP BY or ORDER BY position out of range".into())
                })?;
            return Ok(item.column);
        }
        if let Expr::Identifier(id) = e {
            let is_table_column = self.tables.column(e).is_ok();
            let alias = id.value.to_lowercase();
            if alias_first || !is_table_column {
                if let Some(item) = items.iter().find(|i| i.alias.as_deref() == Some(&alias)) {
                    return Ok(item.column);
                }
            }
        }
        let text = e.to_string().to_lowercase();
        if let Some(item) = items.iter().find(|i| !i.aggregate && i.text == text) {
            return Ok(item.column);
        }
        let (col, collation) = self.value(e, None)?;
        let same = |c: &JoinColumn| match (c, &col) {
            (
                JoinColumn::Side { side, column, .. },
                JoinColumn::Side {
                    side: s2,
                    column: c2,
                    ..
                },
            ) => side == s2 && column == c2,
            _ => false,
        };
        let aggregated: Vec<usize> = self.aggregates.iter().map(|a| a.column).collect();
        if let Some(i) =
            (0..self.visible.len()).find(|i| !aggregated.contains(i) && same(&self.visible[*i]))
        {
            return Ok(i);
        }
        if let Some(i) = self.helpers.iter().position(same) {
            return Ok(self.width + i);
        }
        Ok(self.push(false, col, collation))
    }
}

impl Builder<'_> {
    /// A HAVING condition as a predicate over the aggregated row: comparisons of a
    /// select alias, an aggregate or a grouped expression with a literal, under
    /// AND/OR/NOT and BETWEEN.
    fn having(&mut self, e: &Expr, items: &[Item]) -> Result<Predicate, PlanError> {
        let refuse = || {
            PlanError::unsupported(
                "HAVING other than comparisons with literals in joins across data nodes",
            )
        };
        match e {
            Expr::Nested(inner) => self.having(inner, items),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => Ok(Predicate::Not(Box::new(self.having(expr, items)?))),
            Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::And | BinaryOperator::Or),
                right,
            } => {
                let left = Box::new(self.having(left, items)?);
                let right = Box::new(self.having(right, items)?);
                Ok(if *op == BinaryOperator::And {
                    Predicate::And(left, right)
                } else {
                    Predicate::Or(left, right)
                })
            }
            Expr::BinaryOp { left, op, right } => {
                let cmp = compare_op(op).ok_or_else(refuse)?;
                if let Some(literal) = having_literal(right) {
                    let column = self.having_operand(left, items)?;
                    Ok(Predicate::Compare {
                        column,
                        op: cmp,
                        literal,
                    })
                } else if let Some(literal) = having_literal(left) {
                    let column = self.having_operand(right, items)?;
                    Ok(Predicate::Compare {
                        column,
                        op: flip(cmp),
                        literal,
                    })
                } else {
                    Err(refuse())
                }
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (Some(lo), Some(hi)) = (having_literal(low), having_literal(high)) else {
                    return Err(refuse());
                };
                let column = self.having_operand(expr, items)?;
                Ok(Predicate::between(column, lo, hi, *negated))
            }
            _ => Err(refuse()),
        }
    }

    /// The column a HAVING operand names: a select alias first (MySQL's order for
    /// HAVING), an aggregate (selected, or a helper), or a grouped expression.
    fn having_operand(&mut self, e: &Expr, items: &[Item]) -> Result<usize, PlanError> {
        if is_aggregate_call(e) {
            let text = e.to_string().to_lowercase();
            return match items.iter().find(|i| i.text == text) {
                Some(item) => Ok(item.column),
                None => self.aggregate(e, Some(e.to_string()), false),
            };
        }
        if contains_aggregate(e) {
            return Err(PlanError::unsupported(
                "aggregates inside expressions across data nodes",
            ));
        }
        self.key(e, items, true)
    }
}

/// The name MySQL gives an unaliased column reference: the column as written.
fn written_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(id) => Some(id.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
        Expr::Nested(inner) => written_name(inner),
        _ => None,
    }
}

/// The table `q.*` names.
fn wildcard_table(tables: &Tables, text: &str) -> Result<usize, PlanError> {
    let text = text.strip_suffix(".*").unwrap_or(text);
    let q = text
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .trim_matches('`');
    tables
        .list
        .iter()
        .position(|t| t.qualifier == q)
        .ok_or_else(|| PlanError::Parse(format!("Unknown table '{q}'")))
}

/// String columns of the tables whose collation a merge cannot assume.
fn other_collation_columns(tables: &[JoinTable]) -> Vec<String> {
    tables
        .iter()
        .flat_map(|t| match &t.info.column_collations {
            Some(recorded) => recorded
                .iter()
                .filter(|(_, name)| !crate::collations::is_assumed(name))
                .map(|(column, _)| column.clone())
                .collect::<Vec<_>>(),
            None => t.info.other_collation_columns.clone(),
        })
        .collect()
}
