//! `LOAD DATA LOCAL INFILE` towards a storage node: the compute node is the client
//! whose "file" the storage node asks for, and sends it the rows Strata placed there
//! (the storage node never reads a file of its own host; the name it asks for is
//! ignored).

use strata_protocol::constants::com;
use strata_protocol::packets::{OkPacket, ERR_HEADER, LOCAL_INFILE_HEADER, OK_HEADER};
use strata_protocol::ProtocolError;

use super::BackendConn;
use crate::BackendError;

impl BackendConn {
    /// Sends a `LOAD DATA LOCAL INFILE` statement and reads the storage node's request
    /// for the file; its error (or a reply that is not a file request) is returned.
    pub async fn start_local_infile(&mut self, sql: &str) -> Result<(), BackendError> {
        self.queue_command(com::QUERY, sql.as_bytes());
        self.flush().await?;
        let reply = self.packet().await?;
        match reply.first().copied() {
            Some(LOCAL_INFILE_HEADER) => Ok(()),
            Some(ERR_HEADER) => Err(self.server_error(&reply)),
            Some(OK_HEADER) => {
                self.ok_packet(&reply)?;
                self.fail(ProtocolError::Malformed(
                    "the storage node answered LOAD DATA LOCAL without asking for the file",
                ))
            }
            _ => self.fail(ProtocolError::Malformed(
                "unexpected reply to LOAD DATA LOCAL INFILE",
            )),
        }
    }

    /// Buffers one packet of the file (not empty: an empty packet ends the file).
    pub fn queue_file_data(&mut self, data: &[u8]) {
        if !data.is_empty() {
            self.conn.write_packet(data);
        }
    }

    /// Ends the file (an empty packet) and reads the statement's OK or ERR.
    pub async fn finish_local_infile(&mut self) -> Result<OkPacket, BackendError> {
        self.conn.write_packet(&[]);
        self.flush().await?;
        self.read_ok().await
    }
}
