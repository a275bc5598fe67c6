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
        let known: HashSet<u32> = self.data_nodes.iter().map(|d| d.id).collect();
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
        if self.merge.memory_budget < crate::config::MIN_MERGE_MEMORY_BUDGET {
            problems.push(format!(
                "merge.memory_budget {} is below {} bytes",
                self.merge.memory_budget,
                crate::config::MIN_MERGE_MEMORY_BUDGET
            ));
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

/// Checks a logical database name: 1-64 ASCII letters, digits, `_` or `$`, not only
/// digits, and not a system schema.
pub fn validate_logic_db_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "database name '{name}' must be 1 to 64 characters long"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
    {
        return Err(format!(
            "database name '{name}' may only contain ASCII letters, digits, '_' and '$'"
        ));
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("database name '{name}' cannot be only digits"));
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
    data_nodes: &[u32],
    default_data_nodes: Option<&[u32]>,
    known: &HashSet<u32>,
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
    dbs: impl Iterator<Item = (&'a str, &'a [u32])>,
    problems: &mut Vec<String>,
) {
    let mut by_lower: HashMap<String, &str> = HashMap::new();
    let mut owner: HashMap<u32, &str> = HashMap::new();
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

fn check_databases(dbs: &[LogicDbConfig], known: &HashSet<u32>, problems: &mut Vec<String>) {
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
    data_nodes: Vec<u32>,
    null_route: Option<u32>,
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
    known: &HashSet<u32>,
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
                    let given: HashSet<u32> = nodes.iter().copied().collect();
                    let all: HashSet<u32> = db.data_nodes.iter().copied().collect();
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
        if node.id == 0 {
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
mod tests {
    use super::*;

    const VALID: &str = r#"
[server]
service_addr = "127.0.0.1:3323"
data_dir = "/var/lib/strata"

[[user]]
name = "app"
password = "secret"

[[user]]
name = "ro"
databases = ["shop"]

[[data_node]]
id = 1
primary = { host = "10.0.0.1", port = 3306, user = "strata", password = "p", database = "shop_1" }

[[data_node]]
id = 2
primary = { host = "10.0.0.2", port = 3306, user = "strata", database = "shop_2" }

[[data_node]]
id = 3
primary = { host = "10.0.0.3", port = 3306, user = "strata", database = "crm_1" }

[[database]]
name = "shop"
data_nodes = [1, 2]
default_data_nodes = [1]

[[database]]
name = "crm"
data_nodes = [3]

[pool]
min_idle = 4
max_size = 64
"#;

    fn with(edit: impl FnOnce(&mut Config)) -> Config {
        let mut config = toml::from_str::<Config>(VALID).unwrap_or_else(|e| panic!("{e}"));
        edit(&mut config);
        config
    }

    fn problems(config: &Config) -> Vec<String> {
        match config.validate() {
            Ok(()) => Vec::new(),
            Err(CatalogError::InvalidConfig { problems }) => problems,
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn valid_config_parses_with_defaults_filled_in() {
        let config = Config::from_toml(VALID).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.server.service_addr, "127.0.0.1:3323");
        assert_eq!(config.server.admin_addr, "0.0.0.0:3325");
        assert_eq!(config.users[1].databases, Some(vec!["shop".to_string()]));
        assert_eq!(config.users[1].password, "");
        assert_eq!(config.data_nodes[1].primary.database, "shop_2");
        assert_eq!(config.databases[1].default_data_nodes, None);
        assert_eq!(
            (
                config.pool.min_idle,
                config.pool.max_size,
                config.pool.connect_timeout_ms
            ),
            (4, 64, 5_000)
        );
    }

    #[test]
    fn empty_config_is_valid() {
        assert_eq!(
            Config::from_toml("").map(|c| c.databases.len()).ok(),
            Some(0)
        );
    }

    #[test]
    fn to_toml_round_trips() {
        let config = Config::from_toml(VALID).unwrap_or_else(|e| panic!("{e}"));
        let text = config.to_toml().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Config::from_toml(&text).ok(), Some(config));
    }

    #[test]
    fn replicas_parse_and_are_checked() {
        let text = r#"
[[data_node]]
id = 1
primary = { host = "10.0.0.1", port = 3306, user = "strata", database = "shop_1" }
[[data_node.replica]]
host = "10.0.0.2"
port = 3306
user = "strata"
failover_priority = 2
[[data_node.replica]]
host = "10.0.0.3"
port = 3306
user = "strata"
weight = 3
"#;
        let config = Config::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
        let replicas = &config.data_nodes[0].replicas;
        assert_eq!(replicas.len(), 2);
        assert_eq!(replicas[0].failover_priority, Some(2));
        assert_eq!(replicas[1].weight, Some(3));
        assert_eq!(replicas[1].database, "");
        let round = config.to_toml().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Config::from_toml(&round).ok(), Some(config.clone()));

        let mut bad = config;
        bad.data_nodes[0].replicas[0].port = 0;
        bad.data_nodes[0].replicas[1].host = "10.0.0.1".into();
        bad.data_nodes[0].replicas[1].database = "other".into();
        bad.data_nodes[0].replicas[1].weight = Some(0);
        bad.ha.heartbeat_interval_ms = 0;
        let Err(CatalogError::InvalidConfig { problems }) = bad.validate() else {
            panic!("a bad replica was accepted");
        };
        assert_eq!(
            problems,
            vec![
                "data node 1: replica #1.port is 0".to_string(),
                "data node 1: replica #2.weight must be positive (omit the replica to give it no reads)".into(),
                "data node 1: replica #2.database 'other' differs from the primary's 'shop_1' (replication keeps the name; omit it)".into(),
                "data node 1: replica #2 10.0.0.1:3306 is already a storage node of this data node".into(),
                "ha.heartbeat_interval_ms must be positive".into(),
            ]
        );
    }

    #[test]
    fn each_rule_violation_names_the_offending_entry() {
        let cases: Vec<(&str, Config, &str)> = vec![
            ("zero dnid", with(|c| c.data_nodes[2].id = 0), "data node #3: id must be positive"),
            ("duplicate dnid", with(|c| c.data_nodes[2].id = 2), "data node 2 is defined twice"),
            ("undefined node", with(|c| c.databases[1].data_nodes = vec![3, 9]), "database 'crm': data node 9 is not defined"),
            ("no nodes", with(|c| c.databases[1].data_nodes.clear()), "database 'crm': data_nodes is empty (a database needs at least one data node)"),
            ("node twice in a db", with(|c| c.databases[1].data_nodes = vec![3, 3]), "database 'crm': data node 3 is listed twice"),
            ("default outside", with(|c| c.databases[0].default_data_nodes = Some(vec![3])), "database 'shop': default data node 3 is not one of its data_nodes"),
            ("empty defaults", with(|c| c.databases[0].default_data_nodes = Some(vec![])), "database 'shop': default_data_nodes is empty (omit it to mean all data nodes)"),
            ("shared node", with(|c| c.databases[1].data_nodes = vec![2, 3]), "data node 2 belongs to both database 'shop' and database 'crm' (a data node serves one database)"),
            ("duplicate db", with(|c| c.databases[1].name = "shop".into()), "database 'shop' is defined twice"),
            ("case duplicate db", with(|c| c.databases[1].name = "SHOP".into()), "database 'SHOP' differs only in letter case from database 'shop'"),
            ("bad db name", with(|c| c.databases[1].name = "my-db".into()), "database name 'my-db' may only contain ASCII letters, digits, '_' and '$'"),
            ("digit db name", with(|c| c.databases[1].name = "123".into()), "database name '123' cannot be only digits"),
            ("long db name", with(|c| c.databases[1].name = "x".repeat(65)), "must be 1 to 64 characters long"),
            ("system db name", with(|c| c.databases[1].name = "MySQL".into()), "database name 'MySQL' is reserved for the system schema"),
            ("duplicate user", with(|c| c.users[1].name = "app".into()), "user 'app' is defined twice"),
            ("empty user", with(|c| c.users[1].name.clear()), "user #2: name is empty"),
            ("bad plugin", with(|c| c.users[1].auth_plugin = Some("sha256_password".into())), "auth_plugin 'sha256_password' is not mysql_native_password or caching_sha2_password"),
            ("pool max 0", with(|c| { c.pool.max_size = 0; c.pool.min_idle = 0 }), "pool.max_size must be at least 1"),
            ("pool min > max", with(|c| c.pool.min_idle = 65), "pool.min_idle 65 exceeds pool.max_size 64"),
            ("pool timeout", with(|c| c.pool.connect_timeout_ms = 0), "pool.connect_timeout_ms must be positive"),
            ("merge budget", with(|c| c.merge.memory_budget = 100), "merge.memory_budget 100 is below 1024 bytes"),
            ("bad addr", with(|c| c.server.http_addr = "localhost".into()), "server.http_addr 'localhost' is not HOST:PORT"),
            ("same addr", with(|c| c.server.admin_addr = "127.0.0.1:3323".into()), "server.admin_addr and server.service_addr are both '127.0.0.1:3323'"),
            ("packet", with(|c| c.server.max_allowed_packet = 10), "server.max_allowed_packet 10 is outside 1024..=1073741824"),
            ("connections", with(|c| c.server.max_connections = 0), "server.max_connections must be at least 1"),
            ("workers", with(|c| c.server.worker_threads = 5000), "server.worker_threads 5000 is outside 0..=1024"),
            ("new db nodes", with(|c| c.server.new_database_data_nodes = Some(vec![9])), "server.new_database_data_nodes: data node 9 is not defined"),
            ("new db nodes empty", with(|c| c.server.new_database_data_nodes = Some(vec![])), "server.new_database_data_nodes is empty"),
            ("empty host", with(|c| c.data_nodes[0].primary.host.clear()), "data node 1: primary.host is empty"),
            ("empty physical db", with(|c| c.data_nodes[0].primary.database.clear()), "data node 1: primary.database is empty"),
        ];
        for (what, config, expected) in cases {
            let found = problems(&config);
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{what}: expected {expected:?} in {found:?}"
            );
        }
    }

    const SHARDING: &str = r#"
[[rule]]
name = "r_orders"
function = "auto_crc32"
data_nodes = [1, 2]

[[rule]]
name = "r_match"
function = "match"
params = "north=1, south=2"
null_route = 2

[[table]]
database = "shop"
name = "orders"
type = "sharded"
column = "customer_id"
rule = "r_orders"
auto_increment = "id"

[[table]]
database = "shop"
name = "items"
type = "child"
parent = "orders"
parent_column = "customer_id"
child_column = "customer_id"

[[table]]
database = "shop"
name = "region"
type = "global"

[[table]]
database = "crm"
name = "leads"
type = "vertical"
data_node = 3

[[table]]
database = "shop"
name = "events"
type = "sharded"
column = "id"
function = "range"
params = "1:100=1, above=2"
"#;

    fn with_sharding(edit: impl FnOnce(&mut Config)) -> Config {
        let text = format!("{VALID}{SHARDING}");
        let mut config = toml::from_str::<Config>(&text).unwrap_or_else(|e| panic!("{e}"));
        edit(&mut config);
        config
    }

    #[test]
    fn rules_and_declared_tables_parse_validate_and_round_trip() {
        let config = with_sharding(|_| {});
        assert_eq!(problems(&config), Vec::<String>::new());
        assert_eq!(config.rules.len(), 2);
        assert_eq!(config.tables[0].kind, TableType::Sharded);
        assert_eq!(config.tables[3].data_node, Some(3));
        let text = config.to_toml().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Config::from_toml(&text).ok(), Some(config));
        let plain = Config::from_toml(VALID).unwrap_or_else(|e| panic!("{e}"));
        let text = plain.to_toml().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !text.contains("[[rule]]") && !text.contains("[[table]]"),
            "empty sections are not written"
        );
    }

    #[test]
    fn each_rule_and_table_problem_names_its_entry() {
        let cases: Vec<(&str, Config, &str)> = vec![
            ("duplicate rule", with_sharding(|c| c.rules[1].name = "r_orders".into()), "rule 'r_orders' is defined twice"),
            ("empty rule name", with_sharding(|c| c.rules[1].name.clear()), "rule #2: name is empty"),
            ("bad function", with_sharding(|c| c.rules[0].function = "hash".into()), "rule 'r_orders': Invalid sharding rule: unknown sharding function 'hash'"),
            ("auto without nodes", with_sharding(|c| c.rules[0].data_nodes.clear()), "rule 'r_orders': Invalid sharding rule: AUTO_CRC32 needs at least one data node"),
            ("undefined node", with_sharding(|c| c.rules[0].data_nodes = vec![1, 9]), "rule 'r_orders': data node 9 is not defined"),
            ("bad params", with_sharding(|c| c.rules[1].params = "north".into()), "rule 'r_match': Invalid sharding rule: 'north' is not KEY=DATANODE"),
            ("null route outside", with_sharding(|c| { c.rules[1].data_nodes = vec![1, 2]; c.rules[1].null_route = Some(3) }), "rule 'r_match': Invalid sharding rule: NULL route 3 is not one of the rule's data nodes"),
            ("unknown db", with_sharding(|c| c.tables[3].database = "nope".into()), "table 'nope.leads': database 'nope' is not defined in this file"),
            ("twice", with_sharding(|c| c.tables[4].name = "orders".into()), "table 'shop.orders' is declared twice"),
            ("unknown rule", with_sharding(|c| c.tables[0].rule = Some("r_x".into())), "table 'shop.orders': rule 'r_x' is not defined (or not valid)"),
            ("rule and function", with_sharding(|c| c.tables[0].function = Some("auto_mod".into())), "table 'shop.orders': give either 'rule' or 'function', not both"),
            ("no rule", with_sharding(|c| c.tables[0].rule = None), "table 'shop.orders': a sharded table needs 'rule' or 'function'"),
            ("no column", with_sharding(|c| c.tables[0].column = None), "table 'shop.orders': a sharded table needs 'column'"),
            ("rule nodes outside db", with_sharding(|c| c.tables[4].params = Some("1:100=3".into())), "table 'shop.events': data node 3 of its rule is not one of database 'shop's data nodes"),
            ("rule fields on named rule", with_sharding(|c| c.tables[0].params = Some("x".into())), "'data_nodes', 'params' and 'null_route' belong to rule 'r_orders'"),
            ("vertical without node", with_sharding(|c| c.tables[3].data_node = None), "table 'crm.leads': a vertical table needs 'data_node'"),
            ("vertical outside db", with_sharding(|c| c.tables[3].data_node = Some(1)), "table 'crm.leads': data node 1 is not one of database 'crm's data nodes"),
            ("global subset", with_sharding(|c| c.tables[2].data_nodes = Some(vec![1])), "table 'shop.region': a global table is on all of database 'shop's data nodes [1, 2]"),
            ("field of another type", with_sharding(|c| c.tables[2].column = Some("id".into())), "table 'shop.region': 'column' does not apply to a global table"),
            ("child without parent", with_sharding(|c| c.tables[1].parent = None), "table 'shop.items': a child table needs 'parent'"),
            ("child of non-sharded", with_sharding(|c| c.tables[1].parent = Some("region".into())), "table 'shop.items': parent 'region' is a global table; a parent must be sharded"),
            ("child wrong column", with_sharding(|c| c.tables[1].parent_column = Some("id".into())), "table 'shop.items': parent_column must be the parent's sharding column 'customer_id'"),
            ("bad table name", with_sharding(|c| c.tables[3].name = "x ".into()), "may not contain NUL or end with a space"),
            ("empty auto increment", with_sharding(|c| c.tables[0].auto_increment = Some(String::new())), "table 'shop.orders': auto_increment is empty"),
        ];
        for (what, config, expected) in cases {
            let found = problems(&config);
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{what}: expected {expected:?} in {found:?}"
            );
        }
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let config = with(|c| {
            c.pool.max_size = 0;
            c.users[1].name = "app".into();
        });
        let err = config
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(err, "invalid configuration: user 'app' is defined twice; pool.max_size must be at least 1; pool.min_idle 4 exceeds pool.max_size 0");
    }

    #[test]
    fn unknown_fields_and_bad_types_are_parse_errors() {
        for text in [
            "[server]\nservice_port = 1\n",
            "[[data_node]]\nid = \"one\"\n",
            "[pool]\nmax_size = -1\n",
        ] {
            assert!(
                matches!(Config::from_toml(text), Err(CatalogError::ParseConfig(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn load_reads_a_file_and_names_it_when_missing() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("strata.toml");
        std::fs::write(&path, VALID).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Config::load(&path).map(|c| c.data_nodes.len()).ok(),
            Some(3)
        );
        let missing = dir.path().join("missing.toml");
        let err = Config::load(&missing)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!(
                "cannot read configuration file {}",
                missing.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn example_config_in_docs_is_valid() {
        let text = include_str!("../../../docs/strata.example.toml");
        if let Err(e) = Config::from_toml(text) {
            panic!("docs/strata.example.toml: {e}");
        }
    }
    fn tls_node(edit: impl FnOnce(&mut StorageNodeConfig)) -> Config {
        with(|c| {
            let primary = &mut c.data_nodes[0].primary;
            primary.tls = true;
            edit(primary);
        })
    }

    #[test]
    fn storage_tls_is_off_by_default_and_old_files_load() {
        let config = Config::from_toml(VALID).unwrap_or_else(|e| panic!("{e}"));
        let primary = &config.data_nodes[0].primary;
        assert!(!primary.tls);
        assert!(primary.tls_verify);
        assert_eq!(primary.tls_ca, None);
        assert_eq!(primary.tls_server_name(), "10.0.0.1");
        // Defaults are not written back, so files stay as minimal as they were.
        assert!(!config.to_toml().unwrap_or_default().contains("tls"));
    }

    #[test]
    fn storage_tls_settings_parse_and_round_trip() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "pem").unwrap_or_else(|e| panic!("{e}"));
        let text = VALID.replace(
            r#"database = "shop_1" }"#,
            &format!(
                r#"database = "shop_1", tls = true, tls_ca = "{}", tls_server_name = "db1.internal" }}"#,
                ca.display()
            ),
        );
        let config = Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let primary = &config.data_nodes[0].primary;
        assert!(primary.tls && primary.tls_verify);
        assert_eq!(primary.tls_ca.as_deref(), Some(ca.as_path()));
        assert_eq!(primary.tls_server_name(), "db1.internal");
        let again = Config::from_toml(&config.to_toml().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, config);
    }

    #[test]
    fn storage_tls_without_a_ca_is_refused_unless_verification_is_off() {
        assert_eq!(
            problems(&tls_node(|_| {})),
            vec![
                "data node 1: primary.tls = true needs tls_ca, the PEM CA bundle that signs \
                  the storage node's certificate (tls_verify = false encrypts without \
                  verifying the node)"
            ]
        );
        assert_eq!(
            problems(&tls_node(|p| p.tls_verify = false)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn storage_tls_files_must_exist() {
        let config = tls_node(|p| {
            p.tls_ca = Some("/nonexistent/ca.pem".into());
            p.tls_cert = Some("/nonexistent/client.pem".into());
            p.tls_key = Some("/nonexistent/client.key".into());
        });
        assert_eq!(
            problems(&config),
            vec![
                "data node 1: primary.tls_ca: /nonexistent/ca.pem is not a readable file",
                "data node 1: primary.tls_cert: /nonexistent/client.pem is not a readable file",
                "data node 1: primary.tls_key: /nonexistent/client.key is not a readable file",
            ]
        );
    }

    #[test]
    fn inconsistent_storage_tls_settings_are_each_reported() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("x.pem");
        std::fs::write(&file, "pem").unwrap_or_else(|e| panic!("{e}"));
        let config = tls_node(|p| {
            p.tls_verify = false;
            p.tls_ca = Some(file.clone());
            p.tls_server_name = Some(" ".into());
            p.tls_cert = Some(file.clone());
        });
        assert_eq!(
            problems(&config),
            vec![
                "data node 1: primary.tls_ca is not used with tls_verify = false: remove it or \
                 turn verification back on",
                "data node 1: primary.tls_server_name is not used with tls_verify = false: \
                 remove it or turn verification back on",
                "data node 1: primary.tls_server_name is empty",
                "data node 1: primary: tls_cert and tls_key go together (a client certificate \
                 and its key)",
            ]
        );
    }

    #[test]
    fn storage_tls_settings_without_tls_on_are_refused() {
        let config = with(|c| {
            let primary = &mut c.data_nodes[1].primary;
            primary.tls_ca = Some("/etc/ca.pem".into());
            primary.tls_verify = false;
        });
        assert_eq!(
            problems(&config),
            vec![
                "data node 2: primary sets tls_ca, tls_verify but not tls = true: add it to \
                  connect over TLS"
            ]
        );
    }
}
