//! System variables that identify a storage server, masked with the compute node's values.

use crate::lexer::{code_tokens, ident_value, Token, TokenKind};

/// Global-only system variables that are the compute node's own: `@@name` reads the
/// global value, so an unscoped read is the compute node's too.
pub const COMPUTE_GLOBAL_ONLY: &[&str] = &["read_only", "init_connect"];

/// True for `@@name` (no `global.`, `session.` or `local.` scope).
fn sysvar_unscoped(text: &str) -> bool {
    let body = text.trim_start_matches('@').to_ascii_lowercase();
    !["global.", "session.", "local."]
        .iter()
        .any(|p| body.starts_with(p))
}

/// System variables whose value tells where or what a storage server is (paths, host,
/// port, server id, replication peers, key files): the compute node answers them with
/// its own values.
pub fn identifies_storage(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "datadir",
        "hostname",
        "port",
        "socket",
        "basedir",
        "server_id",
        "server_uuid",
        "pid_file",
        "log_error",
        "plugin_dir",
        "tmpdir",
        "slave_load_tmpdir",
        "log_bin_index",
        "relay_log",
        "relay_log_index",
        "secure_file_priv",
        "report_host",
        "report_port",
        "report_user",
        "report_password",
        "bind_address",
        "extra_port",
        "wsrep_node_address",
        "wsrep_node_name",
        "wsrep_node_incoming_address",
        "wsrep_cluster_address",
        "wsrep_sst_receive_address",
        "log_bin_basename",
        "relay_log_basename",
        "gtid_domain_id",
    ];
    let name = name.to_ascii_lowercase();
    EXACT.contains(&name.as_str())
        || [
            "_file",
            "_filename",
            "_dir",
            "_path",
            "_directory",
            "_basename",
        ]
        .iter()
        .any(|s| name.ends_with(s))
        || (name.starts_with("ssl_") && name != "ssl_cipher")
}

/// The variable name of a `@@[global.|session.|local.]name` token, lowercased.
pub fn sysvar_name(text: &str) -> String {
    let body = text.trim_start_matches('@');
    let body = ["global.", "session.", "local."]
        .iter()
        .find_map(|scope| {
            // `get`: a name may hold any bytes, and a byte count can fall inside a
            // character.
            let prefix = body.get(..scope.len())?;
            (body.len() > scope.len() && prefix.eq_ignore_ascii_case(scope))
                .then(|| body.get(scope.len()..))
                .flatten()
        })
        .unwrap_or(body);
    ident_value(body).to_ascii_lowercase()
}

/// System variables that state the server's identity (`version`, `version_comment`):
/// the compute node presents one identity of its own, which configuration may set
/// apart from the storage servers' (see the server's `ServerIdentity`).
pub fn is_identity_variable(name: &str) -> bool {
    name.eq_ignore_ascii_case("version") || name.eq_ignore_ascii_case("version_comment")
}

/// `@@last_insert_id` and `@@identity`: the session's `LAST_INSERT_ID()`, which only the
/// compute node knows (a pooled storage connection holds another session's).
pub fn is_session_value_variable(name: &str) -> bool {
    name.eq_ignore_ascii_case("last_insert_id") || name.eq_ignore_ascii_case("identity")
}

/// Replaces every system variable that [`identifies_storage`] or is an
/// [`is_identity_variable`], and every `VERSION()` call, with the literal `value` gives
/// for its name (`version` for the call), keeping the column name a select-list item
/// would have had (`SELECT @@datadir` still has a column called `@@datadir`). None when
/// nothing changes.
pub fn mask_storage_variables(sql: &str, value: impl Fn(&str) -> String) -> Option<String> {
    mask_variables(sql, |name| Some(value(name)), |_| None)
}

/// [`mask_storage_variables`], and every `@@global.name` read for which `global` gives
/// a literal (the compute node's own global value) replaced by it too. The variable a
/// `SET` assigns is left alone, and so is a name `value` gives None for (the storage
/// server's own value is the compute node's).
pub fn mask_variables(
    sql: &str,
    value: impl Fn(&str) -> Option<String>,
    global: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let is_set = toks.first().is_some_and(|t| t.is_keyword(sql, "SET"));
    let mut out = String::with_capacity(sql.len() + 32);
    let mut last = 0;
    let mut changed = false;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        // The item's name and the index of its last token.
        let (name, end) = if t.kind == TokenKind::SysVar {
            (sysvar_name(t.text(sql)), i)
        } else if is_version_call(sql, &toks, i) {
            ("version".to_string(), i + 2)
        } else {
            i += 1;
            continue;
        };
        let assigned = is_set
            && toks
                .get(i + 1)
                .is_some_and(|n| n.is_punct(sql, "=") || n.is_punct(sql, ":="));
        let masked = identifies_storage(&name) || is_identity_variable(&name);
        let scope_global = super::sysvar_scope_is_global(t.text(sql))
            || (sysvar_unscoped(t.text(sql)) && COMPUTE_GLOBAL_ONLY.contains(&name.as_str()));
        let own_global = (!masked && t.kind == TokenKind::SysVar && scope_global && !assigned)
            .then(|| global(&name))
            .flatten();
        if !masked && own_global.is_none() {
            i += 1;
            continue;
        }
        let Some(literal) = own_global.or_else(|| value(&name)) else {
            i = end + 1;
            continue;
        };
        out.push_str(&sql[last..t.span.start]);
        out.push_str(&literal);
        // A select-list item without an alias: name the column as MySQL would.
        let prev_starts_item = i > 0
            && (toks[i - 1].is_keyword(sql, "SELECT")
                || toks[i - 1].is_punct(sql, ",")
                || toks[i - 1].is_keyword(sql, "DISTINCT"));
        let next_ends_item = toks.get(end + 1).is_none_or(|n| {
            n.is_punct(sql, ",")
                || n.is_keyword(sql, "FROM")
                || n.is_punct(sql, ";")
                || n.is_keyword(sql, "LIMIT")
        });
        if prev_starts_item && next_ends_item {
            out.push_str(" AS `");
            out.push_str(&sql[t.span.start..toks[end].span.end].replace('`', "``"));
            out.push('`');
        }
        last = toks[end].span.end;
        changed = true;
        i = end + 1;
    }
    if !changed {
        return None;
    }
    out.push_str(&sql[last..]);
    Some(out)
}

/// Whether `toks[i..]` starts a call of the built-in `VERSION()` (not `db.version()`,
/// a stored function).
fn is_version_call(sql: &str, toks: &[Token], i: usize) -> bool {
    toks[i].is_keyword(sql, "VERSION")
        && !(i > 0 && toks[i - 1].is_punct(sql, "."))
        && toks.get(i + 1).is_some_and(|t| t.is_punct(sql, "("))
        && toks.get(i + 2).is_some_and(|t| t.is_punct(sql, ")"))
}

/// The system variables a routine or compound-statement body sets globally (`SET GLOBAL
/// x = ...`, `SET @@global.x = ...`), lowercased: MariaDB's parser rejects an unknown
/// one (1193) before any privilege is looked at, so the session asks about these names
/// before it refuses the body.
pub fn globally_set_variables(sql: &str) -> Vec<String> {
    let toks: Vec<Token> = code_tokens(sql).collect();
    let mut names = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let name = if t.is_keyword(sql, "GLOBAL")
            && i > 0
            && toks[i - 1].is_keyword(sql, "SET")
            && !toks
                .get(i + 1)
                .is_some_and(|n| n.is_keyword(sql, "TRANSACTION"))
        {
            toks.get(i + 1)
                .filter(|n| n.kind.is_ident())
                .map(|n| ident_value(n.text(sql)).to_ascii_lowercase())
        } else if t.kind == TokenKind::SysVar && super::sysvar_scope_is_global(t.text(sql)) {
            Some(sysvar_name(t.text(sql)))
        } else {
            None
        };
        if let Some(name) = name.filter(|n| !names.contains(n)) {
            names.push(name);
        }
    }
    names
}
