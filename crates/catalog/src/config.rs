//! The compute node's TOML configuration: listeners, users, data nodes, logical databases,
//! named sharding rules, declared tables and pool settings. `strata serve --config FILE` reads it; the playground and the testkit
//! write it. Every field has a default so a minimal file stays minimal.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::DataNodeId;

/// Whole compute-node configuration, one TOML file (`Default` is the empty file).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listener addresses, data directory, TLS and session limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// Accounts that may connect to the service port.
    #[serde(default, rename = "user")]
    pub users: Vec<UserConfig>,
    /// Data nodes by DNID, each with its primary storage node.
    #[serde(default, rename = "data_node")]
    pub data_nodes: Vec<DataNodeConfig>,
    /// Logical databases and the data nodes they span.
    #[serde(default, rename = "database")]
    pub databases: Vec<LogicDbConfig>,
    /// Named sharding rules (`SHARD BY rulename '...'`, `[[table]] rule = "..."`).
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleConfig>,
    /// Tables whose distribution is declared ahead of a plain CREATE TABLE.
    #[serde(default, rename = "table", skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableConfig>,
    /// SQL firewall: rules checked against each statement before it runs.
    #[serde(default)]
    pub firewall: FirewallConfig,
    /// Backend connection pool settings, the same for every storage node.
    #[serde(default)]
    pub pool: PoolConfig,
    /// Distributed transactions: commit protocol, recovery, deadlock detection.
    #[serde(default)]
    pub transaction: TransactionConfig,
    /// Merging the results of several data nodes in the compute node.
    #[serde(default)]
    pub merge: MergeConfig,
    /// Limits of what one statement may make the data nodes do.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Client address whitelist and failed-login limits.
    #[serde(default)]
    pub security: crate::security::SecurityConfig,
    /// The audit log of statements and logins.
    #[serde(default)]
    pub audit: AuditConfig,
    /// High availability: heartbeats, failure detection, automatic failover.
    #[serde(default)]
    pub ha: HaConfig,
    /// Statements slower than a threshold, as JSON lines and for `SHOW @@SLOW_SQL`.
    #[serde(default)]
    pub slow_log: SlowLogConfig,
    /// Per-digest statement statistics (`SHOW @@SQL_DIGEST`).
    #[serde(default)]
    pub statistics: StatisticsConfig,
    /// Several compute nodes sharing their metadata through etcd (empty: embedded store).
    #[serde(default)]
    pub cluster: ClusterConfig,
}

/// Several compute nodes as one service: where the shared metadata lives (etcd) and how
/// long cluster-wide steps may take (milliseconds). Without `etcd` the compute node keeps
/// its metadata in its own data directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// etcd client URLs (`http://host:port`), tried in turn; empty: the embedded store.
    pub etcd: Vec<String>,
    /// Prefix of every key Strata writes, so several clusters can share one etcd.
    pub prefix: String,
    /// One etcd request (connect included) that takes longer than this has failed.
    pub request_timeout_ms: u64,
    /// Time to live of a compute node's membership lease: a node silent this long is
    /// no longer a member.
    pub lease_ttl_ms: u64,
    /// Longest wait of a DDL for every live compute node to apply the new metadata;
    /// a node that has not by then loses its membership.
    pub ddl_ack_timeout_ms: u64,
    /// How often the elected leader looks for prepared XA branches of compute nodes
    /// that are no longer members, and finishes them.
    pub takeover_interval_ms: u64,
    /// Longest wait of a DDL for another compute node's DDL on the same table to end,
    /// and of a statement on a table a DDL is changing.
    pub ddl_lock_timeout_ms: u64,
    /// What a compute node does once it has not reached etcd for a whole lease time to
    /// live: by then the others may have put it out and changed metadata without it.
    pub on_etcd_loss: EtcdLossPolicy,
}

/// What a compute node cut off from etcd for longer than its lease does.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum EtcdLossPolicy {
    /// Refuse statements (1047) until etcd answers again and the catalog is reloaded:
    /// a DDL through another node never finds this one serving the old metadata.
    #[default]
    Refuse,
    /// Keep serving on the metadata it has: available through a whole etcd outage, but
    /// a DDL that put this node out is not in force here until it reaches etcd again.
    Serve,
}

impl ClusterConfig {
    /// True when the metadata lives in etcd.
    pub fn uses_etcd(&self) -> bool {
        !self.etcd.is_empty()
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            etcd: Vec::new(),
            prefix: "/strata".into(),
            request_timeout_ms: 2_000,
            lease_ttl_ms: 10_000,
            ddl_ack_timeout_ms: 5_000,
            takeover_interval_ms: 1_000,
            ddl_lock_timeout_ms: 10_000,
            on_etcd_loss: EtcdLossPolicy::Refuse,
        }
    }
}

/// The slow query log: statements that took `slow_query_ms` or longer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SlowLogConfig {
    /// Write slow statements to the file (they are kept for `SHOW @@SLOW_SQL` either way).
    pub enabled: bool,
    /// The file; absent means `slow.log` in the data directory.
    pub path: Option<PathBuf>,
    /// A statement taking this long or longer is slow.
    pub slow_query_ms: u64,
    /// Slow statements kept in memory for `SHOW @@SLOW_SQL` and the HTTP API.
    pub keep: usize,
    /// Size at which the file is rotated (`slow.log` -> `slow.log.1`); 0 never rotates.
    pub rotate_bytes: u64,
}

impl Default for SlowLogConfig {
    fn default() -> Self {
        SlowLogConfig {
            enabled: false,
            path: None,
            slow_query_ms: 1000,
            keep: 100,
            rotate_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Statement statistics per normalized digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StatisticsConfig {
    /// Off: statements are not recorded (no digests, slow log or statement metrics),
    /// like `performance_schema = OFF`.
    pub enabled: bool,
    /// Digests tracked at most; a new digest beyond evicts the least executed one.
    pub max_digests: usize,
}

impl Default for StatisticsConfig {
    fn default() -> Self {
        StatisticsConfig {
            enabled: true,
            max_digests: 1000,
        }
    }
}

/// Heartbeats to every storage node and automatic failover of data nodes with replicas
/// (milliseconds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HaConfig {
    /// Probe every storage node this often, each on its own connection.
    pub heartbeat_interval_ms: u64,
    /// A probe (connect included) that takes longer than this has failed.
    pub heartbeat_timeout_ms: u64,
    /// Consecutive failed probes before a primary is suspected; it is declared failed
    /// only when a second path confirms (a fresh connect fails, or its replicas' IO
    /// threads lost it too).
    pub failure_threshold: u32,
    /// Promote a replica when a data node's primary has failed (off: only report it).
    pub auto_failover: bool,
    /// No second automatic failover of the same data node within this period.
    pub anti_flap_ms: u64,
    /// A replica further behind than this is reported as lagging.
    pub max_replica_lag_ms: u64,
    /// Longest wait for the chosen replica to apply what it received before promotion.
    pub catch_up_timeout_ms: u64,
    /// Statements for a data node that is failing over wait at most this long for the
    /// new primary before they fail.
    pub hold_timeout_ms: u64,
    /// At most this many statements wait for one data node's new primary; beyond,
    /// statements fail at once with a clear error.
    pub hold_queue_limit: usize,
    /// A planned switchover (`SWITCH @@DATASOURCE`) waits at most this long, statements
    /// held, for the statements running on the old primary to finish before it makes
    /// it read-only and closes its connections (kept below `hold_timeout_ms`).
    pub switchover_drain_ms: u64,
}

impl Default for HaConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: 500,
            heartbeat_timeout_ms: 300,
            failure_threshold: 2,
            auto_failover: true,
            anti_flap_ms: 300_000,
            max_replica_lag_ms: 1_000,
            catch_up_timeout_ms: 30_000,
            hold_timeout_ms: 5_000,
            hold_queue_limit: 1_024,
            switchover_drain_ms: 2_000,
        }
    }
}

/// The audit log: JSON lines of statements, logins and failed logins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Write the audit log (off by default).
    pub enabled: bool,
    /// The file; absent means `audit.log` in the data directory.
    pub path: Option<PathBuf>,
    /// Size at which the file is rotated (`audit.log` -> `audit.log.1` ...); 0 never
    /// rotates.
    pub rotate_bytes: u64,
    /// Rotated files kept.
    pub keep: u32,
    /// Log each statement's digest (literals replaced by `?`) instead of its text.
    pub digest_only: bool,
    /// Bytes of audit lines buffered for the writer at most; beyond, lines are dropped
    /// and counted (sessions never wait for the audit log).
    pub buffer_bytes: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: false,
            path: None,
            rotate_bytes: 100 * 1024 * 1024,
            keep: 5,
            digest_only: false,
            buffer_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Listener addresses and server-wide settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Service port (MySQL protocol for applications).
    pub service_addr: String,
    /// Admin port (MySQL protocol, management commands).
    pub admin_addr: String,
    /// HTTP port (REST API, metrics, console).
    pub http_addr: String,
    /// Directory for the metadata store and other persistent state.
    pub data_dir: PathBuf,
    /// TLS certificate and key; absent means TLS is not offered.
    pub tls: Option<TlsConfig>,
    /// Largest packet a client may send, as @@max_allowed_packet reports it.
    pub max_allowed_packet: u32,
    /// Most client connections served at once (error 1040 beyond).
    pub max_connections: u32,
    /// A plain CREATE TABLE (no SHARD BY, no declaration) in a database with several
    /// default data nodes is sharded by AUTO_CRC32 as HotDB does (the default); off
    /// puts such tables on the first default data node.
    pub auto_shard_plain_tables: bool,
    /// Offer CLIENT_LOCAL_FILES on the service port, so clients that ask for it may
    /// run `LOAD DATA LOCAL INFILE` (Strata places the rows it sends).
    pub local_infile: bool,
    /// Bytes of `LOAD DATA LOCAL INFILE` rows gathered per data node before they are
    /// sent (the load's memory is about this per node plus one row).
    pub load_data_batch_bytes: usize,
    /// This compute node's number (1-65535), part of every XA transaction id it issues,
    /// so recovery finishes only its own branches. Unique among compute nodes that
    /// share storage nodes.
    pub node_id: u32,
    /// Threads serving client sessions, each with its own event loop and its own idle
    /// storage connections; a session stays on one thread for its life. 0 (the
    /// default) means one per CPU.
    pub worker_threads: u32,
    /// `@@version` clients see; None derives it from the storage nodes' versions.
    pub version: Option<String>,
    /// `@@version_comment` clients see; None names Strata and the storage version.
    pub version_comment: Option<String>,
    /// The data nodes of a database made by `CREATE DATABASE` without a
    /// `DEFAULT DATANODE` clause; None (the default) means every data node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_database_data_nodes: Option<Vec<DataNodeId>>,
    /// The read/write splitting of a database made by `CREATE DATABASE` without an
    /// `RW_SPLIT '...'` clause.
    #[serde(default, skip_serializing_if = "RwSplit::is_off")]
    pub new_database_rw_split: RwSplit,
    /// Whether `SET GLOBAL` may change a variable that only the storage servers have
    /// (`private`, the default: storage servers may be shared with other applications).
    #[serde(default, skip_serializing_if = "StorageGlobals::is_private")]
    pub storage_globals: StorageGlobals,
    /// MariaDB's `secure_file_priv` for the compute node's own host: the directory
    /// under which `SELECT ... INTO OUTFILE/DUMPFILE`, server-side `LOAD DATA INFILE`
    /// and `LOAD_FILE()` read and write files. None (the default) refuses them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_file_priv: Option<PathBuf>,
    /// What relative file names of those statements resolve against, as MariaDB's
    /// data directory: a bare name is in `<file_base_dir>/<current database>/`. None
    /// means `secure_file_priv` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_base_dir: Option<PathBuf>,
}

/// Who sets the global-only variables of the storage servers (`server.storage_globals`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StorageGlobals {
    /// Their configuration alone: `SET GLOBAL` of a new value is refused (1235).
    #[default]
    Private,
    /// An account with SUPER too: `SET GLOBAL` sets them on every storage server (the
    /// storage servers serve this Strata alone).
    Settable,
}

impl StorageGlobals {
    /// True for `private`.
    pub fn is_private(&self) -> bool {
        *self == StorageGlobals::Private
    }
}

impl ServerConfig {
    /// The number of session worker threads `worker_threads` asks for.
    pub fn effective_worker_threads(&self) -> usize {
        match self.worker_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n as usize,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            service_addr: "0.0.0.0:3323".into(),
            admin_addr: "0.0.0.0:3325".into(),
            http_addr: "0.0.0.0:3324".into(),
            data_dir: PathBuf::from("strata-data"),
            tls: None,
            max_allowed_packet: 64 * 1024 * 1024,
            max_connections: 5000,
            auto_shard_plain_tables: true,
            local_infile: true,
            load_data_batch_bytes: 256 * 1024,
            node_id: 1,
            worker_threads: 0,
            version: None,
            version_comment: None,
            new_database_data_nodes: None,
            new_database_rw_split: RwSplit::Off,
            storage_globals: StorageGlobals::Private,
            secure_file_priv: None,
            file_base_dir: None,
        }
    }
}

/// PEM files for the service port's TLS.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// One client account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// User name as the client sends it.
    pub name: String,
    /// Host pattern the account logs in from (MySQL's `'user'@'host'`); absent means `%`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Clear-text password (empty means no password); `password_hash` avoids keeping it.
    #[serde(default)]
    pub password: String,
    /// The password as MariaDB's `PASSWORD('...')` hash (`*` and 40 hex digits), instead of
    /// `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Logical databases this user may use (ALL PRIVILEGES on each); absent means all
    /// (ALL PRIVILEGES ON *.* WITH GRANT OPTION).
    #[serde(default)]
    pub databases: Option<Vec<String>>,
    /// Authentication plugin the account requires (`mysql_native_password` or
    /// `caching_sha2_password`); absent accepts whichever of the two the client uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_plugin: Option<String>,
}

/// A data node: one primary storage node and its replicas.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataNodeConfig {
    /// DNID, unique, positive.
    pub id: DataNodeId,
    /// The primary storage node.
    pub primary: StorageNodeConfig,
    /// Replicas of the primary (`[[data_node.replica]]`), candidates for failover.
    #[serde(default, rename = "replica", skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<StorageNodeConfig>,
}

impl DataNodeConfig {
    /// A data node with a primary and no replicas.
    pub fn new(id: DataNodeId, primary: StorageNodeConfig) -> Self {
        Self {
            id,
            primary,
            replicas: Vec::new(),
        }
    }
}

/// Address, account and physical database of one MySQL/MariaDB storage node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageNodeConfig {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Account Strata uses on the storage node.
    pub user: String,
    /// Password of that account.
    #[serde(default)]
    pub password: String,
    /// Physical database that holds this data node's tables (never shown to clients);
    /// a replica may omit it (replication keeps the primary's name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub database: String,
    /// Share of the data node's reads this storage node gets when reads go to replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// Failover priority of a replica: on equal received GTID positions the higher one
    /// is promoted first (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_priority: Option<u32>,
    /// Connect over TLS (the login, queries and rows are encrypted); a storage node that
    /// does not offer TLS is then refused, never used in clear text.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
    /// PEM bundle of the CA(s) that sign the storage node's certificate; required with
    /// `tls` unless `tls_verify` is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
    /// Verify the storage node's certificate chain against `tls_ca` and its name against
    /// `tls_server_name` (default on); off encrypts without authenticating the node.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub tls_verify: bool,
    /// Name the certificate must carry when it differs from `host` (e.g. `host` is an
    /// IP address and the certificate names the server by DNS name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    /// PEM client certificate chain, for accounts that `REQUIRE X509` (with `tls_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
}

impl StorageNodeConfig {
    /// A storage node reached in clear text (the TLS settings at their defaults).
    pub fn new(host: &str, port: u16, user: &str, password: &str, database: &str) -> Self {
        Self {
            host: host.to_string(),
            port,
            user: user.to_string(),
            password: password.to_string(),
            database: database.to_string(),
            weight: None,
            failover_priority: None,
            tls: false,
            tls_ca: None,
            tls_verify: true,
            tls_server_name: None,
            tls_cert: None,
            tls_key: None,
        }
    }

    /// The name the storage node's certificate is checked against.
    pub fn tls_server_name(&self) -> &str {
        self.tls_server_name.as_deref().unwrap_or(&self.host)
    }
}

fn default_true() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A logical database as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogicDbConfig {
    /// Name shown by SHOW DATABASES.
    pub name: String,
    /// DNIDs this database spans.
    pub data_nodes: Vec<DataNodeId>,
    /// DNIDs where tables without a distribution clause go; absent means all of `data_nodes`.
    #[serde(default)]
    pub default_data_nodes: Option<Vec<DataNodeId>>,
    /// Where reads outside transactions go (`off`: the primary).
    #[serde(default, skip_serializing_if = "RwSplit::is_off")]
    pub rw_split: RwSplit,
}

/// Read/write splitting of a logical database: where reads outside transactions go.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RwSplit {
    /// Every statement goes to the primary.
    #[default]
    Off,
    /// Reads go to the replicas that are within the lag threshold (the primary when
    /// there is none).
    Replicas,
    /// Reads go to the primary and the replicas within the lag threshold, by weight.
    PrimaryAndReplicas,
}

impl RwSplit {
    /// True for `off`.
    pub fn is_off(&self) -> bool {
        *self == RwSplit::Off
    }

    /// The name the configuration file and `RW_SPLIT '...'` use.
    pub fn as_str(self) -> &'static str {
        match self {
            RwSplit::Off => "off",
            RwSplit::Replicas => "replicas",
            RwSplit::PrimaryAndReplicas => "primary_and_replicas",
        }
    }

    /// The mode named `name` (any case); None for an unknown name.
    pub fn from_name(name: &str) -> Option<RwSplit> {
        [RwSplit::Off, RwSplit::Replicas, RwSplit::PrimaryAndReplicas]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

/// A named sharding rule: function, parameters, data nodes and NULL route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Rule name, unique.
    pub name: String,
    /// Function type: auto_crc32, auto_mod, range, match, route, simple_mod, crc32_mod.
    pub function: String,
    /// Data nodes: required for auto_* (keys spread by position); for the others the
    /// nodes named in `params` when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_nodes: Vec<DataNodeId>,
    /// Parameters in the function's text form (see docs/sharding.md).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub params: String,
    /// Data node for NULL keys (auto_crc32 defaults to its first node; the others refuse
    /// NULL with error 10104 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_route: Option<DataNodeId>,
}

/// How a declared table is placed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TableType {
    /// Rows spread by a sharding rule on one column.
    Sharded,
    /// A full copy on every data node of the database.
    Global,
    /// All rows on one data node.
    Vertical,
    /// Rows on the data node of their parent row.
    Child,
}

/// A table declared in the configuration; a plain CREATE TABLE of that name creates it
/// with this distribution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Logical database (defined in this file).
    pub database: String,
    /// Table name, case-sensitive.
    pub name: String,
    /// Placement.
    #[serde(rename = "type")]
    pub kind: TableType,
    /// Sharded: the sharding column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Sharded: a named rule (or `function` and `data_nodes` inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Sharded, inline rule: function type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Sharded, inline rule: data nodes. Global: must be all of the database's (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_nodes: Option<Vec<DataNodeId>>,
    /// Sharded, inline rule: parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    /// Sharded, inline rule: NULL route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_route: Option<DataNodeId>,
    /// Vertical: the data node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_node: Option<DataNodeId>,
    /// Child: the parent table (sharded, same database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Child: the parent's column (its sharding column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_column: Option<String>,
    /// Child: this table's column that joins the parent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_column: Option<String>,
    /// Column whose AUTO_INCREMENT values Strata allocates globally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_increment: Option<String>,
}

/// Backend pool limits and timings (milliseconds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Idle connections kept open per storage node.
    pub min_idle: u32,
    /// Most connections per storage node.
    pub max_size: u32,
    /// Idle connections above `min_idle` are closed after this long.
    pub idle_timeout_ms: u64,
    /// Give up connecting to a storage node after this long.
    pub connect_timeout_ms: u64,
    /// Give up waiting for a free connection after this long.
    pub acquire_timeout_ms: u64,
    /// Ping idle connections this often.
    pub health_check_interval_ms: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            min_idle: 2,
            max_size: 256,
            idle_timeout_ms: 600_000,
            connect_timeout_ms: 5_000,
            acquire_timeout_ms: 10_000,
            health_check_interval_ms: 30_000,
        }
    }
}

/// Limits of the merges that combine several data nodes' results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MergeConfig {
    /// Bytes one statement's merge may buffer (groups, DISTINCT sets, sorting, input
    /// queues). Past it a sort or a hash join spills rows to `spill_dir`; the other
    /// operators fail with error 1114 naming this setting.
    pub memory_budget: u64,
    /// Directory of spill files; None (the default) is `tmp` under `server.data_dir`.
    /// Created at start, emptied of spill files a crash left, and checked writable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spill_dir: Option<PathBuf>,
    /// Bytes of spill files one statement may hold on disk at once; past it the
    /// statement fails with error 1114 naming this setting. 0 turns spilling off.
    pub spill_cap: u64,
    /// Bytes of spill files all statements of this compute node may hold on disk at
    /// once (at least `spill_cap`); past it the statement that asked fails with 1114.
    pub spill_node_cap: u64,
}

impl MergeConfig {
    /// The directory spill files go to, for a compute node whose data directory is
    /// `data_dir`.
    pub fn effective_spill_dir(&self, data_dir: &std::path::Path) -> PathBuf {
        self.spill_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("tmp"))
    }
}

/// Limits of what one statement may make the data nodes do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Rows a query run on one data node over temporary copies of its tables (a
    /// subquery, CTE, window function... over sharded tables) may copy there, all tables
    /// together; past it the query fails with error 1114 naming this setting and the
    /// copies are dropped.
    pub materialize_max_rows: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            materialize_max_rows: 1_000_000,
        }
    }
}

/// Smallest accepted `merge.memory_budget`: below it even a few rows do not fit.
pub const MIN_MERGE_MEMORY_BUDGET: u64 = 1024;

impl Default for MergeConfig {
    fn default() -> Self {
        Self {
            memory_budget: 64 << 20,
            spill_dir: None,
            spill_cap: 8 << 30,
            spill_node_cap: 32 << 30,
        }
    }
}

/// How a transaction that wrote on several data nodes commits.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    /// XA two-phase commit with a durable decision log: all branches commit or none.
    #[default]
    Xa,
    /// Plain COMMIT on each data node in turn: faster, but a failure between two
    /// nodes leaves the transaction committed on some of them.
    BestEffort,
}

/// Distributed transaction settings (milliseconds; 0 turns a periodic task off).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TransactionConfig {
    /// Commit protocol for transactions in databases spanning several data nodes.
    pub mode: CommitMode,
    /// How often prepared XA branches left by a failure are looked for and finished
    /// (recovery also runs once at start-up, before the service port opens).
    pub recovery_interval_ms: u64,
    /// How often the storage nodes' lock waits are checked for deadlocks that span
    /// data nodes (0: off; a storage node's own deadlocks are always detected there).
    pub deadlock_check_interval_ms: u64,
    /// A session idle this long inside a transaction is rolled back and disconnected,
    /// as MariaDB's idle_transaction_timeout does (0: never).
    pub idle_in_transaction_timeout_ms: u64,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        Self {
            mode: CommitMode::Xa,
            recovery_interval_ms: 5_000,
            deadlock_check_interval_ms: 3_000,
            idle_in_transaction_timeout_ms: 0,
        }
    }
}

/// The `[firewall]` section: built-in switches and `[[firewall.rule]]` entries checked
/// against each statement before it runs (`strata_server::firewall` compiles and applies
/// them; `strata_catalog::firewall` parses their patterns). Empty by default: no checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FirewallConfig {
    /// Deny UPDATE and DELETE statements without a top-level WHERE clause (a LIMIT alone
    /// does not count).
    pub deny_update_delete_without_where: bool,
    /// When set, DROP TABLE, DROP DATABASE/SCHEMA and TRUNCATE are allowed only for these
    /// users (`%` wildcard); an empty list allows nobody. Absent: no restriction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_drop_truncate_except: Option<Vec<String>>,
    /// Deny statements whose estimated row count (from the storage nodes' EXPLAIN)
    /// exceeds this; absent: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rows_estimate: Option<u64>,
    /// Named rules, checked in file order after the built-in switches.
    #[serde(rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<FirewallRuleConfig>,
}

/// What a matching firewall rule does.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FirewallAction {
    /// Refuse the statement with error 1227 naming the rule.
    Deny,
    /// Let the statement run and report that the rule matched.
    Log,
}

/// One `[[firewall.rule]]`: it matches a statement when every matcher given matches
/// (a list matches when any of its entries does); at least one matcher is required.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FirewallRuleConfig {
    /// Rule name, unique; the deny error and the log name it.
    pub name: String,
    /// Deny or log.
    pub action: FirewallAction,
    /// Statement kinds by name (`select`, `insert`, `update`, `delete`, `drop`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Tables touched: `db.table`, `db.*`, `*.table`, with `%`/`_` wildcards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// User names (`%` wildcard).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// LIKE pattern (`%`, `_`, case-insensitive) over the statement's normalized digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Only UPDATE/DELETE statements without a top-level WHERE clause match.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_where: bool,
    /// Users (`%` wildcard) the rule never applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except_users: Vec<String>,
    /// Text appended to the deny error after the rule's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod round_trip_tests {
    use super::*;

    /// What the testkit and the playground write is what `strata serve` reads back.
    #[test]
    fn a_serialized_configuration_parses_back_unchanged() {
        let config = Config::default();
        let text = toml::to_string(&config).expect("serializes");
        let back: Config = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, config);
    }
}
