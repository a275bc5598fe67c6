//! Local etcd members on 127.0.0.1: their command line and their health check (the playground's and the test kit's).

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The flags that start etcd member `name` with its data in `data_dir`, serving clients
/// on `client_port` and peers on `peer_port` of 127.0.0.1, as part of the new cluster
/// `initial_cluster` (`name=http://127.0.0.1:port,...`) named `token` when given. The
/// `--initial-*` flags matter on a member's first start only; later starts read the
/// member from its data directory.
pub fn etcd_member_args(
    name: &str,
    data_dir: &Path,
    client_port: u16,
    peer_port: u16,
    initial_cluster: &str,
    token: Option<&str>,
) -> Vec<OsString> {
    let client_url = format!("http://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let mut args: Vec<OsString> = vec![
        "--name".into(),
        name.into(),
        "--data-dir".into(),
        data_dir.into(),
        "--listen-client-urls".into(),
        client_url.clone().into(),
        "--advertise-client-urls".into(),
        client_url.into(),
        "--listen-peer-urls".into(),
        peer_url.clone().into(),
        "--initial-advertise-peer-urls".into(),
        peer_url.into(),
        "--initial-cluster".into(),
        initial_cluster.into(),
    ];
    if let Some(token) = token {
        args.extend(["--initial-cluster-token".into(), token.into()]);
    }
    args.extend(["--initial-cluster-state".into(), "new".into()]);
    args
}

/// True when the etcd member serving clients on `port` of 127.0.0.1 reports itself
/// healthy (`GET /health`) within two seconds.
pub async fn etcd_healthy(port: u16) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.ok()?;
        Some(String::from_utf8_lossy(&reply).contains("\"health\":\"true\""))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Some(true))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_flags_name_the_urls_and_the_cluster() {
        let args = etcd_member_args(
            "m0",
            Path::new("/d"),
            2379,
            2380,
            "m0=http://127.0.0.1:2380",
            Some("t"),
        );
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("?")).collect();
        assert_eq!(
            args.join(" "),
            "--name m0 --data-dir /d --listen-client-urls http://127.0.0.1:2379 \
             --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls \
             http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
             --initial-cluster m0=http://127.0.0.1:2380 --initial-cluster-token t \
             --initial-cluster-state new"
        );
    }
}
