//! The five TPC-C transactions (spec 2.4-2.8): their input generation per terminal and
//! their SQL, each run as one database transaction. Inputs are generated before the
//! transaction starts, so a transaction retried after a deadlock repeats the same work.

use super::rand::{last_name, NuConstants, Rng};
use super::{cents, int, money, now_literal, quote, text, Scale};
use crate::mysql::{Conn, Error, Row};

/// The five transaction types, in the order results are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// New-Order (45 % of the mix).
    NewOrder,
    /// Payment (43 %).
    Payment,
    /// Order-Status (4 %).
    OrderStatus,
    /// Delivery (4 %).
    Delivery,
    /// Stock-Level (4 %).
    StockLevel,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 5] = [
        Kind::NewOrder,
        Kind::Payment,
        Kind::OrderStatus,
        Kind::Delivery,
        Kind::StockLevel,
    ];

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::NewOrder => "New-Order",
            Kind::Payment => "Payment",
            Kind::OrderStatus => "Order-Status",
            Kind::Delivery => "Delivery",
            Kind::StockLevel => "Stock-Level",
        }
    }

    /// The position in `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How a transaction ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Committed.
    Committed,
    /// Rolled back on purpose (the 1 % of New-Orders with an unused item number).
    RolledBack,
}

/// A customer chosen by id or by last name (spec 2.5.1.2, 2.6.1.2).
#[derive(Debug, Clone)]
pub enum CustomerKey {
    /// By C_ID.
    Id(u64),
    /// By C_LAST.
    LastName(String),
}

/// One order line's input.
#[derive(Debug, Clone)]
pub struct LineIn {
    item: u64,
    supply_w: u64,
    quantity: u64,
}

/// A transaction's generated input.
#[derive(Debug, Clone)]
pub enum Input {
    /// New-Order: district, customer, order lines (the last one invalid for rollbacks).
    NewOrder {
        w: u64,
        d: u64,
        c: u64,
        lines: Vec<LineIn>,
    },
    /// Payment: home district, customer's warehouse and district, customer, amount.
    Payment {
        w: u64,
        d: u64,
        c_w: u64,
        c_d: u64,
        customer: CustomerKey,
        amount: i64,
    },
    /// Order-Status: district and customer.
    OrderStatus {
        w: u64,
        d: u64,
        customer: CustomerKey,
    },
    /// Delivery: the carrier.
    Delivery { w: u64, carrier: u64 },
    /// Stock-Level: the terminal's district and the threshold.
    StockLevel { w: u64, d: u64, threshold: u64 },
}

/// A terminal's fixed parameters and its random stream.
pub struct Terminal {
    /// Home warehouse.
    pub w: u64,
    /// The district Stock-Level reports on.
    pub d: u64,
    /// Population size.
    pub scale: Scale,
    /// NURand constants of the run.
    pub c: NuConstants,
    /// Random numbers.
    pub rng: Rng,
    deck: Vec<Kind>,
}

impl Terminal {
    /// A terminal with home warehouse `w` and Stock-Level district `d`.
    pub fn new(w: u64, d: u64, scale: Scale, c: NuConstants, rng: Rng) -> Terminal {
        Terminal {
            w,
            d,
            scale,
            c,
            rng,
            deck: Vec::new(),
        }
    }

    /// The next transaction type from a shuffled deck of 100 cards (45/43/4/4/4), so
    /// the mix holds exactly over every 100 transactions (spec 5.2.4.2).
    pub fn next_kind(&mut self) -> Kind {
        if self.deck.is_empty() {
            for (kind, n) in Kind::ALL.iter().zip([45, 43, 4, 4, 4]) {
                self.deck.extend(std::iter::repeat_n(*kind, n));
            }
            for i in (1..self.deck.len()).rev() {
                self.deck.swap(i, self.rng.uniform(0, i as u64) as usize);
            }
        }
        self.deck.pop().unwrap_or(Kind::NewOrder)
    }

    fn other_warehouse(&mut self) -> u64 {
        if self.scale.warehouses < 2 {
            return self.w;
        }
        let other = self.rng.uniform(1, self.scale.warehouses - 1);
        if other >= self.w {
            other + 1
        } else {
            other
        }
    }

    fn customer(&mut self) -> CustomerKey {
        if self.rng.uniform(1, 100) <= 60 {
            let n = self
                .rng
                .nurand(255, self.c.c_last, 0, self.scale.max_last_name());
            CustomerKey::LastName(last_name(n))
        } else {
            CustomerKey::Id(self.customer_id())
        }
    }

    fn customer_id(&mut self) -> u64 {
        self.rng.nurand(1023, self.c.c_id, 1, self.scale.customers)
    }

    /// The input of a transaction of `kind` (spec 2.4.1, 2.5.1, 2.6.1, 2.7.1, 2.8.1).
    pub fn input(&mut self, kind: Kind) -> Input {
        let w = self.w;
        match kind {
            Kind::NewOrder => {
                let d = self.rng.uniform(1, 10);
                let c = self.customer_id();
                let count = self.rng.uniform(5, 15);
                let rollback = self.rng.uniform(1, 100) == 1;
                let mut lines: Vec<LineIn> = (0..count)
                    .map(|_| {
                        let item = self.rng.nurand(8191, self.c.ol_i_id, 1, self.scale.items);
                        let supply_w = if self.rng.uniform(1, 100) == 1 {
                            self.other_warehouse()
                        } else {
                            w
                        };
                        let quantity = self.rng.uniform(1, 10);
                        LineIn {
                            item,
                            supply_w,
                            quantity,
                        }
                    })
                    .collect();
                // Lock stock rows in one global order so New-Orders do not deadlock each other.
                lines.sort_by_key(|l| (l.supply_w, l.item));
                if rollback {
                    if let Some(last) = lines.last_mut() {
                        last.item = self.scale.items + 1;
                    }
                }
                Input::NewOrder { w, d, c, lines }
            }
            Kind::Payment => {
                let d = self.rng.uniform(1, 10);
                let (c_w, c_d) = if self.rng.uniform(1, 100) <= 85 {
                    (w, d)
                } else {
                    (self.other_warehouse(), self.rng.uniform(1, 10))
                };
                let customer = self.customer();
                let amount = self.rng.uniform(100, 500_000) as i64;
                Input::Payment {
                    w,
                    d,
                    c_w,
                    c_d,
                    customer,
                    amount,
                }
            }
            Kind::OrderStatus => {
                let d = self.rng.uniform(1, 10);
                let customer = self.customer();
                Input::OrderStatus { w, d, customer }
            }
            Kind::Delivery => Input::Delivery {
                w,
                carrier: self.rng.uniform(1, 10),
            },
            Kind::StockLevel => Input::StockLevel {
                w,
                d: self.d,
                threshold: self.rng.uniform(10, 20),
            },
        }
    }
}

async fn one(conn: &mut Conn, sql: &str) -> Result<Row, Error> {
    conn.query_rows(sql)
        .await?
        .into_iter()
        .next()
        .ok_or(Error::Protocol("a row the transaction needs is missing"))
}

impl Input {
    /// Whether the transaction touches a second warehouse (a remote supply warehouse or
    /// customer): through Strata over several data nodes, usually a distributed (XA)
    /// transaction.
    pub fn is_remote(&self) -> bool {
        match self {
            Input::NewOrder { w, lines, .. } => lines.iter().any(|l| l.supply_w != *w),
            Input::Payment { w, c_w, .. } => c_w != w,
            _ => false,
        }
    }
}

/// The customer id of a key: by last name, the row in the middle of those ordered by
/// C_FIRST (position ceil(n/2), spec 2.5.2.2).
async fn customer_id(
    conn: &mut Conn,
    w: u64,
    d: u64,
    key: &CustomerKey,
    lock: &str,
) -> Result<i64, Error> {
    match key {
        CustomerKey::Id(c) => Ok(*c as i64),
        CustomerKey::LastName(last) => {
            let rows = conn
                .query_rows(&format!(
                    "SELECT c_id FROM customer WHERE c_w_id = {w} AND c_d_id = {d} AND c_last = {} \
                     ORDER BY c_first{lock}",
                    quote(last)
                ))
                .await?;
            let row = rows
                .get(rows.len().saturating_sub(1) / 2)
                .ok_or(Error::Protocol("no customer with the generated last name"))?;
            int(row, 0)
        }
    }
}

/// Runs one transaction's statements inside BEGIN ... COMMIT (or ROLLBACK).
pub async fn execute(conn: &mut Conn, input: &Input) -> Result<Outcome, Error> {
    conn.query("BEGIN").await?;
    let outcome = match input {
        Input::NewOrder { w, d, c, lines } => new_order(conn, *w, *d, *c, lines).await?,
        Input::Payment {
            w,
            d,
            c_w,
            c_d,
            customer,
            amount,
        } => payment(conn, *w, *d, *c_w, *c_d, customer, *amount).await?,
        Input::OrderStatus { w, d, customer } => order_status(conn, *w, *d, customer).await?,
        Input::Delivery { w, carrier } => delivery(conn, *w, *carrier).await?,
        Input::StockLevel { w, d, threshold } => stock_level(conn, *w, *d, *threshold).await?,
    };
    match outcome {
        Outcome::Committed => conn.query("COMMIT").await?,
        Outcome::RolledBack => conn.query("ROLLBACK").await?,
    };
    Ok(outcome)
}

async fn new_order(
    conn: &mut Conn,
    w: u64,
    d: u64,
    c: u64,
    lines: &[LineIn],
) -> Result<Outcome, Error> {
    one(
        conn,
        &format!("SELECT w_tax FROM warehouse WHERE w_id = {w}"),
    )
    .await?;
    let district = one(
        conn,
        &format!(
            "SELECT d_tax, d_next_o_id FROM district WHERE d_w_id = {w} AND d_id = {d} FOR UPDATE"
        ),
    )
    .await?;
    let o_id = int(&district, 1)?;
    conn.query(&format!(
        "UPDATE district SET d_next_o_id = d_next_o_id + 1 WHERE d_w_id = {w} AND d_id = {d}"
    ))
    .await?;
    one(
        conn,
        &format!(
            "SELECT c_discount, c_last, c_credit FROM customer WHERE c_w_id = {w} AND c_d_id = {d} AND c_id = {c}"
        ),
    )
    .await?;
    let all_local = i32::from(lines.iter().all(|l| l.supply_w == w));
    let now = now_literal();
    conn.query(&format!(
        "INSERT INTO orders (o_id, o_d_id, o_w_id, o_c_id, o_entry_d, o_carrier_id, o_ol_cnt, o_all_local) \
         VALUES ({o_id}, {d}, {w}, {c}, {now}, NULL, {}, {all_local})",
        lines.len()
    ))
    .await?;
    conn.query(&format!(
        "INSERT INTO new_order (no_o_id, no_d_id, no_w_id) VALUES ({o_id}, {d}, {w})"
    ))
    .await?;
    for (n, line) in lines.iter().enumerate() {
        let items = conn
            .query_rows(&format!(
                "SELECT i_price, i_name, i_data FROM item WHERE i_id = {}",
                line.item
            ))
            .await?;
        let Some(item) = items.first() else {
            // "Item number is not valid": the spec's 1 % of rolled-back New-Orders.
            return Ok(Outcome::RolledBack);
        };
        let price = cents(item, 0)?;
        let stock = one(
            conn,
            &format!(
                "SELECT s_quantity, s_data, s_dist_{d:02} FROM stock WHERE s_i_id = {} AND s_w_id = {} FOR UPDATE",
                line.item, line.supply_w
            ),
        )
        .await?;
        let quantity = int(&stock, 0)?;
        let q = line.quantity as i64;
        let new_quantity = if quantity >= q + 10 {
            quantity - q
        } else {
            quantity - q + 91
        };
        let remote = i32::from(line.supply_w != w);
        conn.query(&format!(
            "UPDATE stock SET s_quantity = {new_quantity}, s_ytd = s_ytd + {q}, \
             s_order_cnt = s_order_cnt + 1, s_remote_cnt = s_remote_cnt + {remote} \
             WHERE s_i_id = {} AND s_w_id = {}",
            line.item, line.supply_w
        ))
        .await?;
        conn.query(&format!(
            "INSERT INTO order_line (ol_o_id, ol_d_id, ol_w_id, ol_number, ol_i_id, ol_supply_w_id, \
             ol_delivery_d, ol_quantity, ol_amount, ol_dist_info) \
             VALUES ({o_id}, {d}, {w}, {}, {}, {}, NULL, {q}, {}, {})",
            n + 1,
            line.item,
            line.supply_w,
            money(price * q),
            quote(text(&stock, 2)?)
        ))
        .await?;
    }
    Ok(Outcome::Committed)
}

async fn payment(
    conn: &mut Conn,
    w: u64,
    d: u64,
    c_w: u64,
    c_d: u64,
    customer: &CustomerKey,
    amount: i64,
) -> Result<Outcome, Error> {
    let h_amount = money(amount);
    conn.query(&format!(
        "UPDATE warehouse SET w_ytd = w_ytd + {h_amount} WHERE w_id = {w}"
    ))
    .await?;
    let wh = one(
        conn,
        &format!(
            "SELECT w_name, w_street_1, w_street_2, w_city, w_state, w_zip FROM warehouse WHERE w_id = {w}"
        ),
    )
    .await?;
    conn.query(&format!(
        "UPDATE district SET d_ytd = d_ytd + {h_amount} WHERE d_w_id = {w} AND d_id = {d}"
    ))
    .await?;
    let dist = one(
        conn,
        &format!(
            "SELECT d_name, d_street_1, d_street_2, d_city, d_state, d_zip FROM district \
             WHERE d_w_id = {w} AND d_id = {d}"
        ),
    )
    .await?;
    let c = customer_id(conn, c_w, c_d, customer, "").await?;
    let cust = one(
        conn,
        &format!(
            "SELECT c_first, c_middle, c_last, c_street_1, c_street_2, c_city, c_state, c_zip, c_phone, \
             c_since, c_credit, c_credit_lim, c_discount, c_balance, c_data FROM customer \
             WHERE c_w_id = {c_w} AND c_d_id = {c_d} AND c_id = {c} FOR UPDATE"
        ),
    )
    .await?;
    let bad_credit = text(&cust, 10)? == "BC";
    let data = if bad_credit {
        let mut data = format!("{c} {c_d} {c_w} {d} {w} {h_amount} | {}", text(&cust, 14)?);
        data.truncate(500);
        format!(", c_data = {}", quote(&data))
    } else {
        String::new()
    };
    conn.query(&format!(
        "UPDATE customer SET c_balance = c_balance - {h_amount}, c_ytd_payment = c_ytd_payment + {h_amount}, \
         c_payment_cnt = c_payment_cnt + 1{data} WHERE c_w_id = {c_w} AND c_d_id = {c_d} AND c_id = {c}"
    ))
    .await?;
    let h_data = format!("{}    {}", text(&wh, 0)?, text(&dist, 0)?);
    conn.query(&format!(
        "INSERT INTO history (h_c_id, h_c_d_id, h_c_w_id, h_d_id, h_w_id, h_date, h_amount, h_data) \
         VALUES ({c}, {c_d}, {c_w}, {d}, {w}, {}, {h_amount}, {})",
        now_literal(),
        quote(&h_data)
    ))
    .await?;
    Ok(Outcome::Committed)
}

async fn order_status(
    conn: &mut Conn,
    w: u64,
    d: u64,
    customer: &CustomerKey,
) -> Result<Outcome, Error> {
    let c = customer_id(conn, w, d, customer, "").await?;
    one(
        conn,
        &format!(
            "SELECT c_balance, c_first, c_middle, c_last FROM customer \
             WHERE c_w_id = {w} AND c_d_id = {d} AND c_id = {c}"
        ),
    )
    .await?;
    let order = one(
        conn,
        &format!(
            "SELECT o_id, o_carrier_id, o_entry_d FROM orders WHERE o_w_id = {w} AND o_d_id = {d} \
             AND o_c_id = {c} ORDER BY o_id DESC LIMIT 1"
        ),
    )
    .await?;
    let o_id = int(&order, 0)?;
    conn.query(&format!(
        "SELECT ol_i_id, ol_supply_w_id, ol_quantity, ol_amount, ol_delivery_d FROM order_line \
         WHERE ol_w_id = {w} AND ol_d_id = {d} AND ol_o_id = {o_id}"
    ))
    .await?;
    Ok(Outcome::Committed)
}

async fn delivery(conn: &mut Conn, w: u64, carrier: u64) -> Result<Outcome, Error> {
    let now = now_literal();
    for d in 1..=10 {
        let oldest = conn
            .query_rows(&format!(
                "SELECT no_o_id FROM new_order WHERE no_w_id = {w} AND no_d_id = {d} \
                 ORDER BY no_o_id LIMIT 1 FOR UPDATE"
            ))
            .await?;
        // A district without undelivered orders is skipped (spec 2.7.4.2).
        let Some(row) = oldest.first() else { continue };
        let o_id = int(row, 0)?;
        conn.query(&format!(
            "DELETE FROM new_order WHERE no_w_id = {w} AND no_d_id = {d} AND no_o_id = {o_id}"
        ))
        .await?;
        let order = one(
            conn,
            &format!(
                "SELECT o_c_id FROM orders WHERE o_w_id = {w} AND o_d_id = {d} AND o_id = {o_id}"
            ),
        )
        .await?;
        let c = int(&order, 0)?;
        conn.query(&format!(
            "UPDATE orders SET o_carrier_id = {carrier} WHERE o_w_id = {w} AND o_d_id = {d} AND o_id = {o_id}"
        ))
        .await?;
        conn.query(&format!(
            "UPDATE order_line SET ol_delivery_d = {now} WHERE ol_w_id = {w} AND ol_d_id = {d} AND ol_o_id = {o_id}"
        ))
        .await?;
        let total = one(
            conn,
            &format!(
                "SELECT SUM(ol_amount) FROM order_line WHERE ol_w_id = {w} AND ol_d_id = {d} AND ol_o_id = {o_id}"
            ),
        )
        .await?;
        conn.query(&format!(
            "UPDATE customer SET c_balance = c_balance + {}, c_delivery_cnt = c_delivery_cnt + 1 \
             WHERE c_w_id = {w} AND c_d_id = {d} AND c_id = {c}",
            money(cents(&total, 0)?)
        ))
        .await?;
    }
    Ok(Outcome::Committed)
}

async fn stock_level(conn: &mut Conn, w: u64, d: u64, threshold: u64) -> Result<Outcome, Error> {
    let district = one(
        conn,
        &format!("SELECT d_next_o_id FROM district WHERE d_w_id = {w} AND d_id = {d}"),
    )
    .await?;
    let next = int(&district, 0)?;
    one(
        conn,
        &format!(
            "SELECT COUNT(DISTINCT s_i_id) FROM order_line, stock WHERE ol_w_id = {w} AND ol_d_id = {d} \
             AND ol_o_id < {next} AND ol_o_id >= {} AND s_w_id = {w} AND s_i_id = ol_i_id \
             AND s_quantity < {threshold}",
            next - 20
        ),
    )
    .await?;
    Ok(Outcome::Committed)
}
