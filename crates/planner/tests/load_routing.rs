//! LOAD DATA LOCAL INFILE planning against the shared test catalog (`common`): which
//! nodes load, which field routes a row, what Strata adds, and what it refuses.

mod common;

use common::{catalog, ctx, dn};
use strata_planner::{plan_load_data, LoadPlan, PlanError};
use strata_sql::load_data::{parse_load_data, FieldValue};

fn load(sql: &str) -> Result<LoadPlan, PlanError> {
    plan_load_data(&parse_load_data(sql).expect("parses"), &ctx(), &catalog())
}

fn text(v: &str) -> FieldValue {
    FieldValue::Text(v.as_bytes().to_vec())
}

#[test]
fn sharded_rows_route_by_their_key_field_in_the_column_list() {
    let p = load("LOAD DATA LOCAL INFILE 'f' INTO TABLE orders (amount, id, customer)").unwrap();
    assert_eq!(p.nodes, vec![dn(1), dn(2), dn(3), dn(4)]);
    assert_eq!(p.key_field(), Some(1));
    assert_eq!(p.node_of(Some(&text("150"))).unwrap(), dn(2));
    // Strings convert as MariaDB stores them into the INT key: '250abc' is 250.
    assert_eq!(p.node_of(Some(&text("250abc"))).unwrap(), dn(3));
    // NULL and a missing field take the NULL route.
    assert_eq!(p.node_of(Some(&FieldValue::Null)).unwrap(), dn(1));
    assert_eq!(p.node_of(None).unwrap(), dn(1));
    assert!(!p.replicated);
    assert_eq!(
        p.node_sql,
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE orders (amount, id, customer)"
    );
}

#[test]
fn without_a_column_list_the_table_order_gives_the_key_field() {
    let p = load("LOAD DATA LOCAL INFILE 'f' INTO TABLE customers IGNORE 1 LINES").unwrap();
    assert_eq!(p.key_field(), Some(0));
    assert_eq!(p.ignore_lines, 1);
    assert_eq!(
        p.node_sql,
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE customers "
    );
}

#[test]
fn global_tables_take_every_row_and_vertical_ones_their_node() {
    let p = load("LOAD DATA LOCAL INFILE 'f' INTO TABLE region").unwrap();
    assert!(p.replicated);
    assert_eq!(p.nodes.len(), 4);
    let p = load("LOAD DATA LOCAL INFILE 'f' INTO TABLE audit").unwrap();
    assert_eq!(p.nodes, vec![dn(2)]);
    assert_eq!(p.node_of(None).unwrap(), dn(2));
}

#[test]
fn a_missing_auto_increment_column_is_added_first_and_moves_the_key_field() {
    let p = load("LOAD DATA LOCAL INFILE 'f' INTO TABLE seq (note)").unwrap();
    let ai = p.auto_increment.clone().unwrap();
    assert_eq!((ai.column.as_str(), ai.field), ("id", None));
    assert_eq!(
        p.node_sql,
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE seq (`id`, note)"
    );
    // The key is the AUTO_INCREMENT column, now the first field.
    assert_eq!(p.key_field(), Some(0));
    assert!(p.key_is_auto_increment());
    let p = load("LOAD DATA LOCAL INFILE 'f' INTO TABLE seq (id, note)").unwrap();
    let ai = p.auto_increment.clone().unwrap();
    assert_eq!(ai.field, Some(0));
    assert_eq!(p.key_field(), Some(0));
    assert_eq!(ai.explicit(&text("0")).unwrap(), None);
    assert_eq!(ai.explicit(&FieldValue::Null).unwrap(), None);
    assert_eq!(ai.explicit(&text("17")).unwrap(), Some(17));
    assert_eq!(ai.explicit(&text("x")).unwrap_err().code(), 1235);
}

#[test]
fn refuses_what_it_cannot_place_correctly() {
    let refused = [
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE orders (@a, customer) SET id = @a + 1",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE seq (note) SET id = 5",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE region (code, @n) SET name = UUID()",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE orders FIELDS TERMINATED BY ''",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE orders CHARACTER SET sjis",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE orders FIELDS ENCLOSED BY '\"' ESCAPED BY '\"'",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE orders2",
    ];
    for sql in refused {
        assert_eq!(load(sql).map(|_| ()).unwrap_err().code(), 1235, "{sql}");
    }
    assert_eq!(
        load("LOAD DATA LOCAL INFILE 'f' INTO TABLE nope")
            .unwrap_err()
            .code(),
        1146
    );
}
