//! The compute node's own `read_only` (`SET GLOBAL read_only = ON`), with MariaDB
//! 10.11's semantics: while it is on, statements that change data or schema in sessions
//! of accounts without READ_ONLY ADMIN fail with 1290 (SUPER alone does not exempt
//! one), but those on the session's temporary tables; a COMMIT of a transaction that
//! changed data rolls it back with 1290. It is never the storage servers' `read_only`
//! (Strata fences failed primaries with that one), and it covers this compute node
//! only: a compute node of a cluster refuses to turn it on.

use strata_protocol::{codes, MysqlError};
use strata_sql::account::Privilege;
use strata_sql::tables::{table_references, Access};
use strata_sql::{code_tokens, SetExpr, SetValue, StatementKind, TokenKind};

use super::Session;
use crate::globals::{boolean, GlobalValue};

/// MariaDB's 1290 for a statement `read_only` refuses.
pub(super) fn read_only_error() -> MysqlError {
    MysqlError::new(
        codes::OPTION_PREVENTS_STATEMENT,
        "The MariaDB server is running with the --read-only option so it cannot execute this statement",
    )
}

/// What `read_only` does with a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadOnlyCheck {
    /// It changes nothing read_only guards.
    Passes,
    /// Refused (1290).
    Refused,
    /// Refused but for its tables written being temporary ones.
    UnlessTemporary,
    /// Strata cannot tell what it writes (a procedure runs on the storage servers,
    /// where read_only is off): refused with 1235 naming it.
    Unknown(&'static str),
}

/// How `read_only` judges `sql` (of `kind`), MariaDB's list: DML and LOAD DATA, DDL
/// (but on temporary tables), account changes, LOCK TABLES ... WRITE, ANALYZE and
/// OPTIMIZE TABLE. Reads, SET, transaction control, FLUSH, CHECK, HANDLER and XA pass.
pub(super) fn read_only_check(sql: &str, kind: StatementKind) -> ReadOnlyCheck {
    use ReadOnlyCheck as C;
    use StatementKind as K;
    let words: Vec<String> = code_tokens(sql)
        .filter(|t| t.kind == TokenKind::Ident)
        .take(4)
        .map(|t| t.text(sql).to_ascii_uppercase())
        .collect();
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match kind {
        K::Insert | K::Replace | K::Update | K::Delete | K::Load | K::Truncate => {
            if word(0) == "LOAD" && word(1) != "DATA" && word(1) != "XML" {
                // LOAD INDEX INTO CACHE.
                return C::Passes;
            }
            C::UnlessTemporary
        }
        // CREATE [OR REPLACE] TEMPORARY TABLE makes the session's own table; a plain
        // CREATE TABLE never does, even over a temporary table's name.
        K::Create if words.iter().skip(1).any(|w| w == "TEMPORARY") => C::Passes,
        K::Create => C::Refused,
        K::Drop | K::Alter => match word(1) {
            "TEMPORARY" => C::Passes,
            "TABLE" => C::UnlessTemporary,
            _ => C::Refused,
        },
        K::Rename => C::Refused,
        // A WRITE lock of one of the session's temporary tables is allowed.
        K::Lock => {
            if words_of(sql).any(|w| w == "WRITE") {
                C::UnlessTemporary
            } else {
                C::Passes
            }
        }
        K::Call => C::Unknown("CALL while read_only is ON (the procedure runs on the storage servers, whose read_only is off)"),
        K::Set => match strata_sql::guard::set_word(sql).as_str() {
            "PASSWORD" => C::Refused,
            "DEFAULT" if word(2) == "ROLE" => C::Refused,
            _ => C::Passes,
        },
        K::Other => match word(0) {
            "GRANT" | "REVOKE" | "OPTIMIZE" => C::Refused,
            "ANALYZE" if matches!(word(1), "TABLE" | "TABLES" | "NO_WRITE_TO_BINLOG" | "LOCAL") => {
                C::Refused
            }
            "ANALYZE" | "FLUSH" | "HANDLER" | "CHECK" | "CHECKSUM" | "GET" | "SIGNAL"
            | "RESIGNAL" | "XA" | "" => C::Passes,
            _ => C::Unknown("this statement while read_only is ON"),
        },
        _ => C::Passes,
    }
}

/// The tables `LOCK TABLE(S) ...` locks for writing (`t [AS a] [LOW_PRIORITY] WRITE
/// [CONCURRENT]`), as (database, name); None when the list does not read as one.
fn write_locked(sql: &str) -> Option<Vec<(Option<String>, String)>> {
    let toks: Vec<strata_sql::Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let start = toks
        .iter()
        .position(|t| t.is_keyword(sql, "TABLES") || t.is_keyword(sql, "TABLE"))?;
    let mut out = Vec::new();
    for item in toks[start + 1..].split(|t| t.is_punct(sql, ",")) {
        if !item.iter().any(|t| t.is_keyword(sql, "WRITE")) {
            continue;
        }
        let name = |t: &strata_sql::Token| {
            t.kind
                .is_ident()
                .then(|| strata_sql::lexer::ident_value(t.text(sql)).into_owned())
        };
        match item {
            [db, dot, table, ..] if dot.is_punct(sql, ".") => {
                out.push((Some(name(db)?), name(table)?));
            }
            [table, ..] => out.push((None, name(table)?)),
            [] => return None,
        }
    }
    Some(out)
}

fn words_of(sql: &str) -> impl Iterator<Item = String> + '_ {
    code_tokens(sql)
        .filter(|t| t.kind == TokenKind::Ident)
        .map(move |t| t.text(sql).to_ascii_uppercase())
}

impl Session {
    /// True when this compute node's `read_only` holds the session's changes back.
    pub(super) fn held_by_read_only(&self) -> bool {
        self.ctx.globals.read_only() && !self.has_global(Privilege::ReadOnlyAdmin)
    }

    /// The refusal `read_only` gives the statement `sql` (the text an EXECUTE runs when
    /// known), None when it may run. `commits_a_write`: the statement ends a
    /// transaction that changed data, which is rolled back instead (as MariaDB does).
    pub(super) async fn read_only_refusal_of(
        &mut self,
        sql: &str,
        kind: StatementKind,
        commits_a_write: bool,
    ) -> Option<MysqlError> {
        if commits_a_write {
            self.rollback_for_read_only().await;
            return Some(read_only_error());
        }
        match read_only_check(sql, kind) {
            ReadOnlyCheck::Passes => None,
            ReadOnlyCheck::Refused => Some(read_only_error()),
            ReadOnlyCheck::Unknown(what) => Some(MysqlError::not_supported(what)),
            ReadOnlyCheck::UnlessTemporary => {
                if self.writes_temporary_only(sql, kind).await {
                    None
                } else {
                    Some(read_only_error())
                }
            }
        }
    }

    /// True when every table `sql` writes is one of the session's temporary tables.
    async fn writes_temporary_only(&mut self, sql: &str, kind: StatementKind) -> bool {
        if kind == StatementKind::Lock {
            let Some(locked) = write_locked(sql) else {
                return false;
            };
            for (schema, name) in locked {
                let Some(db) = schema.or_else(|| self.state.db.clone()) else {
                    return false;
                };
                if !self.is_temporary_table(&db, &name).await {
                    return false;
                }
            }
            return true;
        }
        let tables = table_references(sql, kind);
        if tables.unknown {
            return false;
        }
        let written: Vec<_> = tables
            .refs
            .into_iter()
            .filter(|r| {
                matches!(
                    r.access,
                    Access::Insert
                        | Access::Update
                        | Access::Delete
                        | Access::Replace
                        | Access::Create
                        | Access::Drop
                        | Access::Alter
                        | Access::Index
                )
            })
            .collect();
        if written.is_empty() {
            return false;
        }
        for table in written {
            let Some(db) = table.schema.clone().or_else(|| self.state.db.clone()) else {
                return false;
            };
            if !self.is_temporary_table(&db, &table.name).await {
                return false;
            }
        }
        true
    }

    /// True when `db`.`name` is one of the session's temporary tables: the ones in
    /// databases over several data nodes are known here, the others are asked of the
    /// session's storage connection (SHOW CREATE TABLE names a temporary table so).
    async fn is_temporary_table(&mut self, db: &str, name: &str) -> bool {
        if self.backends.temporary.lookup(db, name).is_some() {
            return true;
        }
        let Some(logic) = self.ctx.topology.db(db) else {
            return false;
        };
        let Some(dnid) = crate::context::home_node(&logic) else {
            return false;
        };
        let Some(physical) = self.ctx.topology.physical(&logic, dnid) else {
            return false;
        };
        let sql = format!(
            "SHOW CREATE TABLE `{}`.`{}`",
            physical.replace('`', "``"),
            name.replace('`', "``")
        );
        match self.node_result(dnid, None, &sql).await {
            Ok((_, rows)) => rows
                .first()
                .and_then(|r| r.get(1))
                .and_then(|v| v.as_deref())
                .is_some_and(|text| text.starts_with("CREATE TEMPORARY TABLE")),
            Err(_) => false,
        }
    }

    /// Rolls the session's transaction back (a COMMIT read_only refused).
    async fn rollback_for_read_only(&mut self) {
        if self.txn.open.is_some() {
            self.rollback_txn().await;
        } else {
            for dnid in self.nodes_in_transaction() {
                if let Err(e) = self.node_result(dnid, None, "ROLLBACK").await {
                    tracing::warn!(dnid = dnid.get(), error = %e.message, "rollback of a transaction read_only refused to commit failed");
                }
            }
        }
        self.txn.wrote = false;
    }

    /// `SET GLOBAL read_only = value`: the compute node's own value (DEFAULT is OFF).
    /// A compute node of a cluster refuses to turn it on: writes through the other
    /// compute nodes would go on.
    pub(super) async fn read_only_assignment(
        &mut self,
        value: &SetExpr,
    ) -> Result<GlobalValue, MysqlError> {
        let on = if value.value == Some(SetValue::Default) {
            false
        } else {
            let text = self.value_text(value).await?;
            match text
                .as_deref()
                .map(|t| t.trim().to_ascii_uppercase())
                .as_deref()
            {
                Some("1" | "ON" | "TRUE") => true,
                Some("0" | "OFF" | "FALSE") => false,
                _ => {
                    return Err(MysqlError::new(
                        codes::WRONG_VALUE_FOR_VAR,
                        format!(
                            "Variable 'read_only' can't be set to the value of '{}'",
                            text.as_deref().unwrap_or("NULL")
                        ),
                    ))
                }
            }
        };
        if on && self.in_cluster() {
            return Err(MysqlError::not_supported(
                "SET GLOBAL read_only = ON on a compute node of a cluster (the setting is this compute node's: writes through the other compute nodes would go on)",
            ));
        }
        Ok(boolean(on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_sql::classify;

    #[test]
    fn what_read_only_refuses() {
        let check = |sql: &str| read_only_check(sql, classify(sql));
        for sql in [
            "CREATE TABLE t (a INT)",
            "DROP DATABASE d",
            "CREATE VIEW v AS SELECT 1",
            "CREATE USER u",
            "GRANT SELECT ON *.* TO u",
            "SET PASSWORD = PASSWORD('x')",
            "OPTIMIZE TABLE t",
            "ANALYZE TABLE t",
            "RENAME TABLE a TO b",
        ] {
            assert_eq!(check(sql), ReadOnlyCheck::Refused, "{sql}");
        }
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "TRUNCATE t",
            "DROP TABLE t",
            "ALTER TABLE t ADD b INT",
            "LOCK TABLES t READ, u WRITE",
        ] {
            assert_eq!(check(sql), ReadOnlyCheck::UnlessTemporary, "{sql}");
        }
        assert_eq!(
            write_locked("LOCK TABLES t1 READ, d.temp AS x LOW_PRIORITY WRITE, `u` WRITE"),
            Some(vec![
                (Some("d".to_string()), "temp".to_string()),
                (None, "u".to_string())
            ])
        );
        for sql in [
            "SELECT 1",
            "CREATE TEMPORARY TABLE t (a INT)",
            "CREATE OR REPLACE TEMPORARY TABLE t (a INT)",
            "DROP TEMPORARY TABLE t",
            "LOCK TABLES t READ",
            "CHECK TABLE t",
            "FLUSH TABLES",
            "SET @x = 1",
            "BEGIN",
            "COMMIT",
            "ANALYZE SELECT 1",
        ] {
            assert_eq!(check(sql), ReadOnlyCheck::Passes, "{sql}");
        }
        assert!(matches!(check("CALL p()"), ReadOnlyCheck::Unknown(_)));
    }
}
