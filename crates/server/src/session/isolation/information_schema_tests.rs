use super::qualify_information_schema;

#[test]
fn unqualified_tables_are_qualified() {
    let cases = [
        (
            "SELECT TABLE_NAME FROM TABLES WHERE TABLE_SCHEMA = 'test'",
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test'",
        ),
        (
            "select * from `columns` c join tables t on c.TABLE_NAME = t.TABLE_NAME",
            "select * from information_schema.`columns` c join information_schema.tables t on c.TABLE_NAME = t.TABLE_NAME",
        ),
        (
            "SELECT COUNT(*) FROM SCHEMATA, information_schema.TABLES",
            "SELECT COUNT(*) FROM information_schema.SCHEMATA, information_schema.TABLES",
        ),
        (
            "SELECT * FROM TABLES WHERE TABLE_NAME IN (SELECT TABLE_NAME FROM COLUMNS)",
            "SELECT * FROM information_schema.TABLES WHERE TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.COLUMNS)",
        ),
        ("SELECT 1", "SELECT 1"),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            qualify_information_schema(sql).as_deref(),
            Ok(expected),
            "{sql}"
        );
    }
}

#[test]
fn names_the_scan_cannot_place_are_refused() {
    for sql in ["SELECT TABLE_NAME, TABLES FROM TABLES", "CALL p()"] {
        let err = qualify_information_schema(sql).expect_err(sql);
        assert_eq!(err.code, 1235, "{sql}");
    }
}
