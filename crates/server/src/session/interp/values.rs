//! Local variables of an interpreted procedure: each held as a literal MariaDB reads
//! back as the same value, with its declared type; the anonymous blocks that declare
//! them on the session's storage connection, where MariaDB evaluates every expression
//! with its own typing; and the literals read back from those blocks.

use strata_protocol::constants::coltype;
use strata_protocol::packets::ColumnDef;
use strata_protocol::MysqlError;

/// A local variable or parameter.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    /// Its name, lowercased.
    pub name: String,
    /// Its declared type.
    pub ty: String,
    /// Its value as a literal.
    pub value: String,
}

/// `name` as a backquoted identifier.
pub(crate) fn quoted_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The DECLAREs of `vars` (each name once: the innermost wins, `vars` being outermost
/// first).
pub(crate) fn declarations<'a>(vars: impl DoubleEndedIterator<Item = &'a Var>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for v in vars.rev() {
        if seen.contains(&v.name.as_str()) {
            continue;
        }
        seen.push(&v.name);
        out.push(format!(
            "DECLARE {} {} DEFAULT {};",
            quoted_ident(&v.name),
            v.ty,
            v.value
        ));
    }
    out.reverse();
    out.join(" ")
}

/// The select items reading `expr` back as a literal (see [`literal`]).
pub(crate) fn readback(expr: &str) -> [String; 3] {
    [
        format!("({expr})"),
        format!("HEX({expr})"),
        format!("COLLATION({expr})"),
    ]
}

/// The literal of a value read back with [`readback`]: strings as their bytes with
/// their character set and collation, other types as `select_into` writes them.
pub(crate) fn literal(
    def: &ColumnDef,
    value: Option<&str>,
    hex: Option<&str>,
    collation: Option<&str>,
) -> Result<String, MysqlError> {
    let Some(value) = value else {
        return Ok("NULL".into());
    };
    if is_string(def) {
        let hex = hex.unwrap_or("");
        return Ok(match collation {
            None | Some("binary") => format!("X'{hex}'"),
            Some(c) => {
                let charset = c.split('_').next().unwrap_or(c);
                format!("_{charset} X'{hex}' COLLATE {c}")
            }
        });
    }
    super::super::select_into::value_literal(def, Some(value.as_bytes()))
}

/// True for a result column holding a string (or ENUM, SET, JSON).
fn is_string(def: &ColumnDef) -> bool {
    !matches!(
        def.col_type,
        coltype::DECIMAL
            | coltype::NEWDECIMAL
            | coltype::TINY
            | coltype::SHORT
            | coltype::LONG
            | coltype::INT24
            | coltype::LONGLONG
            | coltype::FLOAT
            | coltype::DOUBLE
            | coltype::NULL
            | coltype::TIMESTAMP
            | coltype::DATE
            | coltype::TIME
            | coltype::DATETIME
            | coltype::YEAR
            | coltype::BIT
            | coltype::GEOMETRY
    )
}

/// Hexadecimal digits as bytes.
pub(crate) fn unhex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_declarations_hide_outer_ones() {
        let v = |n: &str, value: &str| Var {
            name: n.into(),
            ty: "INT".into(),
            value: value.into(),
        };
        let vars = [v("a", "1"), v("b", "2"), v("a", "3")];
        assert_eq!(
            declarations(vars.iter()),
            "DECLARE `b` INT DEFAULT 2; DECLARE `a` INT DEFAULT 3;"
        );
        assert_eq!(unhex("4142").as_deref(), Some(&b"AB"[..]));
        assert!(unhex("4").is_none());
    }
}
