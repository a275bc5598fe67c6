//! A minimal MySQL protocol client: connect with `mysql_native_password` (following an
//! auth switch to it), run text queries (discarding or keeping the rows), quit. No TLS,
//! no compression, no prepared statements: just enough for load generation with a small
//! per-connection footprint.

use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENT_LONG_PASSWORD: u32 = 1;
const CLIENT_CONNECT_WITH_DB: u32 = 8;
const CLIENT_PROTOCOL_41: u32 = 512;
const CLIENT_TRANSACTIONS: u32 = 8192;
const CLIENT_SECURE_CONNECTION: u32 = 32768;
const CLIENT_MULTI_RESULTS: u32 = 1 << 17;
const CLIENT_PLUGIN_AUTH: u32 = 1 << 19;
const UTF8MB4_GENERAL_CI: u8 = 45;
const COM_QUIT: u8 = 1;
const COM_QUERY: u8 = 3;

/// Errors of the minimal client.
#[derive(Debug)]
pub enum Error {
    /// The socket failed or closed.
    Io(std::io::Error),
    /// The server answered with an ERR packet.
    Server {
        /// MySQL error code.
        code: u16,
        /// Error message.
        message: String,
    },
    /// The server sent something this client does not understand.
    Protocol(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o: {e}"),
            Error::Server { code, message } => write!(f, "server error {code}: {message}"),
            Error::Protocol(what) => write!(f, "protocol: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Login {
    /// `host:port`.
    pub addr: String,
    /// User name.
    pub user: String,
    /// Password (empty for none).
    pub password: String,
    /// Database to select at connect time.
    pub database: Option<String>,
}

/// Summary of a query's response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryResult {
    /// Rows in the result set (0 for an OK response).
    pub rows: u64,
    /// Affected rows of an OK response (0 for a result set).
    pub affected: u64,
}

/// One text-protocol row: each column's value as text, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

/// A length-encoded integer at `pos`, advancing `pos`; `None` when truncated.
fn lenenc_int(p: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *p.get(*pos)?;
    let (value, len) = match first {
        0xfc => (
            u64::from(u16::from_le_bytes([*p.get(*pos + 1)?, *p.get(*pos + 2)?])),
            3,
        ),
        0xfd => (
            u64::from_le_bytes([
                *p.get(*pos + 1)?,
                *p.get(*pos + 2)?,
                *p.get(*pos + 3)?,
                0,
                0,
                0,
                0,
                0,
            ]),
            4,
        ),
        0xfe => {
            let b = p.get(*pos + 1..*pos + 9)?;
            (u64::from_le_bytes(b.try_into().ok()?), 9)
        }
        n => (u64::from(n), 1),
    };
    *pos += len;
    Some(value)
}

/// Decodes one text-protocol row packet.
fn text_row(p: &[u8]) -> Result<Row, Error> {
    let mut pos = 0;
    let mut row = Vec::new();
    while pos < p.len() {
        if p[pos] == 0xfb {
            pos += 1;
            row.push(None);
            continue;
        }
        let len = lenenc_int(p, &mut pos).ok_or(Error::Protocol("truncated row"))? as usize;
        let bytes = p
            .get(pos..pos + len)
            .ok_or(Error::Protocol("truncated row"))?;
        row.push(Some(String::from_utf8_lossy(bytes).into_owned()));
        pos += len;
    }
    Ok(row)
}

/// One open connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    seq: u8,
}

fn err_packet(payload: &[u8]) -> Error {
    let code = payload
        .get(1..3)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .unwrap_or(0);
    // Protocol 4.1: '#' and a 5-byte SQL state precede the message.
    let msg = if payload.get(3) == Some(&b'#') {
        payload.get(9..).unwrap_or_default()
    } else {
        payload.get(3..).unwrap_or_default()
    };
    Error::Server {
        code,
        message: String::from_utf8_lossy(msg).into_owned(),
    }
}

/// `mysql_native_password` scramble: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))).
pub fn native_password(password: &str, nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(stage2);
    let mix = h.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

fn cstr(data: &[u8], pos: &mut usize) -> Result<Vec<u8>, Error> {
    let rest = data
        .get(*pos..)
        .ok_or(Error::Protocol("truncated handshake"))?;
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let out = rest[..end].to_vec();
    *pos += end + 1;
    Ok(out)
}

/// Nonce (20 bytes) and auth plugin from a v10 server greeting.
fn parse_greeting(p: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    if p.first() == Some(&0xff) {
        return Err(err_packet(p));
    }
    if p.first() != Some(&10) {
        return Err(Error::Protocol("not a protocol 10 greeting"));
    }
    let mut pos = 1;
    cstr(p, &mut pos)?; // server version
    pos += 4; // connection id
    let mut nonce = p
        .get(pos..pos + 8)
        .ok_or(Error::Protocol("truncated greeting"))?
        .to_vec();
    pos += 8 + 1 + 2 + 1 + 2 + 2; // nonce part 1, filler, caps, charset, status, caps high
    let auth_len = *p.get(pos).ok_or(Error::Protocol("truncated greeting"))? as usize;
    pos += 1 + 10;
    let tail_len = auth_len.saturating_sub(8).max(13);
    let tail = p
        .get(pos..(pos + tail_len).min(p.len()))
        .ok_or(Error::Protocol("truncated greeting"))?;
    nonce.extend_from_slice(&tail[..tail.len().min(12)]);
    pos += tail_len;
    let plugin = if pos < p.len() {
        cstr(p, &mut pos)?
    } else {
        b"mysql_native_password".to_vec()
    };
    Ok((nonce, plugin))
}

impl Conn {
    /// Connects and logs in.
    pub async fn connect(login: &Login) -> Result<Conn, Error> {
        let stream = TcpStream::connect(&login.addr).await?;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            seq: 0,
        };
        let greeting = conn.read_packet().await?.to_vec();
        let (nonce, plugin) = parse_greeting(&greeting)?;
        let auth = if plugin == b"mysql_native_password" {
            native_password(&login.password, &nonce)
        } else {
            // Send nothing; the server will switch us to a plugin we know.
            Vec::new()
        };
        let mut caps = CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH;
        if login.database.is_some() {
            caps |= CLIENT_CONNECT_WITH_DB;
        }
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&caps.to_le_bytes());
        out.extend_from_slice(&(16u32 << 20).to_le_bytes());
        out.push(UTF8MB4_GENERAL_CI);
        out.extend_from_slice(&[0u8; 23]);
        out.extend_from_slice(login.user.as_bytes());
        out.push(0);
        out.push(auth.len() as u8);
        out.extend_from_slice(&auth);
        if let Some(db) = &login.database {
            out.extend_from_slice(db.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(b"mysql_native_password\0");
        conn.write_packet(&out).await?;
        loop {
            let p = conn.read_packet().await?.to_vec();
            match p.first() {
                Some(0x00) => return Ok(conn),
                Some(0xff) => return Err(err_packet(&p)),
                Some(0xfe) => {
                    // Auth switch request: plugin name, then the new nonce.
                    let mut pos = 1;
                    let plugin = cstr(&p, &mut pos)?;
                    if plugin != b"mysql_native_password" {
                        return Err(Error::Protocol("server asked for an unsupported plugin"));
                    }
                    let mut nonce = p.get(pos..).unwrap_or_default().to_vec();
                    if nonce.last() == Some(&0) {
                        nonce.pop();
                    }
                    let reply = native_password(&login.password, &nonce);
                    conn.write_packet(&reply).await?;
                }
                _ => return Err(Error::Protocol("unexpected packet during authentication")),
            }
        }
    }

    async fn write_packet(&mut self, payload: &[u8]) -> Result<(), Error> {
        let len = payload.len() as u32;
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&len.to_le_bytes()[..3]);
        frame.push(self.seq);
        frame.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.stream.write_all(&frame).await?;
        Ok(())
    }

    async fn read_packet(&mut self) -> Result<&[u8], Error> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).await?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        self.seq = header[3].wrapping_add(1);
        self.buf.resize(len, 0);
        self.stream.read_exact(&mut self.buf).await?;
        Ok(&self.buf)
    }

    /// Runs a text query and reads (and discards) its whole response.
    pub async fn query(&mut self, sql: &str) -> Result<QueryResult, Error> {
        self.run(sql, None).await
    }

    /// Runs a text query and returns its rows (none for an OK response).
    pub async fn query_rows(&mut self, sql: &str) -> Result<Vec<Row>, Error> {
        let mut rows = Vec::new();
        self.run(sql, Some(&mut rows)).await?;
        Ok(rows)
    }

    /// Runs a text query, keeping the rows in `keep` when given.
    async fn run(
        &mut self,
        sql: &str,
        mut keep: Option<&mut Vec<Row>>,
    ) -> Result<QueryResult, Error> {
        self.seq = 0;
        let mut payload = Vec::with_capacity(1 + sql.len());
        payload.push(COM_QUERY);
        payload.extend_from_slice(sql.as_bytes());
        self.write_packet(&payload).await?;
        let first = self.read_packet().await?;
        match first.first() {
            Some(0x00) => {
                let mut pos = 1;
                let affected = lenenc_int(first, &mut pos).unwrap_or(0);
                return Ok(QueryResult { rows: 0, affected });
            }
            Some(0xff) => return Err(err_packet(first)),
            Some(_) => {}
            None => return Err(Error::Protocol("empty response")),
        }
        // Column definitions up to EOF, then rows up to EOF (no DEPRECATE_EOF).
        loop {
            let p = self.read_packet().await?;
            if p.first() == Some(&0xfe) && p.len() < 9 {
                break;
            }
            if p.first() == Some(&0xff) {
                return Err(err_packet(p));
            }
        }
        let mut rows = 0;
        loop {
            let p = self.read_packet().await?;
            match p.first() {
                Some(0xfe) if p.len() < 9 => return Ok(QueryResult { rows, affected: 0 }),
                Some(0xff) => return Err(err_packet(p)),
                _ => {
                    rows += 1;
                    if let Some(keep) = keep.as_deref_mut() {
                        keep.push(text_row(p)?);
                    }
                }
            }
        }
    }

    /// Sends COM_QUIT and closes the connection.
    pub async fn quit(mut self) -> Result<(), Error> {
        self.seq = 0;
        self.write_packet(&[COM_QUIT]).await?;
        let _ = self.stream.shutdown().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_row_decodes_values_and_nulls() {
        let p = [1, b'7', 0xfb, 0, 3, b'a', b'b', b'c'];
        let row = text_row(&p).unwrap();
        assert_eq!(
            row,
            vec![
                Some("7".into()),
                None,
                Some(String::new()),
                Some("abc".into())
            ]
        );
    }

    #[test]
    fn empty_password_sends_no_scramble() {
        assert!(native_password("", &[1; 20]).is_empty());
        assert_eq!(native_password("x", &[1; 20]).len(), 20);
    }

    #[test]
    fn greeting_with_21_byte_nonce_is_parsed() {
        let mut g = vec![10];
        g.extend_from_slice(b"5.7.40\0");
        g.extend_from_slice(&7u32.to_le_bytes());
        g.extend_from_slice(b"abcdefgh");
        g.push(0);
        g.extend_from_slice(&[0xff, 0xf7, 45, 2, 0, 0xff, 0x81, 21]);
        g.extend_from_slice(&[0; 10]);
        g.extend_from_slice(b"ijklmnopqrst\0");
        g.extend_from_slice(b"mysql_native_password\0");
        let (nonce, plugin) = parse_greeting(&g).unwrap();
        assert_eq!(nonce, b"abcdefghijklmnopqrst");
        assert_eq!(plugin, b"mysql_native_password");
    }
}
