//! Account statements, which the compute node answers itself because Strata is where
//! access is decided: CREATE/ALTER/DROP/RENAME USER, SET PASSWORD, GRANT, REVOKE,
//! SHOW GRANTS, SHOW CREATE USER and FLUSH PRIVILEGES, parsed into typed values with
//! MySQL's and MariaDB's syntax. The parser checks grammar only; whether a privilege fits
//! its level, whether a user exists and what a hash must look like are the catalog's
//! rules (`strata_catalog::accounts`).

use crate::error::SqlError;
use crate::lexer::{ident_value, string_value, TokenKind};
use crate::parser::Parser;

/// An account name: `'user'@'host'` (the host defaults to `%`), as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserName {
    /// User part, unquoted; empty for the anonymous user.
    pub user: String,
    /// Host part, unquoted, as written (the catalog normalizes case).
    pub host: String,
}

impl UserName {
    /// `user@host`.
    pub fn new(user: impl Into<String>, host: impl Into<String>) -> Self {
        UserName {
            user: user.into(),
            host: host.into(),
        }
    }
}

/// An account named in a statement: explicitly, or `CURRENT_USER[()]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRef {
    /// `'user'@'host'`.
    Named(UserName),
    /// `CURRENT_USER` or `CURRENT_USER()`: the session's authenticated account.
    CurrentUser,
}

/// An `IDENTIFIED ...` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identified {
    /// `IDENTIFIED [WITH plugin] BY 'pw'` or MariaDB's
    /// `IDENTIFIED {VIA|WITH} plugin USING PASSWORD('pw')`: a clear-text password.
    Password {
        /// The plugin named, if any.
        plugin: Option<String>,
        /// The password.
        password: String,
    },
    /// `IDENTIFIED BY PASSWORD 'hash'` or `IDENTIFIED WITH plugin {AS|USING} 'hash'`: a
    /// stored hash.
    Hash {
        /// The plugin named, if any (`None`: mysql_native_password).
        plugin: Option<String>,
        /// The hash text.
        hash: String,
    },
    /// `IDENTIFIED WITH plugin` alone: that plugin, no password.
    Plugin(String),
}

/// One account of CREATE USER, ALTER USER or GRANT with its optional `IDENTIFIED` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    /// The account.
    pub user: UserRef,
    /// Its new authentication, if given.
    pub identified: Option<Identified>,
}

/// `WITH` resource limits; only MAX_USER_CONNECTIONS is supported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Most simultaneous connections of the account (0: no limit of its own).
    pub max_user_connections: Option<u64>,
}

/// A privilege as GRANT and REVOKE name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Privilege {
    /// `ALL [PRIVILEGES]`: every privilege of the level except GRANT OPTION.
    All,
    /// `USAGE`: no privilege.
    Usage,
    /// SELECT.
    Select,
    /// INSERT.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// CREATE.
    Create,
    /// DROP.
    Drop,
    /// RELOAD.
    Reload,
    /// PROCESS.
    Process,
    /// REFERENCES.
    References,
    /// INDEX.
    Index,
    /// ALTER.
    Alter,
    /// SHOW DATABASES.
    ShowDatabases,
    /// SUPER.
    Super,
    /// CREATE TEMPORARY TABLES.
    CreateTemporaryTables,
    /// LOCK TABLES.
    LockTables,
    /// EXECUTE.
    Execute,
    /// CREATE VIEW.
    CreateView,
    /// SHOW VIEW.
    ShowView,
    /// CREATE ROUTINE.
    CreateRoutine,
    /// ALTER ROUTINE.
    AlterRoutine,
    /// CREATE USER.
    CreateUser,
    /// EVENT.
    Event,
    /// TRIGGER.
    Trigger,
    /// SHUTDOWN (recorded and shown; Strata's SHUTDOWN is its admin port's).
    Shutdown,
    /// FILE (recorded and shown; the storage servers' files stay private).
    File,
    /// REPLICATION SLAVE (alias REPLICATION REPLICA).
    ReplicationSlave,
    /// BINLOG MONITOR (alias REPLICATION CLIENT).
    BinlogMonitor,
    /// CREATE TABLESPACE.
    CreateTablespace,
    /// DELETE HISTORY (system-versioned tables).
    DeleteHistory,
    /// SET USER: naming another account as a DEFINER.
    SetUser,
    /// FEDERATED ADMIN.
    FederatedAdmin,
    /// CONNECTION ADMIN: killing other accounts' sessions.
    ConnectionAdmin,
    /// READ_ONLY ADMIN.
    ReadOnlyAdmin,
    /// REPLICATION SLAVE ADMIN.
    ReplicationSlaveAdmin,
    /// REPLICATION MASTER ADMIN.
    ReplicationMasterAdmin,
    /// BINLOG ADMIN.
    BinlogAdmin,
    /// BINLOG REPLAY.
    BinlogReplay,
    /// SLAVE MONITOR (alias REPLICA MONITOR).
    SlaveMonitor,
    /// GRANT OPTION.
    GrantOption,
}

/// Privileges by their words, longest first so `CREATE VIEW` wins over `CREATE`.
const PRIVILEGE_WORDS: &[(&[&str], Privilege)] = &[
    (
        &["CREATE", "TEMPORARY", "TABLES"],
        Privilege::CreateTemporaryTables,
    ),
    (&["ALL", "PRIVILEGES"], Privilege::All),
    (&["CREATE", "VIEW"], Privilege::CreateView),
    (&["SHOW", "VIEW"], Privilege::ShowView),
    (&["CREATE", "ROUTINE"], Privilege::CreateRoutine),
    (&["ALTER", "ROUTINE"], Privilege::AlterRoutine),
    (&["LOCK", "TABLES"], Privilege::LockTables),
    (&["SHOW", "DATABASES"], Privilege::ShowDatabases),
    (&["CREATE", "USER"], Privilege::CreateUser),
    (&["GRANT", "OPTION"], Privilege::GrantOption),
    (
        &["REPLICATION", "SLAVE", "ADMIN"],
        Privilege::ReplicationSlaveAdmin,
    ),
    (
        &["REPLICATION", "MASTER", "ADMIN"],
        Privilege::ReplicationMasterAdmin,
    ),
    (&["REPLICATION", "REPLICA"], Privilege::ReplicationSlave),
    (&["REPLICATION", "SLAVE"], Privilege::ReplicationSlave),
    (&["REPLICATION", "CLIENT"], Privilege::BinlogMonitor),
    (&["BINLOG", "MONITOR"], Privilege::BinlogMonitor),
    (&["BINLOG", "ADMIN"], Privilege::BinlogAdmin),
    (&["BINLOG", "REPLAY"], Privilege::BinlogReplay),
    (&["SLAVE", "MONITOR"], Privilege::SlaveMonitor),
    (&["REPLICA", "MONITOR"], Privilege::SlaveMonitor),
    (&["CREATE", "TABLESPACE"], Privilege::CreateTablespace),
    (&["DELETE", "HISTORY"], Privilege::DeleteHistory),
    (&["SET", "USER"], Privilege::SetUser),
    (&["FEDERATED", "ADMIN"], Privilege::FederatedAdmin),
    (&["CONNECTION", "ADMIN"], Privilege::ConnectionAdmin),
    (&["READ_ONLY", "ADMIN"], Privilege::ReadOnlyAdmin),
    (&["READ", "ONLY", "ADMIN"], Privilege::ReadOnlyAdmin),
    (&["SHUTDOWN"], Privilege::Shutdown),
    (&["FILE"], Privilege::File),
    (&["ALL"], Privilege::All),
    (&["USAGE"], Privilege::Usage),
    (&["SELECT"], Privilege::Select),
    (&["INSERT"], Privilege::Insert),
    (&["UPDATE"], Privilege::Update),
    (&["DELETE"], Privilege::Delete),
    (&["CREATE"], Privilege::Create),
    (&["DROP"], Privilege::Drop),
    (&["RELOAD"], Privilege::Reload),
    (&["PROCESS"], Privilege::Process),
    (&["REFERENCES"], Privilege::References),
    (&["INDEX"], Privilege::Index),
    (&["ALTER"], Privilege::Alter),
    (&["SUPER"], Privilege::Super),
    (&["EXECUTE"], Privilege::Execute),
    (&["EVENT"], Privilege::Event),
    (&["TRIGGER"], Privilege::Trigger),
];

/// Privileges MariaDB 10.11 does not have (MySQL 8's role privileges, MariaDB 11's SHOW
/// CREATE ROUTINE) and PROXY grants: naming one is refused rather than ignored.
const UNSUPPORTED_PRIVILEGES: &[&[&str]] = &[
    &["CREATE", "ROLE"],
    &["DROP", "ROLE"],
    &["SHOW", "CREATE", "ROUTINE"],
    &["PROXY"],
];

impl Privilege {
    /// The privilege as SHOW GRANTS spells it.
    pub fn name(self) -> &'static str {
        match self {
            Privilege::All => "ALL PRIVILEGES",
            Privilege::Usage => "USAGE",
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Create => "CREATE",
            Privilege::Drop => "DROP",
            Privilege::Reload => "RELOAD",
            Privilege::Process => "PROCESS",
            Privilege::References => "REFERENCES",
            Privilege::Index => "INDEX",
            Privilege::Alter => "ALTER",
            Privilege::ShowDatabases => "SHOW DATABASES",
            Privilege::Super => "SUPER",
            Privilege::CreateTemporaryTables => "CREATE TEMPORARY TABLES",
            Privilege::LockTables => "LOCK TABLES",
            Privilege::Execute => "EXECUTE",
            Privilege::CreateView => "CREATE VIEW",
            Privilege::ShowView => "SHOW VIEW",
            Privilege::CreateRoutine => "CREATE ROUTINE",
            Privilege::AlterRoutine => "ALTER ROUTINE",
            Privilege::CreateUser => "CREATE USER",
            Privilege::Event => "EVENT",
            Privilege::Trigger => "TRIGGER",
            Privilege::Shutdown => "SHUTDOWN",
            Privilege::File => "FILE",
            Privilege::ReplicationSlave => "REPLICATION SLAVE",
            Privilege::BinlogMonitor => "BINLOG MONITOR",
            Privilege::CreateTablespace => "CREATE TABLESPACE",
            Privilege::DeleteHistory => "DELETE HISTORY",
            Privilege::SetUser => "SET USER",
            Privilege::FederatedAdmin => "FEDERATED ADMIN",
            Privilege::ConnectionAdmin => "CONNECTION ADMIN",
            Privilege::ReadOnlyAdmin => "READ_ONLY ADMIN",
            Privilege::ReplicationSlaveAdmin => "REPLICATION SLAVE ADMIN",
            Privilege::ReplicationMasterAdmin => "REPLICATION MASTER ADMIN",
            Privilege::BinlogAdmin => "BINLOG ADMIN",
            Privilege::BinlogReplay => "BINLOG REPLAY",
            Privilege::SlaveMonitor => "SLAVE MONITOR",
            Privilege::GrantOption => "GRANT OPTION",
        }
    }
}

/// One item of a GRANT/REVOKE privilege list, with its column list if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeItem {
    /// The privilege.
    pub privilege: Privilege,
    /// `(col, ...)`: column-level grant; empty for the whole object.
    pub columns: Vec<String>,
}

/// What a GRANT or REVOKE applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantLevel {
    /// `*.*`.
    Global,
    /// `*`: the session's current database (error 1046 without one).
    CurrentDatabase,
    /// `db.*`.
    Database(String),
    /// `db.tbl`, or `tbl` in the current database (`db: None`).
    Table {
        /// The database, when qualified.
        db: Option<String>,
        /// The table.
        table: String,
    },
}

/// The value of SET PASSWORD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordValue {
    /// `= PASSWORD('pw')`: a clear-text password.
    Password(String),
    /// `= 'hash'`: a stored hash (`''`: no password).
    Hash(String),
}

/// A parsed account statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountStatement {
    /// `CREATE [OR REPLACE] USER [IF NOT EXISTS] spec[, ...] [WITH limits]`.
    CreateUser {
        /// OR REPLACE (MariaDB): drop an existing account first.
        or_replace: bool,
        /// IF NOT EXISTS: an existing account is a note, not an error.
        if_not_exists: bool,
        /// The accounts.
        users: Vec<UserSpec>,
        /// WITH limits.
        limits: ResourceLimits,
    },
    /// `ALTER USER [IF EXISTS] spec[, ...] [WITH limits]`.
    AlterUser {
        /// IF EXISTS: a missing account is a note, not an error.
        if_exists: bool,
        /// The accounts.
        users: Vec<UserSpec>,
        /// WITH limits.
        limits: ResourceLimits,
    },
    /// `DROP USER [IF EXISTS] user[, ...]`.
    DropUser {
        /// IF EXISTS: a missing account is a note, not an error.
        if_exists: bool,
        /// The accounts.
        users: Vec<UserRef>,
    },
    /// `RENAME USER from TO to[, ...]`.
    RenameUser {
        /// (from, to) pairs, applied in order.
        renames: Vec<(UserRef, UserName)>,
    },
    /// `SET PASSWORD [FOR user] = ...`.
    SetPassword {
        /// The account (`None`: the session's own).
        user: Option<UserRef>,
        /// The new password or hash.
        value: PasswordValue,
    },
    /// `GRANT privs ON level TO spec[, ...] [WITH GRANT OPTION | limits ...]`.
    Grant {
        /// The privileges.
        privileges: Vec<PrivilegeItem>,
        /// What they apply to.
        level: GrantLevel,
        /// The grantees, possibly with a password (MariaDB creates nothing implicitly:
        /// the account must exist).
        users: Vec<UserSpec>,
        /// WITH GRANT OPTION.
        grant_option: bool,
        /// WITH limits.
        limits: ResourceLimits,
    },
    /// `REVOKE privs ON level FROM user[, ...]`.
    Revoke {
        /// The privileges.
        privileges: Vec<PrivilegeItem>,
        /// What they applied to.
        level: GrantLevel,
        /// The accounts.
        users: Vec<UserRef>,
    },
    /// `REVOKE ALL [PRIVILEGES], GRANT OPTION FROM user[, ...]`.
    RevokeAll {
        /// The accounts.
        users: Vec<UserRef>,
    },
    /// `SHOW GRANTS [FOR user]` (`None`: the session's own).
    ShowGrants {
        /// The account.
        user: Option<UserRef>,
    },
    /// `SHOW CREATE USER user`.
    ShowCreateUser {
        /// The account.
        user: UserRef,
    },
    /// `FLUSH PRIVILEGES`.
    FlushPrivileges,
    /// `CREATE [OR REPLACE] ROLE [IF NOT EXISTS] name[, ...] [WITH ADMIN who]`.
    CreateRole {
        /// OR REPLACE: drop an existing role first.
        or_replace: bool,
        /// IF NOT EXISTS: an existing role is a note, not an error.
        if_not_exists: bool,
        /// The role names.
        roles: Vec<String>,
        /// Who is granted the new role WITH ADMIN OPTION.
        admin: RoleAdmin,
    },
    /// `DROP ROLE [IF EXISTS] name[, ...]`.
    DropRole {
        /// IF EXISTS: a missing role is a note, not an error.
        if_exists: bool,
        /// The role names.
        roles: Vec<String>,
    },
    /// `GRANT role TO grantee[, ...] [WITH ADMIN OPTION]` (a bare grantee name may be a
    /// role).
    GrantRole {
        /// The role granted.
        role: String,
        /// Accounts or roles it is granted to.
        grantees: Vec<UserRef>,
        /// WITH ADMIN OPTION.
        admin_option: bool,
    },
    /// `REVOKE role FROM grantee[, ...]`.
    RevokeRole {
        /// The role revoked.
        role: String,
        /// Accounts or roles it is revoked from.
        grantees: Vec<UserRef>,
    },
    /// `SET ROLE {name | NONE}`: the session's enabled role.
    SetRole {
        /// The role (`None`: NONE).
        role: Option<String>,
    },
    /// `SET DEFAULT ROLE {name | NONE} [FOR user]`.
    SetDefaultRole {
        /// The role (`None`: NONE).
        role: Option<String>,
        /// The account (`None`: the session's own).
        user: Option<UserRef>,
    },
}

/// Parses one account statement; anything else is a syntax error, valid syntax Strata
/// does not support (roles, IDENTIFIED VIA, other resource limits, storage-node
/// privileges) is [`SqlError::Unsupported`].
pub fn parse_account(sql: &str) -> Result<AccountStatement, SqlError> {
    let mut p = Parser::new(sql);
    let stmt = if p.eat_keyword("CREATE") {
        create_user(&mut p)?
    } else if p.peek_is_keyword("DROP") && p.peek_at_is_keyword(1, "ROLE") {
        p.advance();
        p.advance();
        roles::drop_role(&mut p)?
    } else if p.eat_keyword("ALTER") {
        p.expect_keyword("USER")?;
        let if_exists = if_exists(&mut p)?;
        let users = comma_list(&mut p, user_spec)?;
        require(&mut p)?;
        let limits = limits(&mut p)?;
        AccountStatement::AlterUser {
            if_exists,
            users,
            limits,
        }
    } else if p.eat_keyword("DROP") {
        p.expect_keyword("USER")?;
        let if_exists = if_exists(&mut p)?;
        let users = comma_list(&mut p, user_ref)?;
        AccountStatement::DropUser { if_exists, users }
    } else if p.eat_keyword("RENAME") {
        p.expect_keyword("USER")?;
        let renames = comma_list(&mut p, |p| {
            let from = user_ref(p)?;
            p.expect_keyword("TO")?;
            Ok((from, user_name(p)?))
        })?;
        AccountStatement::RenameUser { renames }
    } else if p.eat_keyword("SET") {
        match roles::set_role(&mut p)? {
            Some(stmt) => stmt,
            None => set_password(&mut p)?,
        }
    } else if p.eat_keyword("GRANT") {
        if roles::names_role(&p, "TO") {
            roles::grant_role(&mut p)?
        } else {
            grant(&mut p)?
        }
    } else if p.eat_keyword("REVOKE") {
        if p.peek_is_keyword("ADMIN") && p.peek_at_is_keyword(1, "OPTION") {
            return Err(SqlError::Unsupported(
                "REVOKE ADMIN OPTION FOR a role".into(),
            ));
        }
        if roles::names_role(&p, "FROM") {
            roles::revoke_role(&mut p)?
        } else {
            revoke(&mut p)?
        }
    } else if p.eat_keyword("SHOW") {
        if p.eat_keyword("GRANTS") {
            let user = if p.eat_keyword("FOR") {
                Some(user_ref(&mut p)?)
            } else {
                None
            };
            AccountStatement::ShowGrants { user }
        } else {
            p.expect_keyword("CREATE")?;
            p.expect_keyword("USER")?;
            AccountStatement::ShowCreateUser {
                user: user_ref(&mut p)?,
            }
        }
    } else if p.eat_keyword("FLUSH") {
        p.expect_keyword("PRIVILEGES")?;
        AccountStatement::FlushPrivileges
    } else {
        return Err(p.error("account statement"));
    };
    p.expect_end()?;
    Ok(stmt)
}

fn create_user(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    let or_replace = if p.eat_keyword("OR") {
        p.expect_keyword("REPLACE")?;
        true
    } else {
        false
    };
    if p.peek_is_keyword("ROLE") {
        return roles::create_role(p, or_replace);
    }
    p.expect_keyword("USER")?;
    let if_not_exists = if p.eat_keyword("IF") {
        p.expect_keyword("NOT")?;
        p.expect_keyword("EXISTS")?;
        true
    } else {
        false
    };
    let users = comma_list(p, user_spec)?;
    require(p)?;
    let limits = limits(p)?;
    Ok(AccountStatement::CreateUser {
        or_replace,
        if_not_exists,
        users,
        limits,
    })
}

fn if_exists(p: &mut Parser<'_>) -> Result<bool, SqlError> {
    if p.eat_keyword("IF") {
        p.expect_keyword("EXISTS")?;
        Ok(true)
    } else {
        Ok(false)
    }
}

fn comma_list<T>(
    p: &mut Parser<'_>,
    mut item: impl FnMut(&mut Parser<'_>) -> Result<T, SqlError>,
) -> Result<Vec<T>, SqlError> {
    let mut out = vec![item(p)?];
    while p.eat_punct(",") {
        out.push(item(p)?);
    }
    Ok(out)
}

/// `CURRENT_USER[()]` or an account name.
pub(crate) fn user_ref(p: &mut Parser<'_>) -> Result<UserRef, SqlError> {
    if p.eat_keyword("CURRENT_USER") {
        if p.eat_punct("(") && !p.eat_punct(")") {
            return Err(p.error(")"));
        }
        return Ok(UserRef::CurrentUser);
    }
    user_name(p).map(UserRef::Named)
}

/// `'user'@'host'`, `user@host`, `` `user`@`host` ``, `"user"@"host"` or a bare `user`.
fn user_name(p: &mut Parser<'_>) -> Result<UserName, SqlError> {
    let user = match p.peek() {
        Some(t) if t.kind == TokenKind::String => string_value(p.text(t)).into_owned(),
        Some(t) if t.kind.is_ident() => ident_value(p.text(t)).into_owned(),
        _ => return Err(p.error("user name")),
    };
    p.advance();
    let src = p.src();
    let Some(at) = p
        .peek()
        .filter(|t| t.kind == TokenKind::UserVar || t.is_punct(src, "@"))
    else {
        return Ok(UserName::new(user, "%"));
    };
    p.advance();
    let body = &p.text(at)[1..];
    let host = match body.as_bytes().first() {
        Some(b'\'' | b'"') => string_value(body).into_owned(),
        Some(b'`') => ident_value(body).into_owned(),
        Some(_) => {
            // An unquoted host name or IP: the lexer splits `@10.0.0.1` into `@10` and
            // `.0`, `.0`, `.1`; the pieces are glued back while they touch.
            let mut host = body.to_string();
            let mut end = at.span.end;
            while let Some(t) = p.peek().filter(|t| t.span.start == end) {
                if !(t.kind.is_ident()
                    || t.is_punct(p.src(), ".")
                    || matches!(t.kind, TokenKind::Integer | TokenKind::Decimal))
                {
                    break;
                }
                host.push_str(p.text(t));
                end = t.span.end;
                p.advance();
            }
            host
        }
        // `'u' @ 'h'`: the host is the next token.
        None => match p.peek() {
            Some(t) if t.kind == TokenKind::String => {
                p.advance();
                string_value(p.text(t)).into_owned()
            }
            Some(t) if t.kind.is_ident() => {
                p.advance();
                ident_value(p.text(t)).into_owned()
            }
            _ => return Err(p.error("host name")),
        },
    };
    Ok(UserName::new(user, host))
}

fn user_spec(p: &mut Parser<'_>) -> Result<UserSpec, SqlError> {
    let user = user_ref(p)?;
    let identified = if p.eat_keyword("IDENTIFIED") {
        Some(identified(p)?)
    } else {
        None
    };
    Ok(UserSpec { user, identified })
}

fn set_password(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    p.expect_keyword("PASSWORD")?;
    let user = if p.eat_keyword("FOR") {
        Some(user_ref(p)?)
    } else {
        None
    };
    if !p.eat_punct("=") {
        return Err(p.error("="));
    }
    let value = if p.eat_keyword("PASSWORD") {
        if !p.eat_punct("(") {
            return Err(p.error("("));
        }
        let password = p.string()?;
        if !p.eat_punct(")") {
            return Err(p.error(")"));
        }
        PasswordValue::Password(password)
    } else if p.eat_keyword("OLD_PASSWORD") {
        return Err(SqlError::Unsupported("OLD_PASSWORD".into()));
    } else {
        PasswordValue::Hash(p.string()?)
    };
    Ok(AccountStatement::SetPassword { user, value })
}

fn grant(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    let privileges = privileges(p)?;
    p.expect_keyword("ON")?;
    let level = level(p)?;
    p.expect_keyword("TO")?;
    let users = comma_list(p, user_spec)?;
    require(p)?;
    let mut grant_option = false;
    let mut limits = ResourceLimits::default();
    if p.eat_keyword("WITH") {
        let mut any = false;
        loop {
            if p.eat_keyword("GRANT") {
                p.expect_keyword("OPTION")?;
                grant_option = true;
            } else if limit(p, &mut limits)?.is_none() {
                break;
            }
            any = true;
        }
        if !any {
            return Err(p.error("GRANT OPTION or resource limit"));
        }
    }
    Ok(AccountStatement::Grant {
        privileges,
        level,
        users,
        grant_option,
        limits,
    })
}

fn revoke(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    // REVOKE ALL [PRIVILEGES], GRANT OPTION FROM ...: no ON.
    let save = (
        p.peek_is_keyword("ALL"),
        p.peek_at_is_keyword(1, "PRIVILEGES"),
    );
    if save.0 {
        let skip = if save.1 { 2 } else { 1 };
        let comma = p.peek_at(skip).is_some_and(|t| t.is_punct(p.src(), ","));
        if comma
            && p.peek_at_is_keyword(skip + 1, "GRANT")
            && p.peek_at_is_keyword(skip + 2, "OPTION")
            && p.peek_at_is_keyword(skip + 3, "FROM")
        {
            for _ in 0..skip + 4 {
                p.advance();
            }
            let users = comma_list(p, user_ref)?;
            return Ok(AccountStatement::RevokeAll { users });
        }
    }
    let privileges = privileges(p)?;
    p.expect_keyword("ON")?;
    let level = level(p)?;
    p.expect_keyword("FROM")?;
    let users = comma_list(p, user_ref)?;
    Ok(AccountStatement::Revoke {
        privileges,
        level,
        users,
    })
}

fn privileges(p: &mut Parser<'_>) -> Result<Vec<PrivilegeItem>, SqlError> {
    comma_list(p, |p| {
        let privilege = privilege(p)?;
        let mut columns = Vec::new();
        if p.eat_punct("(") {
            columns = comma_list(p, |p| p.ident())?;
            if !p.eat_punct(")") {
                return Err(p.error(")"));
            }
        }
        Ok(PrivilegeItem { privilege, columns })
    })
}

fn privilege(p: &mut Parser<'_>) -> Result<Privilege, SqlError> {
    let matches = |p: &Parser<'_>, words: &[&str]| {
        words
            .iter()
            .enumerate()
            .all(|(i, w)| p.peek_at_is_keyword(i, w))
    };
    for words in UNSUPPORTED_PRIVILEGES {
        if matches(p, words) {
            return Err(SqlError::Unsupported(format!(
                "the {} privilege",
                words.join(" ")
            )));
        }
    }
    for (words, privilege) in PRIVILEGE_WORDS {
        if matches(p, words) {
            for _ in 0..words.len() {
                p.advance();
            }
            return Ok(*privilege);
        }
    }
    // MariaDB reads an unknown word as a role name and then expects TO: the error is
    // reported at the token after it.
    if p.peek().is_some_and(|t| t.kind.is_ident()) {
        p.advance();
        if p.peek_is_keyword("TO") {
            return Err(SqlError::Unsupported("roles".into()));
        }
    }
    Err(p.error("privilege"))
}

/// `*.*`, `*`, `db.*`, `db.tbl` or `tbl`, optionally after `TABLE`.
fn level(p: &mut Parser<'_>) -> Result<GrantLevel, SqlError> {
    if p.eat_one_of(&["FUNCTION", "PROCEDURE", "PACKAGE"])
        .is_some()
    {
        return Err(SqlError::Unsupported("routine-level privileges".into()));
    }
    p.eat_keyword("TABLE");
    if p.eat_punct("*") {
        if p.eat_punct(".") {
            if !p.eat_punct("*") {
                return Err(p.error("*"));
            }
            return Ok(GrantLevel::Global);
        }
        return Ok(GrantLevel::CurrentDatabase);
    }
    let first = p.ident()?;
    if !p.eat_punct(".") {
        return Ok(GrantLevel::Table {
            db: None,
            table: first,
        });
    }
    if p.eat_punct("*") {
        return Ok(GrantLevel::Database(first));
    }
    Ok(GrantLevel::Table {
        db: Some(first),
        table: p.ident()?,
    })
}

mod options;
use options::{identified, limit, limits, require};
mod roles;
pub use roles::RoleAdmin;

#[cfg(test)]
mod tests;
