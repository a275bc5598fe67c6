//! The nine TPC-C tables (spec 1.3) with their primary keys, and how each is
//! distributed through Strata: every table but `item` is sharded by `auto_mod` on its
//! own warehouse column, so one warehouse's rows (and most transactions) stay on one
//! data node; `item` is global (a copy on every node, read locally). Against plain
//! MariaDB the same statements run without the `SHARD BY` clauses.

/// One table: its name, column list and primary key, and its Strata distribution.
struct Table {
    name: &'static str,
    columns: &'static str,
    /// The warehouse column to shard by; `None` for the global `item`.
    shard_column: Option<&'static str>,
}

const TABLES: [Table; 9] = [
    Table {
        name: "warehouse",
        columns: "w_id INT NOT NULL, w_name VARCHAR(10), w_street_1 VARCHAR(20), \
                  w_street_2 VARCHAR(20), w_city VARCHAR(20), w_state CHAR(2), w_zip CHAR(9), \
                  w_tax DECIMAL(4,4), w_ytd DECIMAL(12,2), PRIMARY KEY (w_id)",
        shard_column: Some("w_id"),
    },
    Table {
        name: "district",
        columns: "d_id TINYINT NOT NULL, d_w_id INT NOT NULL, d_name VARCHAR(10), \
                  d_street_1 VARCHAR(20), d_street_2 VARCHAR(20), d_city VARCHAR(20), \
                  d_state CHAR(2), d_zip CHAR(9), d_tax DECIMAL(4,4), d_ytd DECIMAL(12,2), \
                  d_next_o_id INT, PRIMARY KEY (d_w_id, d_id)",
        shard_column: Some("d_w_id"),
    },
    Table {
        name: "customer",
        columns: "c_id INT NOT NULL, c_d_id TINYINT NOT NULL, c_w_id INT NOT NULL, \
                  c_first VARCHAR(16), c_middle CHAR(2), c_last VARCHAR(16), \
                  c_street_1 VARCHAR(20), c_street_2 VARCHAR(20), c_city VARCHAR(20), \
                  c_state CHAR(2), c_zip CHAR(9), c_phone CHAR(16), c_since DATETIME, \
                  c_credit CHAR(2), c_credit_lim DECIMAL(12,2), c_discount DECIMAL(4,4), \
                  c_balance DECIMAL(12,2), c_ytd_payment DECIMAL(12,2), c_payment_cnt INT, \
                  c_delivery_cnt INT, c_data VARCHAR(500), PRIMARY KEY (c_w_id, c_d_id, c_id), \
                  KEY c_last_name (c_w_id, c_d_id, c_last, c_first)",
        shard_column: Some("c_w_id"),
    },
    Table {
        name: "history",
        columns:
            "h_c_id INT, h_c_d_id TINYINT, h_c_w_id INT, h_d_id TINYINT, h_w_id INT NOT NULL, \
                  h_date DATETIME, h_amount DECIMAL(6,2), h_data VARCHAR(24), KEY h_w (h_w_id)",
        shard_column: Some("h_w_id"),
    },
    Table {
        name: "new_order",
        columns: "no_o_id INT NOT NULL, no_d_id TINYINT NOT NULL, no_w_id INT NOT NULL, \
                  PRIMARY KEY (no_w_id, no_d_id, no_o_id)",
        shard_column: Some("no_w_id"),
    },
    Table {
        name: "orders",
        columns:
            "o_id INT NOT NULL, o_d_id TINYINT NOT NULL, o_w_id INT NOT NULL, o_c_id INT, \
                  o_entry_d DATETIME, o_carrier_id TINYINT, o_ol_cnt TINYINT, o_all_local TINYINT, \
                  PRIMARY KEY (o_w_id, o_d_id, o_id), KEY o_customer (o_w_id, o_d_id, o_c_id, o_id)",
        shard_column: Some("o_w_id"),
    },
    Table {
        name: "order_line",
        columns: "ol_o_id INT NOT NULL, ol_d_id TINYINT NOT NULL, ol_w_id INT NOT NULL, \
                  ol_number TINYINT NOT NULL, ol_i_id INT, ol_supply_w_id INT, \
                  ol_delivery_d DATETIME, ol_quantity TINYINT, ol_amount DECIMAL(6,2), \
                  ol_dist_info CHAR(24), PRIMARY KEY (ol_w_id, ol_d_id, ol_o_id, ol_number)",
        shard_column: Some("ol_w_id"),
    },
    Table {
        name: "item",
        columns: "i_id INT NOT NULL, i_im_id INT, i_name VARCHAR(24), i_price DECIMAL(5,2), \
                  i_data VARCHAR(50), PRIMARY KEY (i_id)",
        shard_column: None,
    },
    Table {
        name: "stock",
        columns: "s_i_id INT NOT NULL, s_w_id INT NOT NULL, s_quantity SMALLINT, \
                  s_dist_01 CHAR(24), s_dist_02 CHAR(24), s_dist_03 CHAR(24), s_dist_04 CHAR(24), \
                  s_dist_05 CHAR(24), s_dist_06 CHAR(24), s_dist_07 CHAR(24), s_dist_08 CHAR(24), \
                  s_dist_09 CHAR(24), s_dist_10 CHAR(24), s_ytd INT, s_order_cnt SMALLINT, \
                  s_remote_cnt SMALLINT, s_data VARCHAR(50), PRIMARY KEY (s_w_id, s_i_id)",
        shard_column: Some("s_w_id"),
    },
];

/// DROP and CREATE statements for the nine tables; `sharded` adds Strata's clauses.
pub fn create_statements(sharded: bool) -> Vec<String> {
    let mut out = Vec::new();
    for t in &TABLES {
        out.push(format!("DROP TABLE IF EXISTS {}", t.name));
        let distribution = match (sharded, t.shard_column) {
            (false, _) => String::new(),
            (true, Some(col)) => format!(" SHARD BY functiontype 'auto_mod' USING COLUMN '{col}'"),
            (true, None) => " SHARD BY GLOBAL".to_string(),
        };
        out.push(format!(
            "CREATE TABLE {} ({}) ENGINE=InnoDB{distribution}",
            t.name, t.columns
        ));
    }
    out
}
