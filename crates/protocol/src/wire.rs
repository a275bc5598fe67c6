//! Reading and writing the protocol's primitive encodings: fixed-width little-endian
//! integers, length-encoded integers and strings, NUL-terminated strings.

use bytes::{BufMut, BytesMut};

use crate::ProtocolError;

/// A cursor over a payload that returns `Malformed` instead of panicking on short input.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `buf` at its first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when everything was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Current offset into the payload.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn short(&self, what: &'static str) -> ProtocolError {
        ProtocolError::Malformed(what)
    }

    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        if self.remaining() < n {
            return Err(self.short(what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Reads the rest of the payload.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        Ok(self.bytes(1, what)?[0])
    }

    /// Reads a little-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, ProtocolError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Reads a little-endian u24.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        let b = self.bytes(3, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads a length-encoded integer; `None` for the NULL marker 0xfb.
    pub fn lenenc_int(&mut self, what: &'static str) -> Result<Option<u64>, ProtocolError> {
        match self.u8(what)? {
            0xfb => Ok(None),
            0xfc => Ok(Some(self.u16(what)? as u64)),
            0xfd => Ok(Some(self.u24(what)? as u64)),
            0xfe => Ok(Some(self.u64(what)?)),
            0xff => Err(self.short(what)),
            b => Ok(Some(b as u64)),
        }
    }

    /// Reads a length-encoded integer that must not be NULL.
    pub fn lenenc(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        self.lenenc_int(what)?.ok_or(ProtocolError::Malformed(what))
    }

    /// Reads a length-encoded string (NULL is an error).
    pub fn lenenc_bytes(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let n = self.lenenc(what)?;
        let n = usize::try_from(n).map_err(|_| self.short(what))?;
        self.bytes(n, what)
    }

    /// Reads a NUL-terminated string (the NUL is consumed, not returned).
    pub fn null_terminated(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let rest = &self.buf[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ProtocolError::Malformed(what))?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    /// Reads a NUL-terminated string, or the rest of the payload when no NUL is left.
    pub fn null_terminated_or_rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(end) => {
                self.pos += end + 1;
                &rest[..end]
            }
            None => self.rest(),
        }
    }
}

/// Appends a length-encoded integer.
pub fn put_lenenc_int(buf: &mut BytesMut, v: u64) {
    if v < 251 {
        buf.put_u8(v as u8);
    } else if v < 1 << 16 {
        buf.put_u8(0xfc);
        buf.put_u16_le(v as u16);
    } else if v < 1 << 24 {
        buf.put_u8(0xfd);
        buf.put_uint_le(v, 3);
    } else {
        buf.put_u8(0xfe);
        buf.put_u64_le(v);
    }
}

/// Appends a length-encoded string.
pub fn put_lenenc_bytes(buf: &mut BytesMut, s: &[u8]) {
    put_lenenc_int(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

/// Appends a NUL-terminated string.
pub fn put_null_terminated(buf: &mut BytesMut, s: &[u8]) {
    buf.extend_from_slice(s);
    buf.put_u8(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn lenenc_int_round_trips(v in any::<u64>()) {
            let mut buf = BytesMut::new();
            put_lenenc_int(&mut buf, v);
            let mut r = Reader::new(&buf);
            prop_assert_eq!(r.lenenc("v").unwrap(), v);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reading_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data);
            let _ = r.lenenc_bytes("x");
            let _ = r.null_terminated("y");
            let _ = r.u64("z");
        }
    }
}
