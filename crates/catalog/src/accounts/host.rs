//! Host patterns of accounts and MySQL's wildcard matching of client hosts.

use std::net::IpAddr;

/// A host pattern of an account, lowercased as MariaDB stores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPattern(pub(super) String);

impl HostPattern {
    /// The pattern `text` (host names compare case-insensitively, so it is lowercased).
    pub fn new(text: &str) -> Self {
        HostPattern(text.to_ascii_lowercase())
    }

    /// The pattern as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when a client connecting from `client` may log in through this pattern:
    /// `%`/`_` wildcards and exact text against the IP address, `net/mask`, and
    /// `localhost` for the loopback addresses.
    pub fn matches(&self, client: IpAddr) -> bool {
        let client = match client {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
            v4 => v4,
        };
        let p = self.0.as_str();
        if p == "localhost" {
            return client.is_loopback();
        }
        if let Some((net, mask)) = p.split_once('/') {
            return match (
                net.parse::<std::net::Ipv4Addr>(),
                mask.parse::<std::net::Ipv4Addr>(),
                client,
            ) {
                (Ok(net), Ok(mask), IpAddr::V4(ip)) => {
                    let (net, mask, ip) = (u32::from(net), u32::from(mask), u32::from(ip));
                    net & mask == net && ip & mask == net
                }
                _ => false,
            };
        }
        wild_match(p.as_bytes(), client.to_string().as_bytes())
    }

    /// MySQL's `get_sort` weight: exact text 128, a pattern the number of characters
    /// before its first wildcard plus two, a lone `%` 1, empty 0. Higher sorts first.
    pub(super) fn weight(text: &str) -> u32 {
        let bytes = text.as_bytes();
        let mut chars = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if i + 1 < bytes.len() => i += 1,
                b'%' | b'_' => {
                    let pos = i as u32 + 1;
                    let lone_percent = pos == 1 && bytes[i] == b'%' && i + 1 == bytes.len();
                    return (if lone_percent { pos } else { pos + 1 }).min(127);
                }
                _ => {}
            }
            chars = 128;
            i += 1;
        }
        chars
    }
}

/// `%` any run, `_` one character, `\` escapes; ASCII case-insensitive.
fn wild_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'%', rest)) => (0..=text.len()).any(|i| wild_match(rest, &text[i..])),
        Some((b'_', rest)) => !text.is_empty() && wild_match(rest, &text[1..]),
        Some((b'\\', rest)) if !rest.is_empty() => {
            text.first()
                .is_some_and(|c| c.eq_ignore_ascii_case(&rest[0]))
                && wild_match(&rest[1..], &text[1..])
        }
        Some((c, rest)) => {
            text.first().is_some_and(|t| t.eq_ignore_ascii_case(c)) && wild_match(rest, &text[1..])
        }
    }
}
