//! Configuration the catalog's unit tests share.

/// The rule `r_orders` (AUTO_CRC32 over data nodes 1 and 2) and three tables of database
/// `shop` declared in the configuration: `orders` sharded on `customer_id` by it (global
/// AUTO_INCREMENT `id`), its child `items`, and the global table `region`.
pub(crate) const SHOP_TABLES: &str = r#"
[[rule]]
name = "r_orders"
function = "auto_crc32"
data_nodes = [1, 2]

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
