//! Who the session is: its connection id and registry entry, and the account it
//! logged in as.

use std::sync::Arc;

use crate::context::SessionEntry;

/// A session's identity (changes only at COM_CHANGE_USER).
pub(super) struct Identity {
    /// Connection id (CONNECTION_ID(), KILL).
    pub id: u32,
    /// The session's entry in the server's registry (PROCESSLIST, KILL).
    pub entry: Arc<SessionEntry>,
    /// The user name the client logged in with.
    pub user: String,
    /// The account the session logged in as, with its privileges and its enabled role's.
    pub account: Arc<strata_catalog::accounts::Account>,
    /// `ServerContext::accounts_version` when `account` was read.
    pub accounts_version: u64,
    /// The enabled role (SET ROLE, or the default role at login); `account` holds its
    /// privileges.
    pub role: Option<String>,
    /// COM_CHANGE_USER that failed on this connection (after three the command is
    /// refused, as MariaDB refuses it).
    pub failed_change_user: u8,
}
