//! The vocabulary of the `[firewall]` section, parsed once: statement-kind names, name
//! patterns (`%`/`_` wildcards) for users, tables and digests, and the checks that make a
//! rule well-formed. Configuration validation (`Config::validate`) and the server's
//! firewall (`strata_server::firewall`, which applies the rules to statements) both go
//! through [`parse_firewall`], so a file that loads is a file the firewall can compile.

use std::collections::HashSet;

use strata_sql::StatementKind;

use crate::config::{FirewallAction, FirewallConfig, FirewallRuleConfig};

/// Names the built-in switches report in verdicts; rules may not take them.
pub const BUILTIN_RULE_NAMES: [&str; 3] = [
    "deny_update_delete_without_where",
    "deny_drop_truncate_except",
    "max_rows_estimate",
];

/// Statement kind names a rule's `kinds` accepts, with the kinds each stands for.
const KIND_NAMES: &[(&str, &[StatementKind])] = {
    use StatementKind as K;
    &[
        ("select", &[K::Select]),
        ("insert", &[K::Insert]),
        ("update", &[K::Update]),
        ("delete", &[K::Delete]),
        ("replace", &[K::Replace]),
        ("create", &[K::Create]),
        ("alter", &[K::Alter]),
        ("drop", &[K::Drop]),
        ("truncate", &[K::Truncate]),
        ("rename", &[K::Rename]),
        ("load", &[K::Load]),
        ("call", &[K::Call]),
        ("set", &[K::Set]),
        ("use", &[K::Use]),
        ("show", &[K::Show]),
        ("begin", &[K::Begin]),
        ("commit", &[K::Commit]),
        // Both end a transaction's work; a rule about rollbacks means either.
        ("rollback", &[K::Rollback, K::RollbackToSavepoint]),
        ("savepoint", &[K::Savepoint]),
        ("release", &[K::Release]),
        ("lock", &[K::Lock]),
        ("unlock", &[K::Unlock]),
        ("kill", &[K::Kill]),
        ("prepare", &[K::Prepare]),
        ("execute", &[K::Execute]),
        ("deallocate", &[K::Deallocate]),
        ("do", &[K::Do]),
        ("explain", &[K::Explain]),
        ("help", &[K::Help]),
        ("xa", &[K::Xa]),
        ("other", &[K::Other]),
    ]
};

/// The statement kinds a `kinds` entry names (case-insensitive), or None if unknown.
pub fn statement_kinds(name: &str) -> Option<&'static [StatementKind]> {
    KIND_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, kinds)| *kinds)
}

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// `%`: any run of characters, possibly empty.
    AnyRun,
    /// `_`: exactly one character.
    AnyOne,
    /// A literal character (already case-folded when the pattern ignores case).
    Char(char),
}

/// A compiled name pattern: SQL LIKE wildcards, matched without backtracking blow-up
/// (statement digests can be long, and a pattern runs on every statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    pieces: Vec<Piece>,
    ignore_case: bool,
}

impl NamePattern {
    /// A pattern that matches every name (`*`).
    pub fn any() -> NamePattern {
        NamePattern {
            pieces: vec![Piece::AnyRun],
            ignore_case: false,
        }
    }

    /// A LIKE pattern: `%` any run, `_` one character, `\` takes the next literally.
    pub fn like(text: &str, ignore_case: bool) -> Result<NamePattern, String> {
        Self::compile(text, ignore_case, true)
    }

    /// A user-name pattern: only `%` is a wildcard (user names often contain `_`, and an
    /// exemption list must not admit more names than it lists); case-sensitive, as MySQL
    /// user names are.
    pub fn user(text: &str) -> Result<NamePattern, String> {
        Self::compile(text, false, false)
    }

    fn compile(text: &str, ignore_case: bool, underscore: bool) -> Result<NamePattern, String> {
        let mut pieces = Vec::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            let piece = match c {
                '%' => Piece::AnyRun,
                '_' if underscore => Piece::AnyOne,
                '\\' => match chars.next() {
                    Some(escaped) => Piece::Char(fold(escaped, ignore_case)),
                    None => return Err(format!("pattern '{text}' ends with an escape '\\'")),
                },
                c => Piece::Char(fold(c, ignore_case)),
            };
            // `%%` means the same as `%`; merging keeps matching linear in practice.
            if !(piece == Piece::AnyRun && pieces.last() == Some(&Piece::AnyRun)) {
                pieces.push(piece);
            }
        }
        Ok(NamePattern {
            pieces,
            ignore_case,
        })
    }

    /// True when `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        // Greedy two-pointer matching: on a mismatch, retry from the last `%` one
        // character further on. O(pattern * text) at worst, no recursion.
        let next = |t: usize| text.get(t..).and_then(|rest| rest.chars().next());
        let (mut p, mut t) = (0usize, 0usize);
        let mut retry: Option<(usize, usize)> = None;
        loop {
            let advanced = match self.pieces.get(p) {
                Some(Piece::AnyRun) => {
                    retry = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Some(Piece::AnyOne) => next(t).map(|c| t + c.len_utf8()),
                Some(Piece::Char(want)) => next(t)
                    .filter(|&c| fold(c, self.ignore_case) == *want)
                    .map(|c| t + c.len_utf8()),
                None if t == text.len() => return true,
                None => None,
            };
            match advanced {
                Some(after) => {
                    p += 1;
                    t = after;
                }
                None => {
                    let Some((star_p, star_t)) = retry else {
                        return false;
                    };
                    let Some(c) = next(star_t) else {
                        return false;
                    };
                    retry = Some((star_p, star_t + c.len_utf8()));
                    p = star_p;
                    t = star_t + c.len_utf8();
                }
            }
        }
    }
}

/// Lowercases `c` when case is ignored (one-to-one mappings only, so positions agree).
fn fold(c: char, ignore_case: bool) -> char {
    if !ignore_case {
        return c;
    }
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// A `db.table` pattern: each side `*` (any) or a case-insensitive LIKE pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePattern {
    db: NamePattern,
    table: NamePattern,
}

impl TablePattern {
    /// Parses `db.table`, `db.*`, `*.table` or `*.*`; either side may be backquoted.
    pub fn parse(text: &str) -> Result<TablePattern, String> {
        let bad = |why: &str| {
            Err(format!(
                "table pattern '{text}' {why} (write db.table, db.* or *.table)"
            ))
        };
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        let mut chars = text.trim().chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '`' if quoted && chars.peek() == Some(&'`') => {
                    chars.next();
                    current.push('`');
                }
                '`' => {
                    quoted = !quoted;
                    was_quoted = true;
                }
                '.' if !quoted => {
                    parts.push((std::mem::take(&mut current), was_quoted));
                    was_quoted = false;
                }
                c => current.push(c),
            }
        }
        if quoted {
            return bad("has an unclosed backquote");
        }
        parts.push((current, was_quoted));
        let [(db, db_quoted), (table, table_quoted)] = parts.as_slice() else {
            return if parts.len() == 1 {
                bad("has no database part")
            } else {
                bad("has more than one '.'")
            };
        };
        Ok(TablePattern {
            db: side(text, db, *db_quoted)?,
            table: side(text, table, *table_quoted)?,
        })
    }

    /// True when table `table` of database `db` matches.
    pub fn matches(&self, db: &str, table: &str) -> bool {
        self.db.matches(db) && self.table.matches(table)
    }

    /// True when the database side matches `db`: a statement on a whole database
    /// (DROP DATABASE) touches every table the pattern could name in it.
    pub fn matches_database(&self, db: &str) -> bool {
        self.db.matches(db)
    }
}

/// One side of a table pattern.
fn side(text: &str, part: &str, quoted: bool) -> Result<NamePattern, String> {
    if part.is_empty() {
        return Err(format!(
            "table pattern '{text}' has an empty part (write db.table, db.* or *.table)"
        ));
    }
    if part == "*" && !quoted {
        return Ok(NamePattern::any());
    }
    if part.contains('*') && !quoted {
        return Err(format!(
            "table pattern '{text}': '*' stands only for a whole name; use '%' inside one"
        ));
    }
    // Names are matched ignoring case so that a rule cannot be sidestepped by spelling
    // a name differently where the storage node folds case.
    NamePattern::like(part, true)
}

/// A `[[firewall.rule]]` with its patterns compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRule {
    /// Rule name.
    pub name: String,
    /// Deny or log.
    pub action: FirewallAction,
    /// Statement kinds; empty: any.
    pub kinds: Vec<StatementKind>,
    /// Table patterns; empty: any statement.
    pub tables: Vec<TablePattern>,
    /// User patterns; empty: any user.
    pub users: Vec<NamePattern>,
    /// Digest pattern (case-insensitive).
    pub digest: Option<NamePattern>,
    /// Only UPDATE/DELETE without a top-level WHERE.
    pub without_where: bool,
    /// Users the rule never applies to.
    pub except_users: Vec<NamePattern>,
    /// Text for the deny error.
    pub reason: Option<String>,
}

/// The `[firewall]` section with every pattern compiled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedFirewall {
    /// `deny_update_delete_without_where`.
    pub deny_update_delete_without_where: bool,
    /// `deny_drop_truncate_except` as user patterns (None: switch off).
    pub drop_truncate_users: Option<Vec<NamePattern>>,
    /// `max_rows_estimate`.
    pub max_rows_estimate: Option<u64>,
    /// The rules in file order.
    pub rules: Vec<ParsedRule>,
}

/// Compiles the `[firewall]` section; Err lists every problem, each naming its entry.
pub fn parse_firewall(config: &FirewallConfig) -> Result<ParsedFirewall, Vec<String>> {
    let mut problems = Vec::new();
    let drop_truncate_users = config
        .deny_drop_truncate_except
        .as_ref()
        .map(|users| users_of("firewall.deny_drop_truncate_except", users, &mut problems));
    if config.max_rows_estimate == Some(0) {
        problems
            .push("firewall.max_rows_estimate must be positive (omit it for no limit)".to_string());
    }
    let mut seen = HashSet::new();
    let mut rules = Vec::with_capacity(config.rules.len());
    for (i, rule) in config.rules.iter().enumerate() {
        if rule.name.trim().is_empty() {
            problems.push(format!("firewall rule #{}: name is empty", i + 1));
            continue;
        }
        if BUILTIN_RULE_NAMES.contains(&rule.name.as_str()) {
            problems.push(format!(
                "firewall rule '{}': the name belongs to a built-in switch",
                rule.name
            ));
        }
        if !seen.insert(rule.name.as_str()) {
            problems.push(format!("firewall rule '{}' is defined twice", rule.name));
            continue;
        }
        if let Some(parsed) = parse_rule(rule, &mut problems) {
            rules.push(parsed);
        }
    }
    if problems.is_empty() {
        Ok(ParsedFirewall {
            deny_update_delete_without_where: config.deny_update_delete_without_where,
            drop_truncate_users,
            max_rows_estimate: config.max_rows_estimate,
            rules,
        })
    } else {
        Err(problems)
    }
}

fn users_of(entry: &str, users: &[String], problems: &mut Vec<String>) -> Vec<NamePattern> {
    let mut patterns = Vec::with_capacity(users.len());
    for user in users {
        if user.is_empty() {
            problems.push(format!("{entry}: a user name is empty"));
            continue;
        }
        match NamePattern::user(user) {
            Ok(p) => patterns.push(p),
            Err(e) => problems.push(format!("{entry}: {e}")),
        }
    }
    patterns
}

fn parse_rule(rule: &FirewallRuleConfig, problems: &mut Vec<String>) -> Option<ParsedRule> {
    let entry = format!("firewall rule '{}'", rule.name);
    let before = problems.len();
    if rule.kinds.is_empty()
        && rule.tables.is_empty()
        && rule.users.is_empty()
        && rule.digest.is_none()
        && !rule.without_where
    {
        problems.push(format!(
            "{entry} has no matcher (give kinds, tables, users, digest or without_where; a rule without one would match every statement)"
        ));
    }
    let mut kinds = Vec::new();
    for name in &rule.kinds {
        match statement_kinds(name) {
            Some(found) => kinds.extend_from_slice(found),
            None => {
                let known: Vec<&str> = KIND_NAMES.iter().map(|(n, _)| *n).collect();
                problems.push(format!(
                    "{entry}: unknown statement kind '{name}' (known: {})",
                    known.join(", ")
                ));
            }
        }
    }
    let mut tables = Vec::with_capacity(rule.tables.len());
    for text in &rule.tables {
        match TablePattern::parse(text) {
            Ok(p) => tables.push(p),
            Err(e) => problems.push(format!("{entry}: {e}")),
        }
    }
    let users = users_of(&format!("{entry}: users"), &rule.users, problems);
    let except_users = users_of(
        &format!("{entry}: except_users"),
        &rule.except_users,
        problems,
    );
    let digest = match rule.digest.as_deref() {
        None => None,
        Some(text) if text.trim().is_empty() => {
            problems.push(format!("{entry}: digest is empty"));
            None
        }
        Some(text) => match NamePattern::like(text, true) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(format!("{entry}: digest {e}"));
                None
            }
        },
    };
    (problems.len() == before).then(|| ParsedRule {
        name: rule.name.clone(),
        action: rule.action,
        kinds,
        tables,
        users,
        digest,
        without_where: rule.without_where,
        except_users,
        reason: rule.reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CatalogError, Config};

    #[test]
    fn like_patterns_follow_wildcards_escapes_and_case() {
        let cases = [
            ("orders", "orders", true, true),
            ("orders", "ORDERS", true, true),
            ("orders", "ORDERS", false, false),
            ("ord%", "orders", true, true),
            ("ord%", "ord", true, true),
            ("%ers", "orders", true, true),
            ("o_ders", "orders", true, true),
            ("o_ders", "oders", true, false),
            ("%", "", true, true),
            ("_", "", true, false),
            ("a\\_b", "a_b", true, true),
            ("a\\_b", "axb", true, false),
            ("a\\%", "a%", true, true),
            ("a\\%", "ab", true, false),
            ("%a%b%c%", "xxaxxbxxcxx", true, true),
            ("%a%b%c%", "xxaxxcxxbxx", true, false),
            (
                "delete from `orders`%",
                "delete from `Orders` where id = ?",
                true,
                true,
            ),
            ("é%", "Été", true, true),
            ("%mississippi", "mississippimississippi", true, true),
        ];
        for (pattern, text, ignore_case, want) in cases {
            let p = NamePattern::like(pattern, ignore_case)
                .unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(p.matches(text), want, "{pattern} LIKE {text}");
        }
    }

    #[test]
    fn long_texts_against_many_wildcards_stay_fast() {
        let p = NamePattern::like("%a%a%a%a%a%a%a%b", true).unwrap_or_else(|e| panic!("{e}"));
        let text = "a".repeat(20_000);
        let started = std::time::Instant::now();
        assert!(!p.matches(&text));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// The textbook recursive LIKE, as a reference for the linear matcher.
    fn naive_like(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| naive_like(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && naive_like(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && naive_like(rest, &t[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn like_agrees_with_the_recursive_definition(
            pattern in "[ab%_]{0,8}",
            text in "[ab]{0,10}",
        ) {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            let compiled = NamePattern::like(&pattern, false)
                .map_err(proptest::test_runner::TestCaseError::fail)?;
            proptest::prop_assert_eq!(compiled.matches(&text), naive_like(&p, &t));
        }
    }

    #[test]
    fn user_patterns_take_only_percent_as_a_wildcard() {
        let cases = [
            ("maint_user", "maint_user", true),
            ("maint_user", "maintXuser", false),
            ("maint_user", "MAINT_USER", false),
            ("dba%", "dba_alice", true),
            ("%", "anyone", true),
            ("app", "app2", false),
        ];
        for (pattern, user, want) in cases {
            let p = NamePattern::user(pattern).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.matches(user), want, "{pattern} vs {user}");
        }
    }

    #[test]
    fn table_patterns_match_database_and_table() {
        let cases = [
            ("shop.orders", "shop", "orders", true),
            ("shop.orders", "SHOP", "Orders", true),
            ("shop.orders", "shop", "orders2", false),
            ("shop.*", "shop", "anything", true),
            ("shop.*", "crm", "orders", false),
            ("*.orders", "crm", "orders", true),
            ("*.*", "", "t", true),
            ("shop.ord%", "shop", "order_items", true),
            ("shop_.t", "shop1", "t", true),
            ("s%.t_", "sales", "t1", true),
            ("`my.db`.t", "my.db", "t", true),
            ("`shop`.`*`", "shop", "x", false),
            ("`shop`.`*`", "shop", "*", true),
        ];
        for (pattern, db, table, want) in cases {
            let p = TablePattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(p.matches(db, table), want, "{pattern} vs {db}.{table}");
        }
    }

    #[test]
    fn bad_table_patterns_say_what_is_wrong() {
        let cases = [
            ("orders", "has no database part"),
            ("a.b.c", "has more than one '.'"),
            ("shop.", "has an empty part"),
            (".t", "has an empty part"),
            (
                "shop.ord*",
                "'*' stands only for a whole name; use '%' inside one",
            ),
            ("`shop.t", "has an unclosed backquote"),
            ("shop.t\\", "ends with an escape"),
        ];
        for (pattern, expected) in cases {
            match TablePattern::parse(pattern) {
                Ok(p) => panic!("{pattern} parsed as {p:?}"),
                Err(e) => assert!(e.contains(expected), "{pattern}: {e}"),
            }
        }
    }

    #[test]
    fn kind_names_are_case_insensitive_and_rollback_covers_savepoints() {
        use StatementKind as K;
        assert_eq!(statement_kinds("DELETE"), Some(&[K::Delete][..]));
        assert_eq!(statement_kinds(" load "), Some(&[K::Load][..]));
        assert_eq!(
            statement_kinds("rollback"),
            Some(&[K::Rollback, K::RollbackToSavepoint][..])
        );
        assert_eq!(statement_kinds("selec"), None);
    }

    fn firewall_problems(toml: &str) -> Vec<String> {
        match Config::from_toml(toml) {
            Ok(_) => Vec::new(),
            Err(CatalogError::InvalidConfig { problems }) => problems,
            Err(e) => vec![format!("parse error: {e}")],
        }
    }

    #[test]
    fn old_files_without_a_firewall_section_load_with_it_off() {
        let config = Config::from_toml("[pool]\nmax_size = 8\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.firewall, FirewallConfig::default());
        assert_eq!(
            parse_firewall(&config.firewall),
            Ok(ParsedFirewall::default())
        );
    }

    #[test]
    fn a_full_firewall_section_loads_and_round_trips() {
        let text = r#"
[firewall]
deny_update_delete_without_where = true
deny_drop_truncate_except = ["maint_user", "dba%"]
max_rows_estimate = 1000000

[[firewall.rule]]
name = "no_unbounded_delete"
action = "deny"
kinds = ["delete"]
tables = ["shop.orders", "shop.order_%"]
without_where = true
except_users = ["maint_user"]
reason = "DELETE without WHERE"

[[firewall.rule]]
name = "watch_salaries"
action = "log"
tables = ["*.salary"]
users = ["app%"]
digest = "select % from `salary`%"
"#;
        let config = Config::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
        let fw = &config.firewall;
        assert!(fw.deny_update_delete_without_where);
        assert_eq!(fw.max_rows_estimate, Some(1_000_000));
        assert_eq!(fw.rules.len(), 2);
        assert_eq!(fw.rules[1].action, FirewallAction::Log);
        let parsed = parse_firewall(fw).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(parsed.rules[0].kinds, vec![StatementKind::Delete]);
        assert_eq!(parsed.drop_truncate_users.map(|u| u.len()), Some(2));
        let again = config.to_toml().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Config::from_toml(&again).ok(), Some(config));
    }

    #[test]
    fn each_firewall_mistake_is_reported_with_its_rule() {
        let rule =
            |body: &str| format!("[[firewall.rule]]\nname = \"r1\"\naction = \"deny\"\n{body}\n");
        let cases: Vec<(&str, String, &str)> = vec![
            ("duplicate name", format!("{}{}", rule("kinds = [\"select\"]"), rule("kinds = [\"delete\"]")), "firewall rule 'r1' is defined twice"),
            ("empty name", "[[firewall.rule]]\nname = \"\"\naction = \"log\"\nkinds = [\"select\"]\n".into(), "firewall rule #1: name is empty"),
            ("builtin name", "[[firewall.rule]]\nname = \"max_rows_estimate\"\naction = \"log\"\nkinds = [\"select\"]\n".into(), "firewall rule 'max_rows_estimate': the name belongs to a built-in switch"),
            ("unknown kind", rule("kinds = [\"selec\"]"), "firewall rule 'r1': unknown statement kind 'selec' (known: select, insert"),
            ("no matcher", rule("except_users = [\"root\"]"), "firewall rule 'r1' has no matcher"),
            ("bad table", rule("tables = [\"orders\"]"), "firewall rule 'r1': table pattern 'orders' has no database part"),
            ("star inside", rule("tables = [\"shop.ord*\"]"), "'*' stands only for a whole name"),
            ("empty digest", rule("digest = \" \""), "firewall rule 'r1': digest is empty"),
            ("bad digest", rule("digest = 'select %\\'"), "firewall rule 'r1': digest pattern 'select %\\' ends with an escape"),
            ("empty user", rule("users = [\"\"]"), "firewall rule 'r1': users: a user name is empty"),
            ("empty exception", rule("kinds = [\"drop\"]\nexcept_users = [\"\"]"), "firewall rule 'r1': except_users: a user name is empty"),
            ("zero estimate", "[firewall]\nmax_rows_estimate = 0\n".into(), "firewall.max_rows_estimate must be positive"),
            ("empty drop user", "[firewall]\ndeny_drop_truncate_except = [\"\"]\n".into(), "firewall.deny_drop_truncate_except: a user name is empty"),
            ("bad action", rule("kinds = [\"select\"]").replace("\"deny\"", "\"block\""), "parse error"),
            ("unknown field", rule("kinds = [\"select\"]\ntable = [\"a.b\"]"), "parse error"),
        ];
        for (what, text, expected) in cases {
            let found = firewall_problems(&text);
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{what}: expected {expected:?} in {found:?}"
            );
        }
    }
}
