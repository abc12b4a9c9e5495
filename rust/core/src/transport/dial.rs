//! Dialing a server without blocking the caller: [`Dial`] resolves the host, connects TCP and secures it with
//! TLS, and yields the [`Stream`] a transport speaks its protocol over (the WebSocket upgrade, or HTTP requests).
//! Through an HTTP proxy, it resolves and connects the proxy instead, and asks it for a tunnel to the server
//! (`CONNECT`, in [`proxy`](super::proxy)) before the TLS handshake with the server.
//!
//! Each step is advanced by [`Dial::poll`] on the caller's thread, as far as it goes without waiting: a
//! non-blocking TCP connect (address after address), then the proxy's `CONNECT` when there is a proxy, then the TLS
//! handshake (rustls over the non-blocking socket).
//! Only a DNS lookup needs a thread, because std's resolver (`getaddrinfo`) blocks: a host name is resolved on a
//! short-lived thread whose answer `poll` picks up; an IP address (`127.0.0.1`, `[::1]`) needs no lookup and no
//! thread.
//!
//! Why not one thread for everything: a thread that waits on the network must be scheduled again when the
//! answer comes, and with the game's main loop and the server busy on a 2-core machine that took milliseconds
//! per step (bench/README.md, workload D). Here the work happens in the polls the game makes anyway.
//!
//! A step that never ends (a server that accepts TCP and then says nothing) is ended by the session's connect
//! timeout, which drops the transport and with it the dial; dropping it closes the socket. Only a TCP connect has
//! its own bound, [`TCP_CONNECT_TIMEOUT`] per address, so that the next address of a host name gets its turn.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::ClientConnection;
use socket2::{Domain, Protocol, Socket, Type};

use crate::config::TlsConfig;
use crate::endpoint::{Endpoint, Proxy};
use crate::error::{ConnectFailure, DnsFailure, IoFailure, ProxyFailure, TcpFailure};
use crate::transport::proxy::Tunnel;
use crate::transport::stream::Stream;
use crate::transport::tls::{self, handshake_failure};

/// Longest wait for one TCP connect, per address the host name resolves to.
pub const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Most TLS reads and writes done in one `poll` (the handshake needs a handful).
const TLS_STEPS_PER_POLL: usize = 16;

/// How far a connection step got: [`Dial::poll`], and the transports' own steps after it.
pub(crate) enum Progress<T> {
    /// Waiting for the network: poll again later.
    Pending,
    /// Done: what the step made.
    Ready(T),
    /// The connection could not be opened: which step failed, and why.
    Failed(ConnectFailure),
}

enum Step {
    /// A host name being resolved on the resolver thread.
    Resolving(Receiver<Result<Vec<SocketAddr>, DnsFailure>>),
    /// A TCP connect in progress to `addr`; `rest` are the addresses still to try.
    Tcp {
        socket: Socket,
        addr: SocketAddr,
        deadline: Instant,
        rest: VecDeque<SocketAddr>,
    },
    /// Asking the proxy for a tunnel to the server.
    Tunnel(Box<Tunnel>),
    /// The TLS handshake.
    Tls {
        conn: Box<ClientConnection>,
        tcp: TcpStream,
    },
    /// Finished (connected or failed).
    Done,
}

/// One server being dialed. Dropping it abandons the attempt and closes the socket.
pub(crate) struct Dial {
    endpoint: Endpoint,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    /// The HTTP proxy to tunnel through: resolved and connected instead of the server.
    proxy: Option<Proxy>,
    step: Step,
    /// Each address that failed, and why.
    failures: Vec<(SocketAddr, IoFailure)>,
}

impl Dial {
    /// Starts dialing `endpoint` (with TLS for `wss://` and `https://`), through `proxy` when given; returns at
    /// once. Fails only when nothing can be tried: bad TLS settings (a PEM that does not parse, an invalid server
    /// name), no socket for an IP address.
    ///
    /// Through a proxy, a failure to resolve or reach the proxy, or its refusal to open the tunnel, is a
    /// [`ConnectFailure::Proxy`]; the server's name is never resolved here (the proxy does it).
    pub(crate) fn start(
        now: Instant,
        endpoint: &Endpoint,
        tls: &TlsConfig,
        proxy: Option<&Proxy>,
    ) -> Result<Self, ConnectFailure> {
        let tls = if endpoint.is_tls() {
            Some(tls::client_config(tls, endpoint.server_name()).map_err(ConnectFailure::TlsSettings)?)
        } else {
            None
        };
        let mut dial = Dial {
            endpoint: endpoint.clone(),
            tls,
            proxy: proxy.cloned(),
            step: Step::Done,
            failures: Vec::new(),
        };
        let (host, port) = dial.first_hop();
        let first = match host.parse::<IpAddr>() {
            Ok(ip) => dial.next_address(now, VecDeque::from([SocketAddr::new(ip, port)])),
            Err(_) => resolve_on_thread(host.to_owned(), port)
                .map(Step::Resolving)
                .map_err(ConnectFailure::Dns),
        };
        dial.step = first.map_err(|why| dial.blame_proxy(why))?;
        Ok(dial)
    }

    /// The name to resolve and the port to connect TCP to: the proxy's, or else the server's.
    fn first_hop(&self) -> (&str, u16) {
        match &self.proxy {
            Some(proxy) => (proxy.server_name(), proxy.port()),
            None => (self.endpoint.server_name(), self.endpoint.port()),
        }
    }

    /// A DNS or TCP failure is the proxy's when there is one.
    fn blame_proxy(&self, why: ConnectFailure) -> ConnectFailure {
        let Some(proxy) = &self.proxy else {
            return why;
        };
        match why {
            ConnectFailure::Dns(why) => ConnectFailure::Proxy(ProxyFailure::Dns {
                proxy: format!("{}:{}", proxy.host(), proxy.port()),
                why,
            }),
            ConnectFailure::Tcp(why) => ConnectFailure::Proxy(ProxyFailure::Tcp(why)),
            other => other,
        }
    }

    /// Advances the dial as far as it goes without blocking.
    pub(crate) fn poll(&mut self, now: Instant) -> Progress<Stream> {
        match self.advance(now) {
            Ok(Some(stream)) => Progress::Ready(stream),
            Ok(None) => Progress::Pending,
            Err(why) => {
                self.step = Step::Done;
                Progress::Failed(self.blame_proxy(why))
            }
        }
    }

    /// Runs the steps until one has to wait (`Ok(None)`), the stream is up, or a step fails.
    fn advance(&mut self, now: Instant) -> Result<Option<Stream>, ConnectFailure> {
        loop {
            self.step = match std::mem::replace(&mut self.step, Step::Done) {
                Step::Done => return Err(ConnectFailure::Ended),
                Step::Resolving(answer) => match answer.try_recv() {
                    Err(TryRecvError::Empty) => {
                        self.step = Step::Resolving(answer);
                        return Ok(None);
                    }
                    Err(TryRecvError::Disconnected) => return Err(ConnectFailure::Dns(DnsFailure::ThreadEnded)),
                    Ok(addrs) => self.next_address(now, addrs.map_err(ConnectFailure::Dns)?.into())?,
                },
                Step::Tcp {
                    socket,
                    addr,
                    deadline,
                    rest,
                } => match tcp_connected(&socket) {
                    Ok(true) => match &self.proxy {
                        Some(proxy) => Step::Tunnel(Box::new(Tunnel::start(socket.into(), proxy, &self.endpoint))),
                        None => match self.secure(socket.into())? {
                            Secured::Plain(stream) => return Ok(Some(stream)),
                            Secured::Handshaking(step) => step,
                        },
                    },
                    Ok(false) if now < deadline => {
                        self.step = Step::Tcp {
                            socket,
                            addr,
                            deadline,
                            rest,
                        };
                        return Ok(None);
                    }
                    Ok(false) => {
                        self.failures.push((addr, IoFailure::TimedOut));
                        self.next_address(now, rest)?
                    }
                    Err(e) => {
                        self.failures.push((addr, IoFailure::of(&e)));
                        self.next_address(now, rest)?
                    }
                },
                Step::Tunnel(mut tunnel) => match tunnel.poll() {
                    Ok(false) => {
                        self.step = Step::Tunnel(tunnel);
                        return Ok(None);
                    }
                    Ok(true) => match self.secure(tunnel.into_tcp())? {
                        Secured::Plain(stream) => return Ok(Some(stream)),
                        Secured::Handshaking(step) => step,
                    },
                    Err(why) => return Err(ConnectFailure::Proxy(why)),
                },
                Step::Tls { mut conn, mut tcp } => {
                    for _ in 0..TLS_STEPS_PER_POLL {
                        if !conn.is_handshaking() {
                            break;
                        }
                        match conn.complete_io(&mut tcp) {
                            Ok(_) => {}
                            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                                break
                            }
                            Err(e) => return Err(ConnectFailure::Tls(handshake_failure(&e))),
                        }
                    }
                    if conn.is_handshaking() {
                        self.step = Step::Tls { conn, tcp };
                        return Ok(None);
                    }
                    return Ok(Some(Stream::tls(rustls::StreamOwned::new(*conn, tcp))));
                }
            };
        }
    }

    /// Starts connecting to the first of `addrs` that takes a connect call; the others wait their turn. Fails
    /// (with every address's reason) when none is left.
    fn next_address(&mut self, now: Instant, mut addrs: VecDeque<SocketAddr>) -> Result<Step, ConnectFailure> {
        if addrs.is_empty() && self.failures.is_empty() {
            return Err(ConnectFailure::Dns(DnsFailure::NoAddress {
                host: self.first_hop().0.to_owned(),
            }));
        }
        while let Some(addr) = addrs.pop_front() {
            match start_tcp(addr) {
                Ok(socket) => {
                    return Ok(Step::Tcp {
                        socket,
                        addr,
                        deadline: now + TCP_CONNECT_TIMEOUT,
                        rest: addrs,
                    })
                }
                Err(e) => self.failures.push((addr, IoFailure::of(&e))),
            }
        }
        let (host, port) = match &self.proxy {
            Some(proxy) => (proxy.host(), proxy.port()),
            None => (self.endpoint.host(), self.endpoint.port()),
        };
        Err(ConnectFailure::Tcp(TcpFailure {
            host: host.to_owned(),
            port,
            attempts: std::mem::take(&mut self.failures),
        }))
    }

    /// TCP is up: the TLS handshake next, or nothing more.
    fn secure(&self, tcp: TcpStream) -> Result<Secured, ConnectFailure> {
        match self.tls.clone() {
            None => Ok(Secured::Plain(Stream::plain(tcp))),
            Some((config, name)) => {
                let conn = tls::connection(config, name).map_err(ConnectFailure::Tls)?;
                Ok(Secured::Handshaking(Step::Tls {
                    conn: Box::new(conn),
                    tcp,
                }))
            }
        }
    }
}

/// What follows a TCP connect.
enum Secured {
    /// No TLS: the stream is ready.
    Plain(Stream),
    /// The TLS handshake, to run.
    Handshaking(Step),
}

/// Resolves `host` on a short-lived thread; the answer arrives on the returned channel. The thread cannot be
/// stopped (it waits in `getaddrinfo`): if the dial is gone by then, the answer is dropped.
fn resolve_on_thread(host: String, port: u16) -> Result<Receiver<Result<Vec<SocketAddr>, DnsFailure>>, DnsFailure> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("socketio-dns".to_owned())
        .spawn(move || {
            let answer = (host.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect)
                .map_err(|e| DnsFailure::Lookup {
                    message: e.to_string(),
                    host,
                });
            let _ = tx.send(answer);
        })
        .map_err(|e| DnsFailure::ThreadNotStarted(e.to_string()))?;
    Ok(rx)
}

/// A non-blocking socket connecting to `addr`.
fn start_tcp(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    // Small frames (acks, pongs, game state) go out at once.
    let _ = socket.set_tcp_nodelay(true);
    match socket.connect(&addr.into()) {
        Ok(()) => Ok(socket),
        Err(e) if connect_in_progress(&e) => Ok(socket),
        Err(e) => Err(e),
    }
}

/// Whether a non-blocking connect's error only means "under way".
fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    // Windows: WSAEWOULDBLOCK.
    e.kind() == io::ErrorKind::WouldBlock
}

/// Whether the non-blocking connect of `socket` completed (`Ok(true)`), is still under way, or failed.
fn tcp_connected(socket: &Socket) -> io::Result<bool> {
    if let Some(e) = socket.take_error()? {
        return Err(e);
    }
    match socket.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn every_address_is_tried_in_turn() {
        let refused = TcpListener::bind("127.0.0.1:0").expect("bind");
        let refused_addr = refused.local_addr().expect("addr");
        drop(refused);
        // Accepts TCP (the kernel does), never answers.
        let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
        let silent_addr = silent.local_addr().expect("addr");

        let endpoint = Endpoint::parse(&format!("ws://127.0.0.1:{}", silent_addr.port()), "/socket.io/").expect("url");
        let mut dial = Dial::start(Instant::now(), &endpoint, &TlsConfig::default(), None).expect("start");
        dial.step = dial
            .next_address(Instant::now(), VecDeque::from([refused_addr, silent_addr]))
            .expect("a socket");
        let deadline = Instant::now() + Duration::from_secs(5);
        let stream = loop {
            match dial.poll(Instant::now()) {
                Progress::Pending => {}
                Progress::Ready(stream) => break stream,
                Progress::Failed(why) => panic!("no failure while one address is left: {why}"),
            }
            assert!(Instant::now() < deadline, "the second address was not reached");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(stream.peer_addr().expect("peer"), silent_addr);
        assert_eq!(dial.failures.len(), 1);
        assert_eq!(dial.failures[0].0, refused_addr);
        assert!(
            dial.failures[0].1.to_string().to_lowercase().contains("refused"),
            "{:?}",
            dial.failures
        );
        assert!(
            matches!(dial.failures[0].1, IoFailure::Refused(_)),
            "{:?}",
            dial.failures
        );
    }

    #[test]
    fn a_proxy_without_an_address_is_a_dns_failure_of_the_proxy() {
        let endpoint = Endpoint::parse("ws://example.com:1234", "/socket.io/").expect("url");
        let proxy = Proxy::parse("http://127.0.0.1:8888").expect("proxy url");
        let mut dial = Dial::start(Instant::now(), &endpoint, &TlsConfig::default(), Some(&proxy)).expect("start");
        // As if the proxy's name had resolved to nothing.
        let no_address = dial
            .next_address(Instant::now(), VecDeque::new())
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            no_address,
            ConnectFailure::Dns(DnsFailure::NoAddress {
                host: "127.0.0.1".into()
            })
        );
        let why = dial.blame_proxy(no_address);
        assert_eq!(
            why.to_string(),
            "proxy 127.0.0.1:8888 unreachable: DNS lookup of 127.0.0.1 found no address"
        );
    }
}
