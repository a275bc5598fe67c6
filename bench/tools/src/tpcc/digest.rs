//! Read-only queries whose answers depend only on the loaded data (no dates): run through
//! Strata and on direct MariaDB right after the same deterministic load, their outputs
//! must be identical, a differential test of Strata's cross-node SQL on TPC-C's data
//! (GROUP BY merged over nodes, NULL groups, string ordering under the collation,
//! ORDER BY ... LIMIT across nodes, co-located and global joins, COUNT(DISTINCT)).

use crate::mysql::{Conn, Error};

/// The queries; each has an ORDER BY that makes its answer one sequence of rows.
const QUERIES: [&str; 12] = [
    "SELECT d_w_id, SUM(d_ytd), SUM(d_next_o_id), COUNT(*) FROM district GROUP BY d_w_id ORDER BY d_w_id",
    "SELECT c_w_id, c_d_id, COUNT(*), SUM(c_balance), MIN(c_last), MAX(c_first), SUM(c_discount) \
     FROM customer GROUP BY c_w_id, c_d_id ORDER BY c_w_id, c_d_id",
    "SELECT c_last, COUNT(*) FROM customer GROUP BY c_last ORDER BY COUNT(*) DESC, c_last LIMIT 25",
    "SELECT c_w_id, c_d_id, c_id, c_first FROM customer ORDER BY c_first, c_w_id, c_d_id, c_id LIMIT 25",
    "SELECT ol_w_id, COUNT(*), SUM(ol_amount), COUNT(DISTINCT ol_i_id), MAX(ol_dist_info) \
     FROM order_line GROUP BY ol_w_id ORDER BY ol_w_id",
    "SELECT s_w_id, COUNT(*), SUM(s_quantity), AVG(s_quantity), MIN(s_data) FROM stock \
     GROUP BY s_w_id ORDER BY s_w_id",
    "SELECT COUNT(*), SUM(i_price), MAX(i_name), MIN(i_data) FROM item",
    "SELECT o_carrier_id, COUNT(*), SUM(o_ol_cnt) FROM orders GROUP BY o_carrier_id ORDER BY o_carrier_id",
    "SELECT w.w_id, COUNT(*), SUM(c.c_credit_lim) FROM warehouse w JOIN customer c ON c.c_w_id = w.w_id \
     WHERE c.c_credit = 'BC' GROUP BY w.w_id ORDER BY w.w_id",
    "SELECT ol.ol_w_id, COUNT(*), SUM(i.i_price) FROM order_line ol JOIN item i ON i.i_id = ol.ol_i_id \
     WHERE i.i_data LIKE '%ORIGINAL%' GROUP BY ol.ol_w_id ORDER BY ol.ol_w_id",
    "SELECT s_i_id, s_w_id, s_quantity FROM stock WHERE s_quantity < 12 \
     ORDER BY s_quantity, s_i_id DESC, s_w_id LIMIT 30",
    "SELECT no_w_id, no_d_id, MIN(no_o_id), MAX(no_o_id), COUNT(*) FROM new_order \
     GROUP BY no_w_id, no_d_id ORDER BY no_w_id, no_d_id",
];

/// The answers as text: each query, then its rows tab-separated (NULL as `NULL`).
pub async fn digest(conn: &mut Conn) -> Result<String, Error> {
    let mut out = String::new();
    for sql in QUERIES {
        out.push_str(sql);
        out.push('\n');
        for row in conn.query_rows(sql).await? {
            let cells: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
    }
    Ok(out)
}
