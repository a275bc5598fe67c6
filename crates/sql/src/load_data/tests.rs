use super::*;

fn split(format: LoadFormat, chunks: &[&[u8]]) -> Vec<(Vec<u8>, bool, Vec<FieldValue>)> {
    let mut s = RowSplitter::new(format.clone(), 1 << 20);
    let mut out = Vec::new();
    let mut take = |s: &mut RowSplitter| {
        while let Some(row) = s.next_row().expect("row within the limit") {
            let raw = s.buffer()[row.raw.clone()].to_vec();
            let values = row
                .fields
                .iter()
                .map(|r| field_value(&raw[r.clone()], &format))
                .collect();
            out.push((raw, row.terminated, values));
        }
    };
    for chunk in chunks {
        s.push(chunk);
        take(&mut s);
    }
    s.finish();
    take(&mut s);
    out
}

fn text(v: &str) -> FieldValue {
    FieldValue::Text(v.as_bytes().to_vec())
}

fn csv() -> LoadFormat {
    LoadFormat {
        field_term: b",".to_vec(),
        enclosed: Some(b'"'),
        line_term: b"\r\n".to_vec(),
        ..LoadFormat::default()
    }
}

#[test]
fn default_format_splits_on_tab_and_newline_with_escapes() {
    let rows = split(LoadFormat::default(), &[b"1\ta\\tb\n2\t\\N\n3\tx\\\ny"]);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].2, vec![text("1"), text("a\tb")]);
    assert_eq!(rows[1].2, vec![text("2"), FieldValue::Null]);
    // An escaped newline is data; the last row has no terminator.
    assert_eq!(rows[2].2, vec![text("3"), text("x\ny")]);
    assert!(!rows[2].1);
}

#[test]
fn rows_cut_across_pushes_come_out_whole() {
    let data: &[u8] = b"10,\"a,\"\"b\"\"\"\r\n20,\"x\r\ny\",z\r\n";
    let whole = split(csv(), &[data]);
    for cut in 1..data.len() {
        let (a, b) = data.split_at(cut);
        assert_eq!(split(csv(), &[a, b]), whole, "cut at {cut}");
    }
    assert_eq!(whole[0].2, vec![text("10"), text("a,\"b\"")]);
    assert_eq!(whole[1].2, vec![text("20"), text("x\r\ny"), text("z")]);
}

#[test]
fn enclosed_null_is_a_string_and_unenclosed_null_is_null() {
    let rows = split(csv(), &[b"NULL,\"NULL\",\r\n"]);
    assert_eq!(rows[0].2, vec![FieldValue::Null, text("NULL"), text("")]);
}

#[test]
fn lines_starting_by_skips_lines_without_the_prefix() {
    let format = LoadFormat {
        line_start: b"xxx".to_vec(),
        field_term: b",".to_vec(),
        ..LoadFormat::default()
    };
    let rows = split(format, &[b"xxx1,a\nnothing\nyy xxx2,b\n"]);
    let values: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
    assert_eq!(
        values,
        vec![vec![text("1"), text("a")], vec![text("2"), text("b")]]
    );
}

#[test]
fn a_row_longer_than_the_limit_is_refused() {
    let mut s = RowSplitter::new(LoadFormat::default(), 8);
    s.push(b"0123456789abcdef");
    assert_eq!(s.next_row(), Err(8));
}

#[test]
fn parses_every_clause() {
    let l = parse_load_data(
        "LOAD DATA LOCAL INFILE '/tmp/a.csv' REPLACE INTO TABLE shop.t CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\' \
         LINES STARTING BY '>' TERMINATED BY '\\r\\n' IGNORE 1 LINES (a, @b, c) SET d = @b * 2, e = NOW()",
    )
    .unwrap();
    assert!(l.local);
    assert_eq!(l.file, "/tmp/a.csv");
    assert_eq!(l.duplicates, Duplicates::Replace);
    assert_eq!((l.db.as_deref(), l.table.as_str()), (Some("shop"), "t"));
    assert_eq!(l.charset.as_deref(), Some("utf8mb4"));
    assert_eq!(
        l.format,
        LoadFormat {
            field_term: b",".to_vec(),
            enclosed: Some(b'"'),
            escaped: Some(b'\\'),
            line_start: b">".to_vec(),
            line_term: b"\r\n".to_vec(),
        }
    );
    assert_eq!(l.ignore_lines, 1);
    assert_eq!(
        l.targets,
        Some(vec![
            LoadTarget::Column("a".into()),
            LoadTarget::Var("b".into()),
            LoadTarget::Column("c".into())
        ])
    );
    assert_eq!(l.set_columns, vec!["d", "e"]);
    assert_eq!(l.set_text.as_deref(), Some("d = @b * 2, e = NOW()"));
    assert_eq!(l.field_of("C", &[]), Some(2));
    assert!(l.sets("E"));
}

#[test]
fn node_statement_drops_ignore_lines_and_puts_a_column_first() {
    let l =
        parse_load_data("LOAD DATA LOCAL INFILE 'f' INTO TABLE t IGNORE 2 LINES (a, b)").unwrap();
    assert_eq!(
        l.node_statement(Some("id"), &[]),
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE t  (`id`, a, b)"
    );
    let l = parse_load_data("LOAD DATA LOCAL INFILE 'f' INTO TABLE t FIELDS TERMINATED BY ','")
        .unwrap();
    assert_eq!(
        l.node_statement(Some("id"), &["a".into(), "b".into()]),
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE t FIELDS TERMINATED BY ',' (`id`, `a`, `b`) "
    );
    assert_eq!(
        l.node_statement(None, &[]),
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE t FIELDS TERMINATED BY ','"
    );
}

#[test]
fn refuses_what_it_cannot_place() {
    assert!(matches!(
        parse_load_data("LOAD XML LOCAL INFILE 'f' INTO TABLE t"),
        Err(SqlError::Unsupported(_))
    ));
    assert!(matches!(
        parse_load_data("LOAD DATA LOCAL INFILE 'f' INTO TABLE t PARTITION (p0)"),
        Err(SqlError::Unsupported(_))
    ));
    crate::error::assert_syntax_errors(
        parse_load_data,
        &[
            ("LOAD DATA LOCAL INFILE f INTO TABLE t", "f INTO TABLE t"),
            (
                "LOAD DATA LOCAL INFILE 'f' INTO TABLE t FIELDS ENCLOSED BY 'ab'",
                "'ab'",
            ),
            (
                "LOAD DATA LOCAL INFILE 'f' INTO TABLE t IGNORE x LINES",
                "x LINES",
            ),
            ("LOAD DATA LOCAL INFILE 'f' INTO TABLE t (a b)", "b)"),
        ],
    );
}
