//! Answers of MariaDB's `main/` test files (issue 14, the `--every 8 --offset 7`
//! sample) that differed through Strata on one data node, reduced to their statements:
//! a query of comments alone holding a `;` (mysql_comments: the mariadb client's
//! `--enable-comments` sends such comments as a query of their own; Strata answered
//! 1065 where MariaDB answers OK).

mod common;

use common::{error_of, TestResult};
use mysql_async::Conn;
use strata_testkit::{shared_storage, ComputeNode};

/// Queries of comments alone are OK, a `;` inside a comment too; an empty one is
/// 1065: the same answers as MariaDB's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_of_comments_holding_a_semicolon_is_ok() -> TestResult {
    let storage = shared_storage(1).await?;
    let node = ComputeNode::builder(&storage).start().await?;
    let mut strata = node.connect(Some("test")).await?;
    let mut reference = Conn::new(storage.opts(0, None)).await?;
    let queries = [
        "## After the ';', therefore not part of the body",
        "# a ; b",
        "-- a ; b\n",
        "/* a ; b */",
        "# one ;\n-- two ;\n/*\n three ;\n */\n",
        "/* a */",
        " ",
    ];
    let mut differ = Vec::new();
    for sql in queries {
        let expected = error_of(&mut reference, sql).await.0;
        let got = error_of(&mut strata, sql).await.0;
        if expected != got {
            differ.push(format!("{sql:?}: MariaDB {expected:?}, Strata {got:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    node.shutdown().await;
    Ok(())
}
