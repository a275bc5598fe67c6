//! LOCK TABLES of a session: which tables it names, and whether they can all be locked
//! on the session's home data node (the connection the session keeps from then on).

use strata_protocol::MysqlError;
use strata_sql::code_tokens;

use super::Session;

impl Session {
    /// LOCK TABLES runs on the session's home data node, on the connection it keeps
    /// from then on: Ok when every named table Strata placed lives there alone. A
    /// table on other (or more) data nodes would be locked in part, or not at all:
    /// refused (locks over several data nodes are not implemented).
    pub(super) fn lock_tables_on_home(&self, sql: &str) -> Result<(), MysqlError> {
        let Ok((home, _)) = self.home_node() else {
            return Ok(());
        };
        let topo = &self.ctx.topology;
        for (schema, name) in lock_table_names(sql) {
            let Some(db) = schema.or_else(|| self.state.db.clone()) else {
                continue;
            };
            let Some(info) = topo.catalog().table(&db, &name) else {
                continue;
            };
            if info.data_nodes.as_slice() != [home] {
                return Err(MysqlError::not_supported(&format!(
                    "LOCK TABLES on table '{db}.{name}', which is not on the session's home data node alone (locks over several data nodes)"
                )));
            }
        }
        Ok(())
    }
}

/// The tables `LOCK TABLE[S] t [[AS] a] lock_type, ...` names, as (schema, name).
fn lock_table_names(sql: &str) -> Vec<(Option<String>, String)> {
    let code: Vec<strata_sql::Token> = code_tokens(sql).collect();
    let ident = |t: &strata_sql::Token| strata_sql::lexer::ident_value(t.text(sql)).into_owned();
    let mut names = Vec::new();
    // After LOCK TABLE(S), and after each comma at depth 0: a (qualified) name.
    let mut at = 2;
    while let Some(t) = code.get(at) {
        if !t.kind.is_ident() {
            break;
        }
        let qualified = code.get(at + 1).is_some_and(|d| d.is_punct(sql, "."))
            && code.get(at + 2).is_some_and(|n| n.kind.is_ident());
        if qualified {
            names.push((Some(ident(t)), ident(&code[at + 2])));
        } else {
            names.push((None, ident(t)));
        }
        match code[at..].iter().position(|n| n.is_punct(sql, ",")) {
            Some(comma) => at += comma + 1,
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod lock_tests {
    #[test]
    fn lock_tables_names_every_table() {
        assert_eq!(
            super::lock_table_names("LOCK TABLES a READ, `d`.b AS x WRITE, c LOW_PRIORITY WRITE"),
            [
                (None, "a".to_string()),
                (Some("d".to_string()), "b".to_string()),
                (None, "c".to_string())
            ]
        );
        assert_eq!(
            super::lock_table_names("LOCK TABLE t READ LOCAL"),
            [(None, "t".to_string())]
        );
    }
}
