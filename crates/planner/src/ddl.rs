//! DDL planning: where a schema change runs and what the catalog records afterwards.
//!
//! CREATE TABLE gets its distribution from, in order: a `SHARD BY` clause (HotDB syntax,
//! see `strata_sql::ddl`; the clause is removed from the text sent to data nodes), a
//! declaration in the configuration ([`CatalogView::declared_table`]), or the logical
//! database's default nodes: one node makes a vertical table; several make an
//! AUTO_CRC32 table sharded on the first column (in primary key order, else the first
//! unique key's) that every PRIMARY/UNIQUE key contains; without keys, the first integer
//! column, else the first CHAR/VARCHAR column, else the first column whose type can be a
//! sharding key; a table with no such column is vertical on the first default node.
//! Multi-node tables with an AUTO_INCREMENT column use the global sequence; single-node
//! tables keep MySQL's own.
//!
//! Each data node enforces a unique key over its own rows only, so on a table spread over
//! several nodes every PRIMARY KEY and UNIQUE key (CREATE TABLE, ALTER TABLE, CREATE
//! UNIQUE INDEX) must contain the sharding column (a child's joining column); others are
//! refused with MySQL's error 1503.
//!
//! ALTER/TRUNCATE TABLE, CREATE/DROP INDEX run on every node of the table; changes to the
//! sharding column (drop, rename, a type that canonicalizes differently) are refused.
//! DROP TABLE and RENAME TABLE of several tables send each node the tables it holds.

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, CreateTable, CreateTableLikeKind,
    CreateTableOptions, Expr, IndexColumn, ObjectName, ObjectType, RenameTableNameKind, SqlOption,
    Statement, TableConstraint,
};
use strata_catalog::sharding::{Distribution, KeyType, ShardingFunction, ShardingRule};
use strata_catalog::unique_keys::violating_key;
use strata_catalog::DataNodeId;
use strata_catalog::UniqueKey;
use strata_mysql::Charset;
use strata_sql::ddl::{strip_shard_clause, ShardClause};

use crate::catalog_view::{CatalogView, TableInfo};
use crate::context::PlanContext;
use crate::error::PlanError;
use crate::exprs::function_name;
use crate::insert::fan_out;
use crate::keys::{key_type_of, Placement};
use crate::literal::expr_literal;
use crate::plan::{DdlUndo, NodeStatement, Plan, Reply, Write, WriteKind};
use crate::scope::Resolver;
use crate::source::Source;
use crate::Planned;

pub use changes::CatalogChange;

/// A DDL plan: what runs where, and what to record when it succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct DdlPlan {
    /// What runs where.
    pub plan: Plan,
    /// Catalog changes, applied in order after every node succeeded.
    pub changes: Vec<CatalogChange>,
}

/// Plans a DDL statement.
pub fn plan_ddl(
    sql: &str,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<DdlPlan, PlanError> {
    let planned = crate::plan_statement(sql, ctx, catalog)?;
    Ok(DdlPlan {
        plan: planned.plan,
        changes: planned.catalog_changes,
    })
}

/// Plans CREATE TABLE text with a `SHARD BY` clause (which sqlparser cannot parse);
/// None when the statement has no clause.
pub(crate) fn plan_sharded_create(
    src: &Source<'_>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Option<Planned>, PlanError> {
    let text = src.forward_text(ctx.params);
    let Some(stripped) = strip_shard_clause(&text).map_err(shard_clause_error)? else {
        return Ok(None);
    };
    // Parsed as any statement is, with what only the data nodes read masked.
    let stmt = Source::new(&stripped.create_sql)?.parse()?;
    let Statement::CreateTable(ct) = stmt else {
        return Err(PlanError::Parse("SHARD BY outside CREATE TABLE".into()));
    };
    plan_create(
        &ct,
        stripped.create_sql,
        Some(&stripped.clause),
        ctx,
        catalog,
    )
    .map(Some)
}

/// A SHARD BY syntax error in the planner's words.
fn shard_clause_error(e: strata_sql::SqlError) -> PlanError {
    match e {
        strata_sql::SqlError::Syntax {
            near,
            line,
            expected,
        } => PlanError::Parse(format!(
            "SHARD BY clause: expected {expected} near '{near}' at line {line}"
        )),
        other => PlanError::Parse(other.to_string()),
    }
}

/// Plans a parsed DDL statement (anything that is not a query or DML).
pub(crate) fn plan_ddl_statement(
    src: &Source<'_>,
    stmt: Statement,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let resolver = Resolver::new(ctx, catalog);
    let text = src.forward_text(ctx.params).into_owned();
    let plain = |plan| Planned {
        plan,
        insert_id: None,
        strata_numbers: false,
        catalog_changes: Vec::new(),
        notes: Vec::new(),
    };
    match &stmt {
        Statement::CreateTable(ct) => plan_create(ct, text, None, ctx, catalog),
        Statement::AlterTable {
            name, operations, ..
        } => {
            let table = resolver.table(name, None)?;
            let mut changes = Vec::new();
            if table.info.unique_keys.is_some() {
                changes.push(forget_keys(&table));
            }
            let (mut db, mut name) = (table.db.clone(), table.name.clone());
            for op in operations {
                check_alter(op, &table)?;
                check_new_keys(&table, &keys_added_by(op))?;
                if let AlterTableOperation::RenameTable { table_name } = op {
                    let new = match table_name {
                        RenameTableNameKind::To(n) | RenameTableNameKind::As(n) => n,
                    };
                    let change = rename_change(&resolver, &table.db, &table.name, new)?;
                    if let CatalogChange::RenameTable {
                        new_db, new_name, ..
                    } = &change
                    {
                        (db, name) = (new_db.clone(), new_name.clone());
                    }
                    changes.push(change);
                }
            }
            if table.placement.nodes().len() > 1
                && !matches!(table.placement, Placement::Global { .. })
            {
                changes.push(CatalogChange::ReadColumnCollations {
                    db,
                    name,
                    fallback: names_other_collation(&text).then(|| vec!["*".to_string()]),
                });
            }
            let renames = operations
                .iter()
                .any(|op| matches!(op, AlterTableOperation::RenameTable { .. }));
            let undo = if renames {
                DdlUndo::Never("the statement renames the table")
            } else {
                DdlUndo::Definition
            };
            let new_keys = guard::checkable_keys(operations);
            Ok(Planned {
                plan: guard::guarded_fan_out(&table, text, &new_keys, undo),
                insert_id: None,
                strata_numbers: false,
                catalog_changes: changes,
                notes: Vec::new(),
            })
        }
        Statement::CreateIndex(ci) => {
            let table = resolver.table(&ci.table_name, None)?;
            let mut new_keys = Vec::new();
            if ci.unique {
                let columns: Vec<String> = ci.columns.iter().map(key_part).collect();
                let name = ci
                    .name
                    .as_ref()
                    .and_then(|n| n.0.last())
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .or_else(|| columns.first().cloned())
                    .unwrap_or_default();
                let key = UniqueKey { name, columns };
                check_new_keys(&table, std::slice::from_ref(&key))?;
                new_keys.push(guard::NewKey::named(key));
            }
            Ok(index_ddl(&table, text, &new_keys))
        }
        Statement::Truncate { table_names, .. } => {
            let mut nodes: Option<Vec<DataNodeId>> = None;
            for t in table_names {
                let table = resolver.table(&t.name, None)?;
                let n = table.placement.nodes();
                match &nodes {
                    Some(existing) if *existing != n => {
                        return Err(PlanError::unsupported(
                            "TRUNCATE of tables on different data nodes",
                        ))
                    }
                    _ => nodes = Some(n),
                }
            }
            let nodes = nodes.ok_or_else(|| PlanError::Parse("TRUNCATE needs a table".into()))?;
            Ok(plain(fan_out(&nodes, text, WriteKind::DdlFanOut)))
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            if_exists,
            names,
            temporary,
            ..
        } if *temporary || temporary::names_any(names, &resolver, catalog) => {
            temporary::plan_drop(&stmt, names, *if_exists, *temporary, &resolver, catalog)
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            if_exists,
            names,
            temporary: false,
            ..
        } => plan_drop_tables(&stmt, names, *if_exists, &resolver, catalog),
        Statement::Drop {
            object_type: ObjectType::Index,
            table: Some(table_name),
            ..
        } => {
            let table = resolver.table(table_name, None)?;
            Ok(index_ddl(&table, text, &[]))
        }
        Statement::RenameTable(pairs) => {
            crate::rename_tables::plan_rename_tables(pairs, &text, &resolver)
        }
        // Views of databases over several nodes are Strata's (`crate::view`); those of
        // a one-node database live on its node, reached when it is the current one.
        Statement::CreateView { .. } => Err(PlanError::unsupported(
            "CREATE VIEW of a database on one data node while another database is current (USE it first)",
        )),
        other => Err(PlanError::unsupported(statement_kind(other))),
    }
}

/// A name for a statement kind, for refusals.
/// CREATE or DROP INDEX: runs on every node of `table` (after checking `new_keys` for
/// duplicates), and the unique keys recorded for it are forgotten (the index may have
/// been one of them).
fn index_ddl(table: &crate::scope::TableRef, text: String, new_keys: &[guard::NewKey]) -> Planned {
    let mut catalog_changes = Vec::new();
    if table.info.unique_keys.is_some() {
        catalog_changes.push(forget_keys(table));
    }
    Planned {
        plan: guard::guarded_fan_out(table, text, new_keys, DdlUndo::Definition),
        insert_id: None,
        strata_numbers: false,
        catalog_changes,
        notes: Vec::new(),
    }
}

fn statement_kind(stmt: &Statement) -> String {
    let text = stmt.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    words.join(" ")
}

/// One node: a route; several: a DDL fan-out with per-node texts.
pub(crate) fn parts_plan(mut parts: Vec<NodeStatement>) -> Plan {
    if parts.len() == 1 {
        let p = parts.remove(0);
        return Plan::route(p.dnid, p.sql, Reply::Ok);
    }
    Plan::Write(Write::new(WriteKind::DdlFanOut, parts))
}

fn rename_change(
    resolver: &Resolver<'_>,
    db: &str,
    name: &str,
    new: &ObjectName,
) -> Result<CatalogChange, PlanError> {
    let (new_db, new_name) = resolver.names(new)?;
    if resolver.catalog.table(&new_db, &new_name).is_some() {
        return Err(PlanError::TableExists(new_name));
    }
    Ok(CatalogChange::RenameTable {
        db: db.to_string(),
        name: name.to_string(),
        new_db,
        new_name,
    })
}

/// DROP TABLE: each node drops the listed tables it holds.
fn plan_drop_tables(
    stmt: &Statement,
    names: &[ObjectName],
    if_exists: bool,
    resolver: &Resolver<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let mut per_node: Vec<(DataNodeId, Vec<ObjectName>)> = Vec::new();
    let mut changes = Vec::new();
    let mut fallback_node = None;
    for name in names {
        let (db, table) = resolver.names(name)?;
        let Some(info) = catalog.table(&db, &table) else {
            if !if_exists && catalog.view(&db, &table).is_some() {
                return Err(PlanError::Statement {
                    code: 1965,
                    sqlstate: "42S02",
                    message: format!("'{db}.{table}' is a view"),
                });
            }
            if if_exists {
                fallback_node = fallback_node.or_else(|| {
                    catalog
                        .database(&db)
                        .and_then(|d| d.data_nodes.first().copied())
                });
                continue;
            }
            return Err(PlanError::UnknownDropTable { db, table });
        };
        let placement = Placement::of(&db, &info, catalog)?;
        for n in placement.nodes() {
            match per_node.iter_mut().find(|(d, _)| *d == n) {
                Some((_, list)) => list.push(name.clone()),
                None => per_node.push((n, vec![name.clone()])),
            }
        }
        changes.push(CatalogChange::DropTable { db, name: table });
    }
    per_node.sort_by_key(|(d, _)| *d);
    let mut parts: Vec<NodeStatement> = per_node
        .into_iter()
        .map(|(dnid, list)| {
            let mut s = stmt.clone();
            if let Statement::Drop { names, .. } = &mut s {
                *names = list;
            }
            NodeStatement {
                dnid,
                sql: s.to_string(),
            }
        })
        .collect();
    if parts.is_empty() {
        // IF EXISTS of unknown tables only: one node answers with the warnings.
        let dnid = fallback_node
            .or(resolver.home)
            .ok_or(PlanError::NoDatabase)?;
        parts.push(NodeStatement {
            dnid,
            sql: stmt.to_string(),
        });
    }
    Ok(Planned {
        plan: parts_plan(parts),
        insert_id: None,
        strata_numbers: false,
        catalog_changes: changes,
        notes: Vec::new(),
    })
}

/// Refuses ALTER TABLE operations that change the sharding column.
fn check_alter(op: &AlterTableOperation, table: &crate::scope::TableRef) -> Result<(), PlanError> {
    let Placement::Sharded {
        column, key_type, ..
    } = &table.placement
    else {
        return Ok(());
    };
    let is_key = |name: &str| name.eq_ignore_ascii_case(column);
    let refuse = |what: &str| {
        Err(PlanError::unsupported(format!(
            "{what} the sharding column {}.{}",
            table.name, column
        )))
    };
    match op {
        AlterTableOperation::DropColumn { column_names, .. }
            if column_names.iter().any(|c| is_key(&c.value)) =>
        {
            refuse("dropping")
        }
        AlterTableOperation::RenameColumn {
            old_column_name, ..
        } if is_key(&old_column_name.value) => refuse("renaming"),
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            ..
        } if is_key(&old_name.value) => {
            if !is_key(&new_name.value) {
                return refuse("renaming");
            }
            same_key_type(data_type, options, key_type, table, column)
        }
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            ..
        } if is_key(&col_name.value) => same_key_type(data_type, options, key_type, table, column),
        _ => Ok(()),
    }
}

/// CREATE TABLE: the distribution, the text for each node and the metadata to record.
pub(crate) fn plan_create(
    ct: &CreateTable,
    create_sql: String,
    clause: Option<&ShardClause>,
    ctx: &PlanContext<'_>,
    catalog: &dyn CatalogView,
) -> Result<Planned, PlanError> {
    let resolver = Resolver::new(ctx, catalog);
    if ct.temporary {
        return temporary::plan_create(ct, create_sql, &resolver, ctx, catalog);
    }
    let (db, name) = resolver.names(&ct.name)?;
    let dbinfo = catalog
        .database(&db)
        .ok_or_else(|| PlanError::UnknownDatabase(db.clone()))?;
    if let Some(existing) = catalog.table(&db, &name) {
        if ct.or_replace {
            // The new table's nodes may differ from the old one's: a drop and a create
            // on different node sets that MariaDB runs as one statement.
            return Err(PlanError::unsupported(
                "CREATE OR REPLACE TABLE of an existing table in a database over several data nodes (DROP TABLE it first)",
            ));
        }
        if ct.if_not_exists {
            let placement = Placement::of(&db, &existing, catalog)?;
            return Ok(Planned {
                plan: fan_out(&placement.nodes(), create_sql, WriteKind::DdlFanOut),
                insert_id: None,
                strata_numbers: false,
                catalog_changes: Vec::new(),
                notes: Vec::new(),
            });
        }
        return Err(PlanError::TableExists(name));
    }
    if catalog.view(&db, &name).is_some() {
        return Err(PlanError::TableExists(name));
    }
    let columns = ColumnSet::of(ct);
    let like = match &ct.like {
        Some(CreateTableLikeKind::Plain(l) | CreateTableLikeKind::Parenthesized(l)) => {
            Some(resolver.table(&l.name, None)?)
        }
        None => None,
    };
    let mut notes = Vec::new();
    // A sequence (`SEQUENCE=1`) lives whole on one node, as CREATE SEQUENCE puts it.
    let sequence = crate::sequence::creates_sequence_table(&create_sql);
    let distribution = match clause {
        None if sequence && like.is_none() => {
            let first =
                dbinfo.default_data_nodes.first().copied().ok_or_else(|| {
                    PlanError::data_nodes("the database has no default data node")
                })?;
            Distribution::Vertical { dnid: first }
        }
        Some(c) => clause_distribution(
            c,
            &columns,
            &db,
            &dbinfo.data_nodes,
            &dbinfo.default_data_nodes,
            catalog,
        )?,
        None => match (catalog.declared_table(&db, &name), &like) {
            (Some(Distribution::Sharded { column, rule, .. }), _) => {
                let def = key_column(&columns, &column)?;
                sharded(def.name.value.clone(), columns.key_type(def)?, rule)?
            }
            (Some(d), _) => d,
            (None, Some(source)) => source.info.distribution.clone(),
            // CREATE TABLE ... SELECT without a distribution: the whole table on the
            // first default node, where MariaDB itself derives its columns and fills it
            // (over copies of what its SELECT reads elsewhere).
            (None, None) if ct.query.is_some() => {
                let first = dbinfo.default_data_nodes.first().copied().ok_or_else(|| {
                    PlanError::data_nodes("the database has no default data node")
                })?;
                Distribution::Vertical { dnid: first }
            }
            (None, None) => {
                let (distribution, note) =
                    default_distribution(&name, &columns, &dbinfo.default_data_nodes)?;
                notes.extend(note);
                distribution
            }
        },
    };
    if sequence && !matches!(distribution, Distribution::Vertical { .. }) {
        return Err(PlanError::unsupported(
            "a sequence (SEQUENCE=1) on several data nodes",
        ));
    }
    let mut info = TableInfo::new(distribution);
    info.sequence = sequence;
    if let Some(source) = &like {
        // The copy's columns and keys are its source's; its nodes and age are its own.
        info = TableInfo {
            distribution: info.distribution,
            data_nodes: info.data_nodes,
            created_at_ms: info.created_at_ms,
            ..TableInfo::clone(&source.info)
        };
    }
    if like.is_none() {
        info.other_collation_columns = other_collation_columns(ct, &create_sql);
        info.columns = columns.defs.iter().map(|c| c.name.value.clone()).collect();
        info.now_default_columns = columns
            .defs
            .iter()
            .filter(|c| {
                c.options
                    .iter()
                    .any(|o| matches!(&o.option, ColumnOption::Default(e) if is_now(e)))
            })
            .map(|c| c.name.value.clone())
            .collect();
    }
    if like.is_none() {
        info.unique_keys = Some(columns.keys.clone());
    }
    let placement = Placement::of(&db, &info, catalog)?;
    // A LIKE copy has its source's keys (unknown for tables recorded before keys were).
    check_keys(
        &name,
        &placement,
        info.unique_keys.as_deref().unwrap_or_default(),
    )?;
    if let Placement::Sharded { column, .. } = &placement {
        if like.is_none() {
            let def = key_column(&columns, column)?;
            info.shard_key_default = def.options.iter().find_map(|o| match &o.option {
                ColumnOption::Default(e) => expr_literal(e),
                _ => None,
            });
        }
    }
    let nodes = placement.nodes();
    // A SELECT reading rows off the new table's one node runs there over copies.
    let mut materialized = None;
    if let Some(query) = &ct.query {
        if let Err(refusal) = select_on_one_node(query, &nodes, &resolver) {
            let [node] = nodes[..] else {
                return Err(refusal);
            };
            let plan = crate::materialize::create_table_select(
                &create_sql,
                query,
                node,
                false,
                ctx,
                catalog,
            )
            .ok_or(refusal)?;
            materialized = Some(plan);
        }
    }
    if like.is_none() {
        info.auto_increment_column = if nodes.len() > 1 {
            columns
                .defs
                .iter()
                .find(|c| c.options.iter().any(|o| is_auto_increment(&o.option)))
                .map(|c| c.name.value.clone())
        } else {
            None
        };
        // Values come from Strata's global sequence, not from each group's own count.
        if let Some(column) = &info.auto_increment_column {
            if auto_increment_per_group(ct, column) && !explicit_innodb(ct) {
                return Err(PlanError::unsupported(
                    "an AUTO_INCREMENT column that is not the first part of its key (numbered per group by MyISAM and Aria) in a table over several data nodes",
                ));
            }
        }
    }
    for n in &nodes {
        if !dbinfo.data_nodes.contains(n) {
            return Err(PlanError::data_nodes(format!(
                "data node {n} is not a data node of database {db}"
            )));
        }
    }
    let mut changes = Vec::new();
    // Merges read several nodes' rows of sharded tables only (a global table's rows are
    // read from one node).
    if nodes.len() > 1 && !matches!(placement, Placement::Global { .. }) {
        changes.push(CatalogChange::ReadColumnCollations {
            db: db.clone(),
            name: name.clone(),
            fallback: None,
        });
    }
    let (db_name, table_name) = (db.clone(), name.clone());
    changes.insert(
        0,
        CatalogChange::CreateTable {
            db,
            name,
            table: Box::new(info),
        },
    );
    let plan = match materialized {
        Some(m) => Plan::Materialize(m),
        None => guard::guarded_create(
            fan_out(&nodes, create_sql, WriteKind::DdlFanOut),
            ct,
            &db_name,
            &table_name,
        ),
    };
    Ok(Planned {
        plan,
        insert_id: None,
        strata_numbers: false,
        catalog_changes: changes,
        notes,
    })
}

/// The options after a CREATE TABLE's column list, whichever way they were written.
fn table_options(ct: &CreateTable) -> &[SqlOption] {
    match &ct.table_options {
        CreateTableOptions::Plain(o)
        | CreateTableOptions::With(o)
        | CreateTableOptions::Options(o)
        | CreateTableOptions::TableProperties(o) => o,
        CreateTableOptions::None => &[],
    }
}

/// ENGINE=InnoDB given: its nodes refuse a per-group AUTO_INCREMENT (1075) themselves.
fn explicit_innodb(ct: &CreateTable) -> bool {
    table_options(ct).iter().any(|o| {
        matches!(o, SqlOption::NamedParenthesizedList(list)
            if list.key.value.eq_ignore_ascii_case("ENGINE")
                && list.name.as_ref().is_some_and(|n| n.value.eq_ignore_ascii_case("InnoDB")))
    })
}

fn is_auto_increment(o: &ColumnOption) -> bool {
    matches!(o, ColumnOption::DialectSpecific(tokens)
        if tokens.iter().any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")))
}

fn is_now(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => matches!(
            function_name(f).as_str(),
            "NOW" | "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP"
        ),
        _ => false,
    }
}

/// The columns and keys of a CREATE TABLE.
struct ColumnSet<'c> {
    defs: &'c [ColumnDef],
    /// PRIMARY KEY and UNIQUE keys, column-level ones first.
    keys: Vec<UniqueKey>,
    table_collation: Option<String>,
}

impl<'c> ColumnSet<'c> {
    fn of(ct: &'c CreateTable) -> ColumnSet<'c> {
        let mut keys: Vec<UniqueKey> = ct
            .columns
            .iter()
            .flat_map(|c| {
                c.options.iter().filter_map(|o| match &o.option {
                    ColumnOption::Unique { is_primary, .. } => {
                        Some(column_option_key(&c.name.value, *is_primary))
                    }
                    _ => None,
                })
            })
            .collect();
        keys.extend(ct.constraints.iter().filter_map(constraint_key));
        let options = table_options(ct);
        let mut collation = None;
        let mut charset = None;
        for o in options {
            if let SqlOption::KeyValue { key, value } = o {
                let k = key.value.to_ascii_uppercase();
                let v = value
                    .to_string()
                    .trim_matches(['\'', '"', '`'])
                    .to_ascii_lowercase();
                if k.contains("COLLATE") {
                    collation = Some(v);
                } else if k.contains("CHARSET") || k.contains("CHARACTER") {
                    charset = Some(v);
                }
            }
        }
        let table_collation = collation.or_else(|| charset.map(|c| default_collation(&c)));
        ColumnSet {
            defs: &ct.columns,
            keys,
            table_collation,
        }
    }

    fn find(&self, name: &str) -> Option<&'c ColumnDef> {
        self.defs
            .iter()
            .find(|c| c.name.value.eq_ignore_ascii_case(name))
    }

    /// The key type of a column.
    fn key_type(&self, def: &ColumnDef) -> Result<KeyType, PlanError> {
        let (type_text, collation) =
            key_column_type(&def.data_type, def.options.iter().map(|o| &o.option));
        key_type_of(
            &type_text,
            collation.as_deref(),
            self.table_collation.as_deref(),
        )
    }
}

/// The string columns of a CREATE TABLE whose collation merges cannot reproduce: those
/// declaring such a character set or collation, or all (`*`) when the table's options
/// (after the column list) do.
fn other_collation_columns(ct: &CreateTable, create_sql: &str) -> Vec<String> {
    let table_options = create_sql.rfind(')').map_or("", |i| &create_sql[i + 1..]);
    if names_other_collation(table_options) {
        return vec!["*".into()];
    }
    ct.columns
        .iter()
        .filter(|c| names_other_collation(&c.to_string()))
        .map(|c| c.name.value.to_lowercase())
        .collect()
}

/// True when a CREATE/ALTER TABLE text names a character set or collation the merge
/// cannot reproduce: it compares strings as utf8mb4_general_ci (ASCII and utf8(mb3)
/// general_ci agree with it), or bytewise when the column definition carries the BINARY
/// flag (`binary` and every `*_bin` collation) — column definitions carry no other trace
/// of a column's collation.
fn names_other_collation(sql: &str) -> bool {
    let tokens: Vec<&str> = strata_sql::code_tokens(sql)
        .filter(|t| t.kind != strata_sql::TokenKind::Punct || t.text(sql) != "=")
        .map(|t| t.text(sql))
        .collect();
    let is = |i: usize, kw: &str| tokens.get(i).is_some_and(|w| w.eq_ignore_ascii_case(kw));
    (0..tokens.len()).any(|i| {
        let value_at = if is(i, "COLLATE") || is(i, "CHARSET") {
            i + 1
        } else if is(i, "CHARACTER") && is(i + 1, "SET") {
            i + 2
        } else {
            return false;
        };
        if !is(i, "COLLATE") && is(value_at + 1, "COLLATE") {
            return false; // the collation that follows decides
        }
        tokens.get(value_at).is_some_and(|v| {
            !crate::collations::is_assumed(v.trim_matches(|c| c == '\'' || c == '"' || c == '`'))
        })
    })
}

mod changes;
mod distribution;
mod guard;
mod keys;
mod table_options;
mod temporary;

pub(crate) use table_options::plan_keys_toggle;

use distribution::*;
use keys::*;

#[cfg(test)]
mod collation_tests {
    use super::names_other_collation;

    #[test]
    fn recognises_other_character_sets_and_collations() {
        assert!(!names_other_collation(
            "CREATE TABLE t (a VARCHAR(5)) DEFAULT CHARSET=utf8mb4"
        ));
        assert!(!names_other_collation(
            "CREATE TABLE t (a VARBINARY(5), b BLOB)"
        ));
        assert!(names_other_collation(
            "CREATE TABLE t (a VARCHAR(5) CHARACTER SET latin1)"
        ));
        assert!(!names_other_collation(
            "CREATE TABLE t (a VARCHAR(5) COLLATE utf8mb4_bin)"
        ));
        assert!(!names_other_collation(
            "CREATE TABLE t (a VARCHAR(5) CHARACTER SET latin1 COLLATE latin1_bin)"
        ));
        assert!(names_other_collation(
            "CREATE TABLE t (a VARCHAR(5) COLLATE utf8mb4_unicode_ci)"
        ));
        assert!(names_other_collation(
            "CREATE TABLE t (a TEXT) ENGINE=InnoDB DEFAULT CHARSET = latin1"
        ));
        assert!(names_other_collation(
            "ALTER TABLE t CONVERT TO CHARACTER SET 'latin1'"
        ));
        assert!(!names_other_collation(
            "CREATE TABLE t (charset_name VARCHAR(5))"
        ));
    }
}
