//! The model of a view: its SELECT as written and the clauses of its CREATE VIEW. Strata
//! keeps views itself (data nodes never see them): the planner expands a view into its
//! SELECT as a derived table, and `SHOW CREATE VIEW` and `SHOW FULL TABLES` are answered
//! from here. Views share the table records' namespace in the metadata store (one key
//! per database and name, as tables and views share one namespace in MySQL), so a
//! restart and every compute node sharing etcd see the same views.

use serde::{Deserialize, Serialize};

use crate::store::now_ms;

/// A view of a logical database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewInfo {
    /// The SELECT, as the CREATE VIEW wrote it (without the column list or CHECK OPTION).
    pub select: String,
    /// The view's column list, empty when not given (names come from the SELECT).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// `UNDEFINED`, `MERGE` or `TEMPTABLE`.
    pub algorithm: String,
    /// The definer's user name.
    pub definer_user: String,
    /// The definer's host.
    pub definer_host: String,
    /// `DEFINER` or `INVOKER`.
    pub sql_security: String,
    /// `CASCADED` or `LOCAL` for `WITH [..] CHECK OPTION`; None without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_option: Option<String>,
    /// The session's `character_set_client` at creation.
    pub character_set_client: String,
    /// The session's `collation_connection` at creation.
    pub collation_connection: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
}

impl ViewInfo {
    /// A view created now over `select` with MariaDB's defaults for everything else.
    pub fn new(select: &str, definer_user: &str, definer_host: &str) -> ViewInfo {
        ViewInfo {
            select: select.to_string(),
            columns: Vec::new(),
            algorithm: "UNDEFINED".into(),
            definer_user: definer_user.to_string(),
            definer_host: definer_host.to_string(),
            sql_security: "DEFINER".into(),
            check_option: None,
            character_set_client: "utf8mb4".into(),
            collation_connection: "utf8mb4_general_ci".into(),
            created_at_ms: now_ms(),
        }
    }

    /// The definer as MariaDB prints it: `` `user`@`host` ``.
    pub fn definer(&self) -> String {
        format!(
            "`{}`@`{}`",
            self.definer_user.replace('`', "``"),
            self.definer_host.replace('`', "``")
        )
    }

    /// The `Create View` text of `SHOW CREATE VIEW`, in MariaDB's layout.
    pub fn create_statement(&self, name: &str) -> String {
        let mut out = format!(
            "CREATE ALGORITHM={} DEFINER={} SQL SECURITY {} VIEW `{}`",
            self.algorithm,
            self.definer(),
            self.sql_security,
            name.replace('`', "``")
        );
        if !self.columns.is_empty() {
            let cols: Vec<String> = self
                .columns
                .iter()
                .map(|c| format!("`{}`", c.replace('`', "``")))
                .collect();
            out.push_str(&format!(" ({})", cols.join(",")));
        }
        out.push_str(" AS ");
        out.push_str(&self.select);
        if let Some(check) = &self.check_option {
            out.push_str(&format!(" WITH {check} CHECK OPTION"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_statement_follows_mariadb_layout() {
        let mut v = ViewInfo::new("select `t`.`a` AS `a` from `t`", "root", "localhost");
        assert_eq!(
            v.create_statement("v"),
            "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER \
             VIEW `v` AS select `t`.`a` AS `a` from `t`"
        );
        v.check_option = Some("CASCADED".into());
        v.columns = vec!["x".into()];
        assert!(v.create_statement("v").ends_with(
            "VIEW `v` (`x`) AS select `t`.`a` AS `a` from `t` WITH CASCADED CHECK OPTION"
        ));
    }
}
