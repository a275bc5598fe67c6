//! `LOAD DATA LOCAL INFILE` with a real client (mysql_async's LOCAL INFILE handler):
//! the same files loaded into one plain MariaDB and through Strata into sharded,
//! global, vertical and AUTO_INCREMENT tables over four data nodes give the same
//! replies (affected rows, info string, warning count, error code) and the same rows;
//! a client without the capability is refused; a large file spreads over every node.

mod common;
mod diffkit;

use bytes::Bytes;
use futures_util::StreamExt;
use mysql_async::prelude::*;
use mysql_async::Conn;
use strata_testkit::{shared_storage, unique_name, ComputeNode};

use common::{assert_code, first_int, TestResult};
use diffkit::{create_on_both, node_and_reference, run};

/// Installs a handler that sends `data` in pieces of `piece` bytes for the next LOAD.
fn serve_file(conn: &mut Conn, data: &[u8], piece: usize) {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(piece.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    conn.set_infile_handler(async move { Ok(futures_util::stream::iter(chunks).boxed()) });
}

/// What a LOAD answered: (affected rows, info, warnings, last insert id) or the error code.
type Reply = Result<(u64, String, u16, Option<u64>), u16>;

/// Loads `data` into `table` (served in pieces of `piece` bytes), which must fail with
/// error `code` and leave the table empty.
async fn load_fails_leaving_empty(
    conn: &mut Conn,
    table: &str,
    data: &[u8],
    piece: usize,
    code: u16,
) -> TestResult {
    let sql = format!("LOAD DATA LOCAL INFILE 'f' INTO TABLE {table}");
    assert_eq!(load(conn, &sql, data, piece).await?, Err(code));
    let count = format!("SELECT COUNT(*) FROM {table}");
    assert_eq!(first_int(conn, &count).await?, 0);
    Ok(())
}

async fn load(conn: &mut Conn, sql: &str, data: &[u8], piece: usize) -> TestResult<Reply> {
    serve_file(conn, data, piece);
    Ok(match conn.query_drop(sql).await {
        Ok(()) => Ok((
            conn.affected_rows(),
            conn.info().to_string(),
            conn.get_warnings(),
            conn.last_insert_id(),
        )),
        Err(mysql_async::Error::Server(e)) => Err(e.code),
        Err(e) => return Err(e.into()),
    })
}

const TABLES: &[(&str, &str, &str)] = &[
    (
        "s",
        "id INT PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x', amount DECIMAL(10,2), note VARCHAR(30)",
        "SHARD BY functiontype 'auto_crc32' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
    (
        "g",
        "code INT PRIMARY KEY, label VARCHAR(20)",
        "SHARD BY GLOBAL",
    ),
    (
        "v",
        "id INT PRIMARY KEY, msg VARCHAR(40)",
        "SHARD BY VERTICAL ON DATANODE '2'",
    ),
    (
        "a",
        "id INT PRIMARY KEY AUTO_INCREMENT, k INT, note VARCHAR(20)",
        "SHARD BY functiontype 'auto_mod' USING COLUMN 'id' ON DATANODE '1-4'",
    ),
];

/// (statement, file, table to compare afterwards, its order).
const CASES: &[(&str, &[u8], &str)] = &[
    (
        "LOAD DATA LOCAL INFILE 'plain.tsv' INTO TABLE s",
        b"1\tann\t1.50\thello\n2\tbob\t\\N\twor\\tld\n3\tcy\t2.25\t\\N\n4\tdee\t7\tlast line, no newline",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE s FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' \
         LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES (note, id, name, amount)",
        b"note,id,name,amount\r\n\"a,b\",10,\"dd\",3.5\r\n\"say \"\"hi\"\"\",11,ee,\\N\r\n,12,ff,4\r\nNULL,13,\"multi\r\nline\",1\r\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'short' INTO TABLE s",
        b"20\tgg\n21\thh\t1\tn\textra\n22\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'rep' REPLACE INTO TABLE s (id, name)",
        b"1\treplaced\n2\talso\n30\tnew\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'ign' IGNORE INTO TABLE s (id, name)",
        b"1\tkept\n31\tnew\n3\tkept\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'dup' INTO TABLE s (id, name)",
        b"1\tdup\n32\tnew\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'pre' INTO TABLE s FIELDS TERMINATED BY '|' LINES STARTING BY 'xx' \
         (id, name, amount, @n) SET note = CONCAT(@n, '!')",
        b"xx40|pp|1|one\nskipped line\njunk xx41|qq|2|two\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'bad' INTO TABLE s (id, name, amount)",
        b"50\tok\t1\n51\tbad\tabc\n",
        "s",
    ),
    (
        "LOAD DATA LOCAL INFILE 'l1' INTO TABLE s CHARACTER SET latin1 (id, name)",
        b"60\t\xe9t\xe9\n",
        "s",
    ),
    ("LOAD DATA LOCAL INFILE 'empty' INTO TABLE s", b"", "s"),
    (
        "LOAD DATA LOCAL INFILE 'g' INTO TABLE g FIELDS TERMINATED BY ','",
        b"1,one\n2,two\n3,\\N\n",
        "g",
    ),
    (
        "LOAD DATA LOCAL INFILE 'v' INTO TABLE v FIELDS TERMINATED BY ','",
        b"1,first\n2,second,extra\n",
        "v",
    ),
    (
        "LOAD DATA LOCAL INFILE 'a1' INTO TABLE a (k, note)",
        b"5\tx\n6\ty\n7\tz\n",
        "a",
    ),
    (
        "LOAD DATA LOCAL INFILE 'a2' INTO TABLE a",
        b"0\t7\tzero\n100\t8\tgiven\n\\N\t9\tnull\n",
        "a",
    ),
];

#[tokio::test]
async fn loads_give_what_one_mariadb_gives() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("ld", "ldref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, &[]).await?;
    let mut mismatches = Vec::new();
    for (i, (sql, data, table)) in CASES.iter().enumerate() {
        // Pieces that cut rows, escapes and terminators anywhere.
        let piece = [3, 7, 64, 1 << 16][i % 4];
        let want = load(&mut reference, sql, data, piece).await?;
        let got = load(&mut strata, sql, data, piece).await?;
        if want != got {
            mismatches.push(format!("{sql}\n  MariaDB: {want:?}\n  Strata:  {got:?}"));
        }
        let query = format!("SELECT * FROM {table} ORDER BY 1");
        for query in [query.as_str(), "SELECT LAST_INSERT_ID()"] {
            let (want, got) = (
                run(&mut reference, query).await?,
                run(&mut strata, query).await?,
            );
            if want == got {
                continue;
            }
            mismatches.push(format!(
                "after {sql}\n  MariaDB: {}\n  Strata:  {}",
                want.describe(20),
                got.describe(20)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // A later INSERT continues the global sequence above every loaded value (MariaDB's
    // InnoDB may leave a gap after a bulk load; the sequence does not).
    strata.query_drop("INSERT INTO a (k) VALUES (10)").await?;
    assert_eq!(strata.last_insert_id(), Some(102));
    diffkit::drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn a_failed_row_rolls_the_load_back_on_every_node() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("ldtx", "ldtxref").await?;
    create_on_both(&mut strata, &mut reference, &TABLES[..1], &[]).await?;
    let mut file = Vec::new();
    for id in 1..=200 {
        file.extend_from_slice(format!("{id}\tn{id}\t{id}\n").as_bytes());
    }
    file.extend_from_slice(b"201\tbad\tnot a number\n");
    // REPLACE takes away LOCAL's implicit IGNORE: the bad value is an error in strict mode.
    let sql = "LOAD DATA LOCAL INFILE 'f' REPLACE INTO TABLE s (id, name, amount)";
    let want = load(&mut reference, sql, &file, 4096).await?;
    let got = load(&mut strata, sql, &file, 4096).await?;
    assert_eq!(got.map(|_| ()), want.map(|_| ()));
    let count = "SELECT COUNT(*) FROM s";
    assert_eq!(
        first_int(&mut strata, count).await?,
        first_int(&mut reference, count).await?
    );
    strata.query_drop("DELETE FROM s").await?;
    // A row Strata cannot place, after batches went to every node: nothing stays.
    let (name, columns, distribution) = TABLES[3];
    let create = format!("CREATE TABLE {name} ({columns}) {distribution}");
    strata.query_drop(create).await?;
    let mut many = Vec::new();
    for id in 1..=30_000 {
        many.extend_from_slice(format!("{id}\t{id}\tsome text to fill the batches\n").as_bytes());
    }
    many.extend_from_slice(b"x\t1\tnot a number\n");
    load_fails_leaving_empty(&mut strata, "a", &many, 1 << 16, 1235).await?;
    let sql = "LOAD DATA LOCAL INFILE 'f' INTO TABLE s (id, name, amount)";
    // Inside a transaction: the load is undone by ROLLBACK, on every node.
    strata.query_drop("BEGIN").await?;
    let reply = load(&mut strata, sql, &file[..file.len() - 22], 100).await?;
    assert_eq!(reply.map(|r| r.0), Ok(200));
    assert_eq!(first_int(&mut strata, "SELECT COUNT(*) FROM s").await?, 200);
    strata.query_drop("ROLLBACK").await?;
    assert_eq!(first_int(&mut strata, "SELECT COUNT(*) FROM s").await?, 0);
    diffkit::drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn what_cannot_be_loaded_is_refused_and_the_session_goes_on() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("ldref", "ldrefref").await?;
    create_on_both(&mut strata, &mut reference, TABLES, &[]).await?;
    let refused = [
        ("LOAD DATA INFILE '/etc/hostname' INTO TABLE s", 1290),
        (
            "LOAD DATA LOCAL INFILE 'f' INTO TABLE s (@i, name) SET id = @i + 1",
            1235,
        ),
        (
            "LOAD DATA LOCAL INFILE 'f' INTO TABLE a (k) SET id = 3",
            1235,
        ),
        (
            "LOAD DATA LOCAL INFILE 'f' INTO TABLE s CHARACTER SET sjis",
            1235,
        ),
        ("LOAD DATA LOCAL INFILE 'f' INTO TABLE nope", 1146),
        ("LOAD XML LOCAL INFILE 'f' INTO TABLE s", 1235),
    ];
    for (sql, code) in refused {
        let reply = load(&mut strata, sql, b"1\tx\n", 16).await?;
        assert_eq!(reply, Err(code), "{sql}");
        assert_eq!(first_int(&mut strata, "SELECT 1").await?, 1);
    }
    diffkit::drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn a_transfer_the_client_aborts_loads_what_arrived_as_mariadb_does() -> TestResult {
    let (node, db, mut strata, mut reference) = node_and_reference("ldab", "ldabref").await?;
    create_on_both(&mut strata, &mut reference, &TABLES[..1], &[]).await?;
    let reference_db: Option<String> = reference.query_first("SELECT DATABASE()").await?;
    let mut replies = Vec::new();
    for c in [&mut reference, &mut strata] {
        let chunks: Vec<std::io::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"1\tone\n2\ttw")),
            Err(std::io::Error::other("the file went away")),
        ];
        c.set_infile_handler(async move { Ok(futures_util::stream::iter(chunks).boxed()) });
        let e = c
            .query_drop("LOAD DATA LOCAL INFILE 'f' INTO TABLE s (id, name)")
            .await
            .expect_err("the client reports its file error");
        replies.push(format!("{e:?}").contains("the file went away"));
    }
    // The driver may drop a connection whose file failed: look through new ones.
    let storage = shared_storage(4).await?;
    let mut reference = Conn::new(storage.opts(0, reference_db.as_deref())).await?;
    let mut strata = node.connect(Some(&db)).await?;
    for c in [&mut reference, &mut strata] {
        let rows = run(c, "SELECT id, name FROM s ORDER BY id").await?;
        replies.push(format!("{rows:?}").contains("tw"));
    }
    let replies = [replies[0], replies[2], replies[1], replies[3]];
    assert_eq!(
        replies[..2],
        replies[2..],
        "MariaDB, then Strata: {replies:?}"
    );
    diffkit::drop_and_shut_down(node, &mut strata, &db).await
}

#[tokio::test]
async fn without_the_capability_the_statement_is_refused() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| c.server.local_infile = false)
        .start()
        .await?;
    let db = unique_name("ldoff");
    let mut c = diffkit::strata_tables(&node, &db, &TABLES[..1]).await?;
    serve_file(&mut c, b"1\tx\n", 16);
    let e = c
        .query_drop("LOAD DATA LOCAL INFILE 'f' INTO TABLE s")
        .await
        .expect_err("refused");
    assert_code(&e, 4166);
    assert_eq!(first_int(&mut c, "SELECT COUNT(*) FROM s").await?, 0);
    diffkit::drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn a_large_file_spreads_over_four_nodes() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("ldbig");
    let mut c = diffkit::strata_tables(&node, &db, &TABLES[..1]).await?;
    let rows = 50_000u64;
    let mut file = Vec::new();
    for id in 1..=rows {
        file.extend_from_slice(
            format!("{id},name {id},{}.{:02},\"n,{id}\"\n", id % 1000, id % 100).as_bytes(),
        );
    }
    let sql =
        "LOAD DATA LOCAL INFILE 'big.csv' INTO TABLE s FIELDS TERMINATED BY ',' ENCLOSED BY '\"'";
    // The same file into one MariaDB, for the time it takes there (printed, not asserted).
    let reference_db = unique_name("ldbigref");
    storage.create_database(&reference_db).await?;
    let mut reference = Conn::new(storage.opts(0, Some(&reference_db))).await?;
    reference
        .query_drop(format!("CREATE TABLE s ({})", TABLES[0].1))
        .await?;
    let started = std::time::Instant::now();
    let direct = load(&mut reference, sql, &file, 1 << 16).await?;
    let direct_elapsed = started.elapsed();
    let started = std::time::Instant::now();
    let reply = load(&mut c, sql, &file, 1 << 16).await?;
    let elapsed = started.elapsed();
    eprintln!(
        "loaded {rows} rows ({} bytes): over 4 data nodes through Strata in {elapsed:?}, into one MariaDB in {direct_elapsed:?}",
        file.len()
    );
    assert_eq!(reply, direct);
    assert_eq!(
        reply,
        Ok((
            rows,
            format!("Records: {rows}  Deleted: 0  Skipped: 0  Warnings: 0"),
            0,
            None
        ))
    );
    assert_eq!(
        first_int(&mut c, "SELECT COUNT(*) FROM s").await?,
        rows as i64
    );
    let sum = first_int(&mut c, "SELECT SUM(id) FROM s").await?;
    assert_eq!(sum as u64, rows * (rows + 1) / 2);
    for dnid in 1..=4 {
        let n = first_int(
            &mut c,
            &format!("/*!strata:dnid={dnid}*/ SELECT COUNT(*) FROM s"),
        )
        .await?;
        assert!(n > rows as i64 / 8, "data node {dnid} holds {n} rows");
    }
    let point: Option<(String, String)> = c
        .query_first("SELECT name, note FROM s WHERE id = 4321")
        .await?;
    assert_eq!(point, Some(("name 4321".into(), "n,4321".into())));
    diffkit::drop_and_shut_down(node, &mut c, &db).await
}

// The client runs while the test waits for it: the node needs threads of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mariadb_client_loads_a_file_through_strata() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let db = unique_name("ldcli");
    let mut c = diffkit::strata_tables(&node, &db, &TABLES[..1]).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("rows.csv");
    std::fs::write(&path, b"1,a\n2,b\n3,c\n1,dup\n")?;
    let mut args = common::root_client_args(node.service_addr());
    args.extend([
        "--local-infile=1".to_string(),
        "-vvv".to_string(),
        format!("--database={db}"),
    ]);
    let sql = format!(
        "LOAD DATA LOCAL INFILE '{}' INTO TABLE s FIELDS TERMINATED BY ',' (id, name);\n",
        path.display()
    );
    let out = common::run_piped("mariadb", &args, sql.as_bytes())?;
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("Query OK, 3 rows affected")
            && out.contains("Records: 4  Deleted: 0  Skipped: 1  Warnings: 1"),
        "{out}"
    );
    assert_eq!(first_int(&mut c, "SELECT COUNT(*) FROM s").await?, 3);
    diffkit::drop_and_shut_down(node, &mut c, &db).await
}

#[tokio::test]
async fn a_row_longer_than_max_allowed_packet_is_refused_after_the_file() -> TestResult {
    let storage = shared_storage(4).await?;
    let node = ComputeNode::builder(&storage)
        .configure(|c| {
            c.server.max_allowed_packet = 1 << 20;
            // Small batches: many go out to every node before the long row.
            c.server.load_data_batch_bytes = 4096;
        })
        .start()
        .await?;
    let db = unique_name("ldlong");
    let mut c = diffkit::strata_tables(&node, &db, &TABLES[..1]).await?;
    let mut file = Vec::new();
    for id in 1..=5000 {
        file.extend_from_slice(format!("{id}\tfine\n").as_bytes());
    }
    file.extend_from_slice(b"5001\t");
    file.extend(std::iter::repeat_n(b'x', 3 << 20));
    file.extend_from_slice(b"\n5002\tafter\n");
    load_fails_leaving_empty(&mut c, "s", &file, 1 << 15, 1153).await?;
    diffkit::drop_and_shut_down(node, &mut c, &db).await
}
