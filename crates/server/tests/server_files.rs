//! Server-side files on the compute node's host (`server.secure_file_priv`): the file
//! Strata writes for `SELECT ... INTO OUTFILE/DUMPFILE` is byte for byte the file the
//! reference MariaDB (same host) writes for the same rows and options, on one and on
//! four data nodes; `LOAD DATA INFILE` loads what MariaDB loads; paths outside the
//! directory, existing files and accounts without FILE are refused as MariaDB refuses
//! them; without the setting nothing changes (1290). `LOAD_FILE()` reads the compute
//! node's host as MariaDB reads its own; `@@secure_file_priv` is the compute node's.

mod common;
mod diffkit;

use std::path::{Path, PathBuf};

use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

use common::{error_of, TestResult};

const TABLE: &str = "id INT PRIMARY KEY, i BIGINT, d DECIMAL(10,3), f DOUBLE, s VARCHAR(40), \
     b VARBINARY(40), dt DATETIME, dd DATE, e ENUM('x','y'), bt BIT(8), \
     u VARCHAR(20) CHARACTER SET utf8mb4";

const ROWS: &str = "INSERT INTO t VALUES \
     (1, -5, 1.5, 2.25, 'plain', X'00FF5C0922', '2024-01-02 03:04:05', '2024-01-02', 'x', b'1010', 'h\u{e9}llo'), \
     (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
     (3, 0, -0.001, 1e20, 'tab\\there', 'nl\\nx', '1999-12-31 23:59:59', '0000-00-00', 'y', b'11111111', '\u{65e5}\u{672c}'), \
     (4, 9, 7, 0.5, 'q\"uote,comma\\\\back', 'x''y', NULL, '2000-02-29', 'x', b'0', '\u{f1}'), \
     (5, 1, 2, 3, 'nul\\0byte\\r', '', '2024-06-01 00:00:00', NULL, 'y', NULL, ''), \
     (6, 12, 3.14, -1.5, 'n.t.r0ZN e+-', 'e+-.', NULL, NULL, NULL, b'1', 'x,y')";

/// The FIELDS/LINES clauses compared (each in both places of INTO).
const OPTIONS: &[&str] = &[
    "",
    "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n'",
    "FIELDS TERMINATED BY ',' ENCLOSED BY '\\'' ESCAPED BY '' LINES STARTING BY 'x:'",
    "FIELDS ESCAPED BY ''",
    "FIELDS TERMINATED BY 'n'",
    "FIELDS TERMINATED BY '.' OPTIONALLY ENCLOSED BY '\"'",
    "FIELDS TERMINATED BY '' ENCLOSED BY '|' LINES TERMINATED BY ''",
    "FIELDS ESCAPED BY '$' ENCLOSED BY 'x' TERMINATED BY 'e'",
    "CHARACTER SET binary",
];

struct Sides {
    node: ComputeNode,
    db: String,
    strata: Conn,
    reference: Conn,
    /// `secure_file_priv` of the compute node.
    allowed: PathBuf,
    /// Where the reference MariaDB writes.
    mariadb_dir: PathBuf,
    _dir: tempfile::TempDir,
}

async fn sides(nodes: usize) -> TestResult<Sides> {
    let dir = tempfile::tempdir()?;
    let allowed = dir.path().join("priv");
    let mariadb_dir = dir.path().join("mariadb");
    std::fs::create_dir_all(allowed.join("data"))?;
    std::fs::create_dir_all(&mariadb_dir)?;
    let storage = shared_storage(nodes).await?;
    let (priv_dir, base) = (allowed.clone(), allowed.join("data"));
    let node = ComputeNode::builder(&storage)
        .configure(move |c| {
            c.server.secure_file_priv = Some(priv_dir);
            c.server.file_base_dir = Some(base);
        })
        .start()
        .await?;
    let db = unique_name("files");
    let reference_db = unique_name("files_ref");
    storage.create_database(&reference_db).await?;
    let mut strata = diffkit::strata_database(&node, &db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    let shard = if nodes > 1 {
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'"
    } else {
        ""
    };
    strata
        .query_drop(format!("CREATE TABLE t ({TABLE}) {shard}"))
        .await?;
    reference
        .query_drop(format!("CREATE TABLE t ({TABLE})"))
        .await?;
    for c in [&mut strata, &mut reference] {
        c.query_drop("SET NAMES utf8mb4").await?;
        c.query_drop(ROWS).await?;
    }
    Ok(Sides {
        node,
        db,
        strata,
        reference,
        allowed,
        mariadb_dir,
        _dir: dir,
    })
}

/// The reply of a statement: Ok(affected rows, warnings) or the error code.
async fn reply(c: &mut Conn, sql: &str) -> Result<(u64, u16), u16> {
    match c.query_drop(sql).await {
        Ok(()) => Ok((c.affected_rows(), c.get_warnings())),
        Err(e) => {
            eprintln!("{sql}: {e}");
            Err(common::code_of(&e).unwrap_or(0))
        }
    }
}

fn quoted(p: &Path) -> String {
    p.display().to_string().replace('\'', "''")
}

/// Runs `statement` (`{file}` standing for the file name) on both sides and compares
/// the replies and the files.
async fn compare(s: &mut Sides, n: usize, statement: &str) -> TestResult {
    let mine = s.allowed.join(format!("out{n}.txt"));
    let theirs = s.mariadb_dir.join(format!("out{n}.txt"));
    let got = reply(&mut s.strata, &statement.replace("{file}", &quoted(&mine))).await;
    let want = reply(
        &mut s.reference,
        &statement.replace("{file}", &quoted(&theirs)),
    )
    .await;
    assert_eq!(got, want, "{statement}");
    let read = |p: &Path| std::fs::read(p).ok();
    let (mut got_bytes, mut want_bytes) = (read(&mine), read(&theirs));
    // Without ORDER BY, rows from several data nodes come in the order the nodes
    // answer: the same lines, byte for byte, in any order.
    if !statement.contains("ORDER BY") && statement.contains(" FROM ") {
        let sorted = |bytes: &mut Option<Vec<u8>>| {
            if let Some(b) = bytes.as_mut() {
                let mut lines: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
                lines.sort();
                *b = lines.join(&b'\n');
            }
        };
        sorted(&mut got_bytes);
        sorted(&mut want_bytes);
    }
    assert_eq!(
        got_bytes.as_deref().map(String::from_utf8_lossy),
        want_bytes.as_deref().map(String::from_utf8_lossy),
        "{statement}"
    );
    assert_eq!(got_bytes, want_bytes, "{statement}");
    Ok(())
}

async fn outfiles_are_mariadbs(nodes: usize) -> TestResult {
    let mut s = sides(nodes).await?;
    let mut n = 0;
    for options in OPTIONS {
        for statement in [
            format!("SELECT * INTO OUTFILE '{{file}}' {options} FROM t ORDER BY id"),
            format!(
                "SELECT id, s, b, u, d FROM t ORDER BY id DESC INTO OUTFILE '{{file}}' {options}"
            ),
        ] {
            n += 1;
            compare(&mut s, n, &statement).await?;
        }
    }
    for statement in [
        "SELECT e, COUNT(*), SUM(d), MAX(s) INTO OUTFILE '{file}' FROM t GROUP BY e ORDER BY CAST(e AS CHAR)",
        "SELECT * INTO OUTFILE '{file}' FROM t WHERE id > 100",
        "SELECT 1, 'a\tb', NULL, 2.5 INTO OUTFILE '{file}'",
        "SELECT b INTO DUMPFILE '{file}' FROM t WHERE id = 1",
        "SELECT s, b, i INTO DUMPFILE '{file}' FROM t WHERE id = 3",
        "SELECT s INTO DUMPFILE '{file}' FROM t WHERE id = 2",
        "SELECT s INTO DUMPFILE '{file}' FROM t ORDER BY id",
        "SELECT * INTO OUTFILE '{file}' FROM no_such_table",
        // What mariadb-dump --tab sends.
        "SELECT /*!40001 SQL_NO_CACHE */ * INTO OUTFILE '{file}' /*!50138 CHARACTER SET binary */ FIELDS TERMINATED BY ',' FROM `t`",
        "SELECT id, u, d INTO OUTFILE '{file}' CHARACTER SET utf8mb4 FIELDS TERMINATED BY ';' FROM t ORDER BY id",
    ] {
        n += 1;
        compare(&mut s, n, statement).await?;
    }
    // A conversion that changes bytes (utf8mb4 into latin1) is refused, no file left.
    let file = s.allowed.join("latin1.txt");
    let sql = format!(
        "SELECT u INTO OUTFILE '{}' CHARACTER SET latin1 FROM t WHERE id = 6",
        quoted(&file)
    );
    assert_eq!(reply(&mut s.strata, &sql).await, Err(1235));
    assert!(!file.exists());
    // The file exists now: 1086 on both sides.
    compare(&mut s, 1, "SELECT 1 INTO OUTFILE '{file}'").await?;
    diffkit::drop_and_shut_down(s.node, &mut s.strata, &s.db).await
}

#[tokio::test]
async fn outfiles_are_mariadbs_on_one_data_node() -> TestResult {
    outfiles_are_mariadbs(1).await
}

#[tokio::test]
async fn outfiles_are_mariadbs_on_four_data_nodes() -> TestResult {
    outfiles_are_mariadbs(4).await
}

/// Loads `file` (its bytes `data`) with `clauses` into a new table `l` on both sides
/// and compares replies and rows.
async fn compare_load(
    s: &mut Sides,
    nodes: usize,
    n: usize,
    data: &[u8],
    statement: &str,
) -> TestResult {
    let mine = s.allowed.join(format!("in{n}.txt"));
    let theirs = s.mariadb_dir.join(format!("in{n}.txt"));
    std::fs::write(&mine, data)?;
    std::fs::write(&theirs, data)?;
    let got = reply(&mut s.strata, &statement.replace("{file}", &quoted(&mine))).await;
    let want = reply(
        &mut s.reference,
        &statement.replace("{file}", &quoted(&theirs)),
    )
    .await;
    // Over several data nodes a failing row's number is a node's: refused (nothing
    // loaded).
    let refused = nodes > 1 && got == Err(1235) && want.is_err();
    if !refused {
        assert_eq!(got, want, "{statement}");
    }
    let (got_info, want_info) = (s.strata.info().to_string(), s.reference.info().to_string());
    if got.is_ok() {
        assert_eq!(got_info, want_info, "{statement}");
    }
    let select = "SELECT * FROM l ORDER BY id";
    let mine_rows = diffkit::run(&mut s.strata, select).await?;
    let their_rows = diffkit::run(&mut s.reference, select).await?;
    assert_eq!(mine_rows, their_rows, "{statement}");
    Ok(())
}

async fn loads_are_mariadbs(nodes: usize) -> TestResult {
    let mut s = sides(nodes).await?;
    let shard = if nodes > 1 {
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'"
    } else {
        ""
    };
    let columns = "id INT PRIMARY KEY, s VARCHAR(20), d DECIMAL(6,2)";
    s.strata
        .query_drop(format!("CREATE TABLE l ({columns}) ENGINE=InnoDB {shard}"))
        .await?;
    s.reference
        .query_drop(format!("CREATE TABLE l ({columns}) ENGINE=InnoDB"))
        .await?;
    let cases: &[(&[u8], &str)] = &[
        (
            b"1\tone\t1.5\n2\ttab\\\there\t\\N\n3\t\\N\t-2\n",
            "LOAD DATA INFILE '{file}' INTO TABLE l",
        ),
        (
            b"head\r\n4,\"q,uote\",3\r\n5,\"x\\\"y\",4\r\n",
            "LOAD DATA INFILE '{file}' INTO TABLE l FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES",
        ),
        // A duplicate key: MariaDB's error, nothing loaded.
        (b"6\tsix\t1\n1\tdup\t2\n", "LOAD DATA INFILE '{file}' INTO TABLE l"),
        (b"6\tsix\t1\n1\tdup\t2\n", "LOAD DATA INFILE '{file}' IGNORE INTO TABLE l"),
        (b"7\tseven\t1\n1\tnew\t2\n", "LOAD DATA INFILE '{file}' REPLACE INTO TABLE l"),
        // Strict mode: a bad value fails the load.
        (b"8\teight\tabc\n", "LOAD DATA INFILE '{file}' INTO TABLE l"),
        (b"9\tnine\n", "LOAD DATA INFILE '{file}' INTO TABLE l (id, s) SET d = 9.5"),
    ];
    for (n, (data, statement)) in cases.iter().enumerate() {
        compare_load(&mut s, nodes, n, data, statement).await?;
    }
    // A file that is not there: 13 on both.
    let missing = "LOAD DATA INFILE '{file}' INTO TABLE l";
    let got = reply(
        &mut s.strata,
        &missing.replace("{file}", &quoted(&s.allowed.join("nope"))),
    )
    .await;
    let want = reply(
        &mut s.reference,
        &missing.replace("{file}", &quoted(&s.mariadb_dir.join("nope"))),
    )
    .await;
    assert_eq!(got, want);
    // What Strata wrote, Strata loads back.
    let out = quoted(&s.allowed.join("round.txt"));
    s.strata.query_drop("CREATE TABLE l2 LIKE l").await?;
    s.strata
        .query_drop(format!("SELECT * INTO OUTFILE '{out}' FROM l"))
        .await?;
    s.strata
        .query_drop(format!("LOAD DATA INFILE '{out}' INTO TABLE l2"))
        .await?;
    let a = diffkit::run(&mut s.strata, "SELECT * FROM l ORDER BY id").await?;
    let b = diffkit::run(&mut s.strata, "SELECT * FROM l2 ORDER BY id").await?;
    assert_eq!(a, b);
    diffkit::drop_and_shut_down(s.node, &mut s.strata, &s.db).await
}

#[tokio::test]
async fn loads_are_mariadbs_on_one_data_node() -> TestResult {
    loads_are_mariadbs(1).await
}

#[tokio::test]
async fn loads_are_mariadbs_on_four_data_nodes() -> TestResult {
    loads_are_mariadbs(4).await
}

#[tokio::test]
async fn paths_and_privileges_are_checked() -> TestResult {
    let mut s = sides(1).await?;
    let outside = std::env::temp_dir().join(unique_name("outside"));
    let inside = s.allowed.join("in.txt");
    std::fs::write(&inside, b"1\t\\N\t\\N\n")?;
    std::os::unix::fs::symlink("/etc/hostname", s.allowed.join("link"))?;
    s.strata
        .query_drop("CREATE TABLE l (id INT PRIMARY KEY, s VARCHAR(20), d INT)")
        .await?;
    for sql in [
        format!("SELECT 1 INTO OUTFILE '{}'", quoted(&outside)),
        format!("SELECT 1 INTO OUTFILE '{}/../x'", quoted(&s.allowed)),
        format!("SELECT 1 INTO DUMPFILE '{}/../x'", quoted(&s.allowed)),
        format!(
            "LOAD DATA INFILE '{}' INTO TABLE l",
            quoted(&s.allowed.join("link"))
        ),
        "LOAD DATA INFILE '/etc/hostname' INTO TABLE l".to_string(),
        // Relative names resolve under file_base_dir, which is inside.
        "LOAD DATA INFILE '../../x' INTO TABLE l".to_string(),
    ] {
        let (code, message) = error_of(&mut s.strata, &sql).await;
        assert_eq!(code, Some(1290), "{sql}: {message}");
        assert!(message.contains("--secure-file-priv"), "{message}");
    }
    assert!(!outside.exists());
    // A bare name is in the current database's directory under file_base_dir.
    std::fs::create_dir_all(s.allowed.join("data").join(&s.db))?;
    s.strata
        .query_drop("SELECT 7 INTO OUTFILE 'bare.txt'")
        .await?;
    let bare = s.allowed.join("data").join(&s.db).join("bare.txt");
    assert_eq!(std::fs::read(&bare)?, b"7\n");
    // Without FILE: 1227 for OUTFILE, 1045 for LOAD DATA (as MariaDB).
    s.strata
        .query_drop("CREATE USER nofile@'%' IDENTIFIED BY 'pw'")
        .await?;
    s.strata
        .query_drop(format!("GRANT ALL ON {}.* TO nofile@'%'", s.db))
        .await?;
    let opts = mysql_async::OptsBuilder::from_opts(s.node.opts(Some(&s.db)))
        .user(Some("nofile"))
        .pass(Some("pw"));
    let mut c = Conn::new(opts).await?;
    let out = s.allowed.join("denied.txt");
    let (code, _) = error_of(&mut c, &format!("SELECT 1 INTO OUTFILE '{}'", quoted(&out))).await;
    assert_eq!(code, Some(1227));
    let (code, message) = error_of(
        &mut c,
        &format!("LOAD DATA INFILE '{}' INTO TABLE l", quoted(&inside)),
    )
    .await;
    assert_eq!(code, Some(1045), "{message}");
    assert!(!out.exists());
    c.disconnect().await?;
    s.strata.query_drop("DROP USER nofile@'%'").await?;
    diffkit::drop_and_shut_down(s.node, &mut s.strata, &s.db).await
}

#[tokio::test]
async fn without_the_setting_files_stay_refused() -> TestResult {
    let node = ComputeNode::on_shared_storage(1).await?;
    let mut c = node.connect(Some("test")).await?;
    let file = std::env::temp_dir().join(unique_name("nofiles"));
    for sql in [
        format!("SELECT 1 INTO OUTFILE '{}'", quoted(&file)),
        format!("SELECT 1 INTO DUMPFILE '{}'", quoted(&file)),
        format!("LOAD DATA INFILE '{}' INTO TABLE t", quoted(&file)),
        "SELECT LOAD_FILE('/etc/hostname')".to_string(),
    ] {
        let (code, message) = error_of(&mut c, &sql).await;
        assert_eq!(code, Some(1290), "{sql}: {message}");
        assert!(
            message.contains("storage hosts' files private"),
            "{message}"
        );
    }
    assert!(!file.exists());
    // A table named load_file is a table, not a call (parser_bug21114_innodb).
    let db = unique_name("lf");
    for sql in [
        format!("CREATE DATABASE {db}"),
        format!("USE {db}"),
        "CREATE TABLE load_file(a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b)) ENGINE InnoDB".into(),
        "CREATE TABLE child(x INT, y INT, CONSTRAINT fk FOREIGN KEY (x, y) REFERENCES load_file(a, b)) ENGINE InnoDB".into(),
        "INSERT INTO load_file(a, b) VALUES (1, 2)".into(),
        "USE test".into(),
        format!("DROP DATABASE {db}"),
    ] {
        c.query_drop(&sql).await.map_err(|e| format!("{sql}: {e}"))?;
    }
    // `@@secure_file_priv` is the compute node's: NULL (SHOW VARIABLES: '').
    let shown: Option<Option<String>> = c.query_first("SELECT @@secure_file_priv").await?;
    assert_eq!(shown, Some(None));
    let row: Option<(String, String)> = c
        .query_first("SHOW VARIABLES LIKE 'secure_file_priv'")
        .await?;
    assert_eq!(row.map(|r| r.1).as_deref(), Some(""));
    drop(c);
    node.shutdown().await;
    Ok(())
}

/// The files `LOAD_FILE()` reads in [`load_file_is_mariadbs`], written under `dir`:
/// binary bytes, a number, one not readable by all, a directory.
fn load_file_fixtures(dir: &Path) -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let files: [(&str, &[u8], u32); 3] = [
        ("lf.bin", b"12\x00\xff'\\\"\n\xe9", 0o644),
        ("num.txt", b"42", 0o644),
        ("private.txt", b"secret", 0o600),
    ];
    for (name, bytes, mode) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    std::fs::create_dir_all(dir.join("sub"))?;
    Ok(())
}

/// `LOAD_FILE()` reads the compute node's host as MariaDB reads its own: the same
/// values, column names and types, NULLs, in select items, VALUES, SET and WHERE.
async fn load_file_is_mariadbs(nodes: usize) -> TestResult {
    let mut s = sides(nodes).await?;
    load_file_fixtures(&s.allowed)?;
    load_file_fixtures(&s.mariadb_dir)?;
    let shard = if nodes > 1 {
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'"
    } else {
        ""
    };
    s.strata
        .query_drop(format!(
            "CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB) {shard}"
        ))
        .await?;
    s.reference
        .query_drop("CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
        .await?;
    for statement in [
        "SELECT LOAD_FILE('{d}/lf.bin')",
        "SELECT HEX(LOAD_FILE('{d}/lf.bin')) AS h, LENGTH(LOAD_FILE('{d}/lf.bin'))",
        "SELECT LOAD_FILE('{d}/num.txt') + 1, LOAD_FILE('{d}/num.txt') = 42, load_file(\"{d}/num.txt\") AS n",
        "SELECT LOAD_FILE('{d}/missing'), LOAD_FILE('{d}/private.txt') IS NULL, LOAD_FILE('{d}/sub'), LOAD_FILE(NULL)",
        "SELECT IFNULL(LOAD_FILE('{d}/missing'), 'none') AS x",
        "SELECT CHARSET(LOAD_FILE('{d}/lf.bin')) c, COLLATION(LOAD_FILE('{d}/lf.bin')) l, COERCIBILITY(LOAD_FILE('{d}/lf.bin')) o",
        "INSERT INTO blobs VALUES (1, LOAD_FILE('{d}/lf.bin')), (2, LOAD_FILE('{d}/missing')), (3, LOAD_FILE('{d}/num.txt'))",
        "UPDATE blobs SET b = LOAD_FILE('{d}/num.txt') WHERE b = LOAD_FILE('{d}/lf.bin')",
        "SELECT id, HEX(b) FROM blobs WHERE b = LOAD_FILE('{d}/num.txt') OR b IS NULL ORDER BY id",
        "DELETE FROM blobs WHERE b = LOAD_FILE('{d}/num.txt')",
        "SELECT id, b IS NULL FROM blobs ORDER BY id",
    ] {
        let mine = quoted(&s.allowed);
        let theirs = quoted(&s.mariadb_dir);
        let got = diffkit::run(&mut s.strata, &statement.replace("{d}", &mine)).await?;
        let want = diffkit::run(&mut s.reference, &statement.replace("{d}", &theirs)).await?;
        // Column names hold the paths.
        let got = format!("{got:?}").replace(&mine, "{d}");
        let want = format!("{want:?}").replace(&theirs, "{d}");
        assert_eq!(got, want, "{statement}");
    }
    // The column's type is the function's: LONGBLOB, binary, nullable.
    for name in ["lf.bin", "missing"] {
        let mut types = Vec::new();
        for (c, dir) in [
            (&mut s.strata, &s.allowed),
            (&mut s.reference, &s.mariadb_dir),
        ] {
            let sql = format!("SELECT LOAD_FILE('{}')", quoted(&dir.join(name)));
            let result = c.query_iter(sql).await?;
            let columns = result.columns().ok_or("no columns")?;
            let column = columns.first().ok_or("no column")?;
            types.push((
                column.column_type(),
                column.character_set(),
                column.flags(),
                column.column_length(),
            ));
            result.drop_result().await?;
        }
        assert_eq!(types[0], types[1], "{name}");
    }
    diffkit::drop_and_shut_down(s.node, &mut s.strata, &s.db).await
}

#[tokio::test]
async fn load_file_is_mariadbs_on_one_data_node() -> TestResult {
    load_file_is_mariadbs(1).await
}

#[tokio::test]
async fn load_file_is_mariadbs_on_four_data_nodes() -> TestResult {
    load_file_is_mariadbs(4).await
}

/// MariaDB's NULL for what LOAD_FILE may not read (outside the directory, a symlink
/// out of it, an account without FILE); relative names under the data directory;
/// 1235 for an argument only the data node knows; `@@secure_file_priv` is the
/// compute node's directory.
#[tokio::test]
async fn load_file_reads_only_what_mariadb_would() -> TestResult {
    let mut s = sides(1).await?;
    load_file_fixtures(&s.allowed)?;
    std::os::unix::fs::symlink("/etc/hostname", s.allowed.join("link"))?;
    std::fs::write(s.allowed.join("data").join("rel.txt"), b"rel")?;
    let d = quoted(&s.allowed);
    assert_eq!(
        value(&mut s.strata, "SELECT LOAD_FILE('/etc/hostname')".into()).await?,
        None
    );
    assert_eq!(
        value(&mut s.strata, format!("SELECT LOAD_FILE('{d}/link')")).await?,
        None
    );
    assert_eq!(
        value(
            &mut s.strata,
            format!("SELECT LOAD_FILE('{d}/../priv/num.txt')")
        )
        .await?,
        Some(b"42".to_vec())
    );
    assert_eq!(
        value(
            &mut s.strata,
            format!("SELECT LOAD_FILE('{d}/data/../../x')")
        )
        .await?,
        None
    );
    assert_eq!(
        value(&mut s.strata, "SELECT LOAD_FILE('rel.txt')".into()).await?,
        Some(b"rel".to_vec())
    );
    // A backslash in the name, as the session's sql_mode reads it.
    std::fs::write(s.allowed.join("b\\s.txt"), b"bs")?;
    assert_eq!(
        value(&mut s.strata, format!("SELECT LOAD_FILE('{d}/b\\\\s.txt')")).await?,
        Some(b"bs".to_vec())
    );
    s.strata
        .query_drop("SET sql_mode = 'NO_BACKSLASH_ESCAPES'")
        .await?;
    assert_eq!(
        value(&mut s.strata, format!("SELECT LOAD_FILE('{d}/b\\s.txt')")).await?,
        Some(b"bs".to_vec())
    );
    s.strata.query_drop("SET sql_mode = DEFAULT").await?;
    let hex_path: String = format!("{d}/num.txt")
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(
        value(&mut s.strata, format!("SELECT LOAD_FILE(0x{hex_path})")).await?,
        Some(b"42".to_vec())
    );
    for sql in [
        "SELECT LOAD_FILE(s) FROM t".to_string(),
        format!("SELECT LOAD_FILE(CONCAT('{d}', '/num.txt'))"),
        "SELECT LOAD_FILE(@f)".to_string(),
        // Where the value is taken later than now: refused as before.
        format!("CREATE TABLE lf AS SELECT LOAD_FILE('{d}/num.txt')"),
        format!("CREATE VIEW lfv AS SELECT LOAD_FILE('{d}/num.txt')"),
        format!("PREPARE p FROM 'SELECT LOAD_FILE(''{d}/num.txt'')'"),
    ] {
        let (code, message) = error_of(&mut s.strata, &sql).await;
        assert!(
            matches!(code, Some(1235 | 1290)),
            "{sql}: {code:?} {message}"
        );
    }
    let shown: Option<String> = s.strata.query_first("SELECT @@secure_file_priv").await?;
    let dir = format!("{}/", std::fs::canonicalize(&s.allowed)?.display());
    assert_eq!(shown.as_deref(), Some(dir.as_str()));
    let row: Option<(String, String)> = s
        .strata
        .query_first("SHOW VARIABLES LIKE 'secure_file_priv'")
        .await?;
    assert_eq!(row.map(|r| r.1).as_deref(), Some(dir.as_str()));
    let row: Option<(Option<String>, String)> = s
        .strata
        .query_first("SELECT SESSION_VALUE, GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'SECURE_FILE_PRIV'")
        .await?;
    assert_eq!(row, Some((None, dir.clone())));
    // Without FILE: NULL, as MariaDB gives it.
    s.strata
        .query_drop("CREATE USER nofile_lf@'%' IDENTIFIED BY 'pw'")
        .await?;
    s.strata
        .query_drop(format!("GRANT ALL ON {}.* TO nofile_lf@'%'", s.db))
        .await?;
    let opts = mysql_async::OptsBuilder::from_opts(s.node.opts(Some(&s.db)))
        .user(Some("nofile_lf"))
        .pass(Some("pw"));
    let mut c = Conn::new(opts).await?;
    let v: Option<Option<Vec<u8>>> = c
        .query_first(format!("SELECT LOAD_FILE('{d}/num.txt')"))
        .await?;
    assert_eq!(v.flatten(), None);
    c.disconnect().await?;
    s.strata.query_drop("DROP USER nofile_lf@'%'").await?;
    diffkit::drop_and_shut_down(s.node, &mut s.strata, &s.db).await
}

/// The one value of `sql`.
async fn value(c: &mut Conn, sql: String) -> TestResult<Option<Vec<u8>>> {
    let v: Option<Option<Vec<u8>>> = c.query_first(sql).await?;
    Ok(v.flatten())
}
