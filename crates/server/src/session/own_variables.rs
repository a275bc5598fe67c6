//! The values the compute node gives for system variables that would otherwise show a
//! storage server's identity (`@@version`, `@@port`, `@@datadir`, ...).

use std::sync::atomic::Ordering;

use super::handshake::ServerIdentity;

/// A value the compute node gives for an identifying variable.
pub(super) enum OwnValue {
    /// A number.
    Int(i64),
    /// A string.
    Text(String),
    /// No value: `@@name` reads NULL, SHOW VARIABLES and information_schema show ''
    /// (`secure_file_priv` when the compute node reads and writes no files).
    Null,
}

/// The compute node's own value of the identifying variable `name`.
pub(super) fn own_variable(ctx: &crate::context::ServerContext, name: &str) -> OwnValue {
    match name {
        "version" => OwnValue::Text(ServerIdentity::of(ctx).version),
        "version_comment" => OwnValue::Text(ServerIdentity::of(ctx).comment),
        "port" => OwnValue::Int(i64::from(ctx.service_port.load(Ordering::Relaxed))),
        "server_id" => OwnValue::Int(i64::from(ctx.config.server.node_id)),
        "report_port" | "extra_port" | "gtid_domain_id" => OwnValue::Int(0),
        // No file of the compute node's: MariaDB's value without one (the storage
        // servers' own file, if a deployment gave them one, is theirs to keep private).
        "ft_stopword_file" => OwnValue::Text("(built-in)".into()),
        "datadir" => {
            let dir = &ctx.config.server.data_dir;
            let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            let mut text = abs.to_string_lossy().into_owned();
            if !text.ends_with('/') {
                text.push('/');
            }
            OwnValue::Text(text)
        }
        // MariaDB shows the directory resolved, with a trailing slash.
        "secure_file_priv" => match ctx.config.server.secure_file_priv.as_ref() {
            Some(dir) => {
                let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
                let mut text = abs.to_string_lossy().into_owned();
                if !text.ends_with('/') {
                    text.push('/');
                }
                OwnValue::Text(text)
            }
            None => OwnValue::Null,
        },
        "hostname" => OwnValue::Text(
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into()),
        ),
        "tmpdir" => OwnValue::Text(std::env::temp_dir().to_string_lossy().into_owned()),
        "basedir" => OwnValue::Text(
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned()))
                .unwrap_or_default(),
        ),
        _ => OwnValue::Text(String::new()),
    }
}
