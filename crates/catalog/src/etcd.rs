//! A small etcd v3 client over etcd's JSON gateway (HTTP/1, `POST /v3/...`, keys and
//! values base64): what the cluster metadata store needs and nothing more — range, put,
//! delete, compare-and-swap transactions, leases and a prefix watch.
//!
//! The gateway instead of the gRPC `etcd-client` crate: that crate pulls tonic and prost
//! and needs `protoc` at build time, while this needs only the hyper client already in
//! the workspace; every call here is a unary request except the watch, which the gateway
//! streams as one JSON object per line.
//!
//! Calls are blocking (the catalog and the sequences are synchronous); they run on the
//! client's own small tokio runtime, so they work from any thread, inside a runtime or
//! not. Each call has a timeout; the endpoints are tried in turn, starting with the one
//! that answered last. Errors are typed ([`EtcdError`]) and never fall back to anything
//! local.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

/// Most bytes of one reply (or one not yet complete watch message) kept in memory.
const MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

/// Tries of a request that members refuse while they elect a leader.
const ELECTION_TRIES: usize = 5;

/// Pause between those tries (an election takes a few heartbeats of 100 ms).
const ELECTION_PAUSE: Duration = Duration::from_millis(300);

/// True for etcd's refusals while its members have no leader or just changed it.
fn is_election(text: &str) -> bool {
    text.contains("leader changed") || text.contains("no leader")
}

/// What can go wrong talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// An endpoint is not `http://host:port`.
    #[error("etcd endpoint '{url}': {reason}")]
    BadEndpoint {
        /// The endpoint as configured.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// No endpoint answered within the timeout.
    #[error("etcd is unreachable ({endpoints}): {last}")]
    Unreachable {
        /// The endpoints tried.
        endpoints: String,
        /// The last endpoint's failure.
        last: String,
    },
    /// etcd answered with an error.
    #[error("etcd refused the request: {0}")]
    Refused(String),
    /// etcd's reply was not what the gateway documents.
    #[error("unexpected reply from etcd: {0}")]
    Protocol(String),
    /// The client's runtime could not be started or is gone.
    #[error("etcd client: {0}")]
    Runtime(String),
}

/// One etcd client URL, `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`, as connected to.
    authority: String,
}

impl Endpoint {
    /// Parses `http://host:port` (no path; TLS is not supported yet).
    pub fn parse(url: &str) -> Result<Endpoint, EtcdError> {
        let bad = |reason: &str| EtcdError::BadEndpoint {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if url.starts_with("https://") {
            return Err(bad("TLS to etcd is not supported yet; use http://"));
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("must start with http://"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('/') || authority.contains('@') {
            return Err(bad("must be http://host:port without a path"));
        }
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| bad("needs a port (etcd's is usually 2379)"))?;
        if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad("needs a host and a port from 1 to 65535"));
        }
        Ok(Endpoint {
            authority: authority.to_string(),
        })
    }

    /// `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

/// A key-value pair as etcd returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: Vec<u8>,
    /// The value (empty for a deletion event).
    pub value: Vec<u8>,
    /// Revision of the key's last change.
    pub mod_revision: i64,
    /// Revision that created the key (0: it does not exist).
    pub create_revision: i64,
    /// Lease the key is attached to (0: none).
    pub lease: i64,
}

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    /// True for a deletion.
    pub deleted: bool,
    /// The key and, for a put, its new value.
    pub kv: KeyValue,
}

/// What a watch delivers: a batch of changes up to a revision, or the end of the watch.
#[derive(Debug)]
pub enum WatchMessage {
    /// Changes (possibly none: a progress report) up to and including `revision`.
    Events {
        /// The store's revision when the batch was sent.
        revision: i64,
        /// The changes, in revision order.
        events: Vec<WatchEvent>,
    },
    /// The revisions the watch needs were compacted away: read everything again.
    Compacted,
}

/// One comparison of a transaction.
#[derive(Debug, Clone)]
pub enum Compare {
    /// The key's mod revision equals this (0: the key does not exist).
    ModRevision(Vec<u8>, i64),
    /// The key's create revision equals this (0: the key does not exist).
    CreateRevision(Vec<u8>, i64),
}

/// One operation of a transaction.
#[derive(Debug, Clone)]
pub enum TxnOp {
    /// Put `key = value`, attached to the lease (third field) unless it is 0.
    Put(Vec<u8>, Vec<u8>, i64),
    /// Delete the key.
    Delete(Vec<u8>),
    /// Delete every key starting with this prefix.
    DeletePrefix(Vec<u8>),
}

/// A blocking etcd client; share it by reference (`Send + Sync`).
pub struct EtcdClient {
    endpoints: Vec<Endpoint>,
    /// The endpoint that answered last: tried first.
    preferred: AtomicUsize,
    timeout: Duration,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for EtcdClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdClient")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl Drop for EtcdClient {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside another runtime; its
        // tasks (a watch, keep-alives) are only abandoned.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The first key after every key starting with `prefix` (etcd's `range_end`).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // All 0xff: every key from the prefix on.
    vec![0]
}

impl EtcdClient {
    /// A client of `urls` (each `http://host:port`), each request bounded by `timeout`.
    pub fn new(urls: &[String], timeout: Duration) -> Result<EtcdClient, EtcdError> {
        let endpoints = urls
            .iter()
            .map(|u| Endpoint::parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        if endpoints.is_empty() {
            return Err(EtcdError::BadEndpoint {
                url: String::new(),
                reason: "no etcd endpoint configured".into(),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("strata-etcd")
            .enable_all()
            .build()
            .map_err(|e| EtcdError::Runtime(e.to_string()))?;
        Ok(EtcdClient {
            endpoints,
            preferred: AtomicUsize::new(0),
            timeout,
            runtime: Some(runtime),
        })
    }

    /// The configured endpoints, as `host:port`.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.authority.clone()).collect()
    }

    fn handle(&self) -> Result<tokio::runtime::Handle, EtcdError> {
        self.runtime
            .as_ref()
            .map(|rt| rt.handle().clone())
            .ok_or_else(|| EtcdError::Runtime("the client is shut down".into()))
    }

    /// Sends `body` to `path` on the first endpoint that answers; the reply's JSON.
    fn call(&self, path: &str, body: Value) -> Result<Value, EtcdError> {
        let handle = self.handle()?;
        let body = Bytes::from(body.to_string());
        let n = self.endpoints.len();
        let first = self.preferred.load(Ordering::Relaxed) % n;
        let mut last = String::new();
        // Every endpoint once, and at least ELECTION_TRIES tries while a leader is elected.
        for i in 0..n.max(ELECTION_TRIES) {
            let failed_round = i >= n && !is_election(&last);
            if failed_round {
                break;
            }
            let index = (first + i) % n;
            let authority = self.endpoints[index].authority.clone();
            let (tx, rx) = mpsc::sync_channel(1);
            let request = unary(authority.clone(), path.to_string(), body.clone());
            let timeout = self.timeout;
            handle.spawn(async move {
                let result = match tokio::time::timeout(timeout, request).await {
                    Ok(r) => r,
                    Err(_) => Err(Failure::Transport(format!(
                        "no answer within {} ms",
                        timeout.as_millis()
                    ))),
                };
                let _ = tx.send(result);
            });
            // The task always answers within its own timeout; the margin covers a busy
            // runtime thread.
            let outcome = rx
                .recv_timeout(self.timeout + Duration::from_secs(1))
                .unwrap_or_else(|_| Err(Failure::Transport("the request was lost".into())));
            match outcome {
                Ok(value) => match check_reply(value) {
                    // See below: a refusal during an election is tried again.
                    Err(EtcdError::Refused(text))
                        if is_election(&text) && i + 1 < n.max(ELECTION_TRIES) =>
                    {
                        tracing::debug!(endpoint = %authority, path, %text, "etcd is electing a leader");
                        last = format!("{authority}: {text}");
                        std::thread::sleep(ELECTION_PAUSE);
                    }
                    reply => {
                        self.preferred.store(index, Ordering::Relaxed);
                        return reply;
                    }
                },
                Err(Failure::Transport(reason)) => {
                    tracing::debug!(endpoint = %authority, path, %reason, "etcd endpoint failed");
                    last = format!("{authority}: {reason}");
                }
                // While the members elect a leader (one of them just went away) the
                // request is refused; another member, a moment later, takes it, as a
                // transport failure goes on to the next endpoint.
                Err(Failure::Status(_, text))
                    if is_election(&text) && i + 1 < n.max(ELECTION_TRIES) =>
                {
                    tracing::debug!(endpoint = %authority, path, %text, "etcd is electing a leader");
                    last = format!("{authority}: {text}");
                    std::thread::sleep(ELECTION_PAUSE);
                }
                Err(Failure::Status(status, text)) => {
                    return Err(EtcdError::Refused(format!("HTTP {status}: {text}")));
                }
            }
        }
        Err(EtcdError::Unreachable {
            endpoints: self.endpoints().join(", "),
            last,
        })
    }

    /// The keys from `key` (exactly `key` without `range_end`) and the store's revision.
    pub fn range(
        &self,
        key: &[u8],
        range_end: Option<&[u8]>,
    ) -> Result<(Vec<KeyValue>, i64), EtcdError> {
        let mut body = json!({ "key": B64.encode(key) });
        if let Some(end) = range_end {
            body["range_end"] = Value::String(B64.encode(end));
        }
        let reply = self.call("/v3/kv/range", body)?;
        let kvs = match reply.get("kvs") {
            Some(Value::Array(items)) => items.iter().map(key_value).collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        Ok((kvs, header_revision(&reply)?))
    }

    /// Every key starting with `prefix`, and the store's revision.
    pub fn range_prefix(&self, prefix: &[u8]) -> Result<(Vec<KeyValue>, i64), EtcdError> {
        self.range(prefix, Some(&prefix_end(prefix)))
    }

    /// One key, if it exists.
    pub fn get(&self, key: &[u8]) -> Result<Option<KeyValue>, EtcdError> {
        Ok(self.range(key, None)?.0.into_iter().next())
    }

    /// Puts `key = value` (attached to `lease` unless 0); the revision of the change.
    pub fn put(&self, key: &[u8], value: &[u8], lease: i64) -> Result<i64, EtcdError> {
        let mut body = json!({ "key": B64.encode(key), "value": B64.encode(value) });
        if lease != 0 {
            body["lease"] = Value::String(lease.to_string());
        }
        header_revision(&self.call("/v3/kv/put", body)?)
    }

    /// Runs `success` if every comparison holds, else `failure`; whether it succeeded
    /// and the revision afterwards.
    pub fn txn(
        &self,
        compare: &[Compare],
        success: &[TxnOp],
        failure: &[TxnOp],
    ) -> Result<(bool, i64), EtcdError> {
        let compare: Vec<Value> = compare
            .iter()
            .map(|c| match c {
                Compare::ModRevision(key, rev) => json!({
                    "key": B64.encode(key), "target": "MOD", "result": "EQUAL",
                    "mod_revision": rev.to_string(),
                }),
                Compare::CreateRevision(key, rev) => json!({
                    "key": B64.encode(key), "target": "CREATE", "result": "EQUAL",
                    "create_revision": rev.to_string(),
                }),
            })
            .collect();
        let ops = |ops: &[TxnOp]| -> Vec<Value> {
            ops.iter()
                .map(|op| match op {
                    TxnOp::Put(key, value, lease) => {
                        let mut put = json!({ "key": B64.encode(key), "value": B64.encode(value) });
                        if *lease != 0 {
                            put["lease"] = Value::String(lease.to_string());
                        }
                        json!({ "request_put": put })
                    }
                    TxnOp::Delete(key) => {
                        json!({ "request_delete_range": { "key": B64.encode(key) } })
                    }
                    TxnOp::DeletePrefix(prefix) => json!({ "request_delete_range": {
                        "key": B64.encode(prefix), "range_end": B64.encode(prefix_end(prefix)),
                    }}),
                })
                .collect()
        };
        let body = json!({ "compare": compare, "success": ops(success), "failure": ops(failure) });
        let reply = self.call("/v3/kv/txn", body)?;
        let succeeded = reply
            .get("succeeded")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok((succeeded, header_revision(&reply)?))
    }

    /// Deletes one key; the revision afterwards.
    pub fn delete(&self, key: &[u8]) -> Result<i64, EtcdError> {
        let reply = self.call("/v3/kv/deleterange", json!({ "key": B64.encode(key) }))?;
        header_revision(&reply)
    }

    /// A new lease living `ttl_s` seconds unless kept alive; its id.
    pub fn lease_grant(&self, ttl_s: i64) -> Result<i64, EtcdError> {
        let reply = self.call("/v3/lease/grant", json!({ "TTL": ttl_s.to_string() }))?;
        int_field(&reply, "ID")
    }

    /// Renews a lease; its remaining time to live in seconds (0: the lease is gone).
    pub fn lease_keepalive(&self, id: i64) -> Result<i64, EtcdError> {
        let reply = self.call("/v3/lease/keepalive", json!({ "ID": id.to_string() }))?;
        let result = reply.get("result").unwrap_or(&reply);
        Ok(int_field(result, "TTL").unwrap_or(0))
    }

    /// Ends a lease now, deleting the keys attached to it (a lease already gone is fine).
    pub fn lease_revoke(&self, id: i64) -> Result<(), EtcdError> {
        match self.call("/v3/lease/revoke", json!({ "ID": id.to_string() })) {
            Ok(_) => Ok(()),
            Err(EtcdError::Refused(text)) if text.contains("lease not found") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Watches every key starting with `prefix` from `start_revision` on, sending what it
    /// sees to `sink` until the receiver is dropped. A broken stream is reopened (next
    /// endpoint) from the revision after the last one delivered.
    pub fn watch(
        &self,
        prefix: Vec<u8>,
        start_revision: i64,
        sink: mpsc::Sender<WatchMessage>,
    ) -> Result<(), EtcdError> {
        let handle = self.handle()?;
        let endpoints: Vec<String> = self.endpoints();
        let timeout = self.timeout;
        handle.spawn(async move {
            let mut next = start_revision;
            let mut index = 0usize;
            loop {
                let authority = endpoints[index % endpoints.len()].clone();
                match watch_stream(&authority, &prefix, next, timeout, &sink).await {
                    Ok(WatchEnd::ReceiverGone) => return,
                    Ok(WatchEnd::Compacted) => {
                        if sink.send(WatchMessage::Compacted).is_err() {
                            return;
                        }
                        // The receiver reads everything again and watches anew.
                        return;
                    }
                    Ok(WatchEnd::Broken(reached, reason)) => {
                        next = next.max(reached + 1);
                        tracing::warn!(endpoint = %authority, %reason, "etcd watch broken; reopening");
                    }
                    Err(reason) => {
                        tracing::warn!(endpoint = %authority, %reason, "etcd watch failed; retrying");
                    }
                }
                index += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Ok(())
    }
}

/// Why a request failed: the transport (try the next endpoint) or etcd's answer.
enum Failure {
    Transport(String),
    Status(u16, String),
}

/// A reply with an `error` field is etcd refusing the request.
fn check_reply(value: Value) -> Result<Value, EtcdError> {
    if let Some(error) = value.get("error") {
        let text = value
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| error.as_str())
            .unwrap_or("unknown error");
        return Err(EtcdError::Refused(text.to_string()));
    }
    Ok(value)
}

/// Opens an HTTP/1 connection to `authority` and posts `body` to `path`.
async fn open(
    authority: &str,
    path: &str,
    body: Bytes,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        // Ends with the response (or the watch); its error shows in the response.
        let _ = conn.await;
    });
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .map_err(|e| format!("request: {e}"))?;
    sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))
}

async fn unary(authority: String, path: String, body: Bytes) -> Result<Value, Failure> {
    let response = open(&authority, &path, body)
        .await
        .map_err(Failure::Transport)?;
    let status = response.status();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::Transport(format!("reply: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_REPLY_BYTES {
                return Err(Failure::Status(
                    status.as_u16(),
                    "reply larger than 64 MiB".into(),
                ));
            }
            bytes.extend_from_slice(&data);
            // Streamed replies (keep-alive) hold one message per line: the first is all.
            if path.ends_with("keepalive") && bytes.contains(&b'\n') {
                break;
            }
        }
    }
    let value: Value = serde_json::from_slice(
        bytes
            .split(|b| *b == b'\n')
            .find(|line| !line.is_empty())
            .unwrap_or(&[]),
    )
    .map_err(|e| {
        Failure::Status(
            status.as_u16(),
            format!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)),
        )
    })?;
    if !status.is_success() && value.get("error").is_none() {
        return Err(Failure::Status(status.as_u16(), value.to_string()));
    }
    Ok(value)
}

/// How one watch stream ended.
enum WatchEnd {
    ReceiverGone,
    Compacted,
    /// Broken after delivering everything up to this revision.
    Broken(i64, String),
}

async fn watch_stream(
    authority: &str,
    prefix: &[u8],
    start: i64,
    timeout: Duration,
    sink: &mpsc::Sender<WatchMessage>,
) -> Result<WatchEnd, String> {
    let body = json!({ "create_request": {
        "key": B64.encode(prefix),
        "range_end": B64.encode(prefix_end(prefix)),
        "start_revision": start.to_string(),
        "progress_notify": true,
    }});
    let response = tokio::time::timeout(
        timeout,
        open(authority, "/v3/watch", Bytes::from(body.to_string())),
    )
    .await
    .map_err(|_| "no answer".to_string())??;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut body = response.into_body();
    let mut buffer: Vec<u8> = Vec::new();
    let mut reached = start - 1;
    loop {
        let frame = match body.frame().await {
            None => return Ok(WatchEnd::Broken(reached, "stream ended".into())),
            Some(Err(e)) => return Ok(WatchEnd::Broken(reached, e.to_string())),
            Some(Ok(frame)) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buffer.extend_from_slice(&data);
        while let Some(pos) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=pos).collect();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: Value = serde_json::from_slice(&line)
                .map_err(|e| format!("watch message is not JSON: {e}"))?;
            let result = match value.get("result") {
                Some(r) => r,
                None => return Ok(WatchEnd::Broken(reached, format!("watch error: {value}"))),
            };
            if int_field(result, "compact_revision").unwrap_or(0) > 0 {
                return Ok(WatchEnd::Compacted);
            }
            if result.get("canceled").and_then(Value::as_bool) == Some(true) {
                return Ok(WatchEnd::Broken(reached, "watch canceled".into()));
            }
            let revision = header_revision(result).map_err(|e| e.to_string())?;
            let mut events = Vec::new();
            if let Some(Value::Array(items)) = result.get("events") {
                for item in items {
                    let kv = item
                        .get("kv")
                        .ok_or_else(|| "watch event without kv".to_string())?;
                    events.push(WatchEvent {
                        deleted: item.get("type").and_then(Value::as_str) == Some("DELETE"),
                        kv: key_value(kv).map_err(|e| e.to_string())?,
                    });
                }
            }
            let newest = events
                .iter()
                .map(|e| e.kv.mod_revision)
                .max()
                .unwrap_or(reached);
            // A created/progress message reports the store's revision, not what was
            // delivered; only events move `reached`.
            reached = reached.max(newest);
            if sink
                .send(WatchMessage::Events {
                    revision: revision.max(reached),
                    events,
                })
                .is_err()
            {
                return Ok(WatchEnd::ReceiverGone);
            }
        }
        if buffer.len() > MAX_REPLY_BYTES {
            return Ok(WatchEnd::Broken(reached, "watch message too large".into()));
        }
    }
}

/// A gateway int64 (sent as a string, sometimes as a number); absent is an error.
fn int_field(value: &Value, name: &str) -> Result<i64, EtcdError> {
    match value.get(name) {
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| EtcdError::Protocol(format!("{name} is not a number: {s}"))),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| EtcdError::Protocol(format!("{name} is out of range: {n}"))),
        _ => Err(EtcdError::Protocol(format!("no {name} in {value}"))),
    }
}

fn header_revision(reply: &Value) -> Result<i64, EtcdError> {
    let header = reply
        .get("header")
        .ok_or_else(|| EtcdError::Protocol(format!("no header in {reply}")))?;
    int_field(header, "revision")
}

fn bytes_field(value: &Value, name: &str) -> Result<Vec<u8>, EtcdError> {
    match value.get(name).and_then(Value::as_str) {
        Some(text) => B64
            .decode(text)
            .map_err(|e| EtcdError::Protocol(format!("{name} is not base64: {e}"))),
        None => Ok(Vec::new()),
    }
}

fn key_value(kv: &Value) -> Result<KeyValue, EtcdError> {
    Ok(KeyValue {
        key: bytes_field(kv, "key")?,
        value: bytes_field(kv, "value")?,
        mod_revision: int_field(kv, "mod_revision").unwrap_or(0),
        create_revision: int_field(kv, "create_revision").unwrap_or(0),
        lease: int_field(kv, "lease").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_plain_http_with_a_port() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:2379")
                .map(|e| e.authority)
                .ok(),
            Some("127.0.0.1:2379".to_string())
        );
        assert!(Endpoint::parse("http://etcd-1:2379/").is_ok());
        for bad in [
            "127.0.0.1:2379",
            "https://127.0.0.1:2379",
            "http://127.0.0.1",
            "http://127.0.0.1:0",
            "http://127.0.0.1:2379/v3",
            "http://:2379",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn prefix_end_is_the_first_key_after_the_prefix() {
        assert_eq!(prefix_end(b"/strata/"), b"/strata0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }
}
