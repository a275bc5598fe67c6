//! What a session has established that later statements depend on: its database and
//! where that lives, its variables, autocommit and isolation, its last insert id.

use std::sync::Arc;

use strata_backend::{SchemaRename, SessionVars};
use strata_catalog::DataNodeId;

/// The session state a client changes with USE and SET.
pub(super) struct SessionState {
    /// Current logical database.
    pub db: Option<String>,
    /// Its home data node and physical database.
    pub home: Option<(DataNodeId, Arc<str>)>,
    /// The current database spans several data nodes (statements are planned).
    pub multi_node: bool,
    /// Hides the physical database name in what the storage node sends back.
    pub rename: Option<SchemaRename>,
    /// Session variables to replay on borrowed storage connections.
    pub vars: SessionVars,
    /// Variables a SET being forwarded will establish if the storage node accepts it.
    pub pending_vars: Option<SessionVars>,
    /// Variables of that SET whose values are expressions, to read back as literals.
    pub pending_eval: Vec<String>,
    /// Variables of that SET whose new values the client tracks (read back for its OK).
    pub pending_track: Vec<String>,
    /// The session's autocommit mode.
    pub autocommit: bool,
    /// The session's isolation level (SET SESSION TRANSACTION / tx_isolation).
    pub isolation: strata_sql::IsolationLevel,
    /// LAST_INSERT_ID() and the OK packet's insert id.
    pub last_insert_id: u64,
    /// ROW_COUNT(): the affected rows of the previous statement's OK packet, -1
    /// after a result set or an error (answered here: the storage connection that
    /// ran the previous statement is not the one a SELECT would go to).
    pub row_count: i64,
    /// How deep the CALLs the compute node interprets are nested (see `interp`).
    pub interp_depth: u8,
    /// The procedures an interpreted CALL read, by (database, lowercased name): kept
    /// while the outermost interpreted CALL runs (a CALL in a loop reads them once).
    pub interp_routines:
        std::collections::HashMap<(String, String), Option<Arc<crate::session::interp::Routine>>>,
}

impl Default for SessionState {
    fn default() -> Self {
        SessionState {
            db: None,
            home: None,
            multi_node: false,
            rename: None,
            vars: SessionVars::default(),
            pending_vars: None,
            pending_eval: Vec::new(),
            pending_track: Vec::new(),
            autocommit: true,
            isolation: strata_sql::IsolationLevel::RepeatableRead,
            last_insert_id: 0,
            row_count: -1,
            interp_depth: 0,
            interp_routines: std::collections::HashMap::new(),
        }
    }
}

impl SessionState {
    /// Forgets the current database (COM_CHANGE_USER before it picks its own).
    pub fn clear_database(&mut self) {
        self.db = None;
        self.home = None;
        self.rename = None;
        self.multi_node = false;
    }

    /// LAST_INSERT_ID() after a planned write of `texts`: the value the planner
    /// generated, else unchanged — the data nodes' OK packets report an explicit
    /// AUTO_INCREMENT value too, which it keeps out of — unless the statement called
    /// LAST_INSERT_ID(expr), whose value the nodes report (`reported`).
    pub fn note_planned_insert_id<'a>(
        &mut self,
        generated: Option<u64>,
        reported: u64,
        mut texts: impl Iterator<Item = &'a str>,
    ) {
        let sets_it = texts.any(strata_sql::sets_last_insert_id);
        let value = if sets_it {
            reported
        } else {
            generated.unwrap_or(0)
        };
        if value != 0 {
            self.last_insert_id = value;
        }
    }
}
