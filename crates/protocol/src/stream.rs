//! The byte streams connections run on: plain TCP, or TLS started after an SSL request.
//! `ServerStream` is a client's connection to Strata, `ClientStream` Strata's connection
//! to a storage node; `Rewind` hands back bytes that were read ahead of the TLS handshake.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A stream that first yields some already-read bytes, then reads from `inner`.
pub struct Rewind<S> {
    prefix: BytesMut,
    inner: S,
}

impl<S> Rewind<S> {
    /// Wraps `inner`, replaying `prefix` first.
    pub fn new(prefix: BytesMut, inner: S) -> Self {
        Self { prefix, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A client connection's stream: TCP, or TLS over TCP.
pub enum ServerStream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS after an SSL request.
    Tls(Box<tokio_rustls::server::TlsStream<Rewind<TcpStream>>>),
}

impl ServerStream {
    /// True once TLS is established.
    pub fn is_tls(&self) -> bool {
        matches!(self, ServerStream::Tls(_))
    }
}

/// A storage-node connection's stream: TCP, or TLS over TCP.
pub enum ClientStream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS after Strata's SSL request.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ClientStream {
    /// True once TLS is established.
    pub fn is_tls(&self) -> bool {
        matches!(self, ClientStream::Tls(_))
    }
}

macro_rules! delegate {
    ($kind:ident, $self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            $kind::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            $kind::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

macro_rules! stream_io {
    ($kind:ident) => {
        impl AsyncRead for $kind {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                delegate!($kind, self, s => s.poll_read(cx, buf))
            }
        }

        impl AsyncWrite for $kind {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                data: &[u8],
            ) -> Poll<io::Result<usize>> {
                delegate!($kind, self, s => s.poll_write(cx, data))
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                delegate!($kind, self, s => s.poll_flush(cx))
            }
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                delegate!($kind, self, s => s.poll_shutdown(cx))
            }
        }
    };
}

stream_io!(ServerStream);
stream_io!(ClientStream);
