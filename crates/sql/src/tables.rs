//! The tables a statement touches and how, read from its tokens: what privilege checks
//! and the audit log need before a statement is planned or forwarded. Every place MySQL's
//! grammar puts a table name is covered (FROM lists and joins at any depth, so
//! subqueries and derived tables too; INSERT/REPLACE targets; UPDATE and DELETE lists;
//! DDL objects; LOCK TABLES; RENAME; CREATE ... LIKE; DESCRIBE). Names of common table
//! expressions are not tables. A statement whose tables cannot be told apart from its
//! text this way reports [`Tables::unknown`], so a caller can require privileges on the
//! whole database instead of guessing.

use crate::classify::StatementKind;
use crate::lexer::{code_tokens, ident_value, Token, TokenKind};

/// How a statement uses a table: the privilege MySQL requires for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Read (SELECT).
    Select,
    /// Rows added (INSERT).
    Insert,
    /// Rows changed (UPDATE).
    Update,
    /// Rows removed (DELETE).
    Delete,
    /// REPLACE needs INSERT and DELETE.
    Replace,
    /// `INSERT ... ON DUPLICATE KEY UPDATE` needs INSERT and UPDATE.
    InsertUpdate,
    /// `DELETE HISTORY FROM t` (DELETE HISTORY).
    DeleteHistory,
    /// A table renamed away (`RENAME TABLE t TO u`, `ALTER TABLE t RENAME`): ALTER and
    /// DROP.
    AlterDrop,
    /// A table created with rows (`CREATE TABLE t SELECT`, a rename's new name):
    /// CREATE and INSERT.
    CreateInsert,
    /// ANALYZE/OPTIMIZE/REPAIR TABLE: SELECT and INSERT.
    SelectInsert,
    /// The parent table of a foreign key (REFERENCES).
    References,
    /// The table is created (CREATE).
    Create,
    /// The table is created or replaced (`CREATE OR REPLACE TABLE/SEQUENCE`: CREATE
    /// and DROP, whether or not it exists, as MariaDB checks).
    CreateReplace,
    /// A temporary table or sequence is created (CREATE TEMPORARY TABLES on the
    /// database; MariaDB answers 1044 without it).
    CreateTemporary,
    /// The table is dropped or emptied (DROP; TRUNCATE needs DROP).
    Drop,
    /// The table is altered (ALTER; RENAME's source).
    Alter,
    /// An index is created or dropped (INDEX).
    Index,
    /// LOCK TABLES.
    Lock,
    /// A view is created (CREATE VIEW).
    CreateView,
    /// A trigger is created on or dropped from the table (TRIGGER).
    Trigger,
    /// Any privilege on the table will do (DESCRIBE, SHOW COLUMNS/INDEX/CREATE TABLE).
    Any,
}

/// One table reference: database qualifier as written (None: the current database).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableRef {
    /// `db` of `db.t`, unquoted.
    pub schema: Option<String>,
    /// The table's name, unquoted.
    pub name: String,
    /// What the statement does with it.
    pub access: Access,
}

/// The tables of one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    /// Each reference with its access, in order of appearance (a table used two ways
    /// appears twice).
    pub refs: Vec<TableRef>,
    /// The statement's tables could not all be read from its text (a routine call, a
    /// statement kind not covered): callers decide at database level.
    pub unknown: bool,
}

/// Words after which a FROM list ends.
const ENDS_FROM_LIST: &[&str] = &[
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "LIMIT",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "ON",
    "USING",
    "WINDOW",
    "FOR",
    "LOCK",
    "INTO",
    "SET",
    "PROCEDURE",
    "RETURNING",
    "VALUES",
    "VALUE",
    "SELECT",
];

/// Words that start a join (the table follows JOIN).
const JOIN_WORDS: &[&str] = &["JOIN", "STRAIGHT_JOIN"];

/// The tables `sql` (of kind `kind`) touches.
pub fn table_references(sql: &str, kind: StatementKind) -> Tables {
    let toks: Vec<Token> = code_tokens(sql).filter(|t| !t.is_punct(sql, ";")).collect();
    let mut reader = Reader {
        sql,
        toks: &toks,
        tables: Tables::default(),
        ctes: Vec::new(),
    };
    reader.collect_ctes();
    reader.statement(kind);
    let ctes = std::mem::take(&mut reader.ctes);
    let mut tables = reader.tables;
    // MariaDB checks INSERT on a sequence whose values a statement takes, SELECT on
    // one whose last value it reads.
    for u in crate::sequences::sequence_uses(sql) {
        let access = if u.takes {
            Access::Insert
        } else {
            Access::Select
        };
        tables.refs.push(TableRef {
            schema: u.schema,
            name: u.name,
            access,
        });
    }
    tables
        .refs
        .retain(|r| !(r.schema.is_none() && ctes.iter().any(|c| c.eq_ignore_ascii_case(&r.name))));
    tables
}

struct Reader<'a> {
    sql: &'a str,
    toks: &'a [Token],
    tables: Tables,
    ctes: Vec<String>,
}

impl Reader<'_> {
    fn kw(&self, i: usize, k: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_keyword(self.sql, k))
    }

    fn punct(&self, i: usize, p: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_punct(self.sql, p))
    }

    fn word(&self, i: usize) -> String {
        self.toks
            .get(i)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(self.sql).to_ascii_uppercase())
            .unwrap_or_default()
    }

    /// Reads a possibly qualified name at `i`: (schema, name, index after it).
    fn name_at(&self, i: usize) -> Option<(Option<String>, String, usize)> {
        crate::sequences::name_at(self.toks, self.sql, i)
    }

    fn push(&mut self, schema: Option<String>, name: String, access: Access) {
        if schema.is_none() && name.eq_ignore_ascii_case("DUAL") {
            return;
        }
        self.tables.refs.push(TableRef {
            schema,
            name,
            access,
        });
    }

    /// Records the name at `i` (if it is one) and returns the index after it.
    fn take_name(&mut self, i: usize, access: Access) -> usize {
        match self.name_at(i) {
            Some((schema, name, next)) => {
                self.push(schema, name, access);
                next
            }
            None => i + 1,
        }
    }

    /// `WITH [RECURSIVE] name [(cols)] AS (...), ...` anywhere: those names are not tables.
    fn collect_ctes(&mut self) {
        for i in 0..self.toks.len() {
            if !self.kw(i, "WITH") {
                continue;
            }
            let mut j = i + 1;
            if self.kw(j, "RECURSIVE") {
                j += 1;
            }
            while let Some(t) = self.toks.get(j).filter(|t| t.kind.is_ident()) {
                self.ctes.push(ident_value(t.text(self.sql)).into_owned());
                j += 1;
                if self.punct(j, "(") {
                    j = self.skip_parens(j);
                }
                if !self.kw(j, "AS") {
                    break;
                }
                j += 1;
                if !self.punct(j, "(") {
                    break;
                }
                j = self.skip_parens(j);
                if !self.punct(j, ",") {
                    break;
                }
                j += 1;
            }
        }
    }

    /// Index after the parenthesis group opening at `i`.
    fn skip_parens(&self, i: usize) -> usize {
        let mut depth = 0usize;
        let mut j = i;
        while j < self.toks.len() {
            if self.punct(j, "(") {
                depth += 1;
            } else if self.punct(j, ")") {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            j += 1;
        }
        j
    }

    fn statement(&mut self, kind: StatementKind) {
        use StatementKind as K;
        let start = self.statement_start();
        // The bodies of a WITH clause before the statement are reads, whatever the
        // statement does (`WITH c AS (SELECT ... FROM base) UPDATE ...`).
        if start > 0 && !matches!(kind, K::Select | K::Do | K::Set | K::Explain) {
            self.select_lists_between(0, start, Access::Select);
        }
        match kind {
            K::Select | K::Do | K::Set | K::Explain
                if self.kw(start, "DESCRIBE") || self.kw(start, "DESC") =>
            {
                self.describe(start)
            }
            K::Explain => {
                if self.toks.get(start + 1).is_some_and(|t| t.kind.is_ident())
                    && !is_explainable(&self.word(start + 1))
                {
                    self.describe(start);
                } else {
                    self.select_lists(Access::Select);
                }
            }
            K::Select | K::Do | K::Set => self.select_lists(Access::Select),
            K::Insert | K::Replace => {
                let upserts = self
                    .toks
                    .iter()
                    .any(|t| t.is_keyword(self.sql, "DUPLICATE"));
                let access = match (kind == K::Insert, upserts) {
                    (true, false) => Access::Insert,
                    (true, true) => Access::InsertUpdate,
                    (false, _) => Access::Replace,
                };
                let mut i = start + 1;
                while matches!(
                    self.word(i).as_str(),
                    "LOW_PRIORITY" | "DELAYED" | "HIGH_PRIORITY" | "IGNORE" | "INTO"
                ) {
                    i += 1;
                }
                self.take_name(i, access);
                self.select_lists(Access::Select);
            }
            K::Update => {
                let mut i = start + 1;
                while matches!(self.word(i).as_str(), "LOW_PRIORITY" | "IGNORE") {
                    i += 1;
                }
                let end = self.find_top_level(i, &["SET"]);
                let listed = self.tables.refs.len();
                self.table_list(i, end, Access::Update);
                // A table of a multi-table UPDATE that no assignment names is only
                // read: SELECT, as MariaDB checks it.
                if let Some(c) = crate::column_reads::column_reads(self.sql, kind) {
                    let read_only = c.read_only_tables();
                    // The same table under another alias may be written.
                    let written = |t: &crate::column_reads::ListedTable| {
                        c.tables.iter().any(|w| {
                            w.name == t.name
                                && w.schema == t.schema
                                && !read_only.iter().any(|r| std::ptr::eq(*r, w))
                        })
                    };
                    for t in read_only.iter().filter(|t| !written(t)) {
                        for r in &mut self.tables.refs[listed..] {
                            if r.name == t.name && r.schema == t.schema {
                                r.access = Access::Select;
                            }
                        }
                    }
                }
                self.select_lists_after(end, Access::Select);
            }
            K::Delete => {
                let mut i = start + 1;
                while matches!(self.word(i).as_str(), "LOW_PRIORITY" | "QUICK" | "IGNORE") {
                    i += 1;
                }
                if self.kw(i, "HISTORY") && self.kw(i + 1, "FROM") {
                    // DELETE HISTORY FROM t [BEFORE SYSTEM_TIME ...]
                    self.take_name(i + 2, Access::DeleteHistory);
                } else if self.kw(i, "FROM") {
                    // DELETE FROM t ... [USING list]
                    let end = self
                        .find_top_level(i + 1, &["WHERE", "USING", "ORDER", "LIMIT", "RETURNING"]);
                    self.table_list(i + 1, end, Access::Delete);
                    if self.kw(end, "USING") {
                        let stop = self.find_top_level(end + 1, &["WHERE"]);
                        self.table_list(end + 1, stop, Access::Select);
                        self.select_lists_after(stop, Access::Select);
                    } else {
                        self.select_lists_after(end, Access::Select);
                    }
                } else {
                    // DELETE t1, t2 FROM t1 JOIN t2 ...: the targets are aliases or
                    // names in the FROM list; every table of that list needs DELETE.
                    let from = self.find_top_level(i, &["FROM"]);
                    let end = self.find_top_level(from + 1, &["WHERE", "ORDER", "LIMIT"]);
                    self.table_list(from + 1, end, Access::Delete);
                    self.select_lists_after(end, Access::Select);
                }
            }
            K::Create => self.create(start),
            K::Alter => self.alter(start),
            K::Drop => self.drop(start),
            K::Truncate => {
                let i = if self.kw(start + 1, "TABLE") {
                    start + 2
                } else {
                    start + 1
                };
                self.take_name(i, Access::Drop);
            }
            K::Rename => {
                if !self.kw(start + 1, "TABLE") && !self.kw(start + 1, "TABLES") {
                    self.tables.unknown = true;
                    return;
                }
                let mut i = start + 2;
                while i < self.toks.len() {
                    i = self.take_name(i, Access::AlterDrop);
                    if self.kw(i, "TO") {
                        i = self.take_name(i + 1, Access::CreateInsert);
                    }
                    if !self.punct(i, ",") {
                        break;
                    }
                    i += 1;
                }
            }
            K::Lock => {
                let mut i = start + 2;
                while i < self.toks.len() {
                    i = self.take_name(i, Access::Lock);
                    if let Some(r) = self.tables.refs.last().cloned() {
                        if r.access == Access::Lock {
                            self.push(r.schema, r.name, Access::Select);
                        }
                    }
                    while i < self.toks.len() && !self.punct(i, ",") {
                        i += 1;
                    }
                    i += 1;
                }
            }
            K::Show => self.tables.unknown = true,
            K::Other if self.maintenance(start) => {}
            // HANDLER t OPEN needs SELECT on t; READ and CLOSE name the open handler.
            K::Other
                if self.kw(start, "HANDLER")
                    && self.toks.iter().any(|t| t.is_keyword(self.sql, "OPEN")) =>
            {
                self.take_name(start + 1, Access::Select);
            }
            K::Other if self.kw(start, "HANDLER") => {}
            K::Other | K::Load if self.key_cache() => {}
            K::Call | K::Execute | K::Prepare | K::Load | K::Other => self.tables.unknown = true,
            _ => {}
        }
    }

    /// `ANALYZE/OPTIMIZE/REPAIR [NO_WRITE_TO_BINLOG | LOCAL] TABLE t, ...` (SELECT and
    /// INSERT, as MariaDB checks them), `CHECKSUM TABLE t, ...` (SELECT) and `CHECK
    /// TABLE t, ...` (any privilege on the table, as MariaDB since MDEV-37971); false
    /// for other statements.
    fn maintenance(&mut self, start: usize) -> bool {
        let access = match self.word(start).as_str() {
            "ANALYZE" | "OPTIMIZE" | "REPAIR" => Access::SelectInsert,
            "CHECKSUM" => Access::Select,
            "CHECK" => Access::Any,
            _ => return false,
        };
        let mut i = start + 1;
        if self.kw(i, "NO_WRITE_TO_BINLOG") || self.kw(i, "LOCAL") {
            i += 1;
        }
        if !(self.kw(i, "TABLE") || self.kw(i, "TABLES")) {
            return false;
        }
        i += 1;
        loop {
            let next = self.take_name(i, access);
            if !self.punct(next, ",") {
                return true;
            }
            i = next + 1;
        }
    }

    /// `CACHE INDEX t, ... IN c` and `LOAD INDEX INTO CACHE t, ...`: any privilege on
    /// each table (MariaDB checks the first table only, this way); false for other
    /// statements.
    fn key_cache(&mut self) -> bool {
        let Some(tables) = crate::key_cache::key_cache_tables(self.sql) else {
            return false;
        };
        for (schema, name) in tables {
            self.push(schema, name, Access::Any);
        }
        true
    }

    /// Index of the statement's first keyword (after a WITH clause).
    fn statement_start(&self) -> usize {
        let mut i = 0;
        while self.punct(i, "(") {
            i += 1;
        }
        if !self.kw(i, "WITH") {
            return i;
        }
        // Skip the CTE list to the statement keyword at depth 0.
        let mut j = i + 1;
        while j < self.toks.len() {
            if self.punct(j, "(") {
                j = self.skip_parens(j);
                continue;
            }
            let w = self.word(j);
            if matches!(
                w.as_str(),
                "SELECT" | "UPDATE" | "DELETE" | "INSERT" | "REPLACE"
            ) {
                return j;
            }
            j += 1;
        }
        i
    }

    /// Index of the first of `words` at parenthesis depth 0 from `i` (or the end).
    fn find_top_level(&self, i: usize, words: &[&str]) -> usize {
        let mut j = i;
        while j < self.toks.len() {
            if self.punct(j, "(") {
                j = self.skip_parens(j);
                continue;
            }
            if words.iter().any(|w| self.kw(j, w)) {
                return j;
            }
            j += 1;
        }
        j
    }

    /// A table list from `i` to `end`: `t [AS a], t2 JOIN t3 ON ...`; nested FROM lists
    /// in parentheses (derived tables) are read by `select_lists_after`.
    fn table_list(&mut self, i: usize, end: usize, access: Access) {
        let mut expect_table = true;
        let mut j = i;
        while j < end {
            if self.punct(j, "(") {
                // A derived table or a parenthesised join: its own FROM lists, and a
                // table list inside parentheses (`(t1 JOIN t2)`).
                let close = self.skip_parens(j);
                if expect_table && !self.kw(j + 1, "SELECT") && !self.kw(j + 1, "WITH") {
                    self.table_list(j + 1, close.saturating_sub(1), access);
                }
                expect_table = false;
                j = close;
                continue;
            }
            if self.punct(j, ",") {
                expect_table = true;
                j += 1;
                continue;
            }
            let w = self.word(j);
            if JOIN_WORDS.contains(&w.as_str()) {
                expect_table = true;
                j += 1;
                continue;
            }
            if w == "ON" || w == "USING" {
                // The join condition runs to the next join or list separator.
                j += 1;
                while j < end {
                    if self.punct(j, "(") {
                        j = self.skip_parens(j);
                        continue;
                    }
                    let w = self.word(j);
                    if self.punct(j, ",")
                        || JOIN_WORDS.contains(&w.as_str())
                        || matches!(
                            w.as_str(),
                            "INNER" | "LEFT" | "RIGHT" | "CROSS" | "NATURAL" | "FULL"
                        )
                    {
                        break;
                    }
                    j += 1;
                }
                continue;
            }
            if expect_table && self.toks.get(j).is_some_and(|t| t.kind.is_ident()) {
                if w == "LATERAL" {
                    j += 1;
                    continue;
                }
                j = self.take_name(j, access);
                expect_table = false;
                continue;
            }
            j += 1;
        }
    }

    /// Every FROM list in the statement, at any depth, read with `access`.
    fn select_lists(&mut self, access: Access) {
        self.select_lists_after(0, access);
    }

    fn select_lists_after(&mut self, from: usize, access: Access) {
        self.select_lists_between(from, self.toks.len(), access);
    }

    /// The FROM lists that start between `from` and `to`.
    fn select_lists_between(&mut self, from: usize, to: usize, access: Access) {
        let mut i = from;
        while i < to.min(self.toks.len()) {
            if self.kw(i, "FROM") {
                let end = self.select_list_end(i + 1);
                self.table_list(i + 1, end, access);
                // Subqueries inside the list (derived tables) have their own FROM.
                i += 1;
                continue;
            }
            i += 1;
        }
    }

    /// Where the FROM list starting at `i` ends: a clause keyword at its depth or the
    /// closing parenthesis of the subquery it is in.
    fn select_list_end(&self, i: usize) -> usize {
        let mut j = i;
        while j < self.toks.len() {
            if self.punct(j, "(") {
                j = self.skip_parens(j);
                continue;
            }
            if self.punct(j, ")") {
                return j;
            }
            let w = self.word(j);
            if ENDS_FROM_LIST.contains(&w.as_str()) && w != "ON" && w != "USING" {
                return j;
            }
            j += 1;
        }
        j
    }

    fn describe(&mut self, start: usize) {
        self.take_name(start + 1, Access::Any);
    }

    fn create(&mut self, start: usize) {
        let mut i = start + 1;
        let (mut replace, mut temporary) = (false, false);
        while matches!(
            self.word(i).as_str(),
            "OR" | "REPLACE"
                | "TEMPORARY"
                | "UNIQUE"
                | "FULLTEXT"
                | "SPATIAL"
                | "ONLINE"
                | "ALGORITHM"
                | "UNDEFINED"
                | "MERGE"
                | "TEMPTABLE"
                | "SQL"
                | "SECURITY"
                | "INVOKER"
                | "DEFINER"
        ) || self.punct(i, "=")
        {
            replace |= self.kw(i, "REPLACE");
            temporary |= self.kw(i, "TEMPORARY");
            i += 1;
        }
        let fills = self
            .toks
            .iter()
            .skip(i)
            .any(|t| t.is_keyword(self.sql, "SELECT"))
            && !self
                .toks
                .iter()
                .skip(i)
                .any(|t| t.is_keyword(self.sql, "LIKE"));
        let table_access = match (temporary, replace, fills) {
            (true, _, _) => Access::CreateTemporary,
            (false, true, _) => Access::CreateReplace,
            (false, false, true) => Access::CreateInsert,
            (false, false, false) => Access::Create,
        };
        match self.word(i).as_str() {
            "TABLE" | "SEQUENCE" => {
                let mut j = i + 1;
                if self.kw(j, "IF") {
                    j += 3;
                }
                self.take_name(j, table_access);
                // CREATE TABLE t LIKE s / CREATE TABLE t (LIKE s)
                let like = (j..self.toks.len()).find(|&k| self.kw(k, "LIKE"));
                if let Some(k) = like {
                    self.take_name(k + 1, Access::Select);
                }
                self.select_lists_after(j, Access::Select);
                if self
                    .toks
                    .iter()
                    .any(|t| t.is_keyword(self.sql, "REFERENCES"))
                {
                    for k in 0..self.toks.len() {
                        if self.kw(k, "REFERENCES") {
                            self.take_name(k + 1, Access::References);
                        }
                    }
                }
            }
            "INDEX" => {
                if let Some(on) = (i..self.toks.len()).find(|&k| self.kw(k, "ON")) {
                    self.take_name(on + 1, Access::Index);
                }
            }
            "VIEW" => {
                let mut j = i + 1;
                if self.kw(j, "IF") {
                    j += 3;
                }
                // OR REPLACE: DROP too, checked after CREATE VIEW (MariaDB names
                // only CREATE VIEW when both are missing).
                if let (true, Some((schema, name, _))) = (replace, self.name_at(j)) {
                    self.push(schema.clone(), name.clone(), Access::CreateView);
                    self.push(schema, name, Access::Drop);
                } else {
                    self.take_name(j, Access::CreateView);
                }
                self.select_lists_after(j, Access::Select);
            }
            "TRIGGER" => {
                if let Some(on) = (i..self.toks.len()).find(|&k| self.kw(k, "ON")) {
                    self.take_name(on + 1, Access::Trigger);
                }
                self.tables.unknown = true;
            }
            _ => self.tables.unknown = true,
        }
    }

    fn alter(&mut self, start: usize) {
        let mut i = start + 1;
        while matches!(self.word(i).as_str(), "ONLINE" | "IGNORE") {
            i += 1;
        }
        // ALTER [ALGORITHM = a] [DEFINER = d] [SQL SECURITY s] VIEW v AS ...: as CREATE OR
        // REPLACE VIEW (CREATE VIEW, then DROP on the view; SELECT on what it reads).
        let view = (start + 1..self.toks.len())
            .take_while(|&k| !self.kw(k, "AS") && !self.kw(k, "TABLE"))
            .find(|&k| self.kw(k, "VIEW"));
        if let Some(k) = view {
            if let Some((schema, name, _)) = self.name_at(k + 1) {
                self.push(schema.clone(), name.clone(), Access::CreateView);
                self.push(schema, name, Access::Drop);
                self.select_lists_after(k + 1, Access::Select);
                return;
            }
        }
        if self.word(i) != "TABLE" {
            self.tables.unknown = true;
            return;
        }
        let mut j = i + 1;
        if self.kw(j, "IF") {
            j += 2;
        }
        // As MariaDB checks ALTER TABLE: ALTER (index clauses need no INDEX); ALTER and
        // DROP when the table is renamed, with CREATE and INSERT on the new name; DROP
        // for DROP PARTITION; REFERENCES on a foreign key's parent table.
        let renamed_to = (0..self.toks.len()).find_map(|k| {
            if !self.kw(k, "RENAME") {
                return None;
            }
            let at = if self.kw(k + 1, "TO") || self.kw(k + 1, "AS") {
                k + 2
            } else {
                k + 1
            };
            let other = self.kw(at, "COLUMN") || self.kw(at, "INDEX") || self.kw(at, "KEY");
            (!other).then_some(at)
        });
        let name = self.name_at(j);
        let access = if renamed_to.is_some() {
            Access::AlterDrop
        } else {
            Access::Alter
        };
        self.take_name(j, access);
        if let Some((schema, table, _)) = name {
            let drops_partition =
                (0..self.toks.len()).any(|k| self.kw(k, "DROP") && self.kw(k + 1, "PARTITION"));
            if drops_partition {
                self.push(schema, table, Access::Drop);
            }
        }
        if let Some(at) = renamed_to {
            self.take_name(at, Access::CreateInsert);
        }
        for k in 0..self.toks.len() {
            if self.kw(k, "REFERENCES") {
                self.take_name(k + 1, Access::References);
            }
        }
    }

    fn drop(&mut self, start: usize) {
        let mut i = start + 1;
        while matches!(self.word(i).as_str(), "TEMPORARY" | "ONLINE" | "OFFLINE") {
            i += 1;
        }
        match self.word(i).as_str() {
            "TABLE" | "TABLES" | "VIEW" => {
                let mut j = i + 1;
                if self.kw(j, "IF") {
                    j += 2;
                }
                while j < self.toks.len() {
                    j = self.take_name(j, Access::Drop);
                    if !self.punct(j, ",") {
                        break;
                    }
                    j += 1;
                }
            }
            "INDEX" => {
                if let Some(on) = (i..self.toks.len()).find(|&k| self.kw(k, "ON")) {
                    self.take_name(on + 1, Access::Index);
                }
            }
            _ => self.tables.unknown = true,
        }
    }
}

/// Statements EXPLAIN may take (otherwise `EXPLAIN t` describes a table).
fn is_explainable(word: &str) -> bool {
    matches!(
        word,
        "SELECT"
            | "INSERT"
            | "REPLACE"
            | "UPDATE"
            | "DELETE"
            | "WITH"
            | "TABLE"
            | "VALUES"
            | "EXTENDED"
            | "PARTITIONS"
            | "FORMAT"
            | "ANALYZE"
            | "FOR"
    )
}

#[cfg(test)]
mod tests;
