//! The byte stream under a transport: [`Stream`], plain TCP or TLS over TCP, on a non-blocking socket.
//!
//! Besides reading and writing, it gives a transport what tungstenite and rustls do not:
//!
//! - a **read deadline** ([`Stream::read_until`]): from then on reads answer `WouldBlock`, so that one poll never
//!   spends long taking in a large message (the rest stays in the socket until the next poll);
//! - **HTTP header gathering** ([`Stream::gather_http_header`]): a response header arriving in many small pieces is
//!   read whole before the HTTP parser sees it;
//! - a **best-effort shutdown** ([`Stream::shut_down`]): TLS close_notify, then the unread bytes drained so the socket
//!   closes with FIN rather than RST.
//!
//! A read or write that would block answers `WouldBlock`; nothing here waits.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use rustls::{ClientConnection, StreamOwned};

/// Most header bytes gathered before they are handed over anyway (tungstenite refuses more than 64 KiB).
const HEADER_LIMIT: usize = 64 << 10;

/// Most bytes discarded from the receive queue when closing (so the close frame is not lost to a reset).
const CLOSE_DRAIN_BYTES: usize = 256 << 10;

/// The byte stream under a transport: plain TCP, or TLS over TCP, with a time budget for reading.
pub(crate) struct Stream {
    io: Io,
    /// Reads from this instant on answer `WouldBlock`, so that one `poll` never spends long taking in a large
    /// message: the rest stays in the socket (and tungstenite keeps the part it has) until the next `poll`.
    read_deadline: Option<Instant>,
    /// While the upgrade response is read: the bytes gathered so far (see [`Stream::gather_http_header`]).
    header: Option<Header>,
}

/// The HTTP response header of the upgrade, gathered whole before tungstenite reads it. tungstenite counts its
/// reads of a handshake and gives up ("Attack attempt detected") after 64 small ones, which a response split into
/// small pieces (a slow proxy, a tiny MTU, a server writing line by line) makes; gathered, it takes few.
struct Header {
    bytes: Vec<u8>,
    /// Served to tungstenite so far (once complete).
    served: usize,
    complete: bool,
}

enum Io {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    pub(crate) fn plain(tcp: TcpStream) -> Self {
        Stream {
            io: Io::Plain(tcp),
            read_deadline: None,
            header: None,
        }
    }

    pub(crate) fn tls(tls: StreamOwned<ClientConnection, TcpStream>) -> Self {
        Stream {
            io: Io::Tls(Box::new(tls)),
            read_deadline: None,
            header: None,
        }
    }

    /// Reads from `deadline` on answer `WouldBlock` (`None`: no deadline).
    pub(crate) fn read_until(&mut self, deadline: Option<Instant>) {
        self.read_deadline = deadline;
    }

    /// From now on until an HTTP header has been read whole (up to its blank line, or [`HEADER_LIMIT`] bytes, or
    /// the end of the stream), reads gather it and answer `WouldBlock`; then it is served, and reads go straight
    /// to the socket again. For the upgrade response.
    pub(crate) fn gather_http_header(&mut self) {
        self.header = Some(Header {
            bytes: Vec::new(),
            served: 0,
            complete: false,
        });
    }

    /// The end of the connection, best effort and without blocking, once the transport wrote its last bytes: TLS
    /// close_notify (as far as the socket takes it), then up to [`CLOSE_DRAIN_BYTES`] of what the peer sent and we
    /// will never read are discarded, so closing the socket sends FIN, not RST (a reset can destroy the close
    /// frame just queued). The socket itself closes when the stream is dropped.
    pub(crate) fn shut_down(&mut self) {
        if let Io::Tls(tls) = &mut self.io {
            tls.conn.send_close_notify();
            while tls.conn.wants_write() {
                match tls.conn.write_tls(&mut tls.sock) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        let mut tcp = self.tcp();
        let mut scratch = [0u8; 16 << 10];
        let mut drained = 0;
        while drained < CLOSE_DRAIN_BYTES {
            match tcp.read(&mut scratch) {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    }

    /// A read while a header is gathered or served (see [`Stream::gather_http_header`]).
    fn read_header(io: &mut Io, header: &mut Header, buf: &mut [u8]) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        while !header.complete {
            let room = HEADER_LIMIT - header.bytes.len();
            let n = io.read(&mut chunk[..room.min(4096)])?;
            let searched_from = header.bytes.len().saturating_sub(3);
            header.bytes.extend_from_slice(&chunk[..n]);
            let new = &header.bytes[searched_from..];
            // httparse (tungstenite's parser) also ends a header at a blank line of bare LFs.
            header.complete = n == 0
                || header.bytes.len() >= HEADER_LIMIT
                || new.windows(4).any(|w| w == b"\r\n\r\n")
                || new.windows(2).any(|w| w == b"\n\n");
        }
        let rest = &header.bytes[header.served..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        header.served += n;
        Ok(n)
    }

    /// The server's address.
    #[cfg(test)]
    pub(crate) fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.tcp().peer_addr()
    }

    fn tcp(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
            Io::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read_deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if let Some(header) = &mut self.header {
            let n = Stream::read_header(&mut self.io, header, buf)?;
            if header.served == header.bytes.len() {
                self.header = None;
            }
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
        }
        self.io.read(buf)
    }
}

impl Read for Io {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => s.write(buf),
            // rustls takes no more plaintext once its record buffer is full and answers `Ok(0)`, which
            // tungstenite would read as a reset connection. With a non-blocking socket that means "try later".
            Io::Tls(s) => match s.write(buf)? {
                0 if !buf.is_empty() => Err(io::ErrorKind::WouldBlock.into()),
                n => Ok(n),
            },
        }
    }

    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.io {
            Io::Plain(s) => s.flush(),
            Io::Tls(s) => s.flush(),
        }
    }
}
