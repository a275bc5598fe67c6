//! Client commands as typed messages, decoded from a command packet in one place: the
//! session matches on a `Command` instead of slicing bytes, and the fuzzers decode with
//! the same code.
//!
//! COM_STMT_EXECUTE needs what only the session knows (the statement's parameter count,
//! the parameter types an earlier execution bound), so `Command::StmtExecute` carries
//! the body and `StmtExecute::decode` finishes the job; parameter values are decoded
//! only when asked (`StmtExecute::values`), since a statement relayed to one storage
//! node needs them not at all.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};

use crate::constants::{coltype as t, com};
use crate::wire::Reader;
use crate::ProtocolError;

/// `flags` of COM_STMT_EXECUTE asking for a read-only cursor.
pub const CURSOR_TYPE_READ_ONLY: u8 = 1;

/// A command packet whose fields do not decode: the session answers with an error
/// naming the command (or, for commands that get no reply, ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Malformed {name}")]
pub struct MalformedCommand {
    /// The command byte.
    pub command: u8,
    /// The command's name as MySQL spells it (`COM_STMT_FETCH`).
    pub name: &'static str,
}

/// COM_SET_OPTION's option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOption {
    /// MYSQL_OPTION_MULTI_STATEMENTS_ON.
    MultiStatementsOn,
    /// MYSQL_OPTION_MULTI_STATEMENTS_OFF.
    MultiStatementsOff,
    /// Anything else (MySQL answers "Unknown command").
    Unknown,
}

/// One client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// COM_QUIT.
    Quit,
    /// COM_INIT_DB: the database name.
    InitDb(&'a [u8]),
    /// COM_QUERY: the statement text.
    Query(&'a [u8]),
    /// COM_FIELD_LIST: a table and a column wildcard.
    FieldList {
        /// Table name.
        table: &'a [u8],
        /// Column name pattern (empty: all).
        wildcard: &'a [u8],
    },
    /// COM_STATISTICS.
    Statistics,
    /// COM_PROCESS_KILL: the connection id.
    ProcessKill(u32),
    /// COM_PING.
    Ping,
    /// COM_CHANGE_USER: the whole packet, command byte included, for
    /// `auth::ChangeUser::decode` (its layout depends on the capabilities).
    ChangeUser(&'a [u8]),
    /// COM_RESET_CONNECTION.
    ResetConnection,
    /// COM_SET_OPTION.
    SetOption(SetOption),
    /// COM_STMT_PREPARE: the statement text.
    StmtPrepare(&'a [u8]),
    /// COM_STMT_EXECUTE: the statement it executes and the body, decoded by
    /// `StmtExecute::decode` once the statement is known.
    StmtExecute {
        /// The statement id.
        statement_id: u32,
        /// The body after the command byte.
        body: &'a [u8],
    },
    /// COM_STMT_FETCH.
    StmtFetch {
        /// The statement id.
        statement_id: u32,
        /// Rows wanted.
        rows: u32,
    },
    /// COM_STMT_CLOSE.
    StmtClose(u32),
    /// COM_STMT_RESET.
    StmtReset(u32),
    /// COM_STMT_SEND_LONG_DATA: one more piece of a parameter's value.
    StmtSendLongData {
        /// The statement id.
        statement_id: u32,
        /// The parameter (0-based).
        param: u16,
        /// The piece.
        data: &'a [u8],
    },
    /// A command Strata does not implement.
    Unknown(u8),
}

impl<'a> Command<'a> {
    /// The command's name as MySQL spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Quit => "COM_QUIT",
            Command::InitDb(_) => "COM_INIT_DB",
            Command::Query(_) => "COM_QUERY",
            Command::FieldList { .. } => "COM_FIELD_LIST",
            Command::Statistics => "COM_STATISTICS",
            Command::ProcessKill(_) => "COM_PROCESS_KILL",
            Command::Ping => "COM_PING",
            Command::ChangeUser(_) => "COM_CHANGE_USER",
            Command::ResetConnection => "COM_RESET_CONNECTION",
            Command::SetOption(_) => "COM_SET_OPTION",
            Command::StmtPrepare(_) => "COM_STMT_PREPARE",
            Command::StmtExecute { .. } => "COM_STMT_EXECUTE",
            Command::StmtFetch { .. } => "COM_STMT_FETCH",
            Command::StmtClose(_) => "COM_STMT_CLOSE",
            Command::StmtReset(_) => "COM_STMT_RESET",
            Command::StmtSendLongData { .. } => "COM_STMT_SEND_LONG_DATA",
            Command::Unknown(_) => "unknown command",
        }
    }

    /// Decodes a command packet (command byte first). An empty packet is a protocol
    /// error (the connection ends); a known command with missing fields is
    /// `MalformedCommand`.
    pub fn decode(payload: &'a [u8]) -> Result<Result<Self, MalformedCommand>, ProtocolError> {
        let Some((&command, body)) = payload.split_first() else {
            return Err(ProtocolError::Malformed("empty command packet"));
        };
        let malformed = |name| MalformedCommand { command, name };
        let mut r = Reader::new(body);
        let id = |r: &mut Reader<'a>, name| r.u32("statement id").map_err(|_| malformed(name));
        Ok(Ok(match command {
            com::QUIT => Command::Quit,
            com::INIT_DB => Command::InitDb(body),
            com::QUERY => Command::Query(body),
            com::FIELD_LIST => {
                // MySQL reads the table up to a NUL and the wildcard after it.
                let table = r.null_terminated_or_rest();
                Command::FieldList {
                    table,
                    wildcard: r.rest(),
                }
            }
            com::STATISTICS => Command::Statistics,
            com::PROCESS_KILL => match r.u32("connection id") {
                Ok(id) => Command::ProcessKill(id),
                Err(_) => return Ok(Err(malformed("COM_PROCESS_KILL"))),
            },
            com::PING => Command::Ping,
            com::CHANGE_USER => Command::ChangeUser(payload),
            com::RESET_CONNECTION => Command::ResetConnection,
            com::SET_OPTION => Command::SetOption(match body.first() {
                Some(0) => SetOption::MultiStatementsOn,
                Some(1) => SetOption::MultiStatementsOff,
                _ => SetOption::Unknown,
            }),
            com::STMT_PREPARE => Command::StmtPrepare(body),
            com::STMT_EXECUTE => match id(&mut r, "COM_STMT_EXECUTE") {
                Ok(statement_id) => Command::StmtExecute { statement_id, body },
                Err(e) => return Ok(Err(e)),
            },
            com::STMT_FETCH => {
                let fetch = id(&mut r, "COM_STMT_FETCH").map(|statement_id| {
                    // A fetch without its row count asks for none, as before.
                    let rows = r.u32("rows").unwrap_or(0);
                    Command::StmtFetch { statement_id, rows }
                });
                match fetch {
                    Ok(c) => c,
                    Err(e) => return Ok(Err(e)),
                }
            }
            com::STMT_CLOSE => match id(&mut r, "COM_STMT_CLOSE") {
                Ok(statement_id) => Command::StmtClose(statement_id),
                Err(e) => return Ok(Err(e)),
            },
            com::STMT_RESET => match id(&mut r, "COM_STMT_RESET") {
                Ok(statement_id) => Command::StmtReset(statement_id),
                Err(e) => return Ok(Err(e)),
            },
            com::STMT_SEND_LONG_DATA => {
                let name = "COM_STMT_SEND_LONG_DATA";
                let decoded = id(&mut r, name).and_then(|statement_id| {
                    let param = r.u16("parameter").map_err(|_| malformed(name))?;
                    Ok(Command::StmtSendLongData {
                        statement_id,
                        param,
                        data: r.rest(),
                    })
                });
                match decoded {
                    Ok(c) => c,
                    Err(e) => return Ok(Err(e)),
                }
            }
            other => Command::Unknown(other),
        }))
    }
}

/// A parameter's type as COM_STMT_EXECUTE binds it: column type and flags (0x80:
/// unsigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamType {
    /// Column type (`constants::coltype`).
    pub column_type: u8,
    /// Flags; 0x80 marks an unsigned integer.
    pub flags: u8,
}

impl ParamType {
    /// True for an unsigned integer.
    pub fn is_unsigned(self) -> bool {
        self.flags & 0x80 != 0
    }
}

/// The parameter types of a statement, bound by one execution and used by the later
/// ones that do not send them again (as MySQL requires). Shared, so remembering them
/// costs no copy per execution.
pub type ParamTypes = Arc<[ParamType]>;

/// A decoded COM_STMT_EXECUTE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StmtExecute<'a> {
    /// The client's statement id.
    pub statement_id: u32,
    /// Cursor type flags (`CURSOR_TYPE_READ_ONLY`).
    pub flags: u8,
    /// Iteration count (always 1 in practice).
    pub iterations: u32,
    /// One bit per parameter: set for NULL.
    pub null_bitmap: &'a [u8],
    /// This execution sent parameter types (otherwise the remembered ones apply).
    pub new_params_bound: bool,
    /// Types of the parameters, sent now or remembered; empty without parameters.
    pub types: ParamTypes,
    /// The parameter values as sent, for relaying without decoding.
    pub raw_values: &'a [u8],
}

/// Why a COM_STMT_EXECUTE body does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteError {
    /// A field ended early or had an impossible value.
    #[error("{0}")]
    Malformed(&'static str),
    /// Parameters, but neither this execution nor an earlier one bound their types.
    #[error("parameter types missing")]
    TypesMissing,
}

impl From<ProtocolError> for ExecuteError {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Malformed(what) => ExecuteError::Malformed(what),
            _ => ExecuteError::Malformed("execute body"),
        }
    }
}

impl<'a> StmtExecute<'a> {
    /// Decodes a COM_STMT_EXECUTE body (after the command byte) of a statement with
    /// `params` parameters; `remembered` are the types an earlier execution bound.
    pub fn decode(
        body: &'a [u8],
        params: usize,
        remembered: Option<&ParamTypes>,
    ) -> Result<Self, ExecuteError> {
        let mut r = Reader::new(body);
        let statement_id = r.u32("statement id")?;
        let flags = r.u8("cursor flags")?;
        let iterations = r.u32("iterations")?;
        let empty: ParamTypes = Arc::from(Vec::new());
        if params == 0 {
            return Ok(Self {
                statement_id,
                flags,
                iterations,
                null_bitmap: &[],
                new_params_bound: false,
                types: empty,
                raw_values: &[],
            });
        }
        let null_bitmap = r.bytes(params.div_ceil(8), "null bitmap")?;
        // As in MariaDB, any non-zero byte means types follow.
        let new_params_bound = r.u8("new params bound flag")? != 0;
        let types = if new_params_bound {
            let raw = r.bytes(params * 2, "parameter types")?;
            raw.chunks_exact(2)
                .map(|p| ParamType {
                    column_type: p[0],
                    flags: p[1],
                })
                .collect()
        } else {
            match remembered {
                Some(types) if types.len() == params => types.clone(),
                _ => return Err(ExecuteError::TypesMissing),
            }
        };
        Ok(Self {
            statement_id,
            flags,
            iterations,
            null_bitmap,
            new_params_bound,
            types,
            raw_values: r.rest(),
        })
    }

    /// True when the client asked for a read-only cursor.
    pub fn wants_cursor(&self) -> bool {
        self.flags & CURSOR_TYPE_READ_ONLY != 0
    }

    /// True when parameter `i` is NULL.
    pub fn is_null(&self, i: usize) -> bool {
        self.null_bitmap
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// The parameter values; `has_long_data(i)` tells which parameters got their
    /// value from COM_STMT_SEND_LONG_DATA (those take nothing from the packet, whatever
    /// their NULL bit says, as in MariaDB).
    pub fn values(
        &self,
        has_long_data: impl Fn(usize) -> bool,
    ) -> Result<Vec<ParamValue<'a>>, ExecuteError> {
        let mut r = Reader::new(self.raw_values);
        let mut values = Vec::with_capacity(self.types.len());
        for (i, ty) in self.types.iter().enumerate() {
            let value = if has_long_data(i) {
                ParamValue::LongData
            } else if self.is_null(i) {
                ParamValue::Null
            } else {
                ParamValue::decode(&mut r, *ty)?
            };
            values.push(value);
        }
        Ok(values)
    }

    /// Appends this execution's body for statement `statement_id` (a storage node's
    /// id for the statement), always with the parameter types: another connection may
    /// have received the execution that bound them.
    pub fn encode_for(&self, statement_id: u32, out: &mut BytesMut) {
        out.reserve(9 + self.null_bitmap.len() + 1 + 2 * self.types.len() + self.raw_values.len());
        out.put_u32_le(statement_id);
        out.put_u8(self.flags);
        out.put_u32_le(self.iterations);
        if self.types.is_empty() {
            return;
        }
        out.extend_from_slice(self.null_bitmap);
        out.put_u8(1);
        for ty in self.types.iter() {
            out.put_u8(ty.column_type);
            out.put_u8(ty.flags);
        }
        out.extend_from_slice(self.raw_values);
    }
}

/// A DATE, DATETIME or TIMESTAMP parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateTime {
    /// Year.
    pub year: u16,
    /// Month (1-12; 0 in a zero date).
    pub month: u8,
    /// Day of the month.
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Microseconds, when sent.
    pub micros: Option<u32>,
}

/// A TIME parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Time {
    /// A negative interval.
    pub negative: bool,
    /// Whole days.
    pub days: u32,
    /// Hours (0-23).
    pub hours: u8,
    /// Minutes.
    pub minutes: u8,
    /// Seconds.
    pub seconds: u8,
    /// Microseconds.
    pub micros: u32,
}

/// One parameter value of COM_STMT_EXECUTE, by the type it was bound with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue<'a> {
    /// SQL NULL (its bit in the NULL bitmap, or type NULL).
    Null,
    /// Sent before with COM_STMT_SEND_LONG_DATA.
    LongData,
    /// TINY, SHORT, YEAR, LONG, INT24, LONGLONG.
    Int(i64),
    /// The same types with the unsigned flag.
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL or NEWDECIMAL, as text.
    Decimal(&'a [u8]),
    /// DATE.
    Date(DateTime),
    /// DATETIME or TIMESTAMP.
    DateTime(DateTime),
    /// TIME.
    Time(Time),
    /// Strings, blobs, JSON and every other type: length-encoded bytes.
    Bytes(&'a [u8]),
}

impl<'a> ParamValue<'a> {
    fn decode(r: &mut Reader<'a>, ty: ParamType) -> Result<Self, ExecuteError> {
        let unsigned = ty.is_unsigned();
        let int = |v: u64, signed: i64| {
            if unsigned {
                ParamValue::UInt(v)
            } else {
                ParamValue::Int(signed)
            }
        };
        Ok(match ty.column_type {
            t::TINY => {
                let v = r.u8("tiny")?;
                int(v.into(), (v as i8).into())
            }
            t::SHORT | t::YEAR => {
                let v = r.u16("short")?;
                int(v.into(), (v as i16).into())
            }
            t::LONG | t::INT24 => {
                let v = r.u32("long")?;
                int(v.into(), (v as i32).into())
            }
            t::LONGLONG => {
                let v = r.u64("longlong")?;
                int(v, v as i64)
            }
            t::FLOAT => ParamValue::Float(f32::from_bits(r.u32("float")?)),
            t::DOUBLE => ParamValue::Double(f64::from_bits(r.u64("double")?)),
            t::DATE | t::DATETIME | t::TIMESTAMP => {
                let n = usize::from(r.u8("temporal length")?);
                let b = r.bytes(n, "temporal")?;
                let at = |i: usize| b.get(i).copied().unwrap_or(0);
                let value = DateTime {
                    year: u16::from_le_bytes([at(0), at(1)]),
                    month: at(2),
                    day: at(3),
                    hour: at(4),
                    minute: at(5),
                    second: at(6),
                    micros: (n >= 11).then(|| u32::from_le_bytes([at(7), at(8), at(9), at(10)])),
                };
                if ty.column_type == t::DATE {
                    ParamValue::Date(value)
                } else {
                    ParamValue::DateTime(value)
                }
            }
            t::TIME => {
                let n = usize::from(r.u8("time length")?);
                let b = r.bytes(n, "time")?;
                let at = |i: usize| b.get(i).copied().unwrap_or(0);
                ParamValue::Time(Time {
                    negative: at(0) == 1,
                    days: u32::from_le_bytes([at(1), at(2), at(3), at(4)]),
                    hours: at(5),
                    minutes: at(6),
                    seconds: at(7),
                    micros: u32::from_le_bytes([at(8), at(9), at(10), at(11)]),
                })
            }
            t::NEWDECIMAL | t::DECIMAL => ParamValue::Decimal(r.lenenc_bytes("decimal")?),
            t::NULL => ParamValue::Null,
            _ => ParamValue::Bytes(r.lenenc_bytes("string")?),
        })
    }
}

#[cfg(test)]
mod tests;
