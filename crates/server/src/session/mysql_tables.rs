//! Reads of the `mysql` tables Strata answers itself (`strata_sql::guard::MysqlTable`).
//! The storage servers' own `mysql.user` holds the storage account and its `mysql.proc`
//! every tenant's routines, so neither is ever read as it is: `mysql.user` is a derived
//! table of Strata's accounts evaluated with MariaDB 10.11's own view expressions (so
//! its columns have the view's names, order and types), `mysql.roles_mapping` and
//! `mysql.db` derived tables of Strata's role and database-level grants, `mysql.proc` a derived table
//! over the storage node's `mysql.proc` restricted to the databases the account may see,
//! with logical names, recorded definers and logical qualifiers in bodies. The client's
//! query runs over them on a storage node, so WHERE, ORDER BY, joins and aggregates work.

use std::sync::Arc;

use strata_catalog::accounts::{Account, PrivSet};
use strata_catalog::DataNodeId;
use strata_protocol::{AuthPlugin, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::guard::{mysql_tables_read, rewrite_mysql_tables, MysqlTable};
use strata_sql::{ByteSummary, StatementKind, StoredObject};

use super::isolation::{client_host, sql_string, VisibleSchema};
use super::{Answer, Session, SessionError};
use crate::results::LocalResult;

impl Session {
    /// Answers a SELECT that reads `mysql.user`, `mysql.roles_mapping` or `mysql.proc`; None for any other
    /// statement (it takes its usual path, where the guard refuses the rest of `mysql`).
    pub(super) async fn mysql_tables_query(
        &mut self,
        sql: &str,
        kind: StatementKind,
        more: bool,
    ) -> Option<Result<Answer, SessionError>> {
        let tables = mysql_tables_read(sql, kind);
        if tables.is_empty() {
            return None;
        }
        // `INTO @vars`: the variables live on the session's home connection, not on
        // the one the read runs on, so the compute node assigns the row itself.
        if let Some(into) = super::select_into::split_select_into(sql) {
            let assigned = match self.run_mysql_tables_query(&into.select, &tables).await {
                Ok(result) => {
                    self.assign_result(&into, &result.columns, &result.rows)
                        .await
                }
                Err(e) => Err(e),
            };
            return Some(self.answer_select_into(&into, assigned, more).await);
        }
        Some(match self.run_mysql_tables_query(sql, &tables).await {
            Ok(result) => {
                self.write_local(&result, more);
                Ok(Answer::Ok)
            }
            Err(e) => {
                self.err(&e);
                Ok(Answer::Failed)
            }
        })
    }

    async fn run_mysql_tables_query(
        &mut self,
        sql: &str,
        tables: &[MysqlTable],
    ) -> Result<LocalResult, MysqlError> {
        // MariaDB checks SELECT on each table named (1142), before anything else.
        for table in tables {
            self.authorize_mysql_table(*table)?;
        }
        // The rest of the statement passes the same checks as any other: each table of
        // Strata's stands as an empty derived table for them.
        let checked = rewrite_mysql_tables(sql, |_| "SELECT 1".into());
        let bytes = ByteSummary::of(checked.as_bytes());
        self.guard(&checked, StatementKind::Select, bytes)?;
        self.authorize(&checked, StatementKind::Select)?;
        if strata_sql::table_references(&checked, StatementKind::Select)
            .refs
            .iter()
            .any(|r| r.schema.is_some() || strata_sql::guard::mysql_table(&r.name).is_none())
        {
            return Err(MysqlError::not_supported(
                "a query joining mysql.user, mysql.db, mysql.roles_mapping or mysql.proc with other tables",
            ));
        }
        self.firewall(sql, StatementKind::Select).await?;
        let node = if tables.contains(&MysqlTable::Proc) {
            Some(self.proc_node()?)
        } else {
            None
        };
        let visible = node.map(|dnid| self.proc_schemas(dnid)).unwrap_or_default();
        let user = self.user_table_source();
        let text = rewrite_mysql_tables(sql, |table| match table {
            MysqlTable::User => user.clone(),
            MysqlTable::RolesMapping => self.roles_mapping_source(),
            MysqlTable::Db => self.db_table_source(),
            MysqlTable::Proc => self.proc_table_source(&visible),
        });
        let text = self.mask_variables(&text, ByteSummary::of(text.as_bytes()));
        // Under SET STATEMENT the storage node runs it with the variables.
        let text = match self.statement.variables.as_deref() {
            Some(prefix) => format!("{prefix}{text}"),
            None => text.into_owned(),
        };
        let (columns, rows) = match node {
            Some(dnid) => self.node_result(dnid, None, &text).await?,
            None => self.home_result(&text, true).await?,
        };
        Ok(LocalResult { columns, rows })
    }

    /// MariaDB's 1142 unless the account holds SELECT on `mysql`.`table` (globally, on
    /// the `mysql` database or on the table).
    fn authorize_mysql_table(&self, table: MysqlTable) -> Result<(), MysqlError> {
        let held = self
            .identity
            .account
            .table_privileges("mysql", table.name());
        if held.contains(PrivSet::of(Privilege::Select)) {
            return Ok(());
        }
        Err(MysqlError {
            code: 1142,
            state: "42000",
            message: format!(
                "SELECT command denied to user '{}'@'{}' for table `mysql`.`{}`",
                self.identity.user,
                client_host(&self.identity.entry.host),
                table.name()
            ),
        })
    }

    /// `mysql.user` as MariaDB 10.11 shows it, for Strata's accounts: each account as
    /// the `global_priv` row MariaDB would store, read through the view's expressions.
    fn user_table_source(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .ctx
            .accounts()
            .iter()
            .map(|a| {
                serde_json::json!({
                    "Host": a.host.as_str(),
                    "User": a.user,
                    "Priv": global_priv(a).to_string(),
                })
            })
            .collect();
        let json = serde_json::Value::Array(rows).to_string();
        format!(
            "SELECT {USER_VIEW_COLUMNS} FROM JSON_TABLE({}, '$[*]' COLUMNS (\
             `Host` CHAR(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.Host', \
             `User` CHAR(128) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.User', \
             `Priv` LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$.Priv')) AS `g`",
            sql_string(&json)
        )
    }

    /// `mysql.roles_mapping` as MariaDB 10.11 keeps it, for Strata's roles. Its columns
    /// have the table's names and character sets; `Admin_option` is `CHAR(1)` where
    /// MariaDB has `ENUM('N','Y')` (JSON_TABLE has no ENUM columns).
    fn roles_mapping_source(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .ctx
            .accounts()
            .roles_mapping()
            .into_iter()
            .map(|(host, user, role, admin)| {
                serde_json::json!({
                    "Host": host,
                    "User": user,
                    "Role": role,
                    "Admin_option": if admin { "Y" } else { "N" },
                })
            })
            .collect();
        let json = serde_json::Value::Array(rows).to_string();
        format!(
            "SELECT * FROM JSON_TABLE({}, '$[*]' COLUMNS (\
             `Host` CHAR(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.Host', \
             `User` CHAR(128) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.User', \
             `Role` CHAR(128) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.Role', \
             `Admin_option` CHAR(1) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci \
             PATH '$.Admin_option')) AS `m`",
            sql_string(&json)
        )
    }

    /// `mysql.db` as MariaDB 10.11 keeps it: a row per account (or role, host '') and
    /// database granted privileges at the database level. Its privilege columns are
    /// `CHAR(1)` where MariaDB has `ENUM('N','Y')` (JSON_TABLE has no ENUM columns).
    fn db_table_source(&self) -> String {
        let mut rows = Vec::new();
        for account in self.ctx.accounts().iter() {
            for (db, set) in &account.databases {
                if set.is_empty() {
                    continue;
                }
                let mut row = serde_json::Map::new();
                row.insert("Host".into(), account.host.as_str().into());
                row.insert("Db".into(), db.as_str().into());
                row.insert("User".into(), account.user.as_str().into());
                for (i, (_, privilege)) in DB_PRIV_COLUMNS.iter().enumerate() {
                    let held = match privilege {
                        Some(p) => set.contains(PrivSet::of(*p)),
                        None => set.grant_option(),
                    };
                    row.insert(format!("p{i}"), if held { "Y" } else { "N" }.into());
                }
                rows.push(serde_json::Value::Object(row));
            }
        }
        let json = serde_json::Value::Array(rows).to_string();
        let privs: Vec<String> = DB_PRIV_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                format!(
                    "`{name}` CHAR(1) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci PATH '$.p{i}'"
                )
            })
            .collect();
        format!(
            "SELECT * FROM JSON_TABLE({}, '$[*]' COLUMNS (\
             `Host` CHAR(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.Host', \
             `Db` CHAR(64) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.Db', \
             `User` CHAR(128) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PATH '$.User', {})) AS `d`",
            sql_string(&json),
            privs.join(", ")
        )
    }

    /// The data node whose `mysql.proc` holds the routines of every database the
    /// account may see (a database's routines are on each of its data nodes): the
    /// session's home node when it has them all. Databases placed on disjoint nodes
    /// have no such node: refused rather than show part of the routines.
    fn proc_node(&self) -> Result<DataNodeId, MysqlError> {
        let dbs: Vec<_> = self
            .ctx
            .topology
            .dbs()
            .into_iter()
            .filter(|db| self.may_use(&db.name))
            .collect();
        let home = self.home_node().ok().map(|(dnid, _)| dnid);
        let candidates = home
            .into_iter()
            .chain(dbs.iter().flat_map(|db| db.data_nodes.iter().copied()))
            .chain(self.ctx.topology.nodes().map(|n| n.id));
        for dnid in candidates {
            if dbs.iter().all(|db| db.data_nodes.contains(&dnid)) {
                return Ok(dnid);
            }
        }
        Err(MysqlError::not_supported(
            "mysql.proc for an account whose databases are on different data nodes (read information_schema.ROUTINES)",
        ))
    }

    /// The databases the account may see, with their physical names on `dnid`.
    fn proc_schemas(&self, dnid: DataNodeId) -> Vec<VisibleSchema> {
        self.ctx
            .topology
            .dbs()
            .iter()
            .filter(|db| self.may_use(&db.name))
            .filter_map(|db| {
                let physical = self.ctx.topology.physical(db, dnid)?;
                Some(VisibleSchema {
                    logical: Arc::from(db.name.as_str()),
                    literal: sql_string(&physical),
                    physical,
                    tables: None,
                })
            })
            .collect()
    }

    /// `mysql.proc` with the rows of `visible` databases only, named logically.
    fn proc_table_source(&self, visible: &[VisibleSchema]) -> String {
        if visible.is_empty() {
            return "SELECT * FROM mysql.proc WHERE 0".into();
        }
        let renamed = visible.iter().any(|s| s.physical != s.logical);
        let db = if renamed {
            let whens: Vec<String> = visible
                .iter()
                .map(|s| format!("WHEN {} THEN {}", s.literal, sql_string(&s.logical)))
                .collect();
            format!("CASE `db` {} END AS `db`", whens.join(" "))
        } else {
            "`db`".into()
        };
        let definer = self.proc_definers(visible);
        let columns: Vec<String> = PROC_COLUMNS
            .iter()
            .map(|c| match *c {
                "db" => db.clone(),
                "definer" => definer.clone(),
                "body" | "body_utf8" => super::definers::logical_definitions(c, visible)
                    .unwrap_or_else(|| format!("`{c}`")),
                c => format!("`{c}`"),
            })
            .collect();
        let list: Vec<&str> = visible.iter().map(|s| s.literal.as_str()).collect();
        format!(
            "SELECT {} FROM mysql.proc WHERE `db` IN ({})",
            columns.join(", "),
            list.join(", ")
        )
    }

    /// The `definer` column with the definers Strata recorded (the storage node's
    /// routines belong to the storage account).
    fn proc_definers(&self, visible: &[VisibleSchema]) -> String {
        let store = self.ctx.topology.catalog().store();
        let mut whens = Vec::new();
        for schema in visible {
            let records = match store.definers(&schema.logical) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(database = %schema.logical, error = %e, "definers not read");
                    continue;
                }
            };
            for r in records.iter().filter(|r| {
                matches!(
                    r.kind,
                    StoredObject::Procedure
                        | StoredObject::Function
                        | StoredObject::Package
                        | StoredObject::PackageBody
                )
            }) {
                whens.push(format!(
                    "WHEN `db` = {} AND `name` = {} AND `type` = '{}' THEN {}",
                    schema.literal,
                    sql_string(&r.name),
                    r.kind.keyword(),
                    sql_string(&strata_sql::definer::plain_definer(&r.definer))
                ));
            }
        }
        if whens.is_empty() {
            return "`definer`".into();
        }
        format!("CASE {} ELSE `definer` END AS `definer`", whens.join(" "))
    }
}

/// The `Priv` JSON MariaDB 10.11 keeps in `mysql.global_priv` for `account`, with what
/// its `mysql.user` view reads: the privilege bits, plugin, hash and connection limit.
fn global_priv(account: &Account) -> serde_json::Value {
    let credential = &account.credential;
    let (plugin, auth) = match (credential.required, &credential.sha2) {
        (Some(AuthPlugin::CachingSha2Password), Some(v)) => (
            AuthPlugin::CachingSha2Password.name(),
            v.as_str().to_string(),
        ),
        (Some(AuthPlugin::CachingSha2Password), None) => {
            (AuthPlugin::CachingSha2Password.name(), String::new())
        }
        _ => (
            AuthPlugin::MysqlNativePassword.name(),
            account.native_hash_text().unwrap_or_default(),
        ),
    };
    if account.is_role {
        // MariaDB stores a role without authentication.
        return serde_json::json!({
            "access": access_bits(account.global),
            "is_role": true,
        });
    }
    let mut priv_ = serde_json::json!({
        "access": access_bits(account.global),
        "plugin": plugin,
        "authentication_string": auth,
        "max_user_connections": account.max_user_connections,
    });
    if let (Some(role), Some(map)) = (&account.default_role, priv_.as_object_mut()) {
        map.insert("default_role".into(), serde_json::json!(role));
    }
    priv_
}

/// MariaDB's access bits for `set`: Strata keeps its privileges in MariaDB's bit order
/// but for GRANT OPTION, which MariaDB keeps as bit 10.
fn access_bits(set: PrivSet) -> u64 {
    let grant = PrivSet::of(Privilege::GrantOption);
    let mut bits = if set.grant_option() { 1 << 10 } else { 0 };
    for p in set.minus(grant).iter() {
        let Some(i) = privilege_index(p) else {
            continue;
        };
        bits |= 1 << if i < 10 { i } else { i + 1 };
    }
    bits
}

/// The position of `p` in Strata's privilege order (GRANT OPTION excluded).
fn privilege_index(p: Privilege) -> Option<u32> {
    PrivSet::all(strata_catalog::accounts::Level::Global)
        .iter()
        .position(|q| q == p)
        .and_then(|i| u32::try_from(i).ok())
}

/// MariaDB 10.11's privilege columns of `mysql.db`, in order, with the privilege each
/// says (None: GRANT OPTION, `Grant_priv`).
const DB_PRIV_COLUMNS: [(&str, Option<Privilege>); 20] = [
    ("Select_priv", Some(Privilege::Select)),
    ("Insert_priv", Some(Privilege::Insert)),
    ("Update_priv", Some(Privilege::Update)),
    ("Delete_priv", Some(Privilege::Delete)),
    ("Create_priv", Some(Privilege::Create)),
    ("Drop_priv", Some(Privilege::Drop)),
    ("Grant_priv", None),
    ("References_priv", Some(Privilege::References)),
    ("Index_priv", Some(Privilege::Index)),
    ("Alter_priv", Some(Privilege::Alter)),
    (
        "Create_tmp_table_priv",
        Some(Privilege::CreateTemporaryTables),
    ),
    ("Lock_tables_priv", Some(Privilege::LockTables)),
    ("Create_view_priv", Some(Privilege::CreateView)),
    ("Show_view_priv", Some(Privilege::ShowView)),
    ("Create_routine_priv", Some(Privilege::CreateRoutine)),
    ("Alter_routine_priv", Some(Privilege::AlterRoutine)),
    ("Execute_priv", Some(Privilege::Execute)),
    ("Event_priv", Some(Privilege::Event)),
    ("Trigger_priv", Some(Privilege::Trigger)),
    ("Delete_history_priv", Some(Privilege::DeleteHistory)),
];

/// MariaDB 10.11's `mysql.proc` columns, in order.
const PROC_COLUMNS: &[&str] = &[
    "db",
    "name",
    "type",
    "specific_name",
    "language",
    "sql_data_access",
    "is_deterministic",
    "security_type",
    "param_list",
    "returns",
    "body",
    "definer",
    "created",
    "modified",
    "sql_mode",
    "comment",
    "character_set_client",
    "collation_connection",
    "db_collation",
    "body_utf8",
    "aggregate",
];

/// The select list of MariaDB 10.11's `mysql.user` view (`SHOW CREATE VIEW mysql.user`)
/// over the derived table `g` standing for `mysql.global_priv`.
const USER_VIEW_COLUMNS: &str = include_str!("mysql_user_view.sql");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_bits_are_mariadbs() {
        use strata_catalog::accounts::Level;
        // GRANT ALL ON *.* ... WITH GRANT OPTION, SELECT + PROCESS (MariaDB 10.11).
        let all = PrivSet::all(Level::Global) | PrivSet::of(Privilege::GrantOption);
        assert_eq!(access_bits(all), 549_755_813_887);
        let some = PrivSet::of(Privilege::Select) | PrivSet::of(Privilege::Process);
        assert_eq!(access_bits(some), 257);
        assert_eq!(access_bits(PrivSet::of(Privilege::References)), 2048);
        assert_eq!(access_bits(PrivSet::EMPTY), 0);
    }
}
