//! Configuration the catalog's unit tests share.

/// Three tables of database `shop` declared in the configuration: `orders` sharded on
/// `customer_id` by rule `r_orders` (global AUTO_INCREMENT `id`), its child `items`, and
/// the global table `region`.
pub(crate) const SHOP_TABLES: &str = r#"
[[table]]
database = "shop"
name = "orders"
type = "sharded"
column = "customer_id"
rule = "r_orders"
auto_increment = "id"

[[table]]
database = "shop"
name = "items"
type = "child"
parent = "orders"
parent_column = "customer_id"
child_column = "customer_id"

[[table]]
database = "shop"
name = "region"
type = "global"
"#;
