//! `HANDLER t OPEN / READ / CLOSE`, MariaDB's low-level table reads, on a database over
//! one data node: forwarded on the session's connection to that node, which the session
//! keeps from then on, since a handler belongs to the connection that opened it. Over
//! several data nodes a handler would read one node's rows only: refused.

use strata_protocol::MysqlError;
use strata_sql::lexer::{code_tokens, ident_value, Token};

use super::query::ConnectionState;
use super::{Answer, Session, SessionError};

impl Session {
    /// Runs a `HANDLER` statement (the guard checked its names).
    pub(super) async fn handler(
        &mut self,
        sql: &str,
        raw: &[u8],
        more: bool,
    ) -> Result<Answer, SessionError> {
        let topology = &self.ctx.topology;
        let current = self.state.db.as_deref().and_then(|d| topology.db(d));
        let named = handler_database(sql).map(|d| topology.db(&d));
        let one_node = |db: &Option<std::sync::Arc<strata_catalog::LogicDb>>| {
            db.as_ref().is_none_or(|d| d.data_nodes.len() <= 1)
        };
        let same_node = match (&named, &current) {
            (Some(Some(n)), Some(c)) => n.data_nodes == c.data_nodes,
            _ => true,
        };
        let ok = one_node(&current) && named.as_ref().is_none_or(one_node) && same_node;
        if !ok {
            self.err(&MysqlError::not_supported(
                "HANDLER on a table of a database over several data nodes, or on another data node than the current database's",
            ));
            return Ok(Answer::Failed);
        }
        self.note_connection_state(ConnectionState::Other);
        self.forward(sql, raw, more).await
    }
}

/// The database of `HANDLER db.t ...`, when the table is qualified.
fn handler_database(sql: &str) -> Option<String> {
    let toks: Vec<Token> = code_tokens(sql).take(4).collect();
    match toks.as_slice() {
        [_, db, dot, table]
            if dot.is_punct(sql, ".") && db.kind.is_ident() && table.kind.is_ident() =>
        {
            Some(ident_value(db.text(sql)).into_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::handler_database;

    #[test]
    fn a_qualified_handler_table_names_its_database() {
        assert_eq!(
            handler_database("HANDLER `d b`.t OPEN").as_deref(),
            Some("d b")
        );
        assert_eq!(handler_database("HANDLER t OPEN AS h"), None);
        assert_eq!(handler_database("HANDLER h READ FIRST"), None);
    }
}
