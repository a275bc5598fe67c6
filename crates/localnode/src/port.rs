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
    fn free_port_range_can_be_bound() {
        let base = free_port_range(3).expect("free range");
        let listeners: Vec<_> = (base..base + 3)
            .map(|p| TcpListener::bind(("127.0.0.1", p)).expect("port is bindable"))
            .collect();
        assert_eq!(listeners.len(), 3);
    }
}
