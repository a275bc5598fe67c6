//! Command dispatch under hostile input, on stable: a bounded random fuzz run of
//! `strata_server::fuzzing::run_session` (the cargo-fuzz target `command_dispatch` runs
//! the same harness under libFuzzer), and a list of known nasty requests.
//!
//! The harness forwards to `STRATA_FUZZ_STORAGE` when set (`none`: a closed port, local
//! handling only), else to a throwaway MariaDB from the testkit; when that MariaDB cannot
//! start the tests fail rather than quietly fuzz less. After every input it asserts that the compute node did not panic, still accepts logins and answers
//! COM_PING, dropped the fuzzed session, and left bystander sessions untouched.

use std::sync::Once;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_protocol::constants::{cap, com};
use strata_protocol::fuzzing::{hex, mutate, stable_run_settings};
use strata_protocol::packets::{ERR_HEADER, OK_HEADER};
use strata_server::fuzzing::{self, FuzzStorage, Login, Outcome, Step, MAX_ALLOWED_PACKET};

const FRAME: usize = 0xff_ffff;

/// Starts the harness; false (the test is skipped) when it runs without a storage node
/// (`STRATA_FUZZ_STORAGE=none`), where prepared statements cannot run.
fn start_with_storage() -> bool {
    start();
    if !fuzzing::has_storage() {
        eprintln!("STRATA_FUZZ_STORAGE=none: prepared statements cannot run; skipped");
    }
    fuzzing::has_storage()
}

/// Starts the harness once per process over the best storage node available.
fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        let storage = if FuzzStorage::disabled() {
            None
        } else {
            Some(FuzzStorage::from_env().unwrap_or_else(testkit_storage))
        };
        match &storage {
            Some(s) => eprintln!("fuzz_dispatch: storage node {} database {}", s.addr, s.database),
            None => eprintln!(
                "fuzz_dispatch: STRATA_FUZZ_STORAGE=none; forwarding to a closed port (local handling only)"
            ),
        }
        fuzzing::init(storage);
    });
}

/// A throwaway MariaDB from the testkit.
///
/// # Panics
///
/// When MariaDB cannot be started: without it most of dispatch is never reached.
fn testkit_storage() -> FuzzStorage {
    const HOW: &str = "fuzz_dispatch needs MariaDB (install mariadb-server), or \
                       STRATA_FUZZ_STORAGE=host:port of a running one, or \
                       STRATA_FUZZ_STORAGE=none to fuzz local handling only";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime to start MariaDB");
    rt.block_on(async {
        let nodes = strata_testkit::shared_storage(1)
            .await
            .unwrap_or_else(|e| panic!("{HOW}: cannot start MariaDB: {e}"));
        let database = strata_testkit::unique_name("fuzz");
        nodes
            .create_database(&database)
            .await
            .unwrap_or_else(|e| panic!("{HOW}: cannot create database {database}: {e}"));
        FuzzStorage {
            addr: nodes.addr(0).to_string(),
            user: nodes.user().into(),
            password: nodes.password().into(),
            database,
        }
    })
}

/// Bytes the mutations write: lengths and markers the protocol gives meaning to.
const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x03, 0x09, 0x16, 0x17, 0x1c, 0x7f, 0x80, 0xfb, 0xfe, 0xff,
];

/// Bounded random fuzzing on stable: `STRATA_FUZZ_SECONDS` (default 2) of seed, mutated
/// and random inputs; `STRATA_FUZZ_SEED` replays a run.
#[test]
fn fuzz_command_dispatch_with_random_input() {
    start();
    let (seconds, seed) = stable_run_settings();
    let mut rng = StdRng::seed_from_u64(seed);
    let seeds = fuzzing::seed_inputs();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut runs = 0u64;
    while Instant::now() < deadline {
        let input = match rng.gen_range(0..10) {
            0..=1 => seeds[rng.gen_range(0..seeds.len())].clone(),
            2..=7 => {
                let base = seeds[rng.gen_range(0..seeds.len())].clone();
                let other = &seeds[rng.gen_range(0..seeds.len())];
                mutate(&mut rng, base, other, &INTERESTING, 1)
            }
            _ => {
                let len = rng.gen_range(0..96);
                (0..len).map(|_| rng.gen()).collect()
            }
        };
        if let Err(panic) = std::panic::catch_unwind(|| fuzzing::run_session(&input)) {
            eprintln!(
                "command dispatch fuzzing failed (STRATA_FUZZ_SEED={seed}) on input {}\nsteps \
                 (ids as if the session were 100 and the bystander 2):",
                hex(&input)
            );
            for step in fuzzing::describe(&input, 100, 2) {
                eprintln!("  {step}");
            }
            std::panic::resume_unwind(panic);
        }
        runs += 1;
    }
    eprintln!(
        "fuzzed command dispatch with {runs} inputs in {seconds}s (STRATA_FUZZ_SEED={seed}, storage: {})",
        fuzzing::has_storage()
    );
}

/// Writes the seed inputs as files into `$STRATA_FUZZ_CORPUS_DIR` for cargo-fuzz.
#[test]
#[ignore = "writes the fuzz seed corpus; run by scripts/fuzz"]
fn write_seed_corpus() {
    strata_protocol::fuzzing::write_seed_corpus(&fuzzing::seed_inputs());
}

/// Replays inputs, e.g. libFuzzer's crash or slow-unit files:
/// `STRATA_FUZZ_INPUT=fuzz/artifacts/command_dispatch/crash-... cargo test -p strata-server
/// --test fuzz_dispatch -- --ignored replay_input --nocapture` (several paths: `:`-separated).
#[test]
#[ignore = "replays the inputs named by $STRATA_FUZZ_INPUT"]
fn replay_input() {
    let Some(paths) = std::env::var_os("STRATA_FUZZ_INPUT") else {
        eprintln!("STRATA_FUZZ_INPUT is not set; nothing replayed");
        return;
    };
    start();
    // Relative paths are taken from the workspace root (tests run in crates/server).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for path in std::env::split_paths(&paths) {
        let path = if path.is_relative() && !path.exists() {
            root.join(path)
        } else {
            path
        };
        let input = std::fs::read(&path).unwrap();
        eprintln!("{}: {}", path.display(), hex(&input));
        for step in fuzzing::describe(&input, 100, 2) {
            eprintln!("  {step}");
        }
        let started = Instant::now();
        fuzzing::run_session(&input);
        eprintln!("  passed the checks in {:?}", started.elapsed());
    }
}

fn command(cmd: u8, body: &[u8]) -> Step {
    let mut p = vec![cmd];
    p.extend_from_slice(body);
    Step::Command(p)
}

fn query(sql: impl AsRef<[u8]>) -> Step {
    command(com::QUERY, sql.as_ref())
}

fn ping() -> Step {
    command(com::PING, b"")
}

/// The session still answers: its last reply is COM_PING's OK.
#[track_caller]
fn assert_alive(what: &str, out: &Outcome) {
    assert!(
        !out.closed_by_server && !out.stalled,
        "{what}: the session should go on ({out:?})"
    );
    assert_eq!(
        out.replies.last().and_then(|r| r.first()),
        Some(&OK_HEADER),
        "{what}: COM_PING should end with OK (errors {:?})",
        out.error_codes()
    );
}

/// The node answered with ERR `code` and then closed the connection.
#[track_caller]
fn assert_refused_and_closed(what: &str, out: &Outcome, code: u16) {
    assert!(
        out.closed_by_server,
        "{what}: the connection should be closed ({out:?})"
    );
    assert!(
        out.error_codes().contains(&code),
        "{what}: expected error {code}, got {:?}",
        out.error_codes()
    );
}

fn multi_login() -> Login {
    Login::default()
}

fn single_login() -> Login {
    Login {
        capabilities: cap::MULTI_RESULTS,
        ..Login::default()
    }
}

/// Known nasty requests, one session each (the harness checks after every session that
/// the node did not panic, still serves fresh connections and left the bystanders alone).
/// One test so that one MariaDB serves them all.
#[test]
fn nasty_requests_leave_the_server_serving_other_sessions() {
    start();
    huge_and_malformed_prepared_statement_executions_are_refused_cleanly();
    fetch_without_a_cursor_is_an_error();
    garbage_change_user_requests_are_refused_to_that_session_only();
    set_option_without_an_option_is_an_unknown_command();
    queries_that_are_not_utf8_get_answers();
    killing_oneself_closes_only_that_session();
    multi_statements_stop_at_the_first_error();
    sixteen_mib_packets_and_broken_continuations();
    bogus_frames_close_only_that_session();
}

fn huge_and_malformed_prepared_statement_executions_are_refused_cleanly() {
    // 65535 placeholders (the protocol's most); all NULL, then with values missing.
    let placeholders = vec!["?"; 65535].join(",");
    let out = fuzzing::run_steps(&multi_login(), |_| {
        let mut all_null = vec![com::STMT_EXECUTE];
        all_null.extend_from_slice(&1u32.to_le_bytes());
        all_null.push(0);
        all_null.extend_from_slice(&1u32.to_le_bytes());
        all_null.extend_from_slice(&vec![0xff; 65535usize.div_ceil(8)]);
        all_null.push(1);
        for _ in 0..65535 {
            all_null.extend_from_slice(&[0x06, 0]);
        }
        let mut no_values = all_null.clone();
        let bitmap = 1 + 4 + 1 + 4;
        no_values[bitmap..bitmap + 8192].fill(0);
        for i in 0..65535 {
            no_values[bitmap + 8192 + 1 + 2 * i] = 0x08; // LONGLONG, no value follows
        }
        let mut truncated = all_null.clone();
        truncated.truncate(12);
        vec![
            command(com::STMT_PREPARE, format!("DO {placeholders}").as_bytes()),
            Step::Sync,
            Step::Command(all_null),
            Step::Command(no_values),
            Step::Command(truncated),
            command(com::STMT_EXECUTE, &[1]),
            // 65536 placeholders: more than a prepared statement may have.
            command(com::STMT_PREPARE, format!("DO {placeholders},?").as_bytes()),
            // An unknown statement with a 1 MiB body.
            command(
                com::STMT_EXECUTE,
                &[vec![0x77, 0, 0, 0], vec![0xaa; 1 << 20]].concat(),
            ),
            ping(),
        ]
    });
    assert_alive("huge executions", &out);
    let errors = out.error_codes();
    assert!(
        errors.contains(&1243),
        "unknown statement handler: {errors:?}"
    );
    if fuzzing::has_storage() {
        assert!(
            errors.len() >= 3,
            "malformed executions get errors: {errors:?}"
        );
    }
}

fn fetch_without_a_cursor_is_an_error() {
    let out = fuzzing::run_steps(&multi_login(), |_| {
        let mut execute = vec![com::STMT_EXECUTE];
        execute.extend_from_slice(&1u32.to_le_bytes());
        execute.push(0);
        execute.extend_from_slice(&1u32.to_le_bytes());
        vec![
            command(com::STMT_PREPARE, b"SELECT 1"),
            Step::Command(execute),
            Step::Sync,
            command(com::STMT_FETCH, &[1, 0, 0, 0, 1, 0, 0, 0]),
            Step::Sync,
            command(com::STMT_FETCH, &[99, 0, 0, 0, 1, 0, 0, 0]),
            command(com::STMT_FETCH, &[1]),
            command(com::STMT_FETCH, b""),
            ping(),
        ]
    });
    assert_alive("fetch without cursor", &out);
    let errors = out.error_codes();
    assert!(errors.contains(&1243), "unknown statement: {errors:?}");
    assert!(errors.len() >= 4, "every fetch fails: {errors:?}");
}

fn garbage_change_user_requests_are_refused_to_that_session_only() {
    for body in [
        &b""[..],
        b"root",
        b"root\0\xff",
        b"root\0\x14\x01\x02",
        b"\0\0\0\0\0\0\0\0\0\0",
        b"nosuch\0\0\0\x2d\x00mysql_native_password\0\xfe\xff\xff\xff\xff\xff\xff\xff\xff",
    ] {
        let out = fuzzing::run_steps(&multi_login(), |_| {
            vec![command(com::CHANGE_USER, body), ping(), ping()]
        });
        let what = format!("COM_CHANGE_USER {body:?}");
        assert!(!out.stalled, "{what}: answered ({out:?})");
        // A packet that is no COM_CHANGE_USER closes the session; a request that reads
        // as one but does not authenticate (possibly after an authentication switch
        // request (0xfe) that the next packet answered, as MySQL does for unknown
        // users) is 1045 and the session goes on, as MariaDB's does.
        if out.closed_by_server {
            assert!(
                out.replies.last().and_then(|r| r.first()) == Some(&ERR_HEADER),
                "{what}: refused with an error ({out:?})"
            );
        } else {
            assert!(
                out.replies.iter().any(|r| r.first() == Some(&ERR_HEADER)),
                "{what}: refused with an error ({out:?})"
            );
            assert_eq!(
                out.replies.last().and_then(|r| r.first()),
                Some(&0),
                "{what}: the session answers a ping after it ({out:?})"
            );
        }
    }
}

fn set_option_without_an_option_is_an_unknown_command() {
    let out = fuzzing::run_steps(&multi_login(), |_| {
        vec![
            command(com::SET_OPTION, b""),
            command(com::SET_OPTION, &[7, 0]),
            command(com::SET_OPTION, &[1, 0]),
            query("SELECT 1; SELECT 2"),
            ping(),
        ]
    });
    assert_alive("COM_SET_OPTION", &out);
    assert_eq!(
        out.error_codes(),
        vec![1047, 1047, 1064],
        "empty and unknown options are unknown commands; option 1 turns multi-statements off"
    );
}

fn queries_that_are_not_utf8_get_answers() {
    let out = fuzzing::run_steps(&multi_login(), |_| {
        vec![
            query(b"SELECT '\xff\xfe'"),
            query(b"\xc3\x28"),
            query(b"SET NAMES \xff"),
            query(b"USE \xff\xfe"),
            query(b"SHOW DATABASES LIKE '\xe2\x82'"),
            query(b"KILL \xff"),
            query(b"SELECT @@\xff"),
            command(com::INIT_DB, b"\xff"),
            command(com::FIELD_LIST, b"\xff\0\xfe"),
            command(com::STMT_PREPARE, b"SELECT '\xff'"),
            ping(),
        ]
    });
    assert_alive("invalid UTF-8", &out);
}

fn killing_oneself_closes_only_that_session() {
    let out = fuzzing::run_steps(&multi_login(), |s| {
        vec![
            query(format!("KILL QUERY {}", s.connection_id)),
            Step::Sync,
            query(format!("KILL {}", s.connection_id)),
            ping(),
        ]
    });
    assert_refused_and_closed("KILL <self>", &out, 1927);
    let out = fuzzing::run_steps(&single_login(), |s| {
        vec![
            command(com::PROCESS_KILL, &s.connection_id.to_le_bytes()),
            ping(),
        ]
    });
    assert_refused_and_closed("COM_PROCESS_KILL <self>", &out, 1927);
    let out = fuzzing::run_steps(&multi_login(), |s| {
        vec![query(format!(
            "SELECT 1; KILL {}; SELECT 2",
            s.connection_id
        ))]
    });
    assert_refused_and_closed("KILL <self> inside a multi-statement", &out, 1927);
}

fn multi_statements_stop_at_the_first_error() {
    let out = fuzzing::run_steps(&multi_login(), |s| {
        vec![
            query("SELECT 1; SELECT nosuch_function(); SELECT 3"),
            query("SET @a = 1; USE nosuch; SELECT @a"),
            query("BEGIN; INSERT INTO nosuch_table VALUES (1); ROLLBACK"),
            query(format!(
                "SHOW TABLES; KILL QUERY {}; USE `x`; SELECT 2",
                s.connection_id
            )),
            query(";;;"),
            query("SELECT 1;;SELECT 2"),
            query("USE test; USE fuzz; USE nosuch; USE test"),
            ping(),
        ]
    });
    assert_alive("multi-statements", &out);
    assert!(
        out.error_codes().len() >= 5,
        "each failing multi-statement ends in an error: {:?}",
        out.error_codes()
    );
    // Without CLIENT_MULTI_STATEMENTS a second statement is a syntax error.
    let out = fuzzing::run_steps(&single_login(), |_| {
        vec![query("SELECT 1; SELECT 2"), ping()]
    });
    assert_alive("multi-statements off", &out);
    assert_eq!(out.error_codes(), vec![1064]);
}

/// A COM_INIT_DB of `len` payload bytes (a database name nobody has): cheap to handle,
/// so the time goes into framing.
fn init_db_of_len(len: usize) -> Vec<u8> {
    let mut p = vec![b'x'; len];
    p[0] = com::INIT_DB;
    p
}

fn sixteen_mib_packets_and_broken_continuations() {
    // Exactly one full frame of payload: an empty frame must follow, and does.
    let out = fuzzing::run_steps(&multi_login(), |_| {
        vec![Step::Command(init_db_of_len(FRAME)), ping()]
    });
    assert_alive("a packet of exactly 16 MiB - 1 bytes", &out);
    assert_eq!(out.error_codes(), vec![1049], "one unknown database");
    // Joined over two frames, below max_allowed_packet.
    let out = fuzzing::run_steps(&multi_login(), |_| {
        vec![Step::Command(init_db_of_len(FRAME + 100)), ping()]
    });
    assert_alive("a packet over two frames", &out);
    assert_eq!(out.error_codes(), vec![1049], "one unknown database");
    // The continuation frame carries a wrong sequence id: that session ends.
    for wrong in [0u8, 2, 7, 255] {
        let out = fuzzing::run_steps(&multi_login(), |_| {
            let payload = init_db_of_len(FRAME + 100);
            let (first, rest) = payload.split_at(FRAME);
            let mut raw = vec![0xff, 0xff, 0xff, 0];
            raw.extend_from_slice(first);
            raw.extend_from_slice(&(rest.len() as u32).to_le_bytes()[..3]);
            raw.push(wrong);
            raw.extend_from_slice(rest);
            vec![Step::Raw(raw), ping()]
        });
        assert!(
            out.closed_by_server,
            "continuation with sequence id {wrong}: {out:?}"
        );
    }
    // Larger than max_allowed_packet: error 1153, then the session ends.
    let out = fuzzing::run_steps(&multi_login(), |_| {
        let mut p = init_db_of_len(MAX_ALLOWED_PACKET + 10);
        p[0] = com::QUERY;
        vec![Step::Command(p), ping()]
    });
    assert_refused_and_closed("a packet over max_allowed_packet", &out, 1153);
    // A full frame whose continuation never comes: the client gives up, the node must
    // drop the session once the client is gone (checked by the harness).
    let out = fuzzing::run_steps(&multi_login(), |_| {
        let mut raw = vec![0xff, 0xff, 0xff, 0, com::PING];
        raw.resize(4 + FRAME, b' ');
        vec![Step::Raw(raw)]
    });
    assert!(out.stalled || out.closed_by_server, "{out:?}");
}

fn execute_without_params(id: u32) -> Step {
    let mut body = id.to_le_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&1u32.to_le_bytes());
    command(com::STMT_EXECUTE, &body)
}

// Regression test for a fuzzer finding (fixed in dd08bcf, prepared statements that create
// connection state now pin the session's connection): a SET run as a prepared statement
// (COM_STMT_PREPARE, COM_STMT_EXECUTE) changed the storage connection's session variables
// without the session recording them, and the connection went back to the pool, so the
// next session that borrowed it ran with the other client's settings. Found by
// fuzz_command_dispatch_with_random_input, input 01001900621f296650ff7c (prepare and
// execute `SET character_set_results = NULL`: the harness's bystander then read
// `@@session.character_set_results` = NULL instead of utf8mb4), and by libFuzzer with a
// mysqldump line, input (base64)
// aW41IAAAeHh4eCgAAAAAAAAANDQ0NDQ0NDQ0NDQ0NDQ0NDQwMDAwMTAwMDAwMCQwIDE5NzYxNDU5NTSmZm8=
// (prepare and execute `/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */`:
// the bystander in database `fuzz` got sql_mode NO_AUTO_VALUE_ON_ZERO).
#[test]
fn prepared_set_statements_do_not_leak_into_other_sessions() {
    if !start_with_storage() {
        return;
    }
    for sql in [
        "SET character_set_results = NULL",
        "SET SESSION sql_mode = ''",
        "SET time_zone = '+05:00'",
        "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
    ] {
        // Run it a few times so that the bystander certainly borrows the connection.
        for _ in 0..3 {
            let out = fuzzing::run_steps(&multi_login(), |_| {
                vec![
                    command(com::STMT_PREPARE, sql.as_bytes()),
                    execute_without_params(1),
                    ping(),
                ]
            });
            assert_alive(sql, &out);
        }
    }
}

// Regression test for a fuzzer finding (fixed in a7fd687): SET GLOBAL, which the compute
// node then refused as COM_QUERY (error 1227; it now keeps its own global values), ran
// when prepared. COM_STMT_PREPARE
// `SET @@global.sql_mode = ''` then COM_STMT_EXECUTE changed the storage node's global
// sql_mode, so every session that later got a new or reset storage connection ran with it
// (`SET GLOBAL max_connections = 10` would have capped the storage node for everyone).
// Found by libFuzzer (command_dispatch), input (hex) 00f3003235313836200520: a 16 MiB
// COM_PING, then prepare and execute `SET @@global.sql_mode = ''`; the bystander in
// database `test` then read @@session.sql_mode '' instead of STRICT_TRANS_TABLES,...
#[test]
fn prepared_set_global_is_refused_like_set_global() {
    if !start_with_storage() {
        return;
    }
    let run = |sql: &str| {
        let sql = sql.to_string();
        fuzzing::run_steps(&multi_login(), move |_| {
            vec![
                command(com::STMT_PREPARE, sql.as_bytes()),
                execute_without_params(1),
                ping(),
            ]
        })
    };
    let out = run("SET @@global.sql_mode = ''");
    // Should it ever run again, put the storage node back the same way.
    let _ = run("SET @@global.sql_mode = DEFAULT");
    assert_alive("a prepared SET GLOBAL", &out);
    // The compute node keeps global values itself and takes them as text only.
    assert!(
        out.error_codes().contains(&1235),
        "a prepared SET GLOBAL must be refused with error 1235 (got errors {:?})",
        out.error_codes()
    );
}

fn bogus_frames_close_only_that_session() {
    for raw in [
        vec![0, 0, 0, 0],                         // empty command packet
        vec![1, 0, 0, 9, com::PING],              // odd sequence id
        vec![2, 0, 0, 0, com::QUERY],             // length claims more than sent
        vec![5, 0, 0, 0, 0x03, b'S', 0, 0, 0, 0], // length shorter than the command
    ] {
        let out = fuzzing::run_steps(&multi_login(), |_| vec![Step::Raw(raw.clone()), ping()]);
        assert!(
            out.closed_by_server || out.stalled || !out.replies.is_empty(),
            "{raw:?}: {out:?}"
        );
    }
}
