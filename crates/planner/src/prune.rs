//! Shard pruning: which data nodes can hold the rows a predicate accepts, from the
//! comparisons of a table's sharding column with literals. `=`, `<=>`, `IN (...)`,
//! `IS NULL`, `BETWEEN` and `<`/`<=`/`>`/`>=` prune; AND intersects, OR unites; anything
//! else (NOT, functions of the column, comparisons with other columns, subqueries)
//! prunes nothing. A literal the column's type cannot canonicalize, or a value the
//! function cannot route, prunes nothing either: reads then go everywhere, which is
//! slower but never wrong.
//!
//! Literals prune only where every row the comparison can match has one key
//! (`strata_catalog::sharding::comparison_key`): `string_col = 5` compares as numbers in
//! MySQL ('05' matches too), so it does not prune. Ranges prune integer keys through
//! inclusive bounds (`id > 5.5` is `id >= 6`).

use std::ops::Bound;

use sqlparser::ast::{BinaryOperator, Expr, Ident};
use strata_catalog::sharding::{KeyLiteral, KeyType, KeyValue, RangeOp, ShardingRule};
use strata_catalog::DataNodeId;

use crate::keys::{bound, comparison, route, route_range, NodeSet, Nodes};
use crate::literal::expr_literal;

/// A sharding column and how the statement may name it.
#[derive(Debug, Clone)]
pub(crate) struct KeyColumn<'a> {
    /// Column name (compared case-insensitively).
    pub column: &'a str,
    /// Names that qualify it: the alias, or the table name (and `db.table`).
    pub qualifier: &'a str,
    /// The table's database, for `db.table.column`.
    pub db: &'a str,
    /// The table's name, for `db.table.column` when an alias is in use.
    pub table: &'a str,
    /// Whether an unqualified column name may refer to it.
    pub unqualified: bool,
    /// Key type for canonicalization.
    pub key_type: &'a KeyType,
    /// The rule that routes the key.
    pub rule: &'a ShardingRule,
}

impl KeyColumn<'_> {
    /// True if `expr` names this column.
    pub(crate) fn is_column(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Identifier(id) => self.unqualified && self.is_name(id),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, c] => q.value == self.qualifier && self.is_name(c),
                [d, t, c] => {
                    crate::source::ident_name(d) == self.db
                        && crate::source::ident_name(t) == self.table
                        && self.is_name(c)
                }
                _ => false,
            },
            Expr::Nested(inner) => self.is_column(inner),
            _ => false,
        }
    }

    fn is_name(&self, id: &Ident) -> bool {
        id.value.eq_ignore_ascii_case(self.column)
    }

    /// The key every row `column = expr` can match has, for a literal `expr`; None when
    /// it is not a literal or rows with several keys can match.
    pub(crate) fn key_of(&self, expr: &Expr) -> Option<KeyValue> {
        let lit = expr_literal(expr)?;
        if lit == KeyLiteral::Null {
            return Some(KeyValue::Null);
        }
        comparison(self.key_type, &lit)
    }

    /// The nodes that can hold rows where `column = lit` (`column <=> lit` when
    /// `null_safe`) is true.
    pub(crate) fn equal_to(&self, lit: KeyLiteral, null_safe: bool) -> Nodes {
        let key = match lit {
            // `col = NULL` is never true; `col <=> NULL` is IS NULL.
            KeyLiteral::Null if !null_safe => return Nodes::Some(NodeSet::new()),
            KeyLiteral::Null => KeyValue::Null,
            lit => match comparison(self.key_type, &lit) {
                Some(key) => key,
                None => return Nodes::All,
            },
        };
        self.single(&key)
    }

    /// The inclusive bound `column <op> expr` gives, for a literal `expr`.
    fn bound_of(&self, expr: &Expr, op: RangeOp) -> Option<Bound<KeyValue>> {
        let lit = expr_literal(expr)?;
        if lit == KeyLiteral::Null {
            return None;
        }
        bound(self.key_type, &lit, op)
    }

    /// True for a NULL literal (comparisons with NULL are never true).
    fn is_null(expr: &Expr) -> bool {
        expr_literal(expr) == Some(KeyLiteral::Null)
    }

    /// The node of one key, or None when it cannot be routed.
    fn node_of(&self, key: &KeyValue) -> Option<DataNodeId> {
        route(self.rule, self.key_type, key).ok()
    }

    /// The nodes that can hold rows accepted by `expr`.
    pub(crate) fn prune(&self, expr: &Expr) -> Nodes {
        match expr {
            Expr::Nested(inner) => self.prune(inner),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => self.prune_chain(expr, &BinaryOperator::And),
                BinaryOperator::Or => self.prune_chain(expr, &BinaryOperator::Or),
                BinaryOperator::Eq | BinaryOperator::Spaceship => {
                    let value = if self.is_column(left) {
                        right
                    } else if self.is_column(right) {
                        left
                    } else {
                        return Nodes::All;
                    };
                    match expr_literal(value) {
                        Some(lit) => self.equal_to(lit, *op == BinaryOperator::Spaceship),
                        None => Nodes::All,
                    }
                }
                BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => {
                    let (value, op) = if self.is_column(left) {
                        (&**right, op.clone())
                    } else if self.is_column(right) {
                        (&**left, flip(op))
                    } else {
                        return Nodes::All;
                    };
                    if Self::is_null(value) {
                        return Nodes::Some(NodeSet::new());
                    }
                    let range_op = match op {
                        BinaryOperator::Lt => RangeOp::Less,
                        BinaryOperator::LtEq => RangeOp::LessEqual,
                        BinaryOperator::Gt => RangeOp::Greater,
                        _ => RangeOp::GreaterEqual,
                    };
                    match self.bound_of(value, range_op) {
                        Some(b) => {
                            let b = b.as_ref();
                            if matches!(range_op, RangeOp::Less | RangeOp::LessEqual) {
                                self.range(Bound::Unbounded, b)
                            } else {
                                self.range(b, Bound::Unbounded)
                            }
                        }
                        None => Nodes::All,
                    }
                }
                _ => Nodes::All,
            },
            Expr::InList {
                expr,
                list,
                negated: false,
            } if self.is_column(expr) => {
                let mut nodes = NodeSet::new();
                for item in list {
                    match self.key_of(item) {
                        // NULL in an IN list matches nothing.
                        Some(KeyValue::Null) => {}
                        Some(k) => match self.node_of(&k) {
                            Some(n) => {
                                nodes.insert(n);
                            }
                            None => return Nodes::All,
                        },
                        None => return Nodes::All,
                    }
                }
                Nodes::Some(nodes)
            }
            Expr::Between {
                expr,
                negated: false,
                low,
                high,
            } if self.is_column(expr) => {
                if Self::is_null(low) || Self::is_null(high) {
                    return Nodes::Some(NodeSet::new());
                }
                if let (Some(lo), Some(hi)) = (self.key_of(low), self.key_of(high)) {
                    if lo == hi {
                        return self.single(&lo);
                    }
                }
                match (
                    self.bound_of(low, RangeOp::GreaterEqual),
                    self.bound_of(high, RangeOp::LessEqual),
                ) {
                    (Some(lo), Some(hi)) => self.range(lo.as_ref(), hi.as_ref()),
                    _ => Nodes::All,
                }
            }
            Expr::IsNull(inner) if self.is_column(inner) => self.single(&KeyValue::Null),
            _ => Nodes::All,
        }
    }

    /// AND/OR chains iteratively, so long chains do not deepen the stack.
    fn prune_chain(&self, expr: &Expr, chain_op: &BinaryOperator) -> Nodes {
        let mut operands = Vec::new();
        let mut stack = vec![expr];
        while let Some(e) = stack.pop() {
            match e {
                Expr::BinaryOp { left, op, right } if op == chain_op => {
                    stack.push(right);
                    stack.push(left);
                }
                Expr::Nested(inner) if matches!(&**inner, Expr::BinaryOp { op, .. } if op == chain_op) =>
                {
                    stack.push(inner);
                }
                other => operands.push(other),
            }
        }
        let mut acc: Option<Nodes> = None;
        for operand in operands {
            let n = self.prune(operand);
            acc = Some(match acc {
                None => n,
                Some(a) if *chain_op == BinaryOperator::And => a.and(n),
                Some(a) => a.or(n),
            });
            if *chain_op == BinaryOperator::Or && acc == Some(Nodes::All) {
                return Nodes::All;
            }
        }
        acc.unwrap_or(Nodes::All)
    }

    fn single(&self, key: &KeyValue) -> Nodes {
        match self.node_of(key) {
            Some(n) => Nodes::Some(NodeSet::from([n])),
            None => Nodes::All,
        }
    }

    fn range(&self, lo: Bound<&KeyValue>, hi: Bound<&KeyValue>) -> Nodes {
        match route_range(self.rule, lo, hi) {
            Some(nodes) => Nodes::Some(nodes.into_iter().collect()),
            None => Nodes::All,
        }
    }
}

fn flip(op: &BinaryOperator) -> BinaryOperator {
    match op {
        BinaryOperator::Lt => BinaryOperator::Gt,
        BinaryOperator::LtEq => BinaryOperator::GtEq,
        BinaryOperator::Gt => BinaryOperator::Lt,
        BinaryOperator::GtEq => BinaryOperator::LtEq,
        other => other.clone(),
    }
}
