//! The initial population (spec 4.3.3.1), written with multi-row INSERTs: `item` once,
//! then every warehouse's rows. Each INSERT holds rows of one warehouse, so through
//! Strata it goes to one data node (the global `item` goes to all of them).

use super::rand::{last_name, Rng, LOAD_CONSTANTS};
use super::{money, quote, Scale};
use crate::mysql::{Conn, Error};

/// Rows per INSERT statement.
const BATCH: usize = 200;

/// Collects VALUES tuples and sends one INSERT per `BATCH` rows.
struct Inserter<'c> {
    conn: &'c mut Conn,
    table: &'static str,
    rows: Vec<String>,
}

impl<'c> Inserter<'c> {
    fn new(conn: &'c mut Conn, table: &'static str) -> Self {
        Inserter {
            conn,
            table,
            rows: Vec::with_capacity(BATCH),
        }
    }

    async fn push(&mut self, tuple: String) -> Result<(), Error> {
        self.rows.push(tuple);
        if self.rows.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Error> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!("INSERT INTO {} VALUES {}", self.table, self.rows.join(","));
        self.rows.clear();
        self.conn.query(&sql).await.map(|_| ())
    }
}

/// Loads the `item` table.
pub async fn load_items(conn: &mut Conn, scale: Scale, seed: u64) -> Result<(), Error> {
    let mut rng = Rng::new(seed);
    let mut ins = Inserter::new(conn, "item");
    for i in 1..=scale.items {
        let tuple = format!(
            "({i},{},{},{},{})",
            rng.uniform(1, 10_000),
            quote(&rng.astring(14, 24)),
            rng.money(100, 10_000),
            quote(&rng.data_with_original())
        );
        ins.push(tuple).await?;
    }
    ins.flush().await
}

/// Street, city, state and zip: the address columns every table repeats.
fn address(rng: &mut Rng) -> String {
    format!(
        "{},{},{},{},{}",
        quote(&rng.astring(10, 20)),
        quote(&rng.astring(10, 20)),
        quote(&rng.astring(10, 20)),
        quote(&rng.astring(2, 2)),
        quote(&rng.zip())
    )
}

/// Name, address and tax rate (in [0.0000, 0.2000]): the columns a warehouse and a
/// district have in common.
fn name_address_tax(rng: &mut Rng) -> String {
    let name = quote(&rng.astring(6, 10));
    let address = address(rng);
    format!("{name},{address},0.{:04}", rng.uniform(0, 2000))
}

/// Loads one warehouse: its row, stock, districts, customers, history, orders, order
/// lines and new orders.
pub async fn load_warehouse(
    conn: &mut Conn,
    scale: Scale,
    w: u64,
    seed: u64,
    now: &str,
) -> Result<(), Error> {
    let mut rng = Rng::new(seed ^ (w << 32));
    conn.query(&format!(
        "INSERT INTO warehouse VALUES ({w},{},300000.00)",
        name_address_tax(&mut rng)
    ))
    .await?;

    let mut ins = Inserter::new(conn, "stock");
    for i in 1..=scale.items {
        let dists: Vec<String> = (0..10).map(|_| quote(&rng.astring(24, 24))).collect();
        let tuple = format!(
            "({i},{w},{},{},0,0,0,{})",
            rng.uniform(10, 100),
            dists.join(","),
            quote(&rng.data_with_original())
        );
        ins.push(tuple).await?;
    }
    ins.flush().await?;

    let next_o_id = scale.customers + 1;
    for d in 1..=10 {
        conn.query(&format!(
            "INSERT INTO district VALUES ({d},{w},{},30000.00,{next_o_id})",
            name_address_tax(&mut rng)
        ))
        .await?;
        load_customers(conn, &mut rng, scale, w, d, now).await?;
        load_orders(conn, &mut rng, scale, w, d, now).await?;
    }
    Ok(())
}

async fn load_customers(
    conn: &mut Conn,
    rng: &mut Rng,
    scale: Scale,
    w: u64,
    d: u64,
    now: &str,
) -> Result<(), Error> {
    let mut ins = Inserter::new(conn, "customer");
    for c in 1..=scale.customers {
        let last = if c <= 1000 {
            last_name(c - 1)
        } else {
            last_name(rng.nurand(255, LOAD_CONSTANTS.c_last, 0, scale.max_last_name()))
        };
        let credit = if rng.uniform(1, 10) == 1 { "BC" } else { "GC" };
        let tuple = format!(
            "({c},{d},{w},{},'OE',{},{},{},{now},'{credit}',50000.00,0.{:04},-10.00,10.00,1,0,{})",
            quote(&rng.astring(8, 16)),
            quote(&last),
            address(rng),
            quote(&rng.nstring(16, 16)),
            rng.uniform(0, 5000),
            quote(&rng.astring(300, 500))
        );
        ins.push(tuple).await?;
    }
    ins.flush().await?;
    let mut ins = Inserter::new(conn, "history");
    for c in 1..=scale.customers {
        let tuple = format!(
            "({c},{d},{w},{d},{w},{now},10.00,{})",
            quote(&rng.astring(12, 24))
        );
        ins.push(tuple).await?;
    }
    ins.flush().await
}

async fn load_orders(
    conn: &mut Conn,
    rng: &mut Rng,
    scale: Scale,
    w: u64,
    d: u64,
    now: &str,
) -> Result<(), Error> {
    // O_C_ID is a random permutation of the customer ids.
    let mut customers: Vec<u64> = (1..=scale.customers).collect();
    for i in (1..customers.len()).rev() {
        customers.swap(i, rng.uniform(0, i as u64) as usize);
    }
    let delivered = scale.customers - scale.new_orders();
    let mut lines = Vec::new();
    let mut ins = Inserter::new(conn, "orders");
    for o in 1..=scale.customers {
        let ol_cnt = rng.uniform(5, 15);
        let carrier = if o <= delivered {
            rng.uniform(1, 10).to_string()
        } else {
            "NULL".to_string()
        };
        let tuple = format!(
            "({o},{d},{w},{},{now},{carrier},{ol_cnt},1)",
            customers[o as usize - 1]
        );
        ins.push(tuple).await?;
        for n in 1..=ol_cnt {
            let (delivery, amount) = if o <= delivered {
                (now.to_string(), "0.00".to_string())
            } else {
                ("NULL".to_string(), money(rng.uniform(1, 999_999) as i64))
            };
            lines.push(format!(
                "({o},{d},{w},{n},{},{w},{delivery},5,{amount},{})",
                rng.uniform(1, scale.items),
                quote(&rng.astring(24, 24))
            ));
        }
    }
    ins.flush().await?;
    let mut ins = Inserter::new(conn, "order_line");
    for line in lines {
        ins.push(line).await?;
    }
    ins.flush().await?;
    let mut ins = Inserter::new(conn, "new_order");
    for o in delivered + 1..=scale.customers {
        ins.push(format!("({o},{d},{w})")).await?;
    }
    ins.flush().await
}
