use super::*;

fn types(list: &[(u8, u8)]) -> ParamTypes {
    list.iter()
        .map(|&(column_type, flags)| ParamType { column_type, flags })
        .collect()
}

#[test]
fn commands_decode_from_their_packets() {
    let cases: Vec<(&[u8], Command<'_>)> = vec![
        (&[com::QUIT], Command::Quit),
        (b"\x02shop", Command::InitDb(b"shop")),
        (b"\x03SELECT 1", Command::Query(b"SELECT 1")),
        (
            b"\x04t\0c%",
            Command::FieldList {
                table: b"t",
                wildcard: b"c%",
            },
        ),
        (
            b"\x04t",
            Command::FieldList {
                table: b"t",
                wildcard: b"",
            },
        ),
        (&[com::STATISTICS], Command::Statistics),
        (&[com::PROCESS_KILL, 7, 0, 0, 0], Command::ProcessKill(7)),
        (&[com::PING], Command::Ping),
        (
            &[com::CHANGE_USER, b'u', 0],
            Command::ChangeUser(&[com::CHANGE_USER, b'u', 0]),
        ),
        (&[com::RESET_CONNECTION], Command::ResetConnection),
        (
            &[com::SET_OPTION, 0, 0],
            Command::SetOption(SetOption::MultiStatementsOn),
        ),
        (
            &[com::SET_OPTION, 1, 0],
            Command::SetOption(SetOption::MultiStatementsOff),
        ),
        (
            &[com::SET_OPTION, 9, 0],
            Command::SetOption(SetOption::Unknown),
        ),
        (&[com::SET_OPTION], Command::SetOption(SetOption::Unknown)),
        (b"\x16SELECT ?", Command::StmtPrepare(b"SELECT ?")),
        (
            &[com::STMT_EXECUTE, 2, 0, 0, 0, 0, 1, 0, 0, 0],
            Command::StmtExecute {
                statement_id: 2,
                body: &[2, 0, 0, 0, 0, 1, 0, 0, 0],
            },
        ),
        (
            &[com::STMT_FETCH, 2, 0, 0, 0, 10, 0, 0, 0],
            Command::StmtFetch {
                statement_id: 2,
                rows: 10,
            },
        ),
        (
            &[com::STMT_FETCH, 2, 0, 0, 0],
            Command::StmtFetch {
                statement_id: 2,
                rows: 0,
            },
        ),
        (&[com::STMT_CLOSE, 3, 0, 0, 0], Command::StmtClose(3)),
        (&[com::STMT_RESET, 3, 0, 0, 0], Command::StmtReset(3)),
        (
            &[com::STMT_SEND_LONG_DATA, 3, 0, 0, 0, 1, 0, b'x', b'y'],
            Command::StmtSendLongData {
                statement_id: 3,
                param: 1,
                data: b"xy",
            },
        ),
        (&[0x7f, 1, 2], Command::Unknown(0x7f)),
    ];
    for (packet, want) in cases {
        assert_eq!(
            Command::decode(packet).ok().and_then(Result::ok),
            Some(want),
            "{packet:?}"
        );
    }
}

#[test]
fn truncated_commands_are_malformed_and_an_empty_packet_ends_the_connection() {
    let cases: &[(&[u8], &str)] = &[
        (&[com::PROCESS_KILL, 1, 2, 3], "COM_PROCESS_KILL"),
        (&[com::STMT_EXECUTE, 1, 2], "COM_STMT_EXECUTE"),
        (&[com::STMT_FETCH], "COM_STMT_FETCH"),
        (&[com::STMT_CLOSE, 1], "COM_STMT_CLOSE"),
        (&[com::STMT_RESET, 1, 2, 3], "COM_STMT_RESET"),
        (
            &[com::STMT_SEND_LONG_DATA, 1, 0, 0, 0, 1],
            "COM_STMT_SEND_LONG_DATA",
        ),
    ];
    for (packet, name) in cases {
        let got = Command::decode(packet).ok();
        assert_eq!(
            got,
            Some(Err(MalformedCommand {
                command: packet[0],
                name
            })),
            "{packet:?}"
        );
        assert_eq!(
            MalformedCommand {
                command: packet[0],
                name
            }
            .to_string(),
            format!("Malformed {name}")
        );
    }
    assert!(Command::decode(&[]).is_err());
}

/// A body for statement 5 with the given parameter part.
fn body(params: &[u8]) -> Vec<u8> {
    let mut b = vec![5, 0, 0, 0, 0, 1, 0, 0, 0];
    b.extend_from_slice(params);
    b
}

#[test]
fn an_execute_decodes_its_header_bitmap_types_and_values() {
    let b = body(&[
        0b0000_0010, // parameter 1 is NULL
        1,           // types follow
        t::LONGLONG,
        0x80,
        t::VAR_STRING,
        0,
        t::SHORT,
        0,
        t::DOUBLE,
        0,
        // values: 2^63 unsigned, (NULL), -2, 1.5
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0x80,
        0xfe,
        0xff,
        0,
        0,
        0,
        0,
        0,
        0,
        0xf8,
        0x3f,
    ]);
    let exec = StmtExecute::decode(&b, 4, None).expect("decodes");
    assert_eq!(exec.statement_id, 5);
    assert!(!exec.wants_cursor());
    assert_eq!(exec.iterations, 1);
    assert!(exec.new_params_bound);
    assert_eq!(
        exec.types,
        types(&[
            (t::LONGLONG, 0x80),
            (t::VAR_STRING, 0),
            (t::SHORT, 0),
            (t::DOUBLE, 0)
        ])
    );
    assert_eq!(
        exec.values(|_| false).expect("values"),
        vec![
            ParamValue::UInt(1 << 63),
            ParamValue::Null,
            ParamValue::Int(-2),
            ParamValue::Double(1.5)
        ]
    );
}

#[test]
fn later_executions_use_the_remembered_types() {
    let remembered = types(&[(t::LONG, 0)]);
    let b = body(&[0, 0, 42, 0, 0, 0]);
    let exec = StmtExecute::decode(&b, 1, Some(&remembered)).expect("decodes");
    assert!(!exec.new_params_bound);
    assert_eq!(exec.types, remembered);
    assert_eq!(
        exec.values(|_| false).expect("values"),
        vec![ParamValue::Int(42)]
    );
    assert_eq!(
        StmtExecute::decode(&b, 1, None),
        Err(ExecuteError::TypesMissing)
    );
}

#[test]
fn long_data_parameters_take_nothing_from_the_packet() {
    let b = body(&[0b01, 1, t::BLOB, 0, t::TINY, 0, 0xff]);
    let exec = StmtExecute::decode(&b, 2, None).expect("decodes");
    assert_eq!(
        exec.values(|i| i == 0).expect("values"),
        vec![ParamValue::LongData, ParamValue::Int(-1)]
    );
}

#[test]
fn temporal_and_decimal_values_decode() {
    let b = body(&[
        0,
        1,
        t::DATE,
        0,
        t::DATETIME,
        0,
        t::TIME,
        0,
        t::NEWDECIMAL,
        0,
        4,
        0xe8,
        0x07,
        2,
        29,
        11,
        0xe8,
        0x07,
        2,
        29,
        13,
        14,
        15,
        1,
        0,
        0,
        0,
        8,
        1,
        2,
        0,
        0,
        0,
        3,
        4,
        5,
        4,
        b'1',
        b'.',
        b'2',
        b'5',
    ]);
    let exec = StmtExecute::decode(&b, 4, None).expect("decodes");
    let values = exec.values(|_| false).expect("values");
    let date = DateTime {
        year: 2024,
        month: 2,
        day: 29,
        ..DateTime::default()
    };
    assert_eq!(values[0], ParamValue::Date(date));
    assert_eq!(
        values[1],
        ParamValue::DateTime(DateTime {
            hour: 13,
            minute: 14,
            second: 15,
            micros: Some(1),
            ..date
        })
    );
    assert_eq!(
        values[2],
        ParamValue::Time(Time {
            negative: true,
            days: 2,
            hours: 3,
            minutes: 4,
            seconds: 5,
            micros: 0
        })
    );
    assert_eq!(values[3], ParamValue::Decimal(b"1.25"));
}

#[test]
fn truncated_or_garbage_executes_are_errors_not_panics() {
    let cases: &[(&[u8], usize, ExecuteError)] = &[
        (&[], 0, ExecuteError::Malformed("statement id")),
        (&[5, 0, 0, 0], 0, ExecuteError::Malformed("cursor flags")),
        (
            &[5, 0, 0, 0, 0, 1, 0],
            0,
            ExecuteError::Malformed("iterations"),
        ),
        (
            &[5, 0, 0, 0, 0, 1, 0, 0, 0],
            9,
            ExecuteError::Malformed("null bitmap"),
        ),
        (
            &[5, 0, 0, 0, 0, 1, 0, 0, 0, 0],
            1,
            ExecuteError::Malformed("new params bound flag"),
        ),
        (
            &[5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, t::LONG],
            1,
            ExecuteError::Malformed("parameter types"),
        ),
        (
            &[5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
            1,
            ExecuteError::TypesMissing,
        ),
    ];
    for (b, params, want) in cases {
        assert_eq!(
            StmtExecute::decode(b, *params, None).err(),
            Some(*want),
            "{b:?}"
        );
    }
    // Values shorter than their types say.
    let short: &[(u8, &[u8], &str)] = &[
        (t::LONGLONG, &[1, 2, 3], "longlong"),
        (t::VAR_STRING, &[0xfc, 0xff, 0xff], "string"),
        (t::VAR_STRING, &[0xff], "string"),
        (t::DATETIME, &[11, 1], "temporal"),
        (t::TIME, &[], "time length"),
        (
            t::NEWDECIMAL,
            &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            "decimal",
        ),
    ];
    for (ty, value, what) in short {
        let mut params = vec![0, 1, *ty, 0];
        params.extend_from_slice(value);
        let b = body(&params);
        let exec = StmtExecute::decode(&b, 1, None).expect("header decodes");
        assert_eq!(
            exec.values(|_| false).err(),
            Some(ExecuteError::Malformed(what)),
            "{ty}"
        );
    }
    // Any bytes at all: decoding never panics.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for len in 0..400 {
        let garbage: Vec<u8> = (0..len % 40)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let _ = Command::decode(&garbage);
        if let Ok(exec) = StmtExecute::decode(&garbage, len % 5, None) {
            let _ = exec.values(|i| i == 1);
        }
    }
}

#[test]
fn an_execute_is_re_encoded_with_its_types_for_another_statement_id() {
    let remembered = types(&[(t::LONG, 0x80)]);
    let b = body(&[1, 0]);
    let exec = StmtExecute::decode(&b, 1, Some(&remembered)).expect("decodes");
    let mut out = BytesMut::new();
    exec.encode_for(77, &mut out);
    assert_eq!(&out[..], &[77, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, t::LONG, 0x80]);
    // The re-encoded body decodes to the same execution.
    let again = StmtExecute::decode(&out, 1, None).expect("decodes");
    assert_eq!(
        (again.types, again.null_bitmap),
        (exec.types, exec.null_bitmap)
    );

    let no_params = body(&[]);
    let exec = StmtExecute::decode(&no_params, 0, None).expect("decodes");
    let mut out = BytesMut::new();
    exec.encode_for(9, &mut out);
    assert_eq!(&out[..], &[9, 0, 0, 0, 0, 1, 0, 0, 0]);
}
