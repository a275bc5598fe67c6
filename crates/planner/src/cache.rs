//! A cache of parsed statement shapes, so repeated shapes are not parsed again.
//!
//! Key: the current database and the statement's digest (`strata_sql::normalize_digest`:
//! literals replaced by `?`, spacing and keyword case normalized). Value: the digest
//! text parsed once — a template whose `?` stand for the statement's literals and its
//! own placeholders, with their positions. Planning a statement of a known shape clones
//! the template, binds each `?` to the statement's literal text (written back verbatim)
//! or parameter value, and plans it against the current catalog. Because the cached
//! object is only the parse, catalog changes never make it stale, and the result equals
//! planning the statement directly. Shapes whose digest does not parse (a literal where
//! sqlparser accepts no `?`, e.g. `CAST(x AS CHAR(10))`) and DDL are remembered as
//! uncacheable and planned directly. Shapes that [`crate::point`] recognises (one sharded
//! table, routed by its WHERE clause) skip even that: the statement's literals are bound
//! into the cached WHERE clause alone, and when it prunes to one data node the plan is
//! that node with the original text; otherwise the statement is planned as above.
//!
//! Bounded by a clock (second-chance) replacement: a hit sets the entry's reference bit;
//! an insertion into a full cache sweeps the hand, clearing bits, to the first entry
//! without one. Internally locked; share it as `Arc<PlanCache>`.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions, Expr, Statement, Value};
use strata_sql::{normalize_digest, Digest, Lexer, TokenKind};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::literal::sql_literal;
use crate::plan::{Plan, Reply};
use crate::point::PointRoute;
use crate::source::{bind_placeholders, placeholder_positions, Source};
use crate::Planned;

/// Cached plans by statement shape.
#[derive(Debug)]
pub struct PlanCache {
    inner: Mutex<Clock>,
    routed: AtomicU64,
}

/// A parsed shape.
#[derive(Debug)]
struct Template {
    statement: Statement,
    positions: HashMap<(u64, u64), usize>,
    placeholders: usize,
    /// Set when the WHERE clause alone can decide the shape's one data node.
    point: Option<PointRoute>,
}

#[derive(Debug)]
enum Entry {
    Template(Arc<Template>),
    Uncacheable,
}

#[derive(Debug)]
struct Slot {
    /// The current database and the digest text.
    key: (Option<String>, String),
    /// `key`'s hash, the slot's key in `Clock::index`.
    hash: u64,
    entry: Arc<Entry>,
    referenced: bool,
}

/// The shapes, with a clock (second-chance) eviction.
///
/// The index is keyed by the hash of (database, digest) so that a lookup borrows both
/// strings instead of building an owned key per statement; a slot's full key is compared
/// after the hash matches. Of two keys with one hash (randomly keyed: not something a
/// client can aim for), the second is not cached and is planned each time.
#[derive(Debug)]
struct Clock {
    capacity: usize,
    slots: Vec<Slot>,
    index: HashMap<u64, usize>,
    hasher: RandomState,
    hand: usize,
    hits: u64,
    misses: u64,
}

impl Clock {
    fn hash(&self, db: Option<&str>, digest: &str) -> u64 {
        self.hasher.hash_one((db, digest))
    }

    fn get(&mut self, db: Option<&str>, digest: &str) -> Option<Arc<Entry>> {
        let &i = self.index.get(&self.hash(db, digest))?;
        let slot = self.slots.get_mut(i)?;
        if slot.key.0.as_deref() != db || slot.key.1 != digest {
            return None;
        }
        slot.referenced = true;
        Some(slot.entry.clone())
    }

    fn insert(&mut self, db: Option<&str>, digest: &str, entry: Arc<Entry>) {
        let hash = self.hash(db, digest);
        if self.capacity == 0 || self.index.contains_key(&hash) {
            return;
        }
        let slot = Slot {
            key: (db.map(str::to_string), digest.to_string()),
            hash,
            entry,
            referenced: false,
        };
        if self.slots.len() < self.capacity {
            self.index.insert(hash, self.slots.len());
            self.slots.push(slot);
            return;
        }
        loop {
            let len = self.slots.len();
            let old = &mut self.slots[self.hand % len];
            if old.referenced {
                old.referenced = false;
                self.hand = (self.hand + 1) % len;
                continue;
            }
            self.index.remove(&old.hash);
            self.index.insert(hash, self.hand % len);
            *old = slot;
            self.hand = (self.hand + 1) % len;
            return;
        }
    }
}

/// Hit and miss counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Statements planned from a cached shape.
    pub hits: u64,
    /// Statements whose shape had to be parsed.
    pub misses: u64,
    /// Shapes held.
    pub entries: usize,
    /// Hits routed by their shape's WHERE clause, without planning (`point`).
    pub routed: u64,
}

impl PlanCache {
    /// A cache holding at most `capacity` shapes.
    pub fn new(capacity: usize) -> PlanCache {
        PlanCache {
            inner: Mutex::new(Clock {
                capacity,
                slots: Vec::new(),
                index: HashMap::new(),
                hasher: RandomState::new(),
                hand: 0,
                hits: 0,
                misses: 0,
            }),
            routed: AtomicU64::new(0),
        }
    }

    /// Hit and miss counts and size.
    pub fn stats(&self) -> CacheStats {
        let routed = self.routed.load(Ordering::Relaxed);
        match self.inner.lock() {
            Ok(c) => CacheStats {
                hits: c.hits,
                misses: c.misses,
                entries: c.slots.len(),
                routed,
            },
            Err(_) => CacheStats {
                hits: 0,
                misses: 0,
                entries: 0,
                routed,
            },
        }
    }

    /// Forgets every shape.
    pub fn clear(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.slots.clear();
            c.index.clear();
            c.hand = 0;
        }
    }

    /// Plans a statement, reusing the parse of its shape; the result is the same as
    /// [`crate::plan_statement`]'s.
    pub fn plan(
        &self,
        sql: &str,
        ctx: &PlanContext<'_>,
        catalog: &dyn CatalogView,
    ) -> Result<Planned, PlanError> {
        self.plan_digested(sql, &normalize_digest(sql), ctx, catalog)
    }

    /// [`PlanCache::plan`] with the statement's digest already computed
    /// (`normalize_digest(sql)`), for a caller that keeps it (the statement statistics).
    pub fn plan_digested(
        &self,
        sql: &str,
        digest: &Digest,
        ctx: &PlanContext<'_>,
        catalog: &dyn CatalogView,
    ) -> Result<Planned, PlanError> {
        if let Some(expanded) = crate::view::expand(sql, ctx, catalog)? {
            return crate::plan_statement(&expanded, ctx, catalog);
        }
        let literals = &digest.literals;
        let cached = self.inner.lock().ok().and_then(|mut c| {
            let e = c.get(ctx.db, &digest.text);
            if e.is_some() {
                c.hits += 1;
            } else {
                c.misses += 1;
            }
            e
        });
        let entry = match cached {
            Some(e) => e,
            None => {
                let e = Arc::new(build(&digest.text));
                if let Ok(mut c) = self.inner.lock() {
                    c.insert(ctx.db, &digest.text, e.clone());
                }
                e
            }
        };
        let Entry::Template(template) = &*entry else {
            return crate::plan_statement(sql, ctx, catalog);
        };
        // Without parameters, the statement's literals are the shape's `?`s in order.
        if template.point.is_some()
            && ctx.params.is_none()
            && literals.len() == template.placeholders
        {
            crate::call::check_functions(&template.statement, ctx, catalog)?;
            let values: Vec<&str> = literals.iter().map(|t| t.text(sql)).collect();
            if let Some(planned) = template.point_plan(&values, ctx, catalog, || sql.to_string()) {
                self.routed.fetch_add(1, Ordering::Relaxed);
                return Ok(planned);
            }
        }
        let src = Source::new(sql)?;
        if src.hint.is_some() {
            return crate::plan_statement(sql, ctx, catalog);
        }
        crate::with_stack_for(&src, || {
            plan_template(&src, template, ctx, catalog, &self.routed)
        })?
    }
}

impl Template {
    /// The plan of a statement whose `?`s are `values`, when the shape's point route
    /// decides it: one data node, running `text()`.
    fn point_plan(
        &self,
        values: &[impl AsRef<str>],
        ctx: &PlanContext<'_>,
        catalog: &dyn CatalogView,
        text: impl FnOnce() -> String,
    ) -> Option<Planned> {
        let dnid = self
            .point
            .as_ref()?
            .node(ctx, catalog, &self.positions, values)?;
        let reply = match self.statement {
            Statement::Query(_) => Reply::Rows,
            _ => Reply::Ok,
        };
        Some(Planned::of(Plan::route(dnid, text(), reply)))
    }
}

/// Plans a statement from its shape's template.
fn plan_template(
    src: &Source<'_>,
    template: &Template,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
    routed: &AtomicU64,
) -> Result<Planned, PlanError> {
    let sql = src.sql;
    {
        // The statement's literals and placeholders, in text order, as SQL text.
        let mut values = Vec::with_capacity(template.placeholders);
        let mut next_param = 0;
        for t in src.tokens.iter().filter(|t| t.kind.is_code()) {
            if t.kind.is_literal() {
                values.push(t.text(sql).to_string());
            } else if t.kind == TokenKind::Placeholder {
                match ctx.params {
                    Some(p) => {
                        let v = p.get(next_param).ok_or(PlanError::WrongArguments)?;
                        values.push(sql_literal(v));
                        next_param += 1;
                    }
                    None => values.push("?".to_string()),
                }
            }
        }
        if values.len() != template.placeholders {
            return crate::plan_statement(sql, ctx, catalog);
        }
        if ctx.params.is_some_and(|p| p.len() != next_param) {
            return Err(PlanError::WrongArguments);
        }
        // With parameters (the plain case was tried in `plan`): the text gets their
        // values, as the planner writes them.
        if ctx.params.is_some() && template.point.is_some() {
            crate::call::check_functions(&template.statement, ctx, catalog)?;
            let text = || src.forward_text(ctx.params).into_owned();
            if let Some(planned) = template.point_plan(&values, ctx, catalog, text) {
                routed.fetch_add(1, Ordering::Relaxed);
                return Ok(planned);
            }
        }
        let mut stmt = template.statement.clone();
        bind_placeholders(&mut stmt, &template.positions, &values)?;
        crate::plan_parsed(src, stmt, ctx, catalog)
    }
}

/// Parses a digest into a template, or marks it uncacheable.
/// The number of `?` placeholders that are expressions of `statement`.
fn expression_placeholders(statement: &Statement) -> usize {
    let mut count = 0;
    let _ = visit_expressions(statement, |e| {
        if let Expr::Value(v) = e {
            if matches!(&v.value, Value::Placeholder(p) if p == "?") {
                count += 1;
            }
        }
        ControlFlow::<()>::Continue(())
    });
    count
}

fn build(digest: &str) -> Entry {
    let Ok(src) = Source::new(digest) else {
        return Entry::Uncacheable;
    };
    // Sequence uses are routed by where their sequence is, not by the statement's shape.
    if src.hint.is_some() || crate::sequence::mentions_sequences(&src) {
        return Entry::Uncacheable;
    }
    let Ok(statement) = src.parse() else {
        return Entry::Uncacheable;
    };
    if !matches!(
        statement,
        Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)
    ) {
        return Entry::Uncacheable;
    }
    let placeholders = Lexer::new(digest)
        .filter(|t| t.kind == TokenKind::Placeholder)
        .count();
    // Binding reaches `?` in expressions only; one elsewhere (GROUP_CONCAT's SEPARATOR
    // is a bare value) would stay unbound, so such shapes are planned directly.
    if expression_placeholders(&statement) != placeholders {
        return Entry::Uncacheable;
    }
    // Hints are removed from the text a single node gets, so shapes with one are
    // always planned in full.
    let positions = placeholder_positions(digest, &src.tokens);
    let point = if src.tokens.iter().any(|t| t.kind == TokenKind::Hint) {
        None
    } else {
        PointRoute::of(&statement, &positions)
    };
    Entry::Template(Arc::new(Template {
        positions,
        statement,
        placeholders,
        point,
    }))
}
