//! Picking free local TCP ports for throwaway servers.
//!
//! The OS picks a port for a socket bound to port 0; we read it and close the socket.
//! Another process could take the port before our server binds it, so callers that
//! start servers on these ports should be ready to retry.

use std::net::TcpListener;

use crate::LocalNodeError;

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16, LocalNodeError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| LocalNodeError::io("binding 127.0.0.1:0 to find a free port", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| LocalNodeError::io("reading the address of a bound socket", e))?;
    Ok(addr.port())
}

/// Returns the first port of `count` consecutive ports on 127.0.0.1 that were all free a
/// moment ago (for servers whose ports are configured as base + i).
pub fn free_port_range(count: u16) -> Result<u16, LocalNodeError> {
    for _ in 0..50 {
        let base = free_port()?;
        if base.checked_add(count).is_none() {
            continue;
        }
        let all_free = (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return Ok(base);
        }
    }
    Err(LocalNodeError::io(
        format!("finding {count} consecutive free ports"),
        std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free range found"),
    ))
}

/// Lowest port `free_port_block` picks (above the well-known and registered servers
/// a developer machine is likely to run).
const BLOCK_LOW: u16 = 10_000;

/// First port of the kernel's ephemeral range on Linux by default; outgoing connections
/// take ports from 32768 up.
const EPHEMERAL_LOW: u16 = 32_768;

/// Returns a base port B such that B + each of `offsets` was free a moment ago, chosen
/// below the ephemeral range: a server started seconds later on one of them (after a
/// MariaDB data directory is initialised, say) does not find it taken by another
/// test's outgoing connection, which a port from `free_port` can be.
pub fn free_port_block(offsets: &[u16]) -> Result<u16, LocalNodeError> {
    let span = offsets.iter().copied().max().unwrap_or(0);
    let room = EPHEMERAL_LOW.saturating_sub(BLOCK_LOW).saturating_sub(span);
    if room == 0 {
        return Err(LocalNodeError::io(
            format!("finding a block of ports spanning {span}"),
            std::io::Error::new(std::io::ErrorKind::AddrInUse, "the block is too wide"),
        ));
    }
    for attempt in 0u64..200 {
        let base = BLOCK_LOW + (random(attempt) % u64::from(room)) as u16;
        let listeners: Vec<_> = offsets
            .iter()
            .map(|o| TcpListener::bind(("127.0.0.1", base + o)))
            .collect();
        if listeners.iter().all(Result::is_ok) {
            return Ok(base);
        }
    }
    Err(LocalNodeError::io(
        format!("finding a free block of ports spanning {span}"),
        std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free block found"),
    ))
}

/// A number that differs between processes and calls (std's hasher is randomly keyed
/// per process), so concurrent test processes pick different blocks.
fn random(salt: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(salt);
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_can_be_bound() {
        let port = free_port().expect("free port");
        assert_ne!(port, 0);
        TcpListener::bind(("127.0.0.1", port)).expect("port is bindable");
    }

    #[test]
    fn a_free_port_block_is_below_the_ephemeral_range_and_bindable() {
        let base = free_port_block(&[0, 1, 100, 295]).expect("free block");
        assert!((BLOCK_LOW..EPHEMERAL_LOW - 295).contains(&base));
        for o in [0, 1, 100, 295] {
            TcpListener::bind(("127.0.0.1", base + o)).expect("port is bindable");
        }
    }

    #[test]
    fn free_port_range_can_be_bound() {
        let base = free_port_range(3).expect("free range");
        let listeners: Vec<_> = (base..base + 3)
            .map(|p| TcpListener::bind(("127.0.0.1", p)).expect("port is bindable"))
            .collect();
        assert_eq!(listeners.len(), 3);
    }
}
