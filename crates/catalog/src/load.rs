//! Loading, validating and writing [`Config`]. Validation checks every rule at once and
//! reports all problems, each naming the entry it is about, so a DBA fixes a file in one
//! pass. `Catalog::open` validates again, together with the databases created at runtime.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::config::{
    Config, DataNodeConfig, LogicDbConfig, PoolConfig, RuleConfig, ServerConfig, StorageNodeConfig,
    TableConfig, TableType, UserConfig,
};
use crate::error::CatalogError;
use crate::sharding::ShardingRule;
use crate::DataNodeId;

/// Schemas every MySQL server has; a logical database may not take their names.
const SYSTEM_SCHEMAS: [&str; 4] = ["information_schema", "mysql", "performance_schema", "sys"];

impl Config {
    /// Reads, parses and validates a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, CatalogError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text)
    }

    /// Parses and validates a configuration from TOML text.
    pub fn from_toml(text: &str) -> Result<Config, CatalogError> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration as TOML text that `from_toml` reads back unchanged.
    pub fn to_toml(&self) -> Result<String, CatalogError> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// Checks every rule; the error lists all problems found.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut problems = Vec::new();
        check_server(&self.server, &mut problems);
        check_users(&self.users, &mut problems);
        check_data_nodes(&self.data_nodes, &mut problems);
        let known: HashSet<DataNodeId> = self.data_nodes.iter().map(|d| d.id).collect();
        check_databases(&self.databases, &known, &mut problems);
        for id in self.server.new_database_data_nodes.iter().flatten() {
            if !known.contains(id) {
                problems.push(format!(
                    "server.new_database_data_nodes: data node {id} is not defined"
                ));
            }
        }
        if self
            .server
            .new_database_data_nodes
            .as_ref()
            .is_some_and(Vec::is_empty)
        {
            problems.push(
                "server.new_database_data_nodes is empty (omit it to mean all data nodes)".into(),
            );
        }
        let rules = check_rules(&self.rules, &known, &mut problems);
        check_tables(&self.tables, &self.databases, &rules, &mut problems);
        check_pool(&self.pool, &mut problems);
        check_ha(&self.ha, &mut problems);
        check_cluster(&self.cluster, &mut problems);
        if self.merge.memory_budget < crate::config::MIN_MERGE_MEMORY_BUDGET {
            problems.push(format!(
                "merge.memory_budget {} is below {} bytes",
                self.merge.memory_budget,
                crate::config::MIN_MERGE_MEMORY_BUDGET
            ));
        }
        if self.merge.spill_cap > 0 && self.merge.spill_node_cap < self.merge.spill_cap {
            problems.push(format!(
                "merge.spill_node_cap {} is below merge.spill_cap {}",
                self.merge.spill_node_cap, self.merge.spill_cap
            ));
        }
        if self
            .merge
            .spill_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            problems.push("merge.spill_dir is empty (omit it for data_dir/tmp)".into());
        }
        if let Err(bad) = crate::firewall::parse_firewall(&self.firewall) {
            problems.extend(bad);
        }
        if let Err(bad) = self.security.networks() {
            problems.extend(bad);
        }
        if self.statistics.max_digests == 0 {
            problems.push("statistics.max_digests must be at least 1".into());
        }
        if self.slow_log.keep == 0 {
            problems.push("slow_log.keep must be at least 1".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CatalogError::InvalidConfig { problems })
        }
    }
}

/// Checks a logical database name as MariaDB does: 1 to 64 characters, no NUL, not
/// ending in a space, not MariaDB's `#mysql50#` escape, and not a system schema. Any
/// other character is fine: every SQL text Strata sends quotes the name (see
/// docs/configuration.md), and the storage nodes encode it in their directory names.
pub fn validate_logic_db_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(format!(
            "database name '{name}' must be 1 to 64 characters long"
        ));
    }
    if name.contains('\0') || name.ends_with(' ') {
        return Err(format!(
            "database name '{name}' may not contain NUL or end with a space"
        ));
    }
    if name.starts_with("#mysql50#") {
        // MariaDB refuses it too: the rest would be a raw directory name, which could
        // be another database's.
        return Err(format!(
            "database name '{name}' may not start with '#mysql50#'"
        ));
    }
    if SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return Err(format!(
            "database name '{name}' is reserved for the system schema"
        ));
    }
    Ok(())
}

/// Checks one logical database against the defined data nodes: at least one node, all
/// defined, no repeats, default nodes a non-empty subset.
pub(crate) fn check_logic_db(
    name: &str,
    data_nodes: &[DataNodeId],
    default_data_nodes: Option<&[DataNodeId]>,
    known: &HashSet<DataNodeId>,
    problems: &mut Vec<String>,
) {
    let entry = format!("database '{name}'");
    if let Err(e) = validate_logic_db_name(name) {
        problems.push(e);
    }
    if data_nodes.is_empty() {
        problems.push(format!(
            "{entry}: data_nodes is empty (a database needs at least one data node)"
        ));
    }
    let mut seen = HashSet::new();
    for id in data_nodes {
        if !known.contains(id) {
            problems.push(format!("{entry}: data node {id} is not defined"));
        }
        if !seen.insert(*id) {
            problems.push(format!("{entry}: data node {id} is listed twice"));
        }
    }
    if let Some(defaults) = default_data_nodes {
        if defaults.is_empty() {
            problems.push(format!(
                "{entry}: default_data_nodes is empty (omit it to mean all data nodes)"
            ));
        }
        let mut seen = HashSet::new();
        for id in defaults {
            if !data_nodes.contains(id) {
                problems.push(format!(
                    "{entry}: default data node {id} is not one of its data_nodes"
                ));
            }
            if !seen.insert(*id) {
                problems.push(format!("{entry}: default data node {id} is listed twice"));
            }
        }
    }
}

/// Checks that no name repeats (exactly or differing only in case) and no data node
/// belongs to two databases. `dbs` yields (name, data nodes).
pub(crate) fn check_database_set<'a>(
    dbs: impl Iterator<Item = (&'a str, &'a [DataNodeId])>,
    problems: &mut Vec<String>,
) {
    let mut by_lower: HashMap<String, &str> = HashMap::new();
    let mut owner: HashMap<DataNodeId, &str> = HashMap::new();
    for (name, nodes) in dbs {
        if let Some(prev) = by_lower.insert(name.to_ascii_lowercase(), name) {
            if prev == name {
                problems.push(format!("database '{name}' is defined twice"));
            } else {
                problems.push(format!(
                    "database '{name}' differs only in letter case from database '{prev}'"
                ));
            }
        }
        for id in nodes {
            if let Some(other) = owner.insert(*id, name) {
                if other != name {
                    problems.push(format!(
                        "data node {id} belongs to both database '{other}' and database '{name}' (a data node serves one database)"
                    ));
                }
            }
        }
    }
}

fn check_databases(dbs: &[LogicDbConfig], known: &HashSet<DataNodeId>, problems: &mut Vec<String>) {
    for db in dbs {
        check_logic_db(
            &db.name,
            &db.data_nodes,
            db.default_data_nodes.as_deref(),
            known,
            problems,
        );
    }
    check_database_set(
        dbs.iter()
            .map(|d| (d.name.as_str(), d.data_nodes.as_slice())),
        problems,
    );
}

/// Checks a table name: 1-64 characters, no NUL, not ending with a space (MySQL's rules
/// for names that are also file names on the data nodes).
pub fn validate_table_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(format!(
            "table name '{name}' must be 1 to 64 characters long"
        ));
    }
    if name.contains('\0') || name.ends_with(' ') {
        return Err(format!(
            "table name '{name}' may not contain NUL or end with a space"
        ));
    }
    Ok(())
}

/// Builds a rule from its configuration (without checking data nodes against the file).
pub(crate) fn rule_from_config(rule: &RuleConfig) -> Result<ShardingRule, String> {
    build_rule(
        &rule.function,
        &rule.params,
        rule.data_nodes.clone(),
        rule.null_route,
    )
    .map(|r| r.with_name(rule.name.clone()))
}

/// A rule from its parts; AUTO_CRC32 without a NULL route routes NULL to its first node.
pub(crate) fn build_rule(
    function: &str,
    params: &str,
    data_nodes: Vec<DataNodeId>,
    null_route: Option<DataNodeId>,
) -> Result<ShardingRule, String> {
    let null_route = match null_route {
        None if function.trim().eq_ignore_ascii_case("auto_crc32") => data_nodes.first().copied(),
        other => other,
    };
    ShardingRule::from_spec(function, params, data_nodes, null_route).map_err(|e| e.to_string())
}

/// Checks the named rules; returns the valid ones by name.
fn check_rules(
    rules: &[RuleConfig],
    known: &HashSet<DataNodeId>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, ShardingRule> {
    let mut valid = BTreeMap::new();
    let mut seen = HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        if rule.name.is_empty() {
            problems.push(format!("rule #{}: name is empty", i + 1));
            continue;
        }
        let entry = format!("rule '{}'", rule.name);
        if !seen.insert(rule.name.as_str()) {
            problems.push(format!("{entry} is defined twice"));
            continue;
        }
        match rule_from_config(rule) {
            Ok(built) => {
                let undefined: Vec<String> = built
                    .data_nodes
                    .iter()
                    .filter(|dn| !known.contains(dn))
                    .map(ToString::to_string)
                    .collect();
                if undefined.is_empty() {
                    valid.insert(rule.name.clone(), built);
                } else {
                    problems.push(format!(
                        "{entry}: data node {} is not defined",
                        undefined.join(", ")
                    ));
                }
            }
            Err(e) => problems.push(format!("{entry}: {e}")),
        }
    }
    valid
}

/// Checks the declared tables against their databases and the rules.
fn check_tables(
    tables: &[TableConfig],
    dbs: &[LogicDbConfig],
    rules: &BTreeMap<String, ShardingRule>,
    problems: &mut Vec<String>,
) {
    let mut seen = HashSet::new();
    let declared: HashMap<(&str, &str), &TableConfig> = tables
        .iter()
        .map(|t| ((t.database.as_str(), t.name.as_str()), t))
        .collect();
    for table in tables {
        let entry = format!("table '{}.{}'", table.database, table.name);
        if let Err(e) = validate_table_name(&table.name) {
            problems.push(format!("{entry}: {e}"));
        }
        if !seen.insert((table.database.as_str(), table.name.as_str())) {
            problems.push(format!("{entry} is declared twice"));
            continue;
        }
        let Some(db) = dbs.iter().find(|d| d.name == table.database) else {
            problems.push(format!(
                "{entry}: database '{}' is not defined in this file",
                table.database
            ));
            continue;
        };
        let sharding_fields = [
            ("rule", table.rule.is_some()),
            ("function", table.function.is_some()),
            ("params", table.params.is_some()),
            ("null_route", table.null_route.is_some()),
        ];
        let child_fields = [
            ("parent", table.parent.is_some()),
            ("parent_column", table.parent_column.is_some()),
            ("child_column", table.child_column.is_some()),
        ];
        let column = [("column", table.column.is_some())];
        let data_node = [("data_node", table.data_node.is_some())];
        let data_nodes = [("data_nodes", table.data_nodes.is_some())];
        let inapplicable: Vec<&[(&str, bool)]> = match table.kind {
            TableType::Sharded => vec![&data_node, &child_fields],
            TableType::Global => vec![&sharding_fields, &child_fields, &column, &data_node],
            TableType::Vertical => vec![&sharding_fields, &child_fields, &column, &data_nodes],
            TableType::Child => vec![&sharding_fields, &column, &data_node, &data_nodes],
        };
        for (field, _) in inapplicable.into_iter().flatten().filter(|(_, set)| *set) {
            problems.push(format!(
                "{entry}: '{field}' does not apply to a {} table",
                type_name(table.kind)
            ));
        }
        match table.kind {
            TableType::Sharded => {
                if table.column.as_deref().is_none_or(str::is_empty) {
                    problems.push(format!("{entry}: a sharded table needs 'column'"));
                }
                match declared_rule(table, rules) {
                    Ok(rule) => {
                        for dn in &rule.data_nodes {
                            if !db.data_nodes.contains(dn) {
                                problems.push(format!(
                                    "{entry}: data node {dn} of its rule is not one of database '{}'s data nodes",
                                    db.name
                                ));
                            }
                        }
                    }
                    Err(e) => problems.push(format!("{entry}: {e}")),
                }
            }
            TableType::Global => {
                if let Some(nodes) = &table.data_nodes {
                    let given: HashSet<DataNodeId> = nodes.iter().copied().collect();
                    let all: HashSet<DataNodeId> = db.data_nodes.iter().copied().collect();
                    if given != all {
                        problems.push(format!(
                            "{entry}: a global table is on all of database '{}'s data nodes {:?}",
                            db.name, db.data_nodes
                        ));
                    }
                }
            }
            TableType::Vertical => match table.data_node {
                None => problems.push(format!("{entry}: a vertical table needs 'data_node'")),
                Some(dn) if !db.data_nodes.contains(&dn) => problems.push(format!(
                    "{entry}: data node {dn} is not one of database '{}'s data nodes",
                    db.name
                )),
                Some(_) => {}
            },
            TableType::Child => {
                for (field, set) in child_fields {
                    if !set {
                        problems.push(format!("{entry}: a child table needs '{field}'"));
                    }
                }
                let parent = table
                    .parent
                    .as_deref()
                    .and_then(|p| declared.get(&(table.database.as_str(), p)));
                if let Some(parent) = parent {
                    if parent.kind != TableType::Sharded {
                        problems.push(format!(
                            "{entry}: parent '{}' is a {} table; a parent must be sharded",
                            parent.name,
                            type_name(parent.kind)
                        ));
                    } else if parent.column != table.parent_column {
                        problems.push(format!(
                            "{entry}: parent_column must be the parent's sharding column '{}'",
                            parent.column.as_deref().unwrap_or("")
                        ));
                    }
                }
            }
        }
        if table.auto_increment.as_deref() == Some("") {
            problems.push(format!("{entry}: auto_increment is empty"));
        }
    }
}

fn type_name(kind: TableType) -> &'static str {
    match kind {
        TableType::Sharded => "sharded",
        TableType::Global => "global",
        TableType::Vertical => "vertical",
        TableType::Child => "child",
    }
}

/// The rule of a declared sharded table: a named rule or an inline one.
pub(crate) fn declared_rule(
    table: &TableConfig,
    rules: &BTreeMap<String, ShardingRule>,
) -> Result<ShardingRule, String> {
    match (&table.rule, &table.function) {
        (Some(_), Some(_)) => Err("give either 'rule' or 'function', not both".into()),
        (Some(name), None) => {
            if table.data_nodes.is_some() || table.params.is_some() || table.null_route.is_some() {
                return Err(format!(
                    "'data_nodes', 'params' and 'null_route' belong to rule '{name}', not to the table"
                ));
            }
            rules
                .get(name)
                .cloned()
                .ok_or_else(|| format!("rule '{name}' is not defined (or not valid)"))
        }
        (None, Some(function)) => build_rule(
            function,
            table.params.as_deref().unwrap_or(""),
            table.data_nodes.clone().unwrap_or_default(),
            table.null_route,
        ),
        (None, None) => Err("a sharded table needs 'rule' or 'function'".into()),
    }
}

fn check_addr(what: &str, addr: &str, problems: &mut Vec<String>) {
    let port_ok = addr
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !port_ok {
        problems.push(format!("server.{what} '{addr}' is not HOST:PORT"));
    }
}

fn check_server(server: &ServerConfig, problems: &mut Vec<String>) {
    let addrs = [
        ("service_addr", &server.service_addr),
        ("admin_addr", &server.admin_addr),
        ("http_addr", &server.http_addr),
    ];
    for (i, (what, addr)) in addrs.iter().enumerate() {
        check_addr(what, addr, problems);
        for (other, other_addr) in &addrs[..i] {
            // Port 0 asks the OS for a free port, so equal ":0" addresses never clash.
            if addr == other_addr && !addr.ends_with(":0") {
                problems.push(format!(
                    "server.{what} and server.{other} are both '{addr}'"
                ));
            }
        }
    }
    if server.data_dir.as_os_str().is_empty() {
        problems.push("server.data_dir is empty".into());
    }
    if !(1024..=1 << 30).contains(&server.max_allowed_packet) {
        problems.push(format!(
            "server.max_allowed_packet {} is outside 1024..=1073741824",
            server.max_allowed_packet
        ));
    }
    if server.max_connections == 0 {
        problems.push("server.max_connections must be at least 1".into());
    }
    if !(1..=65535).contains(&server.node_id) {
        problems.push(format!(
            "server.node_id {} is outside 1..=65535",
            server.node_id
        ));
    }
    if server.worker_threads > 1024 {
        problems.push(format!(
            "server.worker_threads {} is outside 0..=1024 (0: one per CPU)",
            server.worker_threads
        ));
    }
    if let Some(tls) = &server.tls {
        if tls.cert.as_os_str().is_empty() || tls.key.as_os_str().is_empty() {
            problems.push("server.tls needs both cert and key".into());
        }
    }
}

fn check_users(users: &[UserConfig], problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for (i, user) in users.iter().enumerate() {
        if user.name.is_empty() {
            problems.push(format!("user #{}: name is empty", i + 1));
        } else if !seen.insert(user.name.as_str()) {
            problems.push(format!("user '{}' is defined twice", user.name));
        }
        if let Some(hash) = &user.password_hash {
            if !user.password.is_empty() {
                problems.push(format!(
                    "user '{}': give password or password_hash, not both",
                    user.name
                ));
            }
            if strata_protocol::auth::verifier::parse_native_hash(hash).is_none() {
                problems.push(format!(
                    "user '{}': password_hash is not '*' and 40 hex digits",
                    user.name
                ));
            }
        }
        if let Some(plugin) = &user.auth_plugin {
            if plugin != "mysql_native_password" && plugin != "caching_sha2_password" {
                problems.push(format!(
                    "user '{}': auth_plugin '{plugin}' is not mysql_native_password or caching_sha2_password",
                    user.name
                ));
            }
        }
    }
}

fn check_data_nodes(nodes: &[DataNodeConfig], problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for (i, node) in nodes.iter().enumerate() {
        let entry = format!("data node {}", node.id);
        if node.id.get() == 0 {
            problems.push(format!("data node #{}: id must be positive", i + 1));
        } else if !seen.insert(node.id) {
            problems.push(format!("{entry} is defined twice"));
        }
        let primary = &node.primary;
        check_storage_node(&entry, "primary", primary, problems);
        if primary.database.is_empty() {
            problems.push(format!("{entry}: primary.database is empty"));
        }
        let mut addresses = HashSet::new();
        addresses.insert((primary.host.as_str(), primary.port));
        for (r, replica) in node.replicas.iter().enumerate() {
            let name = format!("replica #{}", r + 1);
            check_storage_node(&entry, &name, replica, problems);
            if !replica.database.is_empty() && replica.database != primary.database {
                problems.push(format!(
                    "{entry}: {name}.database '{}' differs from the primary's '{}' (replication keeps the name; omit it)",
                    replica.database, primary.database
                ));
            }
            if !addresses.insert((replica.host.as_str(), replica.port)) {
                problems.push(format!(
                    "{entry}: {name} {}:{} is already a storage node of this data node",
                    replica.host, replica.port
                ));
            }
        }
    }
}

/// Checks the fields every storage node needs; `role` names it in messages.
fn check_storage_node(
    entry: &str,
    role: &str,
    node: &StorageNodeConfig,
    problems: &mut Vec<String>,
) {
    if node.host.is_empty() {
        problems.push(format!("{entry}: {role}.host is empty"));
    }
    if node.port == 0 {
        problems.push(format!("{entry}: {role}.port is 0"));
    }
    if node.user.is_empty() {
        problems.push(format!("{entry}: {role}.user is empty"));
    }
    if node.weight == Some(0) {
        problems.push(format!(
            "{entry}: {role}.weight must be positive (omit the replica to give it no reads)"
        ));
    }
    check_storage_tls(&format!("{entry}: {role}"), node, problems);
}

fn check_ha(ha: &crate::config::HaConfig, problems: &mut Vec<String>) {
    for (what, value) in [
        ("heartbeat_interval_ms", ha.heartbeat_interval_ms),
        ("heartbeat_timeout_ms", ha.heartbeat_timeout_ms),
        ("catch_up_timeout_ms", ha.catch_up_timeout_ms),
    ] {
        if value == 0 {
            problems.push(format!("ha.{what} must be positive"));
        }
    }
    if ha.failure_threshold == 0 {
        problems.push("ha.failure_threshold must be at least 1".into());
    }
    if ha.hold_queue_limit == 0 {
        problems.push("ha.hold_queue_limit must be at least 1".into());
    }
    if ha.switchover_drain_ms >= ha.hold_timeout_ms {
        // Held statements would fail before the switch could end.
        problems.push(format!(
            "ha.switchover_drain_ms ({}) must be less than ha.hold_timeout_ms ({})",
            ha.switchover_drain_ms, ha.hold_timeout_ms
        ));
    }
}

fn check_cluster(cluster: &crate::config::ClusterConfig, problems: &mut Vec<String>) {
    for url in &cluster.etcd {
        if let Err(e) = crate::etcd::Endpoint::parse(url) {
            problems.push(format!("cluster.etcd: {e}"));
        }
    }
    let prefix = &cluster.prefix;
    if !prefix.starts_with('/') || prefix.len() < 2 || prefix.ends_with('/') {
        problems.push(format!(
            "cluster.prefix '{prefix}' must start with '/', not end with '/' and not be '/' alone"
        ));
    }
    for (what, value) in [
        ("request_timeout_ms", cluster.request_timeout_ms),
        ("ddl_ack_timeout_ms", cluster.ddl_ack_timeout_ms),
        ("takeover_interval_ms", cluster.takeover_interval_ms),
        ("ddl_lock_timeout_ms", cluster.ddl_lock_timeout_ms),
    ] {
        if value == 0 {
            problems.push(format!("cluster.{what} must be positive"));
        }
    }
    // etcd leases count whole seconds, and keep-alives go out three times per lease.
    if cluster.lease_ttl_ms < 2_000 {
        problems.push("cluster.lease_ttl_ms must be at least 2000".into());
    }
}

/// Checks a storage node's TLS settings: consistent with each other, and every file named
/// is there (relative paths are taken from the working directory, as at start-up).
fn check_storage_tls(entry: &str, node: &StorageNodeConfig, problems: &mut Vec<String>) {
    let files = [
        ("tls_ca", node.tls_ca.as_deref()),
        ("tls_cert", node.tls_cert.as_deref()),
        ("tls_key", node.tls_key.as_deref()),
    ];
    if !node.tls {
        // Settings without tls = true would leave the connection in clear text while the
        // file reads as if it were protected.
        let mut set: Vec<&str> = files
            .iter()
            .filter(|(_, path)| path.is_some())
            .map(|(name, _)| *name)
            .collect();
        if node.tls_server_name.is_some() {
            set.push("tls_server_name");
        }
        if !node.tls_verify {
            set.push("tls_verify");
        }
        if !set.is_empty() {
            problems.push(format!(
                "{entry} sets {} but not tls = true: add it to connect over TLS",
                set.join(", ")
            ));
        }
        return;
    }
    if node.tls_verify && node.tls_ca.is_none() {
        problems.push(format!(
            "{entry}.tls = true needs tls_ca, the PEM CA bundle that signs the storage \
             node's certificate (tls_verify = false encrypts without verifying the node)"
        ));
    }
    if !node.tls_verify {
        for (name, set) in [
            ("tls_ca", node.tls_ca.is_some()),
            ("tls_server_name", node.tls_server_name.is_some()),
        ] {
            if set {
                problems.push(format!(
                    "{entry}.{name} is not used with tls_verify = false: remove it or turn \
                     verification back on"
                ));
            }
        }
    }
    if node
        .tls_server_name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty())
    {
        problems.push(format!("{entry}.tls_server_name is empty"));
    }
    if node.tls_cert.is_some() != node.tls_key.is_some() {
        problems.push(format!(
            "{entry}: tls_cert and tls_key go together (a client certificate and its key)"
        ));
    }
    for (name, path) in files {
        let Some(path) = path else { continue };
        if !path.is_file() {
            problems.push(format!(
                "{entry}.{name}: {} is not a readable file",
                path.display()
            ));
        }
    }
}

fn check_pool(pool: &PoolConfig, problems: &mut Vec<String>) {
    if pool.max_size == 0 {
        problems.push("pool.max_size must be at least 1".into());
    }
    if pool.min_idle > pool.max_size {
        problems.push(format!(
            "pool.min_idle {} exceeds pool.max_size {}",
            pool.min_idle, pool.max_size
        ));
    }
    for (what, value) in [
        ("connect_timeout_ms", pool.connect_timeout_ms),
        ("acquire_timeout_ms", pool.acquire_timeout_ms),
        ("health_check_interval_ms", pool.health_check_interval_ms),
    ] {
        if value == 0 {
            problems.push(format!("pool.{what} must be positive"));
        }
    }
}

#[cfg(test)]
mod tests;
