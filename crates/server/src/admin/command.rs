//! The admin port's command language: `SHOW @@NAME`, `KILL @@CONNECTION id[,id]`,
//! `OFFLINE`, `ONLINE`, `RESET @@SQL_DIGEST`, `RELOAD @@CONFIG`,
//! `SWITCH @@DATASOURCE dnid [TO 'host:port']` (case-insensitive,
//! a trailing `;` allowed), parsed into a `Command` without touching any state.

/// The views `SHOW @@...` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `SHOW @@HELP`.
    Help,
    /// `SHOW @@DATANODE`.
    DataNode,
    /// `SHOW @@DATASOURCE`.
    DataSource,
    /// `SHOW @@BACKEND`.
    Backend,
    /// `SHOW @@SESSION` / `SHOW @@CONNECTION`.
    Session,
    /// `SHOW @@DATABASE`.
    Database,
    /// `SHOW @@TABLE`.
    Table,
    /// `SHOW @@XA`.
    Xa,
    /// `SHOW @@SQL_DIGEST`.
    SqlDigest,
    /// `SHOW @@SLOW_SQL`.
    SlowSql,
    /// `SHOW @@SERVER`.
    Server,
    /// `SHOW @@JOB`.
    Job,
    /// `SHOW @@HEARTBEAT`.
    Heartbeat,
    /// `SHOW @@CLUSTER`.
    Cluster,
}

impl View {
    /// Every view with its names and what it shows (`SHOW @@HELP` prints this).
    pub const ALL: [(View, &'static [&'static str], &'static str); 14] = [
        (View::Help, &["HELP"], "The admin commands"),
        (
            View::DataNode,
            &["DATANODE"],
            "Data nodes: databases, storage node, status, pool, statements/s",
        ),
        (
            View::DataSource,
            &["DATASOURCE"],
            "Storage nodes: host, port, role, status, last error",
        ),
        (
            View::Backend,
            &["BACKEND"],
            "Storage connections: node, state, owner session, age",
        ),
        (
            View::Session,
            &["SESSION", "CONNECTION"],
            "Client sessions: user, host, db, state, transaction, statement",
        ),
        (
            View::Database,
            &["DATABASE"],
            "Logical databases and their data nodes",
        ),
        (
            View::Table,
            &["TABLE"],
            "Logical tables: type, rule, key, data nodes",
        ),
        (
            View::Xa,
            &["XA"],
            "In-doubt and recently recovered distributed transactions",
        ),
        (
            View::SqlDigest,
            &["SQL_DIGEST"],
            "Statements by digest, most total time first",
        ),
        (View::SlowSql, &["SLOW_SQL"], "The latest slow statements"),
        (
            View::Server,
            &["SERVER"],
            "Version, uptime, node id, threads, memory, state",
        ),
        (
            View::Job,
            &["JOB"],
            "Long-running work (DDL over several data nodes): state, progress, ETA",
        ),
        (
            View::Heartbeat,
            &["HEARTBEAT"],
            "Heartbeats of every storage node: status, period, timeout, lag, last error",
        ),
        (
            View::Cluster,
            &["CLUSTER"],
            "Compute nodes sharing metadata: id, addresses, state, metadata revision",
        ),
    ];

    /// The view named `name` (upper case, without `@@`).
    fn named(name: &str) -> Option<View> {
        View::ALL
            .iter()
            .find(|(_, names, _)| names.contains(&name))
            .map(|(v, _, _)| *v)
    }

    /// The name the API uses for the view (`/api/v1/<name>`).
    pub fn api_name(self) -> &'static str {
        match self {
            View::Help => "help",
            View::DataNode => "datanodes",
            View::DataSource => "datasources",
            View::Backend => "backends",
            View::Session => "sessions",
            View::Database => "databases",
            View::Table => "tables",
            View::Xa => "xa",
            View::SqlDigest => "digests",
            View::SlowSql => "slow",
            View::Server => "server",
            View::Job => "jobs",
            View::Heartbeat => "heartbeats",
            View::Cluster => "cluster",
        }
    }

    /// The view the API names `name`.
    pub fn from_api_name(name: &str) -> Option<View> {
        View::ALL
            .iter()
            .map(|(v, _, _)| *v)
            .find(|v| v.api_name() == name)
    }
}

/// One admin command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `SHOW @@view`.
    Show(View),
    /// `KILL @@CONNECTION id[,id...]`.
    Kill(Vec<u32>),
    /// `OFFLINE`: refuse new client connections.
    Offline,
    /// `ONLINE`: accept them again.
    Online,
    /// `RESET @@SQL_DIGEST`.
    ResetDigests,
    /// `RELOAD @@CONFIG`.
    Reload,
    /// `SELECT @@a[, @@b...] [LIMIT n]`: what MySQL clients and drivers read on
    /// connecting (`@@version_comment`, `@@max_allowed_packet`...), answered by the
    /// admin port itself; the names as written.
    Variables(Vec<String>),
    /// `SWITCH @@DATASOURCE dnid [TO 'host:port']`: a planned switchover of the data
    /// node's primary to the replica named (or the best one).
    Switch {
        /// The data node.
        dnid: u32,
        /// `(host, port)` of the replica to promote.
        target: Option<(String, u16)>,
    },
    /// `REBUILD @@DATASOURCE dnid 'host:port' DATADIR '/path'`: re-creates the stopped
    /// storage node from the data node's primary in its (empty) data directory on this
    /// machine; the node becomes a replica once started.
    Rebuild {
        /// The data node.
        dnid: u32,
        /// `(host, port)` of the storage node to rebuild.
        target: (String, u16),
        /// Its data directory, as written.
        datadir: String,
    },
}

/// Why a command was refused; the message is what the operator sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Not an admin command at all.
    #[error("Unknown admin command '{0}'; SHOW @@HELP lists the commands")]
    Unknown(String),
    /// `KILL @@CONNECTION` with something other than connection ids.
    #[error("KILL @@CONNECTION needs connection ids separated by commas, got '{0}'")]
    BadId(String),
    /// `SWITCH @@DATASOURCE` not followed by a data node id and an optional target.
    #[error("SWITCH @@DATASOURCE needs a data node id and optionally TO 'host:port', got '{0}'")]
    BadSwitch(String),
    /// `REBUILD @@DATASOURCE` not followed by a data node id, an address and a directory.
    #[error(
        "REBUILD @@DATASOURCE needs a data node id, 'host:port' and DATADIR '/path', got '{0}'"
    )]
    BadRebuild(String),
}

/// Parses one command.
pub fn parse(text: &str) -> Result<Command, CommandError> {
    let trimmed = text.trim().trim_end_matches(';').trim();
    let upper = trimmed.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let unknown = || CommandError::Unknown(shorten(trimmed));
    match words.as_slice() {
        ["SHOW", name] => name
            .strip_prefix("@@")
            .and_then(View::named)
            .map(Command::Show)
            .ok_or_else(unknown),
        ["OFFLINE"] => Ok(Command::Offline),
        ["ONLINE"] => Ok(Command::Online),
        ["RESET", "@@SQL_DIGEST"] => Ok(Command::ResetDigests),
        ["RELOAD", "@@CONFIG"] => Ok(Command::Reload),
        ["KILL", "@@CONNECTION", ..] => {
            // The ids may be written with or without spaces around the commas.
            let rest = trimmed
                .split_whitespace()
                .skip(2)
                .collect::<Vec<_>>()
                .join("");
            parse_ids(&rest)
        }
        ["SELECT", ..] => parse_variables(trimmed).ok_or_else(unknown),
        ["SWITCH", "@@DATASOURCE", ..] => {
            let rest: Vec<&str> = trimmed.split_whitespace().skip(2).collect();
            parse_switch(&rest).ok_or_else(|| CommandError::BadSwitch(shorten(&rest.join(" "))))
        }
        ["REBUILD", "@@DATASOURCE", ..] => {
            let rest: Vec<&str> = trimmed.split_whitespace().skip(2).collect();
            parse_rebuild(&rest).ok_or_else(|| CommandError::BadRebuild(shorten(&rest.join(" "))))
        }
        _ => Err(unknown()),
    }
}

/// `SELECT @@a, @@b [LIMIT n]`, nothing else.
fn parse_variables(text: &str) -> Option<Command> {
    let rest = text.get(6..)?.trim();
    let upper = rest.to_ascii_uppercase();
    let list = match upper.rfind(" LIMIT ") {
        Some(at) if upper[at + 7..].trim().parse::<u64>().is_ok() => &rest[..at],
        _ => rest,
    };
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
    let valid = |n: &String| {
        n.strip_prefix("@@").is_some_and(|v| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
    };
    names.iter().all(valid).then_some(Command::Variables(names))
}

/// `dnid [TO 'host:port']` (the quotes optional).
fn parse_switch(words: &[&str]) -> Option<Command> {
    let (dnid, rest) = words.split_first()?;
    let dnid = parse_dnid(dnid)?;
    let target = match rest {
        [] => None,
        [to, address] if to.eq_ignore_ascii_case("TO") => Some(parse_address(address)?),
        _ => return None,
    };
    Some(Command::Switch { dnid, target })
}

/// `dnid 'host:port' DATADIR '/path'` (the quotes optional; the path without spaces).
fn parse_rebuild(words: &[&str]) -> Option<Command> {
    let [dnid, address, keyword, datadir] = words else {
        return None;
    };
    if !keyword.eq_ignore_ascii_case("DATADIR") {
        return None;
    }
    let datadir = unquote(datadir);
    if datadir.is_empty() {
        return None;
    }
    Some(Command::Rebuild {
        dnid: parse_dnid(dnid)?,
        target: parse_address(address)?,
        datadir: datadir.to_string(),
    })
}

fn parse_dnid(word: &str) -> Option<u32> {
    word.parse::<u32>().ok().filter(|&d| d > 0)
}

/// `'host:port'` (the quotes optional), with a non-zero port.
fn parse_address(word: &str) -> Option<(String, u16)> {
    let (host, port) = unquote(word).rsplit_once(':')?;
    let port = port.parse::<u16>().ok().filter(|&p| p > 0)?;
    (!host.is_empty()).then(|| (host.to_string(), port))
}

fn unquote(word: &str) -> &str {
    word.strip_prefix('\'')
        .and_then(|a| a.strip_suffix('\''))
        .unwrap_or(word)
}

fn parse_ids(list: &str) -> Result<Command, CommandError> {
    if list.is_empty() {
        return Err(CommandError::BadId(String::new()));
    }
    let ids: Result<Vec<u32>, _> = list.split(',').map(|p| p.parse::<u32>()).collect();
    match ids {
        Ok(ids) if ids.iter().all(|&id| id > 0) => Ok(Command::Kill(ids)),
        _ => Err(CommandError::BadId(shorten(list))),
    }
}

/// The start of an operator's text, for an error message.
fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(80).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_in_any_case_with_a_trailing_semicolon() {
        let cases = [
            ("SHOW @@HELP", Command::Show(View::Help)),
            ("show @@datanode;", Command::Show(View::DataNode)),
            ("  Show   @@Connection ", Command::Show(View::Session)),
            ("SHOW @@SESSION", Command::Show(View::Session)),
            ("SHOW @@SQL_DIGEST", Command::Show(View::SqlDigest)),
            ("SHOW @@SLOW_SQL", Command::Show(View::SlowSql)),
            ("SHOW @@XA", Command::Show(View::Xa)),
            ("show @@job", Command::Show(View::Job)),
            ("SHOW @@HEARTBEAT", Command::Show(View::Heartbeat)),
            ("show @@cluster;", Command::Show(View::Cluster)),
            ("offline", Command::Offline),
            ("ONLINE;", Command::Online),
            ("reset @@sql_digest", Command::ResetDigests),
            ("RELOAD @@CONFIG", Command::Reload),
            ("KILL @@CONNECTION 5", Command::Kill(vec![5])),
            (
                "switch @@datasource 2",
                Command::Switch {
                    dnid: 2,
                    target: None,
                },
            ),
            (
                "SWITCH @@DATASOURCE 1 TO '127.0.0.1:3307';",
                Command::Switch {
                    dnid: 1,
                    target: Some(("127.0.0.1".into(), 3307)),
                },
            ),
            (
                "rebuild @@datasource 1 '127.0.0.1:3307' datadir '/srv/dn1'",
                Command::Rebuild {
                    dnid: 1,
                    target: ("127.0.0.1".into(), 3307),
                    datadir: "/srv/dn1".into(),
                },
            ),
            ("kill @@connection 5, 6 ,7", Command::Kill(vec![5, 6, 7])),
            (
                "select @@version_comment limit 1",
                Command::Variables(vec!["@@version_comment".into()]),
            ),
            (
                "SELECT @@max_allowed_packet,@@wait_timeout",
                Command::Variables(vec!["@@max_allowed_packet".into(), "@@wait_timeout".into()]),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn unknown_commands_and_bad_ids_are_refused_with_their_text() {
        let cases = [
            ("SHOW @@NOPE", CommandError::Unknown("SHOW @@NOPE".into())),
            ("select 1", CommandError::Unknown("select 1".into())),
            (
                "select @@x from t",
                CommandError::Unknown("select @@x from t".into()),
            ),
            ("KILL @@CONNECTION abc", CommandError::BadId("abc".into())),
            ("KILL @@CONNECTION 0", CommandError::BadId("0".into())),
            ("KILL @@CONNECTION", CommandError::BadId(String::new())),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Err(want), "{text}");
        }
        for bad in [
            "SWITCH @@DATASOURCE",
            "SWITCH @@DATASOURCE x",
            "SWITCH @@DATASOURCE 1 TO",
            "SWITCH @@DATASOURCE 1 TO 'h'",
            "SWITCH @@DATASOURCE 1 TO 'h:0'",
            "SWITCH @@DATASOURCE 1 FROM 'h:1'",
        ] {
            assert!(
                matches!(parse(bad), Err(CommandError::BadSwitch(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_rebuild_needs_a_data_node_an_address_and_a_directory() {
        for bad in [
            "REBUILD @@DATASOURCE",
            "REBUILD @@DATASOURCE 1 '127.0.0.1:3307'",
            "REBUILD @@DATASOURCE 1 '127.0.0.1:3307' DATADIR",
            "REBUILD @@DATASOURCE 1 '127.0.0.1:3307' DATADIR ''",
            "REBUILD @@DATASOURCE 0 '127.0.0.1:3307' DATADIR '/d'",
            "REBUILD @@DATASOURCE 1 '127.0.0.1' DATADIR '/d'",
            "REBUILD @@DATASOURCE 1 '127.0.0.1:3307' INTO '/d'",
        ] {
            assert!(
                matches!(parse(bad), Err(CommandError::BadRebuild(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_view_has_one_api_name() {
        for (view, _, _) in View::ALL {
            assert_eq!(View::from_api_name(view.api_name()), Some(view));
        }
    }
}
