//! Keeping a table alike on its data nodes through ALTER TABLE and CREATE INDEX.
//!
//! MariaDB's ALTER TABLE is atomic on one server, but the same ALTER over several data
//! nodes can succeed on some and fail on others (a new unique key meets duplicate rows
//! on one node only), leaving the nodes with different table definitions. A
//! [`DdlGuard`] says what to do about it: the duplicate checks that run on every node
//! before any node changes ([`UniqueCheck`]), and whether a partial failure may be
//! undone. [`undo_alter`] plans that undo from the table's `SHOW CREATE TABLE` on a
//! node where the ALTER failed (the definition before) and on one where it succeeded
//! (after); what it cannot undo without losing data is named, not attempted.

/// What keeps a DDL fan-out from leaving the table's nodes different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlGuard {
    /// The table, qualified with its logical database and quoted (`` `db`.`t` ``).
    pub table: String,
    /// Checks that run on every node before the statement; the first that finds a
    /// duplicate refuses the statement with MySQL's 1062.
    pub unique_checks: Vec<UniqueCheck>,
    /// How a partial failure is undone on the nodes where the statement succeeded.
    pub undo: DdlUndo,
}

/// How a DDL statement that succeeded on some of a table's nodes only is undone there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdlUndo {
    /// It is not (the reason, for the error).
    Never(&'static str),
    /// The table's definition is brought back to that of a node where the statement
    /// failed ([`undo_alter`]): ALTER TABLE, CREATE and DROP INDEX.
    Definition,
    /// The table the statement created is dropped again (a CREATE TABLE without IF NOT
    /// EXISTS or OR REPLACE: where it succeeded, no table of that name was there).
    DropCreated,
}

/// A query that finds one duplicate of a new PRIMARY KEY or UNIQUE key on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueCheck {
    /// The key's name as MySQL reports it (`PRIMARY`, or the index name).
    pub key: String,
    /// Returns the duplicated key value as MySQL prints it (`1-a`), or no row.
    pub sql: String,
    /// The statement does not name the key: MariaDB names it after its first column,
    /// `_2`, `_3`, ... appended while that name is taken ([`auto_key_name`]), and
    /// `key` is that column as written.
    pub unnamed: bool,
    /// Key names the same statement gives before this key (taken for an unnamed one).
    pub taken: Vec<String>,
}

impl UniqueCheck {
    /// The check of a key over plain `columns` of `table` (already quoted). Rows with a
    /// NULL part are left out: a UNIQUE key allows them, and a PRIMARY KEY refuses them
    /// with its own error (1265), which no duplicate check should mask.
    pub fn new(table: &str, key: &str, columns: &[String], unnamed: bool) -> UniqueCheck {
        let quoted: Vec<String> = columns.iter().map(|c| super::quote_ident(c)).collect();
        let not_null: Vec<String> = quoted.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        UniqueCheck {
            key: key.to_string(),
            sql: format!(
                "SELECT CONCAT_WS('-', {list}) FROM {table} WHERE {where_} GROUP BY {list} \
                 HAVING COUNT(*) > 1 LIMIT 1",
                list = quoted.join(", "),
                where_ = not_null.join(" AND "),
            ),
            unnamed,
            taken: Vec::new(),
        }
    }

    /// MySQL's error message for the duplicate `value` found.
    pub fn message(&self, value: &str) -> String {
        format!("Duplicate entry '{value}' for key '{}'", self.key)
    }
}

/// The name MariaDB gives a key the statement leaves unnamed: its first column's name
/// (`column`, as the table spells it), else with `_2`, `_3`, ... appended, the first
/// that is neither `PRIMARY` nor one of the table's key names (`existing`); names
/// compare without letter case.
pub fn auto_key_name(column: &str, existing: &[String]) -> String {
    let taken = |name: &str| {
        name.eq_ignore_ascii_case("PRIMARY")
            || existing.iter().any(|e| e.eq_ignore_ascii_case(name))
    };
    if !taken(column) {
        return column.to_string();
    }
    (2..100)
        .map(|n| format!("{column}_{n}"))
        .find(|name| !taken(name))
        .unwrap_or_else(|| column.to_string())
}

/// One item of a `SHOW CREATE TABLE` body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Column { name: String, def: String },
    Key { name: String, line: String },
    Constraint { name: String, line: String },
}

/// A table definition as `SHOW CREATE TABLE` prints it, split into items.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Definition {
    items: Vec<Item>,
    /// The closing line's table options, without `AUTO_INCREMENT=n` (which each node
    /// counts for itself).
    options: String,
}

/// The `SHOW CREATE TABLE` text with what legitimately differs between nodes removed
/// (the AUTO_INCREMENT counter), for comparing two nodes' definitions.
pub fn normalized_definition(create: &str) -> String {
    create
        .lines()
        .map(|l| strip_auto_increment(l.trim_end_matches(',')))
        .collect::<Vec<_>>()
        .join("\n")
}

fn strip_auto_increment(line: &str) -> String {
    let Some(at) = line.find(" AUTO_INCREMENT=") else {
        return line.to_string();
    };
    let rest = &line[at + " AUTO_INCREMENT=".len()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if !line.starts_with(')') || digits == 0 {
        return line.to_string();
    }
    format!("{}{}", &line[..at], &rest[digits..])
}

/// A backquoted name at the start of `s` and what follows it.
fn quoted_name(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('`')?;
    let mut name = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if matches!(chars.peek(), Some((_, '`'))) {
                chars.next();
                name.push('`');
                continue;
            }
            return Some((name, &body[i + 1..]));
        }
        name.push(c);
    }
    None
}

fn parse(create: &str) -> Result<Definition, String> {
    let mut items = Vec::new();
    let mut options = None;
    for raw in create.lines().skip(1) {
        let line = raw.trim_end_matches(',');
        if line.starts_with(')') {
            options = Some(strip_auto_increment(line));
            continue;
        }
        let Some(text) = line.strip_prefix("  ") else {
            return Err(format!("an unexpected line in SHOW CREATE TABLE: {line}"));
        };
        let item = if text.starts_with('`') {
            let (name, def) =
                quoted_name(text).ok_or_else(|| format!("an unreadable column: {text}"))?;
            Item::Column {
                name,
                def: def.trim_start().to_string(),
            }
        } else if text.starts_with("PRIMARY KEY") {
            Item::Key {
                name: "PRIMARY".into(),
                line: text.to_string(),
            }
        } else if let Some(rest) = text.strip_prefix("CONSTRAINT ") {
            let (name, _) =
                quoted_name(rest).ok_or_else(|| format!("an unreadable constraint: {text}"))?;
            Item::Constraint {
                name,
                line: text.to_string(),
            }
        } else if let Some(at) = text.find("KEY `") {
            let (name, _) =
                quoted_name(&text[at + 4..]).ok_or_else(|| format!("an unreadable key: {text}"))?;
            Item::Key {
                name,
                line: text.to_string(),
            }
        } else {
            return Err(format!("an unknown item in SHOW CREATE TABLE: {text}"));
        };
        items.push(item);
    }
    let options = options.ok_or("SHOW CREATE TABLE without its closing line")?;
    Ok(Definition { items, options })
}

/// The part of a column definition that decides what its values are (type, character
/// set, collation): a change of it may have converted the values.
fn value_type(def: &str) -> &str {
    const AFTER_TYPE: [&str; 10] = [
        " NOT NULL",
        " NULL",
        " DEFAULT ",
        " AUTO_INCREMENT",
        " COMMENT ",
        " ON UPDATE ",
        " CHECK ",
        " INVISIBLE",
        " GENERATED ",
        " AS ",
    ];
    let end = AFTER_TYPE
        .iter()
        .filter_map(|w| def.find(w))
        .min()
        .unwrap_or(def.len());
    &def[..end]
}

/// The ALTER TABLE that turns the definition `after` back into `before` on `table`
/// (quoted), or why that cannot be done without losing data or guessing (a column was
/// dropped, a column's type changed, table options changed). None when they are equal.
pub fn undo_alter(table: &str, before: &str, after: &str) -> Result<Option<String>, String> {
    let before = parse(before)?;
    let after = parse(after)?;
    if before.options != after.options {
        return Err("the table's options changed".into());
    }
    let q = super::quote_ident;
    let mut drops = Vec::new();
    let mut columns = Vec::new();
    let mut adds = Vec::new();
    let find = |items: &[Item], wanted: &Item| -> Option<Item> {
        items
            .iter()
            .find(|i| match (i, wanted) {
                (Item::Column { name: a, .. }, Item::Column { name: b, .. }) => a == b,
                (Item::Key { name: a, .. }, Item::Key { name: b, .. }) => a.eq_ignore_ascii_case(b),
                (Item::Constraint { name: a, .. }, Item::Constraint { name: b, .. }) => {
                    a.eq_ignore_ascii_case(b)
                }
                _ => false,
            })
            .cloned()
    };
    let drop_of = |item: &Item| match item {
        Item::Column { name, .. } => format!("DROP COLUMN {}", q(name)),
        Item::Key { name, .. } if name == "PRIMARY" => "DROP PRIMARY KEY".to_string(),
        Item::Key { name, .. } => format!("DROP KEY {}", q(name)),
        Item::Constraint { name, .. } => format!("DROP CONSTRAINT {}", q(name)),
    };
    for item in &after.items {
        match (item, find(&before.items, item)) {
            (_, None) => match item {
                Item::Column { .. } => columns.push(drop_of(item)),
                _ => drops.push(drop_of(item)),
            },
            (Item::Column { name, def }, Some(Item::Column { def: old, .. })) if *def != old => {
                if value_type(def) != value_type(&old) {
                    return Err(format!("the type of column {} changed", q(name)));
                }
                columns.push(format!("MODIFY {} {old}", q(name)));
            }
            (Item::Key { line, .. } | Item::Constraint { line, .. }, Some(old)) => {
                let old_line = match &old {
                    Item::Key { line, .. } | Item::Constraint { line, .. } => line.clone(),
                    Item::Column { .. } => String::new(),
                };
                if *line != old_line {
                    drops.push(drop_of(item));
                    adds.push(format!("ADD {old_line}"));
                }
            }
            _ => {}
        }
    }
    for item in &before.items {
        if find(&after.items, item).is_none() {
            match item {
                Item::Column { name, .. } => {
                    return Err(format!("column {} was dropped", q(name)));
                }
                Item::Key { line, .. } | Item::Constraint { line, .. } => {
                    adds.push(format!("ADD {line}"));
                }
            }
        }
    }
    let ops: Vec<String> = drops.into_iter().chain(columns).chain(adds).collect();
    if ops.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("ALTER TABLE {table} {}", ops.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Texts as MariaDB 10.11 prints them.
    const BEFORE: &str = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `k` int(11) DEFAULT NULL,\n  `n` varchar(10) DEFAULT NULL,\n  KEY `k` (`k`)\n) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci";

    #[test]
    fn an_added_primary_key_is_dropped_and_its_columns_made_nullable_again() {
        let after = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `k` int(11) NOT NULL,\n  `n` varchar(10) NOT NULL,\n  PRIMARY KEY (`k`,`n`),\n  KEY `k` (`k`)\n) ENGINE=InnoDB AUTO_INCREMENT=9 DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci";
        assert_eq!(
            undo_alter("`db`.`t`", BEFORE, after),
            Ok(Some(
                "ALTER TABLE `db`.`t` DROP PRIMARY KEY, MODIFY `k` int(11) DEFAULT NULL, \
                 MODIFY `n` varchar(10) DEFAULT NULL"
                    .into()
            ))
        );
    }

    #[test]
    fn added_keys_columns_and_checks_are_dropped_and_dropped_keys_added_back() {
        let after = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `k` int(11) DEFAULT NULL,\n  `n` varchar(10) DEFAULT NULL,\n  `z` int(11) DEFAULT NULL,\n  UNIQUE KEY `k_2` (`k`,`n`),\n  CONSTRAINT `ck` CHECK (`k` > 0)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci";
        assert_eq!(
            undo_alter("`t`", BEFORE, after),
            Ok(Some(
                "ALTER TABLE `t` DROP KEY `k_2`, DROP CONSTRAINT `ck`, DROP COLUMN `z`, \
                 ADD KEY `k` (`k`)"
                    .into()
            ))
        );
    }

    #[test]
    fn a_dropped_column_a_changed_type_or_changed_options_are_not_undone() {
        let dropped = BEFORE.replace("  `n` varchar(10) DEFAULT NULL,\n", "");
        assert_eq!(
            undo_alter("`t`", BEFORE, &dropped),
            Err("column `n` was dropped".into())
        );
        let retyped = BEFORE.replace("`n` varchar(10)", "`n` varchar(5)");
        assert_eq!(
            undo_alter("`t`", BEFORE, &retyped),
            Err("the type of column `n` changed".into())
        );
        let options = BEFORE.replace("ENGINE=InnoDB", "ENGINE=Aria");
        assert_eq!(
            undo_alter("`t`", BEFORE, &options),
            Err("the table's options changed".into())
        );
    }

    #[test]
    fn definitions_differing_only_in_their_auto_increment_counter_are_equal() {
        let other = BEFORE.replace("AUTO_INCREMENT=5 ", "");
        assert_eq!(undo_alter("`t`", BEFORE, &other), Ok(None));
        assert_eq!(normalized_definition(BEFORE), normalized_definition(&other));
    }

    #[test]
    fn a_duplicate_check_groups_the_key_columns_and_skips_nulls() {
        let check = UniqueCheck::new("`db`.`t`", "PRIMARY", &["k".into(), "n".into()], false);
        assert_eq!(
            check.sql,
            "SELECT CONCAT_WS('-', `k`, `n`) FROM `db`.`t` WHERE `k` IS NOT NULL AND `n` IS NOT NULL \
             GROUP BY `k`, `n` HAVING COUNT(*) > 1 LIMIT 1"
        );
        assert_eq!(
            check.message("1-a"),
            "Duplicate entry '1-a' for key 'PRIMARY'"
        );
    }

    #[test]
    fn an_unnamed_key_takes_its_first_columns_name_or_the_first_free_numbered_one() {
        // MariaDB 10.11: ADD UNIQUE (K, n) on a table with keys k and k_2 names it k_3.
        let existing = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(auto_key_name("k", &existing(&[])), "k");
        assert_eq!(auto_key_name("k", &existing(&["PRIMARY", "n"])), "k");
        assert_eq!(auto_key_name("k", &existing(&["K"])), "k_2");
        assert_eq!(auto_key_name("k", &existing(&["k", "k_2"])), "k_3");
        assert_eq!(auto_key_name("primary", &existing(&[])), "primary_2");
    }
}
