//! Deciding that a MySQL-protocol server is ready: it accepts a TCP connection and sends
//! the initial handshake packet (protocol version 10).
//!
//! A listening socket alone is not enough (the server may answer with an error packet
//! such as "Too many connections"), so we read the first packet and look at its first
//! payload byte.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Connects to `addr` once and reports whether it greets with a MySQL handshake packet
/// within `timeout`.
pub async fn wait_for_mysql_handshake(addr: SocketAddr, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, read_handshake(addr))
        .await
        .unwrap_or(false)
}

async fn read_handshake(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return false;
    };
    // Packet header: 3-byte payload length, 1-byte sequence id; then the payload, whose
    // first byte is the protocol version (10) or 0xff for an error packet.
    let mut header = [0u8; 5];
    if stream.read_exact(&mut header).await.is_err() {
        return false;
    }
    let payload_len = u32::from_le_bytes([header[0], header[1], header[2], 0]);
    payload_len > 0 && header[4] == 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    async fn server_sending(bytes: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(bytes).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn handshake_packet_means_ready() {
        let addr = server_sending(&[5, 0, 0, 0, 10, b'1', b'0', b'.', 0]).await;
        assert!(wait_for_mysql_handshake(addr, Duration::from_secs(2)).await);
    }

    #[tokio::test]
    async fn error_packet_means_not_ready() {
        let addr = server_sending(&[3, 0, 0, 0, 0xff, 0x10, 0x04]).await;
        assert!(!wait_for_mysql_handshake(addr, Duration::from_secs(2)).await);
    }

    #[tokio::test]
    async fn closed_port_means_not_ready() {
        let port = crate::free_port().expect("port");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(!wait_for_mysql_handshake(addr, Duration::from_secs(2)).await);
    }
}
