//! The catalog changes a DDL plan asks the server to record once it ran.

use strata_catalog::DataNodeId;

use crate::catalog_view::TableInfo;

/// A change to record in the catalog after a DDL statement succeeded.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogChange {
    /// A table was created.
    CreateTable {
        /// Logical database.
        db: String,
        /// Table name.
        name: String,
        /// Its distribution and metadata.
        table: Box<TableInfo>,
    },
    /// A table was dropped.
    DropTable {
        /// Logical database.
        db: String,
        /// Table name.
        name: String,
    },
    /// A table's keys may have changed (ALTER TABLE, CREATE/DROP INDEX): its recorded
    /// PRIMARY/UNIQUE keys are forgotten, to be read again from a data node.
    ForgetUniqueKeys {
        /// Logical database.
        db: String,
        /// Table name.
        name: String,
    },
    /// A table on several data nodes may have columns of new collations (CREATE or
    /// ALTER TABLE): its recorded collations are forgotten and read again from a data
    /// node before the statement's OK. `fallback` replaces the table's
    /// `other_collation_columns` (used while none are recorded) when the statement
    /// names a collation merges cannot assume.
    ReadColumnCollations {
        /// Logical database.
        db: String,
        /// Table name (after any rename by the same statement).
        name: String,
        /// The new fallback (`["*"]`: every string column), or None to keep it.
        fallback: Option<Vec<String>>,
    },
    /// A view was created (or replaced: CREATE OR REPLACE, ALTER VIEW). Nothing runs
    /// on the data nodes; the server records it with the session's account as definer.
    CreateView {
        /// Logical database.
        db: String,
        /// View name.
        name: String,
        /// Its definition (the definer is left empty for the server to fill in).
        view: Box<strata_catalog::ViewInfo>,
        /// An existing view of that name is replaced (OR REPLACE, ALTER).
        replace: bool,
    },
    /// A view is dropped (DROP VIEW); an unknown one is an error unless `if_exists`.
    DropView {
        /// Logical database.
        db: String,
        /// View name.
        name: String,
        /// DROP VIEW IF EXISTS.
        if_exists: bool,
    },
    /// A table was renamed (possibly into another logical database on the same nodes).
    RenameTable {
        /// Old database.
        db: String,
        /// Old name.
        name: String,
        /// New database.
        new_db: String,
        /// New name.
        new_name: String,
    },
    /// A temporary table was created: it lives on the session's connection to `dnid`
    /// only, and the session (not the catalog) remembers it until it is dropped.
    CreateTemporaryTable {
        /// Logical database.
        db: String,
        /// Table name.
        name: String,
        /// The data node whose session connection holds it.
        dnid: DataNodeId,
    },
    /// A temporary table of the session was dropped.
    DropTemporaryTable {
        /// Logical database.
        db: String,
        /// Table name.
        name: String,
    },
}
