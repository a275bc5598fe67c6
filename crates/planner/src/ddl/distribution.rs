//! A new table's distribution: from its SHARD BY clause or the database's defaults; and
//! whether the rows of its CREATE TABLE ... SELECT are all on its node.

use super::*;

/// The default collation of a character set (a guessed name for charsets Strata does
/// not implement, so the error names something recognizable).
pub(super) fn default_collation(charset: &str) -> String {
    match Charset::from_name(charset) {
        Some(cs) => cs.default_collation().name().into(),
        None if charset.eq_ignore_ascii_case("gbk") => "gbk_chinese_ci".into(),
        None => format!("{charset}_general_ci"),
    }
}

/// The distribution a `SHARD BY` clause asks for.
pub(super) fn clause_distribution(
    clause: &ShardClause,
    columns: &ColumnSet<'_>,
    db: &str,
    db_nodes: &[DataNodeId],
    default_nodes: &[DataNodeId],
    catalog: &dyn CatalogView,
) -> Result<Distribution, PlanError> {
    let key_type_for = |column: &str| -> Result<KeyType, PlanError> {
        columns.key_type(key_column(columns, column)?)
    };
    let check_nodes = |nodes: &[DataNodeId]| -> Result<(), PlanError> {
        match nodes.iter().find(|n| !db_nodes.contains(n)) {
            Some(n) => Err(PlanError::data_nodes(format!(
                "data node {n} is not a data node of database {db}"
            ))),
            None => Ok(()),
        }
    };
    // A named function or rule may be narrowed to the nodes the clause lists; all of them
    // must be the database's.
    let by_rule = |rule: ShardingRule, column: &str, listed: Option<&[u32]>| {
        let listed = listed.map(DataNodeId::from_numbers);
        check_rule_nodes(&rule, listed.as_deref())?;
        check_nodes(&rule.data_nodes)?;
        sharded(
            canonical_column(columns, column),
            key_type_for(column)?,
            rule,
        )
    };
    match clause {
        ShardClause::FunctionType {
            function,
            column,
            data_nodes,
        } => {
            let f = match function.to_ascii_lowercase().as_str() {
                "auto_crc32" => ShardingFunction::AutoCrc32,
                "auto_mod" => ShardingFunction::AutoMod,
                other => {
                    return Err(PlanError::Distribution {
                        code: 10070,
                        message: format!("function type '{other}' is not auto_crc32 or auto_mod"),
                    })
                }
            };
            let nodes = data_nodes
                .as_deref()
                .map_or_else(|| default_nodes.to_vec(), DataNodeId::from_numbers);
            if nodes.is_empty() {
                return Err(PlanError::data_nodes("missing data node list"));
            }
            check_nodes(&nodes)?;
            sharded(
                canonical_column(columns, column),
                key_type_for(column)?,
                auto_rule(f, nodes)?,
            )
        }
        ShardClause::Function {
            name,
            column,
            data_nodes,
            ..
        } => {
            let rule = catalog.sharding_function(name).ok_or_else(|| {
                PlanError::distribution_conflict(format!("unknown sharding function '{name}'"))
            })?;
            by_rule(rule, column, data_nodes.as_deref())
        }
        ShardClause::Rule {
            name,
            column,
            data_nodes,
            ..
        } => {
            let named = catalog.sharding_rule(name).ok_or_else(|| {
                PlanError::distribution_conflict(format!("unknown sharding rule '{name}'"))
            })?;
            let column = column.clone().or(named.column.clone()).ok_or_else(|| {
                PlanError::distribution_conflict(format!(
                    "sharding rule '{name}' names no column: add USING COLUMN"
                ))
            })?;
            by_rule(named.rule, &column, data_nodes.as_deref())
        }
        ShardClause::Global { data_nodes } => {
            let nodes = data_nodes
                .as_deref()
                .map_or_else(|| db_nodes.to_vec(), DataNodeId::from_numbers);
            check_nodes(&nodes)?;
            Ok(Distribution::Global { data_nodes: nodes })
        }
        ShardClause::Vertical { data_node } => {
            let dnid = DataNodeId::new(*data_node);
            check_nodes(&[dnid])?;
            Ok(Distribution::Vertical { dnid })
        }
        ShardClause::Child {
            parent,
            parent_column,
            column,
        } => {
            let parent_info = catalog
                .table(db, parent)
                .ok_or_else(|| PlanError::UnknownTable {
                    db: db.to_string(),
                    table: parent.clone(),
                })?;
            let placement = Placement::of(db, &parent_info, catalog)?;
            let parent_key = match (&parent_info.distribution, &placement) {
                (Distribution::Sharded { column, .. }, _) => column.clone(),
                (Distribution::Child { column, .. }, _) => column.clone(),
                _ => {
                    return Err(PlanError::distribution_conflict(format!(
                        "parent table '{parent}' is not sharded"
                    )))
                }
            };
            if !parent_key.eq_ignore_ascii_case(parent_column) {
                return Err(PlanError::distribution_conflict(format!(
                    "'{parent_column}' is not the sharding column of '{parent}' ('{parent_key}')"
                )));
            }
            key_column(columns, column)?;
            Ok(Distribution::Child {
                parent: parent.clone(),
                parent_column: parent_key,
                column: canonical_column(columns, column),
            })
        }
    }
}

/// The column's name as declared.
/// The definition of sharding column `column` (MySQL's 1072 when the table has none).
pub(super) fn key_column<'c>(
    columns: &'c ColumnSet<'_>,
    column: &str,
) -> Result<&'c ColumnDef, PlanError> {
    columns.find(column).ok_or_else(|| PlanError::Distribution {
        code: 1072,
        message: format!("Key column '{column}' doesn't exist in table"),
    })
}

pub(super) fn canonical_column(columns: &ColumnSet<'_>, column: &str) -> String {
    columns
        .find(column)
        .map_or_else(|| column.to_string(), |c| c.name.value.clone())
}

pub(super) fn check_rule_nodes(
    rule: &ShardingRule,
    listed: Option<&[DataNodeId]>,
) -> Result<(), PlanError> {
    if let Some(listed) = listed {
        let mut a = rule.data_nodes.clone();
        a.sort_unstable();
        if a != listed {
            return Err(PlanError::data_nodes(format!(
                "ON DATANODE '{}' does not match the rule's data nodes",
                listed
                    .iter()
                    .map(DataNodeId::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )));
        }
    }
    Ok(())
}

/// An automatic rule over `nodes` (AUTO_CRC32 routes NULL keys to the first node, as
/// HotDB does; AUTO_MOD refuses them).
pub(super) fn auto_rule(
    function: ShardingFunction,
    nodes: Vec<DataNodeId>,
) -> Result<ShardingRule, PlanError> {
    match function {
        ShardingFunction::AutoCrc32 => ShardingRule::auto_crc32(nodes),
        _ => ShardingRule::auto_mod(nodes),
    }
    .map_err(PlanError::from)
}

/// A sharded distribution whose rule can route keys of the column's type.
pub(super) fn sharded(
    column: String,
    key_type: KeyType,
    rule: ShardingRule,
) -> Result<Distribution, PlanError> {
    rule.check_key_type(&key_type)?;
    Ok(Distribution::Sharded {
        column,
        key_type,
        rule,
    })
}

/// The distribution of a plain CREATE TABLE from the database's default nodes, with a
/// note when the table stays on one node although several were available. With unique
/// keys, the sharding column is one that every key contains (in the primary key's order,
/// else the first unique key's), so each node can enforce them; when no column is in all
/// of them the table is vertical on the first default node.
pub(super) fn default_distribution(
    table: &str,
    columns: &ColumnSet<'_>,
    default_nodes: &[DataNodeId],
) -> Result<(Distribution, Option<String>), PlanError> {
    match default_nodes {
        [] => Err(PlanError::data_nodes(
            "the database has no default data node",
        )),
        [only] => Ok((Distribution::Vertical { dnid: *only }, None)),
        nodes => {
            let usable = |name: &str| -> Option<(String, KeyType)> {
                let def = columns.find(name)?;
                columns
                    .key_type(def)
                    .ok()
                    .map(|k| (def.name.value.clone(), k))
            };
            let by_type = |want: fn(&KeyType) -> bool| -> Option<(String, KeyType)> {
                columns.defs.iter().find_map(|d| {
                    let k = columns.key_type(d).ok()?;
                    want(&k).then(|| (d.name.value.clone(), k))
                })
            };
            let first_key = columns
                .keys
                .iter()
                .find(|k| k.is_primary())
                .or(columns.keys.first());
            let chosen = match first_key {
                Some(key) => key
                    .columns
                    .iter()
                    .filter(|c| columns.keys.iter().all(|k| k.contains(c)))
                    .find_map(|c| usable(c)),
                None => by_type(|k| matches!(k, KeyType::Integer { .. }))
                    .or_else(|| by_type(|k| matches!(k, KeyType::String { .. })))
                    .or_else(|| by_type(|_| true)),
            };
            let vertical = Distribution::Vertical { dnid: nodes[0] };
            match chosen {
                Some((column, key_type)) => Ok((
                    sharded(
                        column,
                        key_type,
                        auto_rule(ShardingFunction::AutoCrc32, nodes.to_vec())?,
                    )?,
                    None,
                )),
                // Spreading rows by a column outside a unique key would let each node
                // accept a duplicate of another node's key: keep the table whole.
                None if first_key.is_some() => {
                    let keys: Vec<String> = columns.keys.iter().map(UniqueKey::describe).collect();
                    let note = format!(
                        "table '{table}' is placed on data node {} only: no column usable as a sharding key is part of every unique key ({}); use SHARD BY to spread it",
                        nodes[0],
                        keys.join(", ")
                    );
                    Ok((vertical, Some(note)))
                }
                // No column can be a sharding key (TEXT, FLOAT...): keep the table whole
                // on the first default node.
                None => Ok((vertical, None)),
            }
        }
    }
}

/// CREATE TABLE ... SELECT runs as sent on the new table's node when the table has one
/// node and its SELECT finds every row it reads there (a SELECT of a table sharded over
/// several nodes would copy only that node's rows); Err otherwise (the caller then runs
/// it over copies, or refuses it for a table on several nodes).
pub(super) fn select_on_one_node(
    query: &sqlparser::ast::Query,
    nodes: &[DataNodeId],
    resolver: &Resolver<'_>,
) -> Result<(), PlanError> {
    let refuse = || PlanError::unsupported("CREATE TABLE ... SELECT across data nodes");
    let [node] = nodes else {
        return Err(PlanError::unsupported(
            "CREATE TABLE ... SELECT of a table on several data nodes (create the table, then INSERT ... SELECT)",
        ));
    };
    let only: crate::keys::NodeSet = std::iter::once(*node).collect();
    match crate::scope::query_scope(query, resolver)?.route(Some(*node), Some(&only)) {
        Ok(crate::scope::Route::Single(n)) if n == *node => Ok(()),
        _ => Err(refuse()),
    }
}
