//! TPC-C's consistency conditions 1-4 (spec 3.3.2.1-3.3.2.4), checked with per-table
//! aggregates (through Strata: GROUP BY merged over the data nodes) compared here:
//!
//! 1. W_YTD = sum(D_YTD) for each warehouse;
//! 2. D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID) for each district;
//! 3. max(NO_O_ID) - min(NO_O_ID) + 1 = count of NEW-ORDER rows for each district;
//! 4. sum(O_OL_CNT) = count of ORDER-LINE rows for each district.
//!
//! Each condition is also asked as one statement returning the violating rows (joins of
//! co-located tables, GROUP BY ... HAVING), so the same answer must come from Strata's
//! cross-node SQL as from the comparison here.

use super::{cents, int};
use crate::mysql::{Conn, Error, Row};
use std::collections::BTreeMap;

/// Conditions 1-3 as single statements over all warehouses, returning the violating
/// warehouses or districts. Through Strata they join co-located tables (qualified
/// column names let it see the sharding-key equalities) and compare aggregates with
/// columns in HAVING, which it runs on one data node over copies of the tables.
const SINGLE_STATEMENTS: [(u32, &str); 4] = [
    (
        1,
        "SELECT w.w_id FROM warehouse w JOIN district d ON d.d_w_id = w.w_id \
         GROUP BY w.w_id, w.w_ytd HAVING w.w_ytd <> SUM(d.d_ytd)",
    ),
    (
        2,
        "SELECT d.d_w_id, d.d_id FROM district d JOIN orders o ON o.o_w_id = d.d_w_id \
         AND o.o_d_id = d.d_id GROUP BY d.d_w_id, d.d_id, d.d_next_o_id \
         HAVING d.d_next_o_id - 1 <> MAX(o.o_id)",
    ),
    (
        2,
        "SELECT d.d_w_id, d.d_id FROM district d JOIN new_order n ON n.no_w_id = d.d_w_id \
         AND n.no_d_id = d.d_id GROUP BY d.d_w_id, d.d_id, d.d_next_o_id \
         HAVING d.d_next_o_id - 1 <> MAX(n.no_o_id)",
    ),
    (
        3,
        "SELECT no_w_id, no_d_id FROM new_order GROUP BY no_w_id, no_d_id \
         HAVING MAX(no_o_id) - MIN(no_o_id) + 1 <> COUNT(*)",
    ),
];

/// Condition 4 per order (O_OL_CNT = its order lines, which implies the per-district
/// sums) as one statement per warehouse: filtered by the sharding key, it runs on that
/// warehouse's data node (over all warehouses at once, Strata would copy every order
/// line to one node, past its `limits.materialize_max_rows`).
fn order_lines_statement(w: u64) -> String {
    format!(
        "SELECT o.o_d_id, o.o_id FROM orders o LEFT JOIN order_line ol \
         ON ol.ol_w_id = o.o_w_id AND ol.ol_d_id = o.o_d_id AND ol.ol_o_id = o.o_id \
         WHERE o.o_w_id = {w} GROUP BY o.o_d_id, o.o_id, o.o_ol_cnt HAVING COUNT(ol.ol_o_id) <> o.o_ol_cnt"
    )
}

/// (warehouse, district) -> values.
type ByDistrict = BTreeMap<(i64, i64), Vec<i64>>;

async fn grouped(
    conn: &mut Conn,
    sql: &str,
    keys: usize,
    money: &[usize],
) -> Result<ByDistrict, Error> {
    let rows: Vec<Row> = conn.query_rows(sql).await?;
    let mut out = BTreeMap::new();
    for row in &rows {
        let key = (int(row, 0)?, if keys == 2 { int(row, 1)? } else { 0 });
        let values = (keys..row.len())
            .map(|i| {
                if money.contains(&i) {
                    cents(row, i)
                } else {
                    int(row, i)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(key, values);
    }
    Ok(out)
}

/// The result of a check: a line per condition, and the number of violations.
#[derive(Debug, Default)]
pub struct Report {
    /// Human-readable lines, one per condition and one per violation.
    pub lines: Vec<String>,
    /// Rows (warehouses or districts) that violate a condition.
    pub violations: u64,
}

impl Report {
    /// Runs `sql`, which returns the rows violating a condition, and records them.
    async fn statement(&mut self, conn: &mut Conn, label: &str, sql: &str) -> Result<(), Error> {
        let rows = conn.query_rows(sql).await?;
        self.lines.push(format!(
            "{label} as one statement: {} violating rows",
            rows.len()
        ));
        self.violations += rows.len() as u64;
        Ok(())
    }

    fn condition(&mut self, n: u32, what: &str, checked: usize, bad: Vec<String>) {
        let status = if bad.is_empty() { "holds" } else { "VIOLATED" };
        self.lines.push(format!(
            "condition {n} ({what}): {status} over {checked} rows, {} violations",
            bad.len()
        ));
        self.violations += bad.len() as u64;
        self.lines
            .extend(bad.into_iter().take(20).map(|b| format!("  {b}")));
    }
}

/// Runs the four checks; `Err` only when a query fails.
pub async fn check(conn: &mut Conn, warehouses: u64) -> Result<Report, Error> {
    let mut report = Report::default();
    let w_ytd = grouped(conn, "SELECT w_id, w_ytd FROM warehouse", 1, &[1]).await?;
    let d_ytd = grouped(
        conn,
        "SELECT d_w_id, SUM(d_ytd) FROM district GROUP BY d_w_id",
        1,
        &[1],
    )
    .await?;
    let mut bad = Vec::new();
    if w_ytd.len() as u64 != warehouses {
        bad.push(format!("{} warehouses, expected {warehouses}", w_ytd.len()));
    }
    for (k, v) in &w_ytd {
        if d_ytd.get(k) != Some(v) {
            bad.push(format!(
                "warehouse {}: w_ytd {:?}, sum(d_ytd) {:?}",
                k.0,
                v,
                d_ytd.get(k)
            ));
        }
    }
    report.condition(1, "W_YTD = sum(D_YTD)", w_ytd.len(), bad);

    let next = grouped(
        conn,
        "SELECT d_w_id, d_id, d_next_o_id FROM district",
        2,
        &[],
    )
    .await?;
    let orders = grouped(
        conn,
        "SELECT o_w_id, o_d_id, MAX(o_id), SUM(o_ol_cnt) FROM orders GROUP BY o_w_id, o_d_id",
        2,
        &[],
    )
    .await?;
    let new_orders = grouped(
        conn,
        "SELECT no_w_id, no_d_id, MAX(no_o_id), MIN(no_o_id), COUNT(*) FROM new_order \
         GROUP BY no_w_id, no_d_id",
        2,
        &[],
    )
    .await?;
    let lines = grouped(
        conn,
        "SELECT ol_w_id, ol_d_id, COUNT(*) FROM order_line GROUP BY ol_w_id, ol_d_id",
        2,
        &[],
    )
    .await?;
    let mut bad = Vec::new();
    if next.len() as u64 != warehouses * 10 {
        bad.push(format!(
            "{} districts, expected {}",
            next.len(),
            warehouses * 10
        ));
    }
    for (k, v) in &next {
        let max_o = orders.get(k).map(|o| o[0]);
        // A district whose new orders were all delivered has no max(NO_O_ID) to compare.
        let max_no = new_orders.get(k).map_or(max_o, |n| Some(n[0]));
        if max_o != Some(v[0] - 1) || max_no != Some(v[0] - 1) {
            bad.push(format!(
                "district {k:?}: d_next_o_id - 1 = {}, max(o_id) {max_o:?}, max(no_o_id) {max_no:?}",
                v[0] - 1
            ));
        }
    }
    report.condition(
        2,
        "D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID)",
        next.len(),
        bad,
    );

    let bad = new_orders
        .iter()
        .filter(|(_, n)| n[0] - n[1] + 1 != n[2])
        .map(|(k, n)| {
            format!(
                "district {k:?}: max {} - min {} + 1 != count {}",
                n[0], n[1], n[2]
            )
        })
        .collect();
    report.condition(
        3,
        "max(NO_O_ID) - min(NO_O_ID) + 1 = count(NEW-ORDER)",
        new_orders.len(),
        bad,
    );

    let mut bad = Vec::new();
    for (k, o) in &orders {
        let count = lines.get(k).map(|l| l[0]);
        if count != Some(o[1]) {
            bad.push(format!(
                "district {k:?}: sum(o_ol_cnt) {}, order lines {count:?}",
                o[1]
            ));
        }
    }
    if lines.len() != orders.len() {
        bad.push(format!(
            "{} districts with order lines, {} with orders",
            lines.len(),
            orders.len()
        ));
    }
    report.condition(4, "sum(O_OL_CNT) = count(ORDER-LINE)", orders.len(), bad);

    for (n, sql) in SINGLE_STATEMENTS {
        report
            .statement(conn, &format!("condition {n}"), sql)
            .await?;
    }
    for w in 1..=warehouses {
        let label = format!("condition 4 (warehouse {w})");
        report
            .statement(conn, &label, &order_lines_statement(w))
            .await?;
    }
    Ok(report)
}
