//! information_schema.APPLICABLE_ROLES and ENABLED_ROLES from Strata's own accounts (the
//! storage servers' roles are not the client's): each is a derived table of literal
//! rows the storage node evaluates the client's query over.

use super::isolation::sql_string;
use super::Session;

/// `value` as an SQL literal of type `CHAR(len)`, NULL for None.
fn cell(value: Option<&str>, len: u32) -> String {
    let literal = value.map_or_else(|| "NULL".to_string(), sql_string);
    format!("CAST({literal} AS CHAR({len}))")
}

/// A derived table of `rows` under `columns` ((name, length)); no rows is an empty
/// table of the same columns.
fn literal_table(columns: &[(&str, u32)], rows: &[Vec<Option<String>>]) -> String {
    let select = |row: &[Option<String>]| {
        let items: Vec<String> = columns
            .iter()
            .zip(row)
            .map(|((name, len), v)| format!("{} AS `{name}`", cell(v.as_deref(), *len)))
            .collect();
        format!("SELECT {}", items.join(", "))
    };
    if rows.is_empty() {
        let nulls = vec![None; columns.len()];
        return format!("{} FROM DUAL WHERE 0", select(&nulls));
    }
    rows.iter()
        .map(|r| select(r))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

impl Session {
    /// True when `sql` calls CURRENT_ROLE while a role is enabled: a storage node would
    /// answer NULL.
    pub(super) fn current_role_would_be_wrong(&self, sql: &str) -> bool {
        self.identity.role.is_some()
            && strata_sql::code_tokens(sql).any(|t| t.is_keyword(sql, "CURRENT_ROLE"))
    }

    /// APPLICABLE_ROLES: the roles granted to the account (IS_DEFAULT says whether it is
    /// the default role), then those granted to each of those roles.
    pub(super) fn applicable_roles_source(&self) -> String {
        let accounts = self.ctx.accounts();
        let me = &self.identity.account;
        let stored = accounts
            .get(&me.user, me.host.as_str())
            .filter(|a| !a.is_role);
        let yes_no = |b: bool| Some(if b { "YES" } else { "NO" }.to_string());
        let mut rows = Vec::new();
        if let Some(account) = stored {
            let grantee = format!("{}@{}", account.user, account.host.as_str());
            for (role, admin) in &account.roles {
                rows.push(vec![
                    Some(grantee.clone()),
                    Some(role.clone()),
                    yes_no(*admin),
                    yes_no(account.default_role.as_deref() == Some(role)),
                ]);
            }
            let mut seen = std::collections::BTreeSet::new();
            for top in account.roles.keys() {
                for r in accounts.role_closure(top) {
                    if !seen.insert(r.user.clone()) {
                        continue;
                    }
                    for (role, admin) in &r.roles {
                        rows.push(vec![
                            Some(r.user.clone()),
                            Some(role.clone()),
                            yes_no(*admin),
                            None,
                        ]);
                    }
                }
            }
        }
        literal_table(
            &[
                ("GRANTEE", 384),
                ("ROLE_NAME", 128),
                ("IS_GRANTABLE", 3),
                ("IS_DEFAULT", 3),
            ],
            &rows,
        )
    }

    /// ENABLED_ROLES: the enabled role and the roles granted to it; one NULL row when no
    /// role is enabled (as MariaDB shows it).
    pub(super) fn enabled_roles_source(&self) -> String {
        let rows: Vec<Vec<Option<String>>> = match self.identity.role.as_deref() {
            Some(role) => self
                .ctx
                .accounts()
                .role_closure(role)
                .into_iter()
                .map(|r| vec![Some(r.user.clone())])
                .collect(),
            None => vec![vec![None]],
        };
        literal_table(&[("ROLE_NAME", 128)], &rows)
    }
}
