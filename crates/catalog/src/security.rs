//! Who may reach the service port at all: the `[security]` section of the configuration
//! (networks clients may connect from, failed-login delays and blocking) and the
//! network-prefix type the whitelist is made of.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Client access limits that apply before any account is considered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Networks clients may connect from (`10.0.0.0/8`, `127.0.0.1`, `::1/128`); a
    /// client from anywhere else gets error 1130 and is disconnected. Empty (the
    /// default) allows every address.
    pub allow: Vec<String>,
    /// Failed logins from one address, without a successful one in between, after which
    /// the address is blocked (error 1129) until `FLUSH HOSTS`, like MySQL's
    /// max_connect_errors. 0 never blocks.
    pub max_failed_logins: u32,
    /// Failed logins from one address after which each further failure is answered
    /// only after a delay that grows by `failed_login_delay_ms` per failure (MySQL's
    /// connection_control). 0 never delays.
    pub failed_login_delay_after: u32,
    /// Added delay per failure beyond `failed_login_delay_after`, in milliseconds.
    pub failed_login_delay_ms: u64,
    /// Longest delay, in milliseconds.
    pub failed_login_max_delay_ms: u64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            allow: Vec::new(),
            max_failed_logins: 100,
            failed_login_delay_after: 5,
            failed_login_delay_ms: 500,
            failed_login_max_delay_ms: 5_000,
        }
    }
}

impl SecurityConfig {
    /// The whitelist as networks; Err names each entry that is not one.
    pub fn networks(&self) -> Result<Vec<Network>, Vec<String>> {
        let mut bad = Vec::new();
        let mut nets = Vec::new();
        for entry in &self.allow {
            match Network::parse(entry) {
                Some(n) => nets.push(n),
                None => bad.push(format!(
                    "security.allow: '{entry}' is not an address or network (a.b.c.d/n, ipv6/n)"
                )),
            }
        }
        if bad.is_empty() {
            Ok(nets)
        } else {
            Err(bad)
        }
    }

    /// How long to wait before answering the `failures`-th failed login in a row.
    pub fn delay_ms(&self, failures: u32) -> u64 {
        if self.failed_login_delay_after == 0 || failures <= self.failed_login_delay_after {
            return 0;
        }
        let beyond = u64::from(failures - self.failed_login_delay_after);
        beyond
            .saturating_mul(self.failed_login_delay_ms)
            .min(self.failed_login_max_delay_ms)
    }
}

/// An address prefix: `addr/prefix_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or `ipv6/n`.
    pub fn parse(text: &str) -> Option<Network> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { addr, prefix })
    }

    /// True when `ip` is in the network (an IPv4-mapped IPv6 client matches IPv4
    /// networks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn networks_match_their_addresses() {
        let cases = [
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("10.0.0.0/8", "10.200.3.4", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.0/24", "192.168.1.255", true),
            ("192.168.1.0/24", "192.168.2.1", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("::1", "::1", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("127.0.0.0/8", "::ffff:127.0.0.5", true),
            ("::1/128", "127.0.0.1", false),
        ];
        for (net, addr, expected) in cases {
            let n = Network::parse(net).unwrap_or_else(|| panic!("{net} parses"));
            assert_eq!(n.contains(ip(addr)), expected, "{net} contains {addr}");
        }
    }

    #[test]
    fn bad_entries_are_named() {
        let config = SecurityConfig {
            allow: vec![
                "10.0.0.0/8".into(),
                "10.0.0.0/33".into(),
                "example.com".into(),
            ],
            ..SecurityConfig::default()
        };
        let Err(bad) = config.networks() else {
            panic!("accepted");
        };
        assert_eq!(bad.len(), 2);
        assert!(bad[0].contains("10.0.0.0/33"));
        assert!(bad[1].contains("example.com"));
    }

    #[test]
    fn delays_grow_after_the_threshold_and_stop_at_the_cap() {
        let c = SecurityConfig::default();
        assert_eq!(c.delay_ms(5), 0);
        assert_eq!(c.delay_ms(6), 500);
        assert_eq!(c.delay_ms(8), 1_500);
        assert_eq!(c.delay_ms(1_000), 5_000);
        let off = SecurityConfig {
            failed_login_delay_after: 0,
            ..SecurityConfig::default()
        };
        assert_eq!(off.delay_ms(1_000), 0);
    }
}
