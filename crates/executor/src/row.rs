//! A result row as it travels through the merge: the text-protocol payload a data node
//! sent, plus where each value sits in it. Values that pass through unchanged are
//! re-encoded from those exact bytes, so the client receives what the data node sent;
//! operators decode only the columns they compare.

use bytes::{Bytes, BytesMut};
use strata_protocol::packets::{decode_text_row, encode_text_row};

use crate::memory::ENTRY_OVERHEAD;

/// One row: a text-protocol payload and the span of each value (`None` for NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    payload: Bytes,
    spans: Box<[Option<(u32, u32)>]>,
}

impl Row {
    /// Splits a text-protocol row payload of `columns` values. `Err` says what is wrong
    /// when the payload is truncated, has bytes after its last value, or is too large.
    pub fn decode(payload: Bytes, columns: usize) -> Result<Row, String> {
        let values = decode_text_row(&payload, columns).map_err(|e| e.to_string())?;
        let base = payload.as_ptr() as usize;
        let mut spans = Vec::with_capacity(columns);
        let mut end = 0usize;
        for value in values {
            match value {
                Some(bytes) => {
                    let start = bytes.as_ptr() as usize - base;
                    end = start + bytes.len();
                    let span = (
                        u32::try_from(start).map_err(|_| "row larger than 4 GiB")?,
                        u32::try_from(end).map_err(|_| "row larger than 4 GiB")?,
                    );
                    spans.push(Some(span));
                }
                None => {
                    // A NULL is the single byte 0xfb right after the previous value.
                    end += 1;
                    spans.push(None);
                }
            }
        }
        if end != payload.len() {
            return Err(format!(
                "{} bytes after the last of {columns} values",
                payload.len().saturating_sub(end)
            ));
        }
        Ok(Row {
            payload,
            spans: spans.into_boxed_slice(),
        })
    }

    /// A row built from values (`None` is NULL).
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a [u8]>>) -> Row {
        let values: Vec<Option<&[u8]>> = values.into_iter().collect();
        let mut buf = BytesMut::new();
        encode_text_row(&mut buf, values.iter().copied());
        let payload = buf.freeze();
        // Encoding is deterministic, so decoding what was just encoded cannot fail.
        Row::decode(payload.clone(), values.len()).unwrap_or(Row {
            payload,
            spans: Box::new([]),
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The bytes of value `column` (`None` for NULL or a column past the end).
    pub fn value(&self, column: usize) -> Option<&[u8]> {
        let (start, end) = (*self.spans.get(column)?)?;
        self.payload.get(start as usize..end as usize)
    }

    /// Values `0..columns` with `replace` substituting some of them (aggregate results).
    pub fn with_replaced(&self, columns: usize, replace: &[(usize, Option<Vec<u8>>)]) -> Row {
        Row::from_values(
            (0..columns).map(|c| match replace.iter().find(|(col, _)| *col == c) {
                Some((_, value)) => value.as_deref(),
                None => self.value(c),
            }),
        )
    }

    /// The payload the row was decoded from.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The payload of values `columns`: the row's own payload when that is all of
    /// them, otherwise a new payload holding the same value bytes.
    pub fn encode_columns(&self, columns: std::ops::Range<usize>) -> Bytes {
        if columns.start == 0 && columns.end >= self.len() {
            return self.payload.clone();
        }
        let mut buf = BytesMut::with_capacity(self.payload.len());
        encode_text_row(&mut buf, columns.map(|c| self.value(c)));
        buf.freeze()
    }

    /// The row with a payload of its own. A payload read from a connection shares the
    /// connection's read buffer; an operator that keeps rows (sort, hash join) keeps
    /// copies, so a kept row holds its own bytes and not a whole buffer the budget does
    /// not see.
    pub fn detached(self) -> Row {
        Row {
            payload: Bytes::copy_from_slice(&self.payload),
            spans: self.spans,
        }
    }

    /// Bytes charged to the memory budget for keeping this row.
    pub fn heap_size(&self) -> usize {
        self.payload.len() + self.spans.len() * 12 + ENTRY_OVERHEAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(values: &[Option<&[u8]>]) -> Bytes {
        let mut buf = BytesMut::new();
        encode_text_row(&mut buf, values.iter().copied());
        buf.freeze()
    }

    #[test]
    fn values_are_sliced_from_the_payload() {
        let long = vec![b'x'; 300];
        let p = payload(&[Some(b"1"), None, Some(&long), Some(b"")]);
        let row = Row::decode(p.clone(), 4).unwrap();
        assert_eq!(row.value(0), Some(&b"1"[..]));
        assert_eq!(row.value(1), None);
        assert_eq!(row.value(2), Some(&long[..]));
        assert_eq!(row.value(3), Some(&b""[..]));
        assert_eq!(row.value(9), None);
        assert_eq!(row.encode_columns(0..4), p, "all columns: the same payload");
        assert_eq!(row.encode_columns(0..2), payload(&[Some(b"1"), None]));
        assert_eq!(row.encode_columns(2..4), payload(&[Some(&long), Some(b"")]));
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let p = payload(&[Some(b"abc")]);
        assert!(Row::decode(p.slice(..2), 1).is_err(), "truncated");
        assert!(Row::decode(p.clone(), 2).is_err(), "too few values");
        let mut extra = BytesMut::from(&p[..]);
        extra.extend_from_slice(b"zz");
        assert!(Row::decode(extra.freeze(), 1).is_err(), "trailing bytes");
        assert!(Row::decode(payload(&[None, None]), 2).is_ok());
        assert!(Row::decode(payload(&[None, None]), 1).is_err());
    }

    #[test]
    fn rows_built_from_values_round_trip() {
        let row = Row::from_values([Some(&b"a"[..]), None, Some(&b"42"[..])]);
        assert_eq!(row.len(), 3);
        assert_eq!(
            (row.value(0), row.value(1), row.value(2)),
            (Some(&b"a"[..]), None, Some(&b"42"[..]))
        );
    }
}
