//! Errors that would show row values to an account that may not read them. The storage
//! server runs a statement as Strata's storage account, which may read everything, and
//! words its errors for that account; MariaDB words some of them without the values for
//! an account lacking SELECT on the table: an `ALTER TABLE ... PARTITION` that leaves a
//! row without a partition is 1526 "Table has no partition for some existing values"
//! (the text of ER_NO_PARTITION_FOR_GIVEN_VALUE_SILENT under the code of the error
//! that names the value) rather than "... for value 1".

use strata_backend::ErrorSwap;
use strata_catalog::accounts::PrivSet;
use strata_protocol::packets::ErrPacket;
use strata_sql::account::Privilege;
use strata_sql::{contains_ignore_ascii_case, StatementKind};

use super::Session;

/// ER_NO_PARTITION_FOR_GIVEN_VALUE with ER_NO_PARTITION_FOR_GIVEN_VALUE_SILENT's text.
static SILENT_PARTITION_VALUE: ErrorSwap = ErrorSwap {
    code: 1526,
    with: || ErrPacket {
        code: 1526,
        state: *b"HY000",
        message: "Table has no partition for some existing values".into(),
    },
};

impl Session {
    /// The error swap for `sql` run by this session's account: an ALTER TABLE naming
    /// partitions, of a table the account may not SELECT from.
    pub(super) fn hidden_values(&self, sql: &str) -> Option<&'static ErrorSwap> {
        // The byte search first: this runs for every forwarded statement.
        if !contains_ignore_ascii_case(sql.as_bytes(), b"partition") {
            return None;
        }
        let kind = strata_sql::classify(sql);
        if kind != StatementKind::Alter {
            return None;
        }
        let tables = strata_sql::table_references(sql, kind);
        let table = tables.refs.first()?;
        let db = match table.schema.as_deref() {
            Some(db) => db.to_string(),
            None => self.state.db.clone()?,
        };
        let select = PrivSet::of(Privilege::Select);
        let readable = self
            .identity
            .account
            .table_privileges(&db, &table.name)
            .contains(select);
        (!readable).then_some(&SILENT_PARTITION_VALUE)
    }
}
