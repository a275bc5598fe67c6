//! The collation a result column compares under in the merge. The rules themselves
//! (weights, PAD SPACE, charset conversion) live in `strata_mysql::collation`, shared
//! with routing; this module only reads a column definition: its result character set
//! says how the bytes are encoded, and, when the planner does not know the column's
//! declared collation, the best inference from the definition.

use strata_mysql::{Collation, Encoding};
use strata_protocol::constants::colflag;
use strata_protocol::packets::ColumnDef;

/// Result character sets a data node may announce that Strata can decode, with the
/// `_bin` collation of each (what a column flagged BINARY compares under).
const BIN_OF_CHARSET: &[(u16, u16)] = &[
    (8, 47),
    (11, 65),
    (33, 83),
    (45, 46),
    (46, 46),
    (47, 47),
    (65, 65),
    (83, 83),
];

/// The collation a string column compares under. `declared` is the column's real
/// collation when the planner knows it (from the catalog); without it the collation is
/// inferred from the column definition, which only tells the result character set and
/// whether the column is binary: a `utf8mb4_unicode_ci` column looks exactly like a
/// `utf8mb4_general_ci` one, and a latin1 column read over a utf8mb4 connection looks
/// like utf8mb4. `Err` names the collation or character set not supported.
pub fn for_column(def: &ColumnDef, declared: Option<u16>) -> Result<Collation, String> {
    let encoding: Encoding = Encoding::of_charset(def.charset)
        .ok_or_else(|| format!("results in {}", Collation::name_of(def.charset)))?;
    let id = match declared {
        Some(id) => id,
        None if def.charset == 63 => 63,
        None if def.flags & colflag::BINARY != 0 => BIN_OF_CHARSET
            .iter()
            .find(|c| c.0 == def.charset)
            .map(|c| c.1)
            .unwrap_or(def.charset),
        None => def.charset,
    };
    let collation = Collation::from_id(id)
        .ok_or_else(|| format!("comparing strings under {}", Collation::name_of(id)))?;
    Ok(collation.with_encoding(encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_collation_is_inferred_from_the_definition_unless_declared() {
        let mut def = ColumnDef {
            charset: 45,
            col_type: strata_protocol::constants::coltype::VAR_STRING,
            ..ColumnDef::default()
        };
        let name = |def: &ColumnDef, declared| for_column(def, declared).map(|c| c.name());
        assert_eq!(name(&def, None), Ok("utf8mb4_general_ci"));
        def.flags = colflag::BINARY;
        assert_eq!(name(&def, None), Ok("utf8mb4_bin"));
        let declared = for_column(&def, Some(8));
        assert_eq!(
            declared.map(|c| (c.name(), c.encoding())),
            Ok(("latin1_swedish_ci", Encoding::Utf8))
        );
        // utf8mb4_unicode_ci is implemented once for routing and merging alike.
        assert_eq!(name(&def, Some(224)), Ok("utf8mb4_unicode_ci"));
        assert_eq!(
            name(&def, Some(246)),
            Err("comparing strings under utf8mb4_unicode_520_ci".to_string())
        );
        def.charset = 28;
        assert!(for_column(&def, None).is_err());
    }
}
