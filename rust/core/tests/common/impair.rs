//! An impairment proxy for the slow-link tests (issue 15): this kernel has no netem, so a TCP proxy on 127.0.0.1
//! stands between the client and a real server and makes the link slow and awkward, each direction on its own:
//! - `latency`: every byte is delivered this long after it was read (one way; an RTT is twice it);
//! - `jitter`: plus up to this much more, at random, never reordering bytes (TCP does not);
//! - `bytes_per_sec`: a bandwidth cap (a token bucket with no burst beyond one segment);
//! - `segment`: every write split into pieces of at most this many bytes, each its own TCP segment (`TCP_NODELAY`);
//! - `stall`: once per connection, after this many bytes went through, nothing more for a while (a message stalled
//!   in the middle).
//!
//! [`Mode::BlackHole`] accepts connections and never answers nor forwards (a server that hangs in the handshake).
//!
//! Each direction is a reader thread (reading what arrives, stamping it with when it is due) and a writer thread
//! (holding it until then, writing it at the capped rate), with a small bounded queue between them, so a sender
//! feels back-pressure as on a real slow link rather than an unbounded buffer in the proxy. Dropping the proxy
//! closes every connection it holds and stops its threads.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How one direction of the link is impaired.
#[derive(Clone, Debug, Default)]
pub struct Impairment {
    /// One-way delay of every byte.
    pub latency: Duration,
    /// Up to this much more delay, at random (order kept).
    pub jitter: Duration,
    /// Bandwidth cap; `None` for none.
    pub bytes_per_sec: Option<u64>,
    /// Largest piece written at once; `None` for whatever was read.
    pub segment: Option<usize>,
    /// Once per connection: after this many bytes, nothing more for this long.
    pub stall: Option<(u64, Duration)>,
}

impl Impairment {
    /// A mobile link's direction: `latency` one way, 10% of it as jitter, `bytes_per_sec` at most.
    pub fn mobile(latency: Duration, bytes_per_sec: u64) -> Impairment {
        Impairment {
            latency,
            jitter: latency / 10,
            bytes_per_sec: Some(bytes_per_sec),
            segment: Some(1400),
            stall: None,
        }
    }
}

/// What the proxy does with a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Forwards it to the target, impaired.
    Forward,
    /// Holds it open and silent.
    BlackHole,
}

/// Bytes that went through, per direction, over all connections.
#[derive(Debug, Default)]
pub struct Counters {
    /// Client to server.
    pub up: AtomicU64,
    /// Server to client.
    pub down: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
}

/// A running proxy; stopped on drop.
pub struct ImpairProxy {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// What went through it.
    pub counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    /// Both ends of every connection, to shut them down on drop.
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<thread::JoinHandle<()>>,
}

/// Reads at most this much at once.
const CHUNK: usize = 4096;
/// Chunks queued between a direction's reader and writer.
const QUEUE: usize = 8;

impl ImpairProxy {
    /// Listens on 127.0.0.1 and forwards every connection to `target`: `up` impairs what the client sends, `down`
    /// what the server sends.
    pub fn start(target: SocketAddr, mode: Mode, up: Impairment, down: Impairment) -> ImpairProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the impairment proxy");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let counters = Arc::new(Counters::default());
        let accept = {
            let (stop, streams, counters) = (stop.clone(), streams.clone(), counters.clone());
            thread::spawn(move || {
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(port);
                while !stop.load(Ordering::Relaxed) {
                    let client = match listener.accept() {
                        Ok((client, _)) => client,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        Err(_) => break,
                    };
                    counters.connections.fetch_add(1, Ordering::Relaxed);
                    let _ = client.set_nonblocking(false);
                    let _ = client.set_nodelay(true);
                    if let Ok(c) = client.try_clone() {
                        streams.lock().unwrap().push(c);
                    }
                    if mode == Mode::BlackHole {
                        // Held in `streams` until the proxy drops: open, and silent.
                        continue;
                    }
                    let Ok(server) = TcpStream::connect(target) else {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    };
                    let _ = server.set_nodelay(true);
                    if let Ok(s) = server.try_clone() {
                        streams.lock().unwrap().push(s);
                    }
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                        (Ok(c), Ok(s)) => (c, s),
                        _ => continue,
                    };
                    let up_counter = Counter(counters.clone(), true);
                    let down_counter = Counter(counters.clone(), false);
                    pipe(client, server, up.clone(), seed, up_counter);
                    pipe(s2, c2, down.clone(), seed ^ 0xdead_beef, down_counter);
                }
            })
        };
        ImpairProxy {
            port,
            counters,
            stop,
            streams,
            accept: Some(accept),
        }
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

impl Drop for ImpairProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Which counter a direction adds to.
struct Counter(Arc<Counters>, bool);

impl Counter {
    fn add(&self, n: usize) {
        let c = if self.1 { &self.0.up } else { &self.0.down };
        c.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// One direction, `from` to `to`, impaired by `imp`.
fn pipe(mut from: TcpStream, to: TcpStream, imp: Impairment, seed: u64, counter: Counter) {
    let (tx, rx) = sync_channel::<(Instant, Vec<u8>)>(QUEUE);
    let reader_imp = imp.clone();
    thread::spawn(move || read_side(&mut from, &tx, &reader_imp, seed));
    thread::spawn(move || write_side(to, &rx, &imp, &counter));
}

/// Reads chunks and queues each with the instant it is due; ends the queue at EOF or error.
fn read_side(from: &mut TcpStream, tx: &SyncSender<(Instant, Vec<u8>)>, imp: &Impairment, mut seed: u64) {
    let mut last_due = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let extra = if imp.jitter.is_zero() {
            Duration::ZERO
        } else {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            imp.jitter.mul_f64((seed % 1000) as f64 / 1000.0)
        };
        // Never before an earlier chunk: jitter does not reorder a byte stream.
        let due = (Instant::now() + imp.latency + extra).max(last_due);
        last_due = due;
        if tx.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
}

/// Writes each queued chunk once it is due, in pieces, at the capped rate, with the stall; half-closes `to` when
/// the queue ends.
fn write_side(mut to: TcpStream, rx: &Receiver<(Instant, Vec<u8>)>, imp: &Impairment, counter: &Counter) {
    let mut next_free = Instant::now();
    let mut written: u64 = 0;
    let mut stall = imp.stall;
    for (due, data) in rx {
        sleep_until(due);
        let piece = imp.segment.unwrap_or(data.len()).max(1);
        let mut rest = &data[..];
        while !rest.is_empty() {
            let mut n = piece.min(rest.len());
            if let Some((after, _)) = stall {
                if written < after {
                    n = n.min((after - written) as usize);
                }
            }
            if let Some(rate) = imp.bytes_per_sec {
                sleep_until(next_free);
                next_free = next_free.max(Instant::now()) + Duration::from_secs_f64(n as f64 / rate as f64);
            }
            if to.write_all(&rest[..n]).is_err() {
                return;
            }
            counter.add(n);
            written += n as u64;
            rest = &rest[n..];
            if let Some((after, pause)) = stall {
                if written >= after {
                    thread::sleep(pause);
                    next_free = next_free.max(Instant::now());
                    stall = None;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn sleep_until(when: Instant) {
    let now = Instant::now();
    if when > now {
        thread::sleep(when - now);
    }
}
