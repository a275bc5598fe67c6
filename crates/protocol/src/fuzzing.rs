//! The fuzzers' entry point: `decode_any` feeds arbitrary bytes to every decoder of the
//! crate and to both sides of the login exchange. Whatever the input, nothing may panic;
//! where decoding is canonical, re-encoding a decoded packet must decode to the same value.
//!
//! Two drivers call it: the cargo-fuzz target `packet_decode` (`fuzz/`, nightly), and the
//! bounded random fuzz test below (stable; `STRATA_FUZZ_SECONDS`). `scripts/fuzz` picks one.
//! The asynchronous parts run over an in-memory stream polled without a runtime, which is
//! possible because that stream is never pending.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use bytes::{BufMut, BytesMut};
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::auth::{self, caching_sha2, AuthPlugin, ChangeUser, FastAuthCache};
use crate::codec::PacketConn;
use crate::command::{Command, ParamType, ParamTypes, StmtExecute};
use crate::constants::{cap, charset, com, SERVER_CAPABILITIES};
use crate::handshake;
use crate::packets::{
    decode_text_row, encode_text_row, is_eof, terminator_status, ColumnDef, ErrPacket, Handshake,
    HandshakeResponse, OkPacket, OK_HEADER,
};
use crate::wire::Reader;

/// The scramble the fuzzed server side greets with.
pub const FUZZ_SCRAMBLE: [u8; 20] = *b"abcdefghijklmnopqrst";
/// The password of the fuzzed accounts.
pub const FUZZ_PASSWORD: &str = "secret";
/// Packet size limit of the fuzzed connections (small, to reach the limit checks).
const FUZZ_MAX_PACKET: usize = 4096;

/// Runs every decoder and both login state machines on `data`; must never panic.
pub fn decode_any(data: &[u8]) {
    decode_payloads(data);
    decode_commands(data);
    reader_ops(data);
    read_frames(data);
    server_login(data);
    client_login(data);
}

/// Each packet decoder on `data` as one payload, with round trips where they are exact.
fn decode_payloads(data: &[u8]) {
    if let Ok(hs) = Handshake::decode(data) {
        let mut buf = BytesMut::new();
        hs.encode(&mut buf);
        assert_eq!(
            Handshake::decode(&buf).ok(),
            Some(hs),
            "handshake round trip"
        );
    }
    if let (Ok(ok), Some(&header)) = (OkPacket::decode(data), data.first()) {
        let mut buf = BytesMut::new();
        ok.encode(&mut buf, header);
        assert_eq!(OkPacket::decode(&buf).ok(), Some(ok), "OK round trip");
    }
    if let Ok(err) = ErrPacket::decode(data) {
        let mut buf = BytesMut::new();
        err.encode(&mut buf);
        assert_eq!(ErrPacket::decode(&buf).ok(), Some(err), "ERR round trip");
    }
    if let Ok(col) = ColumnDef::decode(data) {
        let mut buf = BytesMut::new();
        col.encode(&mut buf);
        assert_eq!(ColumnDef::decode(&buf).ok(), Some(col), "column round trip");
    }
    let columns = data.first().map_or(0, |&b| usize::from(b % 32));
    if let Ok(row) = decode_text_row(data, columns) {
        let mut buf = BytesMut::new();
        encode_text_row(&mut buf, row.iter().copied());
        assert_eq!(
            decode_text_row(&buf, columns).ok(),
            Some(row),
            "row round trip"
        );
    }
    let _ = HandshakeResponse::is_ssl_request(data);
    let _ = HandshakeResponse::decode(data);
    let _ = terminator_status(data);
    let _ = is_eof(data);
    let _ = handshake::parse_auth_switch(data);
    for caps in [
        SERVER_CAPABILITIES,
        cap::PROTOCOL_41 | cap::SECURE_CONNECTION,
        cap::PROTOCOL_41,
    ] {
        let _ = ChangeUser::decode(data, caps);
    }
}

/// `data` as a client command; a COM_STMT_EXECUTE is decoded for several parameter
/// counts, with and without remembered types, and re-encoded for another statement id,
/// which must decode to the same execution.
fn decode_commands(data: &[u8]) {
    let Ok(Ok(Command::StmtExecute { body, .. })) = Command::decode(data) else {
        return;
    };
    for params in [0, 1, 2, 9] {
        let remembered: ParamTypes = (0..params)
            .map(|i| ParamType {
                column_type: body.get(i).copied().unwrap_or(0),
                flags: 0,
            })
            .collect();
        for types in [None, Some(&remembered)] {
            let Ok(exec) = StmtExecute::decode(body, params, types) else {
                continue;
            };
            let values = exec.values(|i| i == 1);
            let mut again = BytesMut::new();
            exec.encode_for(exec.statement_id.wrapping_add(1), &mut again);
            let decoded = StmtExecute::decode(&again, params, None).ok();
            assert_eq!(
                decoded
                    .as_ref()
                    .map(|d| (d.statement_id, &d.types, d.raw_values)),
                Some((
                    exec.statement_id.wrapping_add(1),
                    &exec.types,
                    exec.raw_values
                )),
                "execute round trip"
            );
            let decoded_values = decoded.map(|d| d.values(|i| i == 1));
            // NaN parameters compare unequal to themselves: compare their bits.
            assert_eq!(
                format!("{decoded_values:?}"),
                format!("{:?}", Some(values)),
                "execute values round trip"
            );
        }
    }
}

/// Reader operations chosen by the first bytes, applied to the rest.
fn reader_ops(data: &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let (ops, input) = rest.split_at(usize::from(count % 16).min(rest.len()));
    let mut r = Reader::new(input);
    for &op in ops {
        let before = r.position();
        let _ = match op % 11 {
            0 => r.u8("u8").map(drop),
            1 => r.u16("u16").map(drop),
            2 => r.u24("u24").map(drop),
            3 => r.u32("u32").map(drop),
            4 => r.u64("u64").map(drop),
            5 => r.lenenc_int("lenenc").map(drop),
            6 => r.lenenc_bytes("lenenc bytes").map(drop),
            7 => r.null_terminated("nul").map(drop),
            8 => {
                r.null_terminated_or_rest();
                Ok(())
            }
            9 => r.bytes(usize::from(op / 11), "bytes").map(drop),
            _ => {
                r.rest();
                assert!(r.is_empty(), "rest() leaves nothing");
                Ok(())
            }
        };
        assert!(r.position() >= before, "a reader never moves back");
        assert_eq!(
            r.position() + r.remaining(),
            input.len(),
            "reader accounting"
        );
    }
}

/// Reads packets off `data` as a stream until it ends or breaks.
fn read_frames(data: &[u8]) {
    let mut conn = PacketConn::new(MemStream::new(data), 64);
    let _ = block_on(async {
        while let Ok(packet) = conn.read_packet().await {
            assert!(packet.payload.len() <= 64, "limit enforced");
        }
    });
}

/// The stored credential of a fuzzed account (fixed salt: runs must be reproducible).
fn fuzz_credential(password: &str) -> auth::Credential {
    auth::Credential::from_password_with_salt(password, "fuzzfuzzfuzzfuzzfuzz")
}

/// The server side of a login, with the client's packets taken from `data`; the account
/// and transport vary with the last byte.
fn server_login(data: &[u8]) {
    let selector = data.last().copied().unwrap_or(0);
    let password = match selector & 3 {
        0 => None,
        1 => Some(""),
        _ => Some(FUZZ_PASSWORD),
    };
    let required = match (selector >> 2) & 3 {
        1 => Some(AuthPlugin::MysqlNativePassword),
        2 => Some(AuthPlugin::CachingSha2Password),
        _ => None,
    };
    let credential = password.map(|pw| fuzz_credential(pw).requiring(required));
    let is_tls = selector & 0x10 != 0;
    let cache = FastAuthCache::new();
    let mut conn = PacketConn::new(MemStream::new(data), FUZZ_MAX_PACKET);
    let _ = block_on(async {
        let first = conn.read_packet().await?;
        if selector & 0x20 != 0 {
            if let Some(c) = &credential {
                cache.insert("app", FUZZ_PASSWORD.as_bytes(), c);
            }
        }
        if first.payload.first() == Some(&com::CHANGE_USER) {
            let request = ChangeUser::decode(&first.payload, SERVER_CAPABILITIES)?;
            auth::authenticate_change_user(
                &mut conn,
                &FUZZ_SCRAMBLE,
                &request,
                credential.as_ref(),
                is_tls,
                &cache,
            )
            .await?;
        } else {
            let response = HandshakeResponse::decode(&first.payload)?;
            auth::authenticate(
                &mut conn,
                &FUZZ_SCRAMBLE,
                &response,
                credential.as_ref(),
                is_tls,
                &cache,
            )
            .await?;
        }
        Ok::<(), auth::AuthError>(())
    });
}

/// Strata's client side of a login, with the server's packets taken from `data`.
fn client_login(data: &[u8]) {
    let mut conn = PacketConn::new(MemStream::new(data), FUZZ_MAX_PACKET);
    let _ = block_on(handshake::client_connect(
        &mut conn,
        "app",
        FUZZ_PASSWORD,
        Some("db"),
        SERVER_CAPABILITIES,
        charset::UTF8MB4_GENERAL_CI,
    ));
}

/// Polls `fut` to completion; `None` if it ever waits (never, over a `MemStream`).
fn block_on<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

/// A stream that reads from a byte slice and swallows writes; never pending.
struct MemStream<'a> {
    input: &'a [u8],
}

impl<'a> MemStream<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { input }
    }
}

impl AsyncRead for MemStream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.input.len().min(buf.remaining());
        buf.put_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Frames payloads as consecutive packets with sequence ids from `first_seq`.
pub fn frame_packets(first_seq: u8, payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for (i, payload) in payloads.iter().enumerate() {
        out.put_uint_le(payload.len() as u64, 3);
        out.put_u8(first_seq.wrapping_add(i as u8));
        out.extend_from_slice(payload);
    }
    out.to_vec()
}

/// Valid inputs that reach deep into each decoder and exchange, to start fuzzing from.
pub fn seed_inputs() -> Vec<Vec<u8>> {
    let pw = FUZZ_PASSWORD.as_bytes();
    let encode = |f: &dyn Fn(&mut BytesMut)| {
        let mut buf = BytesMut::new();
        f(&mut buf);
        buf.to_vec()
    };
    let response = |plugin: AuthPlugin, data: Vec<u8>| {
        encode(&|buf| {
            HandshakeResponse {
                capabilities: SERVER_CAPABILITIES,
                max_packet: 1 << 24,
                charset: charset::UTF8MB4_GENERAL_CI,
                user: "app".into(),
                auth_response: data.clone(),
                database: Some("db".into()),
                auth_plugin: Some(plugin.name().into()),
                attrs: vec![("_client_name".into(), "fuzz".into())],
            }
            .encode(buf)
        })
    };
    let greeting = |plugin: AuthPlugin| {
        encode(&|buf| {
            Handshake {
                server_version: "5.5.5-10.11.0-MariaDB".into(),
                connection_id: 1,
                scramble: FUZZ_SCRAMBLE,
                capabilities: SERVER_CAPABILITIES,
                charset: charset::UTF8MB4_GENERAL_CI,
                status: 2,
                auth_plugin: plugin.name().into(),
            }
            .encode(buf)
        })
    };
    let ok = encode(&|buf| OkPacket::default().encode(buf, OK_HEADER));
    let err = encode(&|buf| crate::MysqlError::access_denied("app", "h", true).encode(buf));
    let switch = encode(&|buf| {
        crate::packets::encode_auth_switch(
            buf,
            AuthPlugin::MysqlNativePassword.name(),
            &FUZZ_SCRAMBLE,
        )
    });
    let native = AuthPlugin::MysqlNativePassword;
    let sha2 = AuthPlugin::CachingSha2Password;
    let key = caching_sha2::server_rsa_key().ok();
    let pem = key
        .map(|k| k.public_key_pem().as_bytes().to_vec())
        .unwrap_or_default();
    let encrypted = caching_sha2::encrypt_password(&pem, pw, &FUZZ_SCRAMBLE).unwrap_or_default();
    let more = |data: &[u8]| [&[0x01][..], data].concat();
    let change_user = encode(&|buf| {
        ChangeUser {
            user: "app".into(),
            auth_response: native.scramble(&FUZZ_SCRAMBLE, pw),
            database: Some("db".into()),
            charset: Some(45),
            auth_plugin: Some(native.name().into()),
            attrs: vec![("k".into(), "v".into())],
        }
        .encode(buf, SERVER_CAPABILITIES)
    });
    let column = encode(&|buf| ColumnDef::bigint("id", true).encode(buf));
    let row = encode(&|buf| encode_text_row(buf, [Some(&b"1"[..]), None]));
    let select_one = [&[com::QUERY][..], b"select 1"].concat();
    // COM_STMT_EXECUTE of statement 1 with (BIGINT 7, NULL string, DATETIME).
    let execute = [
        &[com::STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0b010, 1][..],
        &[0x08, 0, 0xfd, 0, 0x0c, 0],
        &[7, 0, 0, 0, 0, 0, 0, 0],
        &[7, 0xe8, 0x07, 2, 29, 13, 14, 15],
    ]
    .concat();
    vec![
        // Server side: logins as clients send them.
        frame_packets(
            1,
            &[&response(native, native.scramble(&FUZZ_SCRAMBLE, pw)), &[3]],
        ),
        frame_packets(
            1,
            &[
                &response(sha2, sha2.scramble(&FUZZ_SCRAMBLE, pw)),
                &[2],
                &encrypted,
                &[2],
            ],
        ),
        frame_packets(
            1,
            &[
                &response(sha2, sha2.scramble(&FUZZ_SCRAMBLE, pw)),
                b"secret\0",
                &[0x13],
            ],
        ),
        frame_packets(
            0,
            &[&change_user, &native.scramble(&FUZZ_SCRAMBLE, pw), &[7]],
        ),
        // Client side: storage nodes' replies.
        frame_packets(0, &[&greeting(native), &ok]),
        frame_packets(0, &[&greeting(native), &err]),
        frame_packets(0, &[&greeting(sha2), &switch, &ok]),
        frame_packets(0, &[&greeting(sha2), &more(&[4]), &more(&pem), &ok]),
        frame_packets(0, &[&greeting(sha2), &more(&[3]), &ok]),
        // Single payloads and streams of them.
        ok.clone(),
        err,
        column.clone(),
        row.clone(),
        select_one,
        execute,
        frame_packets(1, &[&column, &row, &ok]),
        frame_packets(0, &[&[0x61; 70]]),
    ]
}

/// What a bounded fuzz run on stable does: `STRATA_FUZZ_SECONDS` (default 2) of inputs
/// from the random seed `STRATA_FUZZ_SEED` (a fresh one when unset; print it, so that a
/// failing run can be replayed).
pub fn stable_run_settings() -> (f64, u64) {
    let seconds: f64 = std::env::var("STRATA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let seed: u64 = std::env::var("STRATA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    (seconds, seed)
}

/// Applies one to four random edits to `input`: bit flips, bytes from `interesting`,
/// cuts, insertions, duplications and splices with `other`. Cuts and splices keep at
/// least `keep` bytes.
pub fn mutate<R: Rng>(
    rng: &mut R,
    mut input: Vec<u8>,
    other: &[u8],
    interesting: &[u8],
    keep: usize,
) -> Vec<u8> {
    for _ in 0..rng.gen_range(1..=4) {
        let len = input.len();
        match rng.gen_range(0..7) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = interesting[rng.gen_range(0..interesting.len())];
            }
            2 if len > keep => input.truncate(rng.gen_range(keep..len)),
            3 => {
                let i = rng.gen_range(0..=len);
                let extra: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
                input.splice(i..i, extra);
            }
            4 if len > 1 => {
                let a = rng.gen_range(0..len);
                let b = rng.gen_range(a..len);
                let chunk = input[a..=b].to_vec();
                input.splice(b..b, chunk);
            }
            5 if !other.is_empty() && len >= keep => {
                let cut = rng.gen_range(keep..=len);
                let from = rng.gen_range(0..other.len());
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            _ => {
                let i = rng.gen_range(0..=len);
                input.insert(i, rng.gen());
            }
        }
    }
    input
}

/// `bytes` in lowercase hex, for replaying a failing input.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `inputs` as files `seed-NNN` into `$STRATA_FUZZ_CORPUS_DIR`, the seed corpus
/// `scripts/fuzz` gives cargo-fuzz; nothing when it is not set.
pub fn write_seed_corpus(inputs: &[Vec<u8>]) {
    let Some(dir) = std::env::var_os("STRATA_FUZZ_CORPUS_DIR") else {
        eprintln!("STRATA_FUZZ_CORPUS_DIR is not set; nothing written");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for (i, input) in inputs.iter().enumerate() {
        let path = dir.join(format!("seed-{i:03}"));
        std::fs::write(&path, input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const INTERESTING: [u8; 9] = [0x00, 0x01, 0x02, 0x03, 0x04, 0xfb, 0xfc, 0xfd, 0xfe];

    /// Bounded random fuzzing on stable: `STRATA_FUZZ_SECONDS` (default 2) of random and
    /// mutated-valid inputs; `STRATA_FUZZ_SEED` replays a run.
    #[test]
    fn fuzz_decoders_with_random_input() {
        let (seconds, seed) = stable_run_settings();
        let mut rng = StdRng::seed_from_u64(seed);
        let seeds = seed_inputs();
        for input in &seeds {
            decode_any(input);
        }
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let mut runs = 0u64;
        while Instant::now() < deadline {
            let input = if rng.gen_bool(0.2) {
                let len = rng.gen_range(0..256);
                (0..len).map(|_| rng.gen()).collect()
            } else {
                let base = seeds[rng.gen_range(0..seeds.len())].clone();
                let other = &seeds[rng.gen_range(0..seeds.len())];
                mutate(&mut rng, base, other, &INTERESTING, 0)
            };
            if let Err(panic) = std::panic::catch_unwind(|| decode_any(&input)) {
                eprintln!(
                    "decode_any panicked (STRATA_FUZZ_SEED={seed}) on input {}",
                    hex(&input)
                );
                std::panic::resume_unwind(panic);
            }
            runs += 1;
        }
        eprintln!("fuzzed {runs} inputs in {seconds}s (STRATA_FUZZ_SEED={seed})");
    }

    /// Writes `seed_inputs` as files into `$STRATA_FUZZ_CORPUS_DIR` for cargo-fuzz.
    #[test]
    #[ignore = "writes the fuzz seed corpus; run by scripts/fuzz"]
    fn write_seed_corpus() {
        super::write_seed_corpus(&seed_inputs());
    }

    #[test]
    fn the_seed_inputs_reach_a_successful_login_on_both_sides() {
        // The first seed is a correct native login, so the fuzzer starts past the checks.
        let seeds = seed_inputs();
        let mut conn = PacketConn::new(MemStream::new(&seeds[0]), FUZZ_MAX_PACKET);
        let cache = FastAuthCache::new();
        let result = block_on(async {
            let first = conn.read_packet().await?;
            let response = HandshakeResponse::decode(&first.payload)?;
            auth::authenticate(
                &mut conn,
                &FUZZ_SCRAMBLE,
                &response,
                Some(&fuzz_credential(FUZZ_PASSWORD)),
                false,
                &cache,
            )
            .await
        });
        assert!(matches!(result, Some(Ok(_))), "{result:?}");

        let mut conn = PacketConn::new(MemStream::new(&seeds[4]), FUZZ_MAX_PACKET);
        let info = block_on(handshake::client_connect(
            &mut conn,
            "app",
            FUZZ_PASSWORD,
            None,
            SERVER_CAPABILITIES,
            45,
        ));
        assert!(matches!(info, Some(Ok(_))), "{info:?}");
    }
}
