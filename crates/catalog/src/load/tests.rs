use super::*;
use crate::test_fixtures::SHOP_TABLES;

fn dn(n: u32) -> DataNodeId {
    DataNodeId::new(n)
}

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
fn storage_globals_are_private_unless_set_settable() {
    use crate::config::StorageGlobals;
    let plain = Config::from_toml(VALID).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain.server.storage_globals, StorageGlobals::Private);
    let settable = VALID.replace("[server]\n", "[server]\nstorage_globals = \"settable\"\n");
    let config = Config::from_toml(&settable).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.server.storage_globals, StorageGlobals::Settable);
    let text = config.to_toml().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Config::from_toml(&text).ok(), Some(config));
    let wrong = VALID.replace("[server]\n", "[server]\nstorage_globals = \"shared\"\n");
    assert!(Config::from_toml(&wrong).is_err());
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
        ("zero dnid", with(|c| c.data_nodes[2].id = dn(0)), "data node #3: id must be positive"),
        ("duplicate dnid", with(|c| c.data_nodes[2].id = dn(2)), "data node 2 is defined twice"),
        ("undefined node", with(|c| c.databases[1].data_nodes = vec![dn(3), dn(9)]), "database 'crm': data node 9 is not defined"),
        ("no nodes", with(|c| c.databases[1].data_nodes.clear()), "database 'crm': data_nodes is empty (a database needs at least one data node)"),
        ("node twice in a db", with(|c| c.databases[1].data_nodes = vec![dn(3), dn(3)]), "database 'crm': data node 3 is listed twice"),
        ("default outside", with(|c| c.databases[0].default_data_nodes = Some(vec![dn(3)])), "database 'shop': default data node 3 is not one of its data_nodes"),
        ("empty defaults", with(|c| c.databases[0].default_data_nodes = Some(vec![])), "database 'shop': default_data_nodes is empty (omit it to mean all data nodes)"),
        ("shared node", with(|c| c.databases[1].data_nodes = vec![dn(2), dn(3)]), "data node 2 belongs to both database 'shop' and database 'crm' (a data node serves one database)"),
        ("duplicate db", with(|c| c.databases[1].name = "shop".into()), "database 'shop' is defined twice"),
        ("case duplicate db", with(|c| c.databases[1].name = "SHOP".into()), "database 'SHOP' differs only in letter case from database 'shop'"),
        ("space-ended db name", with(|c| c.databases[1].name = "my db ".into()), "database name 'my db ' may not contain NUL or end with a space"),
        ("mysql50 db name", with(|c| c.databases[1].name = "#mysql50#a-b".into()), "database name '#mysql50#a-b' may not start with '#mysql50#'"),
        ("long db name", with(|c| c.databases[1].name = "x".repeat(65)), "must be 1 to 64 characters long"),
        ("system db name", with(|c| c.databases[1].name = "MySQL".into()), "database name 'MySQL' is reserved for the system schema"),
        ("duplicate user", with(|c| c.users[1].name = "app".into()), "user 'app' is defined twice"),
        ("empty user", with(|c| c.users[1].name.clear()), "user #2: name is empty"),
        ("bad plugin", with(|c| c.users[1].auth_plugin = Some("sha256_password".into())), "auth_plugin 'sha256_password' is not mysql_native_password or caching_sha2_password"),
        ("pool max 0", with(|c| { c.pool.max_size = 0; c.pool.min_idle = 0 }), "pool.max_size must be at least 1"),
        ("pool min > max", with(|c| c.pool.min_idle = 65), "pool.min_idle 65 exceeds pool.max_size 64"),
        ("pool timeout", with(|c| c.pool.connect_timeout_ms = 0), "pool.connect_timeout_ms must be positive"),
        ("merge budget", with(|c| c.merge.memory_budget = 100), "merge.memory_budget 100 is below 1024 bytes"),
        ("spill caps", with(|c| { c.merge.spill_cap = 10; c.merge.spill_node_cap = 5 }), "merge.spill_node_cap 5 is below merge.spill_cap 10"),
        ("spill dir", with(|c| c.merge.spill_dir = Some("".into())), "merge.spill_dir is empty"),
        ("bad addr", with(|c| c.server.http_addr = "localhost".into()), "server.http_addr 'localhost' is not HOST:PORT"),
        ("same addr", with(|c| c.server.admin_addr = "127.0.0.1:3323".into()), "server.admin_addr and server.service_addr are both '127.0.0.1:3323'"),
        ("packet", with(|c| c.server.max_allowed_packet = 10), "server.max_allowed_packet 10 is outside 1024..=1073741824"),
        ("connections", with(|c| c.server.max_connections = 0), "server.max_connections must be at least 1"),
        ("workers", with(|c| c.server.worker_threads = 5000), "server.worker_threads 5000 is outside 0..=1024"),
        ("new db nodes", with(|c| c.server.new_database_data_nodes = Some(vec![dn(9)])), "server.new_database_data_nodes: data node 9 is not defined"),
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

/// Rule `r_match` and more tables, after [`SHOP_TABLES`].
const SHARDING: &str = r#"
[[rule]]
name = "r_match"
function = "match"
params = "north=1, south=2"
null_route = 2

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
    let text = format!("{VALID}{SHOP_TABLES}{SHARDING}");
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
    assert_eq!(config.tables[3].data_node, Some(dn(3)));
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
        ("undefined node", with_sharding(|c| c.rules[0].data_nodes = vec![dn(1), dn(9)]), "rule 'r_orders': data node 9 is not defined"),
        ("bad params", with_sharding(|c| c.rules[1].params = "north".into()), "rule 'r_match': Invalid sharding rule: 'north' is not KEY=DATANODE"),
        ("null route outside", with_sharding(|c| { c.rules[1].data_nodes = vec![dn(1), dn(2)]; c.rules[1].null_route = Some(dn(3)) }), "rule 'r_match': Invalid sharding rule: NULL route 3 is not one of the rule's data nodes"),
        ("unknown db", with_sharding(|c| c.tables[3].database = "nope".into()), "table 'nope.leads': database 'nope' is not defined in this file"),
        ("twice", with_sharding(|c| c.tables[4].name = "orders".into()), "table 'shop.orders' is declared twice"),
        ("unknown rule", with_sharding(|c| c.tables[0].rule = Some("r_x".into())), "table 'shop.orders': rule 'r_x' is not defined (or not valid)"),
        ("rule and function", with_sharding(|c| c.tables[0].function = Some("auto_mod".into())), "table 'shop.orders': give either 'rule' or 'function', not both"),
        ("no rule", with_sharding(|c| c.tables[0].rule = None), "table 'shop.orders': a sharded table needs 'rule' or 'function'"),
        ("no column", with_sharding(|c| c.tables[0].column = None), "table 'shop.orders': a sharded table needs 'column'"),
        ("rule nodes outside db", with_sharding(|c| c.tables[4].params = Some("1:100=3".into())), "table 'shop.events': data node 3 of its rule is not one of database 'shop's data nodes"),
        ("rule fields on named rule", with_sharding(|c| c.tables[0].params = Some("x".into())), "'data_nodes', 'params' and 'null_route' belong to rule 'r_orders'"),
        ("vertical without node", with_sharding(|c| c.tables[3].data_node = None), "table 'crm.leads': a vertical table needs 'data_node'"),
        ("vertical outside db", with_sharding(|c| c.tables[3].data_node = Some(dn(1))), "table 'crm.leads': data node 1 is not one of database 'crm's data nodes"),
        ("global subset", with_sharding(|c| c.tables[2].data_nodes = Some(vec![dn(1)])), "table 'shop.region': a global table is on all of database 'shop's data nodes [1, 2]"),
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
    let text = include_str!("../../../../docs/strata.example.toml");
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
    let again =
        Config::from_toml(&config.to_toml().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
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

#[test]
fn cluster_settings_are_checked_and_default_to_the_embedded_store() {
    let config = with(|_| {});
    assert!(!config.cluster.uses_etcd());
    let good = with(|c| {
        c.cluster.etcd = vec!["http://127.0.0.1:2379".into(), "http://etcd-2:2379/".into()]
    });
    assert_eq!(problems(&good), Vec::<String>::new());
    assert!(good.cluster.uses_etcd());
    let bad = with(|c| {
        c.cluster.etcd = vec!["127.0.0.1:2379".into(), "https://e:2379".into()];
        c.cluster.prefix = "strata/".into();
        c.cluster.request_timeout_ms = 0;
        c.cluster.lease_ttl_ms = 1000;
    });
    assert_eq!(
        problems(&bad),
        vec![
            "cluster.etcd: etcd endpoint '127.0.0.1:2379': must start with http://".to_string(),
            "cluster.etcd: etcd endpoint 'https://e:2379': TLS to etcd is not supported yet; use http://".into(),
            "cluster.prefix 'strata/' must start with '/', not end with '/' and not be '/' alone".into(),
            "cluster.request_timeout_ms must be positive".into(),
            "cluster.lease_ttl_ms must be at least 2000".into(),
        ]
    );
}
