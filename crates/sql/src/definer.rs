//! Definers of stored objects (views, routines, triggers, events, packages). The
//! storage node's copy of an object always has the storage account as its definer (the
//! client's accounts do not exist there, and SQL SECURITY DEFINER would fail with 1449);
//! Strata records the definer the client named, or the client's account, and shows it.
//! This module reads the head of `CREATE`/`ALTER`/`DROP` of such objects (which object,
//! which definer, and the text without its `DEFINER` clause) and puts a definer back
//! into the `CREATE ...` texts the storage node shows.

use std::fmt;

use crate::account::{user_ref, UserName, UserRef};
use crate::parser::Parser;
use crate::show::ObjectName;

/// The kinds of objects that have a definer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoredObject {
    /// `VIEW`.
    View,
    /// `PROCEDURE`.
    Procedure,
    /// `FUNCTION` (stored, not a UDF).
    Function,
    /// `TRIGGER`.
    Trigger,
    /// `EVENT`.
    Event,
    /// `PACKAGE` (Oracle mode).
    Package,
    /// `PACKAGE BODY` (Oracle mode).
    PackageBody,
}

impl StoredObject {
    /// The key word(s) naming the kind, as in SQL.
    pub fn keyword(self) -> &'static str {
        match self {
            StoredObject::View => "VIEW",
            StoredObject::Procedure => "PROCEDURE",
            StoredObject::Function => "FUNCTION",
            StoredObject::Trigger => "TRIGGER",
            StoredObject::Event => "EVENT",
            StoredObject::Package => "PACKAGE",
            StoredObject::PackageBody => "PACKAGE BODY",
        }
    }

    /// Routines and events are named case-insensitively; views and triggers (files on
    /// the storage node, as tables) case-sensitively.
    pub fn folds_case(self) -> bool {
        !matches!(self, StoredObject::View | StoredObject::Trigger)
    }

    /// The name as the record of an object of this kind is keyed.
    pub fn key_name(self, name: &str) -> String {
        if self.folds_case() {
            name.to_lowercase()
        } else {
            name.to_string()
        }
    }
}

impl fmt::Display for StoredObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// What a DDL statement does to a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectVerb {
    /// `CREATE [OR REPLACE]`.
    Create,
    /// `ALTER`.
    Alter,
    /// `DROP`.
    Drop,
    /// `RENAME TABLE` (of views: their definers move with them).
    Rename,
}

/// The head of a CREATE/ALTER/DROP of an object that has a definer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDdl {
    /// CREATE, ALTER or DROP.
    pub verb: ObjectVerb,
    /// Which kind of object.
    pub kind: StoredObject,
    /// The objects named (DROP VIEW names several).
    pub names: Vec<ObjectName>,
    /// The `DEFINER = ...` clause, when written.
    pub definer: Option<UserRef>,
    /// `IF NOT EXISTS` (CREATE) was written: an existing object is left as it is.
    pub if_not_exists: bool,
    /// `OR REPLACE` was written.
    pub or_replace: bool,
    /// The new names, one per name of `names`: `ALTER EVENT ... RENAME TO name`,
    /// `RENAME TABLE a TO b, ...`; empty when nothing is renamed.
    pub rename_to: Vec<ObjectName>,
    /// Byte range of the DEFINER clause in the statement text.
    definer_span: Option<(usize, usize)>,
}

impl ObjectDdl {
    /// `sql` (the text this was parsed from) without its DEFINER clause: the storage
    /// node then makes its own account the definer.
    pub fn without_definer(&self, sql: &str) -> String {
        match self.definer_span {
            Some((start, end)) => format!("{}{}", &sql[..start], &sql[end..]),
            None => sql.to_string(),
        }
    }
}

/// Reads the head of a CREATE/ALTER/DROP of a view, routine, trigger, event or
/// package; None for any other statement (or a head this reader does not follow, which
/// then goes on as any statement).
pub fn parse_object_ddl(sql: &str) -> Option<ObjectDdl> {
    let mut p = Parser::new(sql);
    if p.eat_keyword("RENAME") {
        return parse_rename_table(&mut p);
    }
    let verb = match p.eat_one_of(&["CREATE", "ALTER", "DROP"])? {
        0 => ObjectVerb::Create,
        1 => ObjectVerb::Alter,
        _ => ObjectVerb::Drop,
    };
    let mut definer = None;
    let mut definer_span = None;
    let mut or_replace = false;
    loop {
        if p.eat_keyword("OR") {
            if !p.eat_keyword("REPLACE") {
                return None;
            }
            or_replace = true;
        } else if p.peek_is_keyword("DEFINER") {
            let start = p.peek()?.span.start;
            p.advance();
            if !p.eat_punct("=") {
                return None;
            }
            definer = Some(user_ref(&mut p).ok()?);
            definer_span = Some((start, p.previous()?.span.end));
        } else if p.eat_keyword("ALGORITHM") {
            if !p.eat_punct("=") {
                return None;
            }
            p.ident().ok()?;
        } else if p.eat_keyword("SQL") {
            if !p.eat_keyword("SECURITY") {
                return None;
            }
            p.ident().ok()?;
        } else if p.eat_one_of(&["AGGREGATE", "NONBLOCKING"]).is_none() {
            break;
        }
    }
    let kind = match p.eat_one_of(&[
        "VIEW",
        "PROCEDURE",
        "FUNCTION",
        "TRIGGER",
        "EVENT",
        "PACKAGE",
    ])? {
        0 => StoredObject::View,
        1 => StoredObject::Procedure,
        2 => StoredObject::Function,
        3 => StoredObject::Trigger,
        4 => StoredObject::Event,
        _ if p.eat_keyword("BODY") => StoredObject::PackageBody,
        _ => StoredObject::Package,
    };
    let mut if_not_exists = false;
    if p.eat_keyword("IF") {
        if_not_exists = p.eat_keyword("NOT");
        if !p.eat_keyword("EXISTS") {
            return None;
        }
    }
    let mut names = vec![object_name(&mut p)?];
    if verb == ObjectVerb::Drop && kind == StoredObject::View {
        while p.eat_punct(",") {
            names.push(object_name(&mut p)?);
        }
    }
    let mut rename_to = Vec::new();
    if verb == ObjectVerb::Alter && kind == StoredObject::Event {
        // ALTER EVENT e [ON SCHEDULE ...] [...] [RENAME TO e2] [...] [DO body]: the
        // clause stands before DO, at depth 0.
        while let Some(t) = p.advance() {
            if t.is_keyword(sql, "DO") {
                break;
            }
            if t.is_keyword(sql, "RENAME") && p.eat_keyword("TO") {
                rename_to = vec![object_name(&mut p)?];
            }
        }
    }
    Some(ObjectDdl {
        verb,
        kind,
        names,
        definer,
        if_not_exists,
        or_replace,
        rename_to,
        definer_span,
    })
}

/// `TABLE[S] a TO b, ...` after RENAME: the names as views' (a table's has no record).
fn parse_rename_table(p: &mut Parser<'_>) -> Option<ObjectDdl> {
    p.eat_one_of(&["TABLE", "TABLES"])?;
    if p.eat_keyword("IF") && !p.eat_keyword("EXISTS") {
        return None;
    }
    let (mut names, mut rename_to) = (Vec::new(), Vec::new());
    loop {
        names.push(object_name(p)?);
        // `WAIT n` / `NOWAIT` stand between the name and TO.
        while !p.eat_keyword("TO") {
            p.advance()?;
        }
        rename_to.push(object_name(p)?);
        if !p.eat_punct(",") {
            break;
        }
    }
    Some(ObjectDdl {
        verb: ObjectVerb::Rename,
        kind: StoredObject::View,
        names,
        definer: None,
        if_not_exists: false,
        or_replace: false,
        rename_to,
        definer_span: None,
    })
}

/// A SHOW statement whose answer names definers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefinerShow {
    /// `SHOW CREATE PROCEDURE|FUNCTION|TRIGGER|EVENT|PACKAGE [BODY] name`.
    Create {
        /// Which kind of object.
        kind: StoredObject,
        /// The object.
        name: ObjectName,
    },
    /// `SHOW TRIGGERS [FROM|IN db] ...`.
    Triggers {
        /// FROM/IN database.
        db: Option<String>,
    },
    /// `SHOW EVENTS [FROM|IN db] ...`.
    Events {
        /// FROM/IN database.
        db: Option<String>,
    },
}

/// Reads the SHOW statements of [`DefinerShow`]; None for any other.
pub fn parse_definer_show(sql: &str) -> Option<DefinerShow> {
    let mut p = Parser::new(sql);
    if !p.eat_keyword("SHOW") {
        return None;
    }
    if p.eat_keyword("CREATE") {
        let kind = match p.eat_one_of(&["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"])? {
            0 => StoredObject::Procedure,
            1 => StoredObject::Function,
            2 => StoredObject::Trigger,
            3 => StoredObject::Event,
            _ if p.eat_keyword("BODY") => StoredObject::PackageBody,
            _ => StoredObject::Package,
        };
        let name = object_name(&mut p)?;
        return p.at_end().then_some(DefinerShow::Create { kind, name });
    }
    let triggers = p.eat_one_of(&["TRIGGERS", "EVENTS"])? == 0;
    let db = match p.eat_one_of(&["FROM", "IN"]) {
        Some(_) => Some(p.ident().ok()?),
        None => None,
    };
    Some(if triggers {
        DefinerShow::Triggers { db }
    } else {
        DefinerShow::Events { db }
    })
}

/// `SHOW PROCEDURE|FUNCTION|PACKAGE [BODY] STATUS [LIKE 'p' | WHERE expr]` as the
/// query of information_schema.ROUTINES MariaDB answers it with (same columns, names
/// and order); None for any other statement.
pub fn routine_status_query(sql: &str) -> Option<String> {
    let mut p = Parser::new(sql);
    if !p.eat_keyword("SHOW") {
        return None;
    }
    let kind = match p.eat_one_of(&["PROCEDURE", "FUNCTION", "PACKAGE"])? {
        0 => StoredObject::Procedure,
        1 => StoredObject::Function,
        _ if p.eat_keyword("BODY") => StoredObject::PackageBody,
        _ => StoredObject::Package,
    };
    if !p.eat_keyword("STATUS") {
        return None;
    }
    let filter = if p.eat_keyword("LIKE") {
        let pattern = p.string().ok()?;
        format!(
            " AND `Name` LIKE '{}'",
            pattern.replace('\\', "\\\\").replace('\'', "''")
        )
    } else if p.eat_keyword("WHERE") {
        format!(" AND ({})", p.rest_text().ok()?)
    } else {
        String::new()
    };
    p.at_end().then(|| {
        format!(
            "SELECT * FROM (SELECT ROUTINE_SCHEMA AS `Db`, ROUTINE_NAME AS `Name`, \
             ROUTINE_TYPE AS `Type`, DEFINER AS `Definer`, LAST_ALTERED AS `Modified`, \
             CREATED AS `Created`, SECURITY_TYPE AS `Security_type`, \
             ROUTINE_COMMENT AS `Comment`, CHARACTER_SET_CLIENT AS `character_set_client`, \
             COLLATION_CONNECTION AS `collation_connection`, \
             DATABASE_COLLATION AS `Database Collation` FROM information_schema.ROUTINES) \
             AS `routines` WHERE `Type` = '{}'{filter} ORDER BY `Db`, `Name`",
            kind.keyword()
        )
    })
}

/// `name` or `db.name`.
fn object_name(p: &mut Parser<'_>) -> Option<ObjectName> {
    let first = p.ident().ok()?;
    if p.eat_punct(".") {
        let name = p.ident().ok()?;
        return Some(ObjectName {
            schema: Some(first),
            name,
        });
    }
    Some(ObjectName {
        schema: None,
        name: first,
    })
}

/// An account as MariaDB writes a definer in `CREATE` texts: `` `user`@`host` ``.
pub fn quoted_definer(definer: &UserName) -> String {
    format!(
        "`{}`@`{}`",
        definer.user.replace('`', "``"),
        definer.host.replace('`', "``")
    )
}

/// An account as the `DEFINER` columns show it: `user@host`.
pub fn plain_definer(definer: &UserName) -> String {
    format!("{}@{}", definer.user, definer.host)
}

/// `text` (a `CREATE ...` text as `SHOW CREATE` gives it) with the account of its
/// first `` DEFINER=`user`@`host` `` replaced by `definer`; None when it has none.
pub fn with_definer(text: &str, definer: &UserName) -> Option<String> {
    let start = text.find("DEFINER=`")? + "DEFINER=".len();
    let end = start + quoted_account_len(&text[start..])?;
    Some(format!(
        "{}{}{}",
        &text[..start],
        quoted_definer(definer),
        &text[end..]
    ))
}

/// The length of the `` `user`@`host` `` that `text` starts with.
fn quoted_account_len(text: &str) -> Option<usize> {
    let user = quoted_ident_len(text)?;
    let rest = text[user..].strip_prefix('@')?;
    Some(user + 1 + quoted_ident_len(rest)?)
}

/// The length of the backquoted identifier (with doubled backquotes) `text` starts with.
fn quoted_ident_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'`') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            if bytes.get(i + 1) == Some(&b'`') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(user: &str, host: &str) -> UserRef {
        UserRef::Named(UserName::new(user, host))
    }

    #[test]
    fn heads_of_stored_object_ddl() {
        let d = parse_object_ddl(
            "CREATE OR REPLACE ALGORITHM=MERGE DEFINER='app'@'%' SQL SECURITY DEFINER VIEW db.v AS SELECT 1",
        )
        .expect("a view");
        assert_eq!((d.verb, d.kind), (ObjectVerb::Create, StoredObject::View));
        assert_eq!(d.definer, Some(named("app", "%")));
        assert!(d.or_replace && !d.if_not_exists);
        assert_eq!(d.names[0].schema.as_deref(), Some("db"));
        assert_eq!(
            d.without_definer(
                "CREATE OR REPLACE ALGORITHM=MERGE DEFINER='app'@'%' SQL SECURITY DEFINER VIEW db.v AS SELECT 1"
            ),
            "CREATE OR REPLACE ALGORITHM=MERGE  SQL SECURITY DEFINER VIEW db.v AS SELECT 1"
        );
        let d = parse_object_ddl("create definer = root@localhost procedure `P1`() select 1")
            .expect("a procedure");
        assert_eq!(d.kind, StoredObject::Procedure);
        assert_eq!(d.definer, Some(named("root", "localhost")));
        assert_eq!(d.names[0].name, "P1");
        let d = parse_object_ddl(
            "CREATE DEFINER=CURRENT_USER() FUNCTION IF NOT EXISTS f() RETURNS INT RETURN 1",
        )
        .expect("a function");
        assert_eq!(d.definer, Some(UserRef::CurrentUser));
        assert!(d.if_not_exists);
        let d = parse_object_ddl("/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`h`*/ /*!50003 TRIGGER t1 BEFORE INSERT ON t FOR EACH ROW SET @a = 1 */")
            .expect("a dumped trigger");
        assert_eq!(
            (d.kind, d.definer),
            (StoredObject::Trigger, Some(named("u", "h")))
        );
        let d = parse_object_ddl("DROP VIEW IF EXISTS v1, test.v2").expect("views");
        assert_eq!(d.names.len(), 2);
        let d = parse_object_ddl(
            "ALTER DEFINER=a@b EVENT e ON SCHEDULE EVERY 1 DAY RENAME TO e2 DO SELECT 1",
        )
        .expect("an event");
        assert_eq!(
            d.rename_to
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>(),
            ["e2"]
        );
        let d = parse_object_ddl("RENAME TABLE v1 TO v2, d.v3 WAIT 1 TO d.v4").expect("a rename");
        assert_eq!(d.verb, ObjectVerb::Rename);
        assert_eq!(d.names.len(), 2);
        assert_eq!(d.rename_to[1].schema.as_deref(), Some("d"));
        assert_eq!(
            parse_object_ddl("CREATE PACKAGE BODY pk AS BEGIN END").map(|d| d.kind),
            Some(StoredObject::PackageBody)
        );
        assert!(parse_object_ddl("CREATE TABLE t (a INT)").is_none());
        assert!(parse_object_ddl("DROP TABLE v").is_none());
    }

    #[test]
    fn routine_status_is_a_query_of_routines() {
        let q = routine_status_query("SHOW FUNCTION STATUS WHERE db = 'test'").unwrap_or_default();
        assert!(
            q.ends_with("WHERE `Type` = 'FUNCTION' AND (db = 'test') ORDER BY `Db`, `Name`"),
            "{q}"
        );
        let q = routine_status_query("show procedure status like 'p\\_%'").unwrap_or_default();
        assert!(q.contains("AND `Name` LIKE 'p\\\\_%'"), "{q}");
        assert!(routine_status_query("SHOW PACKAGE BODY STATUS")
            .is_some_and(|q| q.contains("'PACKAGE BODY'")));
        assert_eq!(routine_status_query("SHOW PROCEDURE CODE p"), None);
    }

    #[test]
    fn shows_naming_definers() {
        let n = |schema: Option<&str>, name: &str| ObjectName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        };
        assert_eq!(
            parse_definer_show("SHOW CREATE PROCEDURE test.p1"),
            Some(DefinerShow::Create {
                kind: StoredObject::Procedure,
                name: n(Some("test"), "p1")
            })
        );
        assert_eq!(
            parse_definer_show("show create package body `pk`"),
            Some(DefinerShow::Create {
                kind: StoredObject::PackageBody,
                name: n(None, "pk")
            })
        );
        assert_eq!(
            parse_definer_show("SHOW TRIGGERS FROM d LIKE 't%'"),
            Some(DefinerShow::Triggers {
                db: Some("d".into())
            })
        );
        assert_eq!(
            parse_definer_show("SHOW EVENTS"),
            Some(DefinerShow::Events { db: None })
        );
        assert_eq!(parse_definer_show("SHOW CREATE TABLE t"), None);
        assert_eq!(parse_definer_show("SHOW TABLES"), None);
    }

    #[test]
    fn the_definer_of_a_create_text_is_replaced() {
        let root = UserName::new("root", "localhost");
        assert_eq!(
            with_definer(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`strata`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `DEFINER=``x`",
                &root
            )
            .as_deref(),
            Some("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `DEFINER=``x`")
        );
        assert_eq!(
            with_definer(
                "CREATE DEFINER=`a``b`@`%` PROCEDURE `p`()\nselect 1",
                &UserName::new("o`k", "%")
            )
            .as_deref(),
            Some("CREATE DEFINER=`o``k`@`%` PROCEDURE `p`()\nselect 1")
        );
        assert_eq!(with_definer("CREATE PROCEDURE p() select 1", &root), None);
    }
}
