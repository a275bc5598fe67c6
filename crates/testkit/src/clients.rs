//! `mysql_async` connection settings for Strata and for storage nodes.

use std::net::SocketAddr;

/// Connection options for a MySQL-protocol server at `addr`.
///
/// `prefer_socket` is off: a compute node has no Unix socket to switch to.
pub fn mysql_opts(
    addr: SocketAddr,
    user: &str,
    password: &str,
    db: Option<&str>,
) -> mysql_async::Opts {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        .user(Some(user))
        .pass(Some(password))
        .db_name(db)
        .prefer_socket(false)
        .into()
}

/// The same settings as a `mysql://` URL (for tools and drivers that take URLs).
pub fn mysql_url(addr: SocketAddr, user: &str, password: &str, db: Option<&str>) -> String {
    format!(
        "mysql://{}:{}@{}:{}/{}?prefer_socket=false",
        percent_encode(user),
        percent_encode(password),
        addr.ip(),
        addr.port(),
        db.map(percent_encode).unwrap_or_default()
    )
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_round_trips_through_mysql_async() {
        let addr: SocketAddr = "127.0.0.1:3323".parse().expect("addr");
        let url = mysql_url(addr, "root", "p@ss word", Some("test"));
        let from_url = mysql_async::Opts::from_url(&url).expect("valid url");
        let built = mysql_opts(addr, "root", "p@ss word", Some("test"));
        for opts in [from_url, built] {
            assert_eq!(opts.ip_or_hostname(), "127.0.0.1");
            assert_eq!(opts.tcp_port(), 3323);
            assert_eq!(opts.user(), Some("root"));
            assert_eq!(opts.pass(), Some("p@ss word"));
            assert_eq!(opts.db_name(), Some("test"));
            assert!(!opts.prefer_socket());
        }
    }
}
