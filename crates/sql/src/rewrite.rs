//! Rewrites logical database qualifiers (`shop.orders`, `shop.orders.id`, `shop.f()`) into
//! the physical database names of a storage node, leaving every other byte of the
//! statement as it was. Used when forwarding a statement's text to one data node.
//!
//! Without a parser, a two-part name is ambiguous (`db.table` or `table.column`); it is
//! read as `db.table` in a table position (after FROM, JOIN, INTO, UPDATE, TABLE, ... up
//! to WHERE, ON, SET, ...) or before `(` (a stored function), and as `table.column`
//! elsewhere. A three-part name always starts with a database.

use std::borrow::Cow;

use crate::lexer::{ident_value, Lexer, Token, TokenKind};

/// Keywords after which names are table references.
const TABLE_POSITION_STARTS: &[&str] = &[
    "FROM",
    "JOIN",
    "STRAIGHT_JOIN",
    "INTO",
    "UPDATE",
    "TABLE",
    "TABLES",
    "REFERENCES",
    "CALL",
    "TRUNCATE",
    "VIEW",
    "TO",
];

/// Keywords that end a table position.
const TABLE_POSITION_ENDS: &[&str] = &[
    "WHERE",
    "ON",
    "USING",
    "SET",
    "GROUP",
    "HAVING",
    "ORDER",
    "LIMIT",
    "VALUES",
    "VALUE",
    "SELECT",
    "UNION",
    "WINDOW",
    "FOR",
    "PARTITION",
    "RETURNING",
    "EXCEPT",
    "INTERSECT",
];

/// Keywords whose next name (after `IF [NOT] EXISTS`) is a stored object's, which a
/// database may qualify (`DROP PROCEDURE db.p`, `SHOW CREATE TRIGGER db.tr`).
const OBJECT_KEYWORDS: &[&str] = &["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"];

/// Replaces each database qualifier that `map` knows by the backquoted name it returns.
/// Returns the input unchanged (borrowed) when nothing was replaced.
pub fn rewrite_schema_names<'a, F, S>(sql: &'a str, map: F) -> Cow<'a, str>
where
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    rewrite(sql, map, false)
}

/// [`rewrite_schema_names`], keeping a bare qualifier bare when the name it becomes
/// needs no quotes: a routine, trigger or event body is stored as sent and shown as
/// stored, so mapping the names back gives the text as written.
pub fn rewrite_schema_names_as_written<'a, F, S>(sql: &'a str, map: F) -> Cow<'a, str>
where
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    rewrite(sql, map, true)
}

/// `sql` with every identifier naming `from` (letter case aside, as column names go)
/// replaced by `to`, quoted; every other byte as it was.
pub fn rename_identifier(sql: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for t in Lexer::new(sql).filter(|t| t.kind.is_ident()) {
        if ident_value(t.text(sql)).eq_ignore_ascii_case(from) {
            out.push_str(&sql[copied..t.span.start]);
            out.push('`');
            out.push_str(&to.replace('`', "``"));
            out.push('`');
            copied = t.span.end;
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// True when `name` may be written without quotes (and reads back as itself).
fn plain_identifier(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$')
        && !crate::keywords::is_reserved(&name.to_ascii_uppercase())
}

/// The index of the database token in `SHOW [FULL] TRIGGERS|EVENTS FROM|IN db`.
fn shown_database(sql: &str, toks: &[Token]) -> Option<usize> {
    let keyword = |i: usize, k: &str| toks.get(i).is_some_and(|t| t.is_keyword(sql, k));
    if !keyword(0, "SHOW") {
        return None;
    }
    let mut i = if keyword(1, "FULL") { 2 } else { 1 };
    if !(keyword(i, "TRIGGERS") || keyword(i, "EVENTS")) {
        return None;
    }
    i += 1;
    (keyword(i, "FROM") || keyword(i, "IN")).then_some(i + 1)
}

/// The rewrite; `as_written` keeps bare qualifiers bare where it can.
fn rewrite<'a, F, S>(sql: &'a str, map: F, as_written: bool) -> Cow<'a, str>
where
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    let toks: Vec<Token> = Lexer::new(sql).filter(|t| t.kind.is_code()).collect();
    let mut replacements: Vec<(Token, S)> = Vec::new();
    // Whether each open parenthesis level is in a table position.
    let mut table_position = vec![false];
    let at = |i: usize| toks.get(i).copied();
    let is_punct = |i: usize, p: &str| at(i).is_some_and(|t| t.is_punct(sql, p));
    let is_name = |i: usize| at(i).is_some_and(|t| t.kind.is_ident());
    if let Some(d) = shown_database(sql, &toks) {
        if let Some(t) = at(d).filter(|t| t.kind.is_ident() && !is_punct(d + 1, ".")) {
            if let Some(physical) = map(&ident_value(t.text(sql))) {
                replacements.push((t, physical));
            }
        }
    }
    // The token after which a stored object's name comes (PROCEDURE, IF EXISTS, ...).
    let mut object_name_at = None;
    let mut i = 0;
    while let Some(t) = at(i) {
        let depth = table_position.len() - 1;
        if t.kind == TokenKind::Ident {
            let word = t.text(sql);
            // A trigger's table: `... BEFORE INSERT ON db.t FOR EACH ROW`.
            let trigger_table = word.eq_ignore_ascii_case("ON")
                && i > 0
                && at(i - 1).is_some_and(|p| {
                    ["INSERT", "UPDATE", "DELETE"]
                        .iter()
                        .any(|k| p.is_keyword(sql, k))
                });
            if trigger_table
                || OBJECT_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
                || (object_name_at == Some(i.wrapping_sub(1))
                    && ["BODY", "IF", "NOT", "EXISTS"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(word)))
            {
                object_name_at = Some(i);
            }
        }
        if t.kind == TokenKind::Punct {
            match t.text(sql) {
                // A parenthesized join (`FROM (db.a JOIN db.b ...)`, as MariaDB writes
                // views) names tables too; a list after a name (`INTO t (a, b)`) does not.
                "(" => {
                    let opens_join = table_position[depth]
                        && i > 0
                        && at(i - 1).is_some_and(|p| {
                            p.is_punct(sql, "(")
                                || p.is_punct(sql, ",")
                                || ["FROM", "JOIN", "STRAIGHT_JOIN"]
                                    .iter()
                                    .any(|k| p.is_keyword(sql, k))
                        });
                    table_position.push(opens_join);
                }
                ")" if depth > 0 => {
                    table_position.pop();
                }
                ";" => table_position = vec![false],
                _ => {}
            }
            i += 1;
            continue;
        }
        let after_dot = i > 0 && is_punct(i - 1, ".");
        if t.kind == TokenKind::Ident && !after_dot {
            let word = t.text(sql);
            let starts = TABLE_POSITION_STARTS.iter().any(|k| k.eq_ignore_ascii_case(word))
                // ON DUPLICATE KEY UPDATE and FOR UPDATE do not name tables.
                && !(word.eq_ignore_ascii_case("UPDATE")
                    && i > 0
                    && at(i - 1).is_some_and(|p| p.is_keyword(sql, "KEY") || p.is_keyword(sql, "FOR")));
            let first_word_describe = i == 0
                && ["DESC", "DESCRIBE", "EXPLAIN"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(word));
            if starts || first_word_describe {
                table_position[depth] = true;
            } else if TABLE_POSITION_ENDS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(word))
            {
                table_position[depth] = false;
            }
        }
        if t.kind.is_ident() && !after_dot && is_punct(i + 1, ".") {
            let second_is_star = is_punct(i + 2, "*");
            if is_name(i + 2) || second_is_star {
                let three_parts = !second_is_star
                    && is_punct(i + 3, ".")
                    && (is_name(i + 4) || is_punct(i + 4, "*"));
                let function_call = !second_is_star && is_punct(i + 3, "(");
                let object_name = object_name_at == Some(i.wrapping_sub(1));
                let qualifies_db = three_parts
                    || (!second_is_star && (table_position[depth] || function_call || object_name));
                if qualifies_db {
                    if let Some(physical) = map(&ident_value(t.text(sql))) {
                        replacements.push((t, physical));
                    }
                }
                i += if three_parts { 5 } else { 3 };
                continue;
            }
        }
        i += 1;
    }
    if replacements.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + replacements.len() * 8);
    let mut copied = 0;
    replacements.sort_by_key(|(t, _)| t.span.start);
    for (t, physical) in &replacements {
        out.push_str(&sql[copied..t.span.start]);
        let physical = physical.as_ref();
        let bare = t.kind == TokenKind::Ident;
        if as_written && bare && plain_identifier(physical) {
            out.push_str(physical);
        } else {
            out.push('`');
            out.push_str(&physical.replace('`', "``"));
            out.push('`');
        }
        copied = t.span.end;
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn physical(name: &str) -> Option<&'static str> {
        match name {
            "shop" => Some("shop_dn1"),
            "orders" => Some("orders_dn1"),
            "we`ird" => Some("p`q"),
            _ => None,
        }
    }

    #[test]
    fn renames_an_identifier_wherever_it_stands() {
        assert_eq!(
            rename_identifier(
                "`Tables_in_a-1` = 'Tables_in_a-1' OR tables_in_A-1 LIKE 'x'",
                "Tables_in_a-1",
                "Tables_in_p`q"
            ),
            "`Tables_in_p``q` = 'Tables_in_a-1' OR tables_in_A-1 LIKE 'x'"
        );
        assert_eq!(
            rename_identifier("Tables_in_shop = 't'", "tables_in_SHOP", "Tables_in_s1"),
            "`Tables_in_s1` = 't'"
        );
    }

    #[test]
    fn names_stored_objects_and_keeps_bare_names_bare() {
        let as_written = |sql| rewrite_schema_names_as_written(sql, physical).into_owned();
        let cases = [
            (
                "CREATE PROCEDURE shop.p() INSERT INTO shop.t VALUES (1)",
                "CREATE PROCEDURE shop_dn1.p() INSERT INTO shop_dn1.t VALUES (1)",
            ),
            (
                "SELECT `shop`.t.a FROM `shop`.t, shop.u",
                "SELECT `shop_dn1`.t.a FROM `shop_dn1`.t, shop_dn1.u",
            ),
            ("DROP PROCEDURE IF EXISTS shop.p", "DROP PROCEDURE IF EXISTS shop_dn1.p"),
            ("SHOW CREATE TRIGGER shop.tr", "SHOW CREATE TRIGGER shop_dn1.tr"),
            (
                "CREATE TRIGGER shop.tr AFTER DELETE ON shop.t FOR EACH ROW DELETE FROM shop.u",
                "CREATE TRIGGER shop_dn1.tr AFTER DELETE ON shop_dn1.t FOR EACH ROW DELETE FROM shop_dn1.u",
            ),
            ("ALTER EVENT shop.e DISABLE", "ALTER EVENT shop_dn1.e DISABLE"),
            ("SHOW CREATE PACKAGE BODY shop.k", "SHOW CREATE PACKAGE BODY shop_dn1.k"),
            ("SHOW TRIGGERS FROM shop LIKE 't'", "SHOW TRIGGERS FROM shop_dn1 LIKE 't'"),
            ("SHOW FULL EVENTS IN `shop`", "SHOW FULL EVENTS IN `shop_dn1`"),
            ("SHOW FUNCTION STATUS LIKE 'shop'", "SHOW FUNCTION STATUS LIKE 'shop'"),
            ("SELECT * FROM we`ird.t", "SELECT * FROM we`ird.t"),
            ("SELECT * FROM `we``ird`.t", "SELECT * FROM `p``q`.t"),
        ];
        for (sql, expected) in cases {
            assert_eq!(as_written(sql), expected, "{sql}");
        }
    }

    #[test]
    fn rewrites_database_qualifiers_only() {
        let cases = [
            ("SELECT * FROM shop.t", "SELECT * FROM `shop_dn1`.t"),
            (
                "SELECT * FROM `shop`.`t` AS a JOIN shop.u b ON a.id = b.id",
                "SELECT * FROM `shop_dn1`.`t` AS a JOIN `shop_dn1`.u b ON a.id = b.id",
            ),
            (
                "SELECT shop.t.c FROM shop.t",
                "SELECT `shop_dn1`.t.c FROM `shop_dn1`.t",
            ),
            (
                "SELECT shop.t.a FROM (`shop`.`t` JOIN shop.u ON shop.u.a = 1)",
                "SELECT `shop_dn1`.t.a FROM (`shop_dn1`.`t` JOIN `shop_dn1`.u ON `shop_dn1`.u.a = 1)",
            ),
            (
                "SELECT * FROM ((shop.t JOIN shop.u) JOIN shop.v), (shop.w)",
                "SELECT * FROM ((`shop_dn1`.t JOIN `shop_dn1`.u) JOIN `shop_dn1`.v), (`shop_dn1`.w)",
            ),
            (
                "SELECT shop.t.* FROM shop.t, shop.u",
                "SELECT `shop_dn1`.t.* FROM `shop_dn1`.t, `shop_dn1`.u",
            ),
            (
                "INSERT INTO shop.t (a, b) VALUES (1, 'shop.t')",
                "INSERT INTO `shop_dn1`.t (a, b) VALUES (1, 'shop.t')",
            ),
            (
                "UPDATE shop.t SET c = 1 WHERE id = 2",
                "UPDATE `shop_dn1`.t SET c = 1 WHERE id = 2",
            ),
            (
                "DELETE FROM shop . t WHERE x IN (SELECT y FROM shop.u)",
                "DELETE FROM `shop_dn1` . t WHERE x IN (SELECT y FROM `shop_dn1`.u)",
            ),
            ("SELECT shop.f(1)", "SELECT `shop_dn1`.f(1)"),
            ("CALL shop.p()", "CALL `shop_dn1`.p()"),
            (
                "CREATE TABLE shop.t (id INT)",
                "CREATE TABLE `shop_dn1`.t (id INT)",
            ),
            (
                "DROP TABLE IF EXISTS shop.t, shop.u",
                "DROP TABLE IF EXISTS `shop_dn1`.t, `shop_dn1`.u",
            ),
            (
                "RENAME TABLE shop.a TO shop.b",
                "RENAME TABLE `shop_dn1`.a TO `shop_dn1`.b",
            ),
            ("DESC shop.t", "DESC `shop_dn1`.t"),
            (
                "LOCK TABLES shop.t READ, shop.u WRITE",
                "LOCK TABLES `shop_dn1`.t READ, `shop_dn1`.u WRITE",
            ),
            (
                "SELECT * FROM (SELECT 1) x, shop.t",
                "SELECT * FROM (SELECT 1) x, `shop_dn1`.t",
            ),
            ("SELECT * FROM `we``ird`.t", "SELECT * FROM `p``q`.t"),
            // A table named like a logical database, used as a column qualifier.
            (
                "SELECT orders.id FROM orders WHERE orders.id = 1",
                "SELECT orders.id FROM orders WHERE orders.id = 1",
            ),
            (
                "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE orders.c = 2",
                "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE orders.c = 2",
            ),
            ("SELECT orders.* FROM orders", "SELECT orders.* FROM orders"),
            // Unknown databases, strings, comments and variables are left alone.
            ("SELECT * FROM other.t", "SELECT * FROM other.t"),
            (
                "SELECT 'shop.t', @shop.t, `shop.t` /* shop.t */ FROM t",
                "SELECT 'shop.t', @shop.t, `shop.t` /* shop.t */ FROM t",
            ),
            ("SELECT x.shop.t FROM x.shop", "SELECT x.shop.t FROM x.shop"),
        ];
        for (sql, expected) in cases {
            assert_eq!(
                rewrite_schema_names(sql, physical),
                expected,
                "rewriting {sql}"
            );
        }
    }

    #[test]
    fn untouched_text_is_borrowed() {
        assert!(matches!(
            rewrite_schema_names("SELECT  1 /* x */", physical),
            Cow::Borrowed(_)
        ));
    }
}
