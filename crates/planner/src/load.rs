//! `LOAD DATA LOCAL INFILE` planning: which data nodes load the client's rows, how a
//! row's sharding key is found among its fields, and what Strata must write into each
//! row (global AUTO_INCREMENT values) before a data node loads it.
//!
//! Each data node runs the statement itself (`LOAD DATA LOCAL INFILE` with the same
//! CHARACTER SET, FIELDS, LINES, column list and SET clauses) over the rows Strata sends
//! it, so field parsing, conversions, defaults and MariaDB's warnings are the data
//! node's own. Strata only splits the file into rows ([`strata_sql::load_data::rows`]),
//! reads the sharding key of each, skips `IGNORE n LINES`, and puts the global
//! AUTO_INCREMENT value into rows that need one. What it cannot place correctly is
//! refused: a sharding key or AUTO_INCREMENT column computed by SET, fixed-width rows,
//! character sets whose multi-byte characters may contain a terminator byte.

use strata_catalog::sharding::{KeyLiteral, KeyType, ShardingRule};
use strata_catalog::DataNodeId;
use strata_sql::load_data::{FieldValue, LoadData};

use crate::catalog_view::CatalogView;
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::keys::{canonical, route, Placement};

/// Character sets whose multi-byte characters never contain an ASCII byte, so the
/// terminators found by byte comparison are the ones MariaDB finds.
const SAFE_CHARSETS: &[&str] = &["utf8", "utf8mb3", "utf8mb4", "latin1", "ascii", "binary"];

/// Where the rows of a LOAD DATA go and how each is prepared.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    /// Logical database of the table.
    pub db: String,
    /// The table.
    pub table: String,
    /// Every data node that may receive rows, in DNID order.
    pub nodes: Vec<DataNodeId>,
    /// The statement each data node runs (without `IGNORE n LINES`; with the
    /// AUTO_INCREMENT column first in the column list when Strata adds its values).
    pub node_sql: String,
    /// Lines of the file to skip before the first row.
    pub ignore_lines: u64,
    /// Every row goes to every node (a global table).
    pub replicated: bool,
    /// The global AUTO_INCREMENT column Strata fills, if any.
    pub auto_increment: Option<AutoIncrement>,
    key: Option<RowKey>,
}

/// How a row's sharding key is read.
#[derive(Debug, Clone, PartialEq)]
struct RowKey {
    /// The sharding column.
    column: String,
    /// The field holding the key (None: the column is not loaded; its default routes).
    field: Option<usize>,
    key_type: KeyType,
    rule: ShardingRule,
    default: KeyLiteral,
    /// The file is not in UTF-8: a string key with other than ASCII bytes cannot be
    /// compared under the column's collation here.
    ascii_only: bool,
}

/// The AUTO_INCREMENT column whose values Strata allocates from its global sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoIncrement {
    /// The column.
    pub column: String,
    /// The field holding it; None when the column is not loaded and Strata puts its
    /// value as a new first field of every row.
    pub field: Option<usize>,
    /// `0` asks for a value too (unless NO_AUTO_VALUE_ON_ZERO).
    pub zero_generates: bool,
}

impl AutoIncrement {
    /// The explicit value a field gives (None: the row needs a generated value).
    /// Values that are not unsigned integers are refused.
    pub fn explicit(&self, value: &FieldValue) -> Result<Option<u64>, PlanError> {
        let text = match value {
            FieldValue::Null => return Ok(None),
            FieldValue::Text(t) => t,
        };
        let trimmed = std::str::from_utf8(text).map(str::trim).unwrap_or("\u{0}");
        if trimmed.is_empty() {
            return Ok(None);
        }
        match trimmed.parse::<u64>() {
            Ok(0) if self.zero_generates => Ok(None),
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(PlanError::unsupported(format!(
                "LOAD DATA with an AUTO_INCREMENT value that is not an unsigned integer ('{}')",
                String::from_utf8_lossy(text)
            ))),
        }
    }
}

impl LoadPlan {
    /// The field whose value routes a row, if any (counted in the rows as the data
    /// nodes get them, after Strata's AUTO_INCREMENT field when it adds one).
    pub fn key_field(&self) -> Option<usize> {
        self.key.as_ref().and_then(|k| k.field)
    }

    /// True when the sharding column is the AUTO_INCREMENT column (the row routes by
    /// the value Strata gives it).
    pub fn key_is_auto_increment(&self) -> bool {
        match (&self.key, &self.auto_increment) {
            (Some(k), Some(ai)) => k.column.eq_ignore_ascii_case(&ai.column),
            _ => false,
        }
    }

    /// The data node of a row whose key field has `value` (None: the row lacks the
    /// field; the column's default routes it). Only for plans that are not
    /// replicated; a single-node plan answers its node.
    pub fn node_of(&self, value: Option<&FieldValue>) -> Result<DataNodeId, PlanError> {
        let Some(key) = &self.key else {
            return self
                .nodes
                .first()
                .copied()
                .ok_or_else(|| PlanError::data_nodes("the table has no data node"));
        };
        let literal = match value {
            None => key.default.clone(),
            Some(FieldValue::Null) => KeyLiteral::Null,
            Some(FieldValue::Text(t)) => {
                if key.ascii_only && !t.is_ascii() && matches!(key.key_type, KeyType::String { .. })
                {
                    return Err(PlanError::unsupported(
                        "LOAD DATA of a sharding key with non-ASCII characters from a file that is not in UTF-8",
                    ));
                }
                KeyLiteral::String(t.clone())
            }
        };
        route(
            &key.rule,
            &key.key_type,
            &canonical(&key.key_type, &literal)?,
        )
    }
}

/// A load into a table each data node keeps outside any database (the storage
/// servers' data tables of `mysql`, a `db`.`table` the text names): every row to every
/// one of `nodes`.
pub fn plan_load_everywhere(
    load: &LoadData,
    db: &str,
    nodes: Vec<DataNodeId>,
) -> Result<LoadPlan, PlanError> {
    check_format(load)?;
    Ok(LoadPlan {
        db: db.to_string(),
        table: load.table.clone(),
        nodes,
        node_sql: load.node_statement(None, &[]),
        ignore_lines: load.ignore_lines,
        replicated: true,
        auto_increment: None,
        key: None,
    })
}

/// Plans a `LOAD DATA LOCAL INFILE` into a table of the catalog (a table of a database
/// on one data node that the catalog does not know loads on that node as is).
pub fn plan_load_data(
    load: &LoadData,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<LoadPlan, PlanError> {
    let db = match (&load.db, ctx.db) {
        (Some(db), _) => db.clone(),
        (None, Some(db)) => db.to_string(),
        (None, None) => return Err(PlanError::NoDatabase),
    };
    check_format(load)?;
    let database = catalog
        .database(&db)
        .ok_or_else(|| PlanError::UnknownDatabase(db.clone()))?;
    let mut plan = LoadPlan {
        db: db.clone(),
        table: load.table.clone(),
        nodes: Vec::new(),
        node_sql: load.node_statement(None, &[]),
        ignore_lines: load.ignore_lines,
        replicated: false,
        auto_increment: None,
        key: None,
    };
    let Some(info) = catalog.table(&db, &load.table) else {
        return match database.data_nodes.as_slice() {
            [only] => {
                plan.nodes = vec![*only];
                Ok(plan)
            }
            _ => Err(PlanError::UnknownTable {
                db,
                table: load.table.clone(),
            }),
        };
    };
    if database.data_nodes.len() == 1 {
        // As INSERT there, the data node's own AUTO_INCREMENT serves.
        plan.nodes = database.data_nodes.clone();
        return Ok(plan);
    }
    let columns = &info.columns;
    let needs_columns = |what: &str| {
        if load.targets.is_none() && columns.is_empty() {
            Err(PlanError::unsupported(format!(
                "LOAD DATA without a column list into a table whose columns are unknown ({what})"
            )))
        } else {
            Ok(())
        }
    };
    match Placement::of(&db, &info, catalog)? {
        Placement::Vertical { node } => plan.nodes = vec![node],
        Placement::Global { nodes } => {
            if nodes.len() > 1 {
                if load.set_text.as_deref().is_some_and(|s| s.contains('(')) {
                    return Err(PlanError::unsupported(
                        "LOAD DATA ... SET with a function into a global table (its copies could differ)",
                    ));
                }
                // Time defaults: the same time on every copy, at each column's precision.
                plan.node_sql = crate::nondeterministic::pin_timestamp(ctx, plan.node_sql);
            }
            plan.replicated = true;
            plan.nodes = nodes;
        }
        Placement::Sharded {
            column,
            key_type,
            rule,
        } => {
            if load.sets(&column) {
                return Err(PlanError::unsupported(format!(
                    "LOAD DATA ... SET of the sharding column '{column}'"
                )));
            }
            needs_columns("the sharding column's field")?;
            plan.nodes = rule.data_nodes.clone();
            plan.key = Some(RowKey {
                column: column.clone(),
                field: load.field_of(&column, columns),
                key_type,
                rule,
                default: info.shard_key_default.clone().unwrap_or(KeyLiteral::Null),
                ascii_only: load
                    .charset
                    .as_deref()
                    .is_some_and(|cs| !cs.starts_with("utf8")),
            });
        }
    }
    if let Some(column) = info.auto_increment_column.clone() {
        if load.sets(&column) {
            return Err(PlanError::unsupported(format!(
                "LOAD DATA ... SET of the AUTO_INCREMENT column '{column}'"
            )));
        }
        needs_columns("the AUTO_INCREMENT column's field")?;
        let field = load.field_of(&column, columns);
        if field.is_none() {
            plan.node_sql = load.node_statement(Some(&column), columns);
            // Strata's value becomes the first field: the others move one place.
            plan.key = plan.key.map(|k| RowKey {
                field: if k.column.eq_ignore_ascii_case(&column) {
                    Some(0)
                } else {
                    k.field.map(|f| f + 1)
                },
                ..k
            });
        }
        plan.auto_increment = Some(AutoIncrement {
            column,
            field,
            zero_generates: !ctx.no_auto_value_on_zero,
        });
    }
    Ok(plan)
}

/// Refuses row formats Strata cannot split exactly as MariaDB does.
fn check_format(load: &LoadData) -> Result<(), PlanError> {
    let f = &load.format;
    if f.field_term.is_empty() || f.line_term.is_empty() {
        return Err(PlanError::unsupported(
            "LOAD DATA with an empty FIELDS or LINES TERMINATED BY (fixed-width rows)",
        ));
    }
    if f.enclosed.is_some() && f.enclosed == f.escaped {
        return Err(PlanError::unsupported(
            "LOAD DATA with the same FIELDS ENCLOSED BY and ESCAPED BY character",
        ));
    }
    if let Some(cs) = &load.charset {
        if !SAFE_CHARSETS.contains(&cs.as_str()) {
            return Err(PlanError::unsupported(format!(
                "LOAD DATA ... CHARACTER SET {cs} (only {} are split by Strata)",
                SAFE_CHARSETS.join(", ")
            )));
        }
    }
    Ok(())
}
