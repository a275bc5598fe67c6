//! The materialized plan: a query run whole on one data node over temporary copies of
//! its tables.

use strata_catalog::DataNodeId;

/// A read-only query whose shape spans data nodes in a way the compute node's own
/// operators cannot run (subqueries, derived tables, CTEs, window functions, WITH
/// ROLLUP, set operations, joins they refuse), run whole on one data node: on one
/// dedicated connection to `dnid`, each table that is not complete there is created as
/// a TEMPORARY table of the same name (which shadows the base table for that connection
/// only) and filled with the rows of every node holding a part of it, in batches; then
/// the statement runs there as the client sent it and its reply streams back unchanged;
/// then the temporary tables are dropped. MariaDB itself gives the answer, types and
/// column metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Materialize {
    /// The data node that runs the statement.
    pub dnid: DataNodeId,
    /// Every table the statement reads, once each, in the order they are copied.
    pub copies: Vec<TableCopy>,
    /// The statement run there (the client's text, hints removed, parameters inlined).
    pub sql: String,
    /// The statement answers with an OK packet, not rows: a `CREATE TABLE ... SELECT`
    /// of a table on `dnid` (`Records: N  Duplicates: 0  Warnings: 0`), or an UPDATE or
    /// DELETE of the session's temporary tables (`on_session`).
    pub creates_table: bool,
    /// The statement's locking clause (` FOR UPDATE`, ` LOCK IN SHARE MODE`): the
    /// copies' reads end with it too, so inside a transaction (where every table is
    /// copied through the transaction's connections) the rows read stay locked.
    pub lock: Option<String>,
    /// The statement names the session's temporary tables, which live on its own
    /// connection to `dnid`: the plan runs on that connection (a branch of the
    /// session's transaction, if one is open) instead of a scratch connection, copies
    /// only the tables not complete there, and copies the rows `dnid` holds of them on
    /// the node itself (`INSERT ... SELECT`).
    pub on_session: bool,
}

impl Materialize {
    /// The copies that run: outside a transaction the tables complete on `dnid` are
    /// read in place; inside one every table is copied (the scratch connection is not
    /// part of the transaction, so it must not read base tables: it would miss the
    /// transaction's own writes and read another snapshot). On the session's own
    /// connection the tables complete there are always read in place.
    pub fn copies_run(&self, in_transaction: bool) -> impl Iterator<Item = &TableCopy> {
        let copy_all = in_transaction && !self.on_session;
        self.copies.iter().filter(move |c| copy_all || !c.in_place)
    }

    /// The data nodes the copies read, each once, in first-use order: the driver's
    /// node positions 0..n; position n is the connection to `dnid` that runs the
    /// statement. On the session's own connection `dnid` is no source: its rows are
    /// copied on the node itself.
    pub fn sources(&self, in_transaction: bool) -> Vec<DataNodeId> {
        let mut out: Vec<DataNodeId> = Vec::new();
        for copy in self.copies_run(in_transaction) {
            for &n in &copy.sources {
                let here = self.on_session && n == self.dnid;
                if !here && !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// (data node, statement) in the order they run inside a transaction (every table
    /// copied): each copy's definition and row reads, then the statement.
    pub(super) fn statements(&self) -> Vec<(DataNodeId, &str)> {
        let mut out = Vec::new();
        for copy in &self.copies {
            if let Some(&first) = copy.sources.first() {
                out.push((first, copy.show_create.as_str()));
                out.push((first, copy.show_columns.as_str()));
            }
            for &n in &copy.sources {
                out.push((n, copy.read.as_str()));
            }
        }
        out.push((self.dnid, self.sql.as_str()));
        out
    }
}

/// One table of a [`Materialize`] and where its rows are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    /// Logical database.
    pub db: String,
    /// Table name as the statement names it.
    pub table: String,
    /// The data nodes holding its rows: every node of a sharded table's rule (each
    /// holds a part), one node for a global (the target itself when it has a copy) or
    /// vertical table. The first one also gives the table's definition.
    pub sources: Vec<DataNodeId>,
    /// The table is complete on the target node (a global table there, a vertical
    /// table on it, a sharded table all of whose shards are there).
    pub in_place: bool,
    /// What the first source runs for the table's definition (`SHOW CREATE TABLE`).
    pub show_create: String,
    /// What the first source runs for the columns' types, collations and generated
    /// columns (`SHOW FULL COLUMNS`).
    pub show_columns: String,
    /// What each source runs for its rows, as EXPLAIN shows it: the column list is
    /// chosen at run time from the definition (an exact form per type).
    pub read: String,
}

impl TableCopy {
    /// The copy of `db`.`table` from `sources`.
    pub fn new(db: &str, table: &str, sources: Vec<DataNodeId>, in_place: bool) -> TableCopy {
        let name = format!("{}.{}", quote_ident(db), quote_ident(table));
        TableCopy {
            db: db.to_string(),
            table: table.to_string(),
            sources,
            in_place,
            show_create: format!("SHOW CREATE TABLE {name}"),
            show_columns: format!("SHOW FULL COLUMNS FROM {name}"),
            read: format!("SELECT <each column in an exact form> FROM {name}"),
        }
    }

    /// `` `db`.`table` `` (what the copy's statements name).
    pub fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.db), quote_ident(&self.table))
    }
}

/// An identifier in backquotes.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
