//! A loopback TCP relay between the token service and the emulator, which
//! the soak closes and reopens on the same port for its "connection
//! refused" phase.
//!
//! Why not stop and restart the emulator process itself: each emulator
//! process draws a fresh signing key and partner token at start
//! (`Keys::random` in crates/peliqan-emulator/src/state.rs) and keeps its
//! sub-accounts in memory only. A restarted emulator would refuse the
//! service's partner token and know none of the tenants, which is a
//! re-keyed, wiped Peliqan (every later call a 502 by design), not a
//! Peliqan that was briefly unreachable. Closing the relay's listening
//! socket and cutting its open connections gives the service exactly what
//! a stopped server gives it, `ECONNREFUSED` on connect and reset pooled
//! connections, while the emulator behind keeps its state.
//!
//! Bytes are copied unchanged, one thread per direction of each connection.

use anyhow::Context;
use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// The relay; stopped for good on drop.
pub struct Relay {
    /// Where it listens (fixed after the first bind).
    addr: SocketAddr,
    /// Where it forwards to.
    target: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<Acceptor>,
}

#[derive(Default)]
struct Shared {
    /// Both ends of every open relayed connection, to cut them on stop.
    open: Mutex<HashMap<u64, [TcpStream; 2]>>,
    next_id: AtomicU64,
}

impl Shared {
    /// The open connections; a panicked copy thread must not stop the
    /// relay from being stopped or reopened, hence no poisoning.
    fn open(&self) -> MutexGuard<'_, HashMap<u64, [TcpStream; 2]>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Acceptor {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Relay {
    /// Listens on a free loopback port and forwards to `target`.
    pub fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("relay bind")?;
        let mut relay = Self {
            addr: listener.local_addr()?,
            target,
            shared: Arc::default(),
            acceptor: None,
        };
        relay.acceptor = Some(relay.accept_on(listener));
        Ok(relay)
    }

    /// `http://127.0.0.1:PORT`, for the service's `PELIQAN_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops listening (connects are now refused) and cuts every open
    /// connection, as a stopped server would.
    pub fn stop(&mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.stop.store(true, Ordering::SeqCst);
            // Wakes the blocking accept, which then sees the flag.
            let _ = TcpStream::connect(self.addr);
            let _ = acceptor.thread.join();
        }
        for [a, b] in self.shared.open().drain().map(|(_, s)| s) {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
    }

    /// Listens again on the same port.
    pub fn resume(&mut self) -> anyhow::Result<()> {
        if self.acceptor.is_none() {
            // std sets SO_REUSEADDR, so the port's TIME_WAIT sockets do not
            // block the bind.
            let listener = TcpListener::bind(self.addr)
                .with_context(|| format!("relay could not listen on {} again", self.addr))?;
            self.acceptor = Some(self.accept_on(listener));
        }
        Ok(())
    }

    fn accept_on(&self, listener: TcpListener) -> Acceptor {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, shared, target) = (stop.clone(), self.shared.clone(), self.target);
        let thread = thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                match client {
                    Ok(client) => {
                        if let Err(e) = forward(client, target, &shared) {
                            eprintln!("xtask soak: relay could not reach the emulator: {e}");
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => eprintln!("xtask soak: relay accept failed: {e}"),
                }
            }
            // The listener drops here: the port now refuses connections.
        });
        Acceptor { stop, thread }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connects `client` to `target` and copies both ways until either side
/// closes; then both are closed.
fn forward(client: TcpStream, target: SocketAddr, shared: &Arc<Shared>) -> io::Result<()> {
    let upstream = TcpStream::connect(target)?;
    client.set_nodelay(true)?;
    upstream.set_nodelay(true)?;
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    shared
        .open()
        .insert(id, [client.try_clone()?, upstream.try_clone()?]);
    for (mut from, mut to) in [
        (client.try_clone()?, upstream.try_clone()?),
        (upstream, client),
    ] {
        let shared = shared.clone();
        thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            // HTTP peers do not half-close: one side done means both are.
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            shared.open().remove(&id);
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// An echo server for one line per connection.
    fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                thread::spawn(move || {
                    let mut buf = [0; 64];
                    while let Ok(n @ 1..) = s.read(&mut buf) {
                        let _ = s.write_all(&buf[..n]);
                    }
                });
            }
        });
        addr
    }

    fn roundtrip(s: &mut TcpStream) -> io::Result<String> {
        s.write_all(b"ping")?;
        let mut buf = [0; 4];
        s.read_exact(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    #[test]
    fn a_stopped_relay_refuses_and_cuts_then_serves_again_on_the_same_port() {
        let mut relay = Relay::start(echo()).unwrap();
        let addr = relay.addr;
        let mut open = TcpStream::connect(addr).unwrap();
        assert_eq!(roundtrip(&mut open).unwrap(), "ping");
        relay.stop();
        let refused = TcpStream::connect(addr).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        assert!(roundtrip(&mut open).is_err(), "open connection was cut");
        relay.resume().unwrap();
        assert_eq!(relay.url(), format!("http://{addr}"));
        let mut again = TcpStream::connect(addr).unwrap();
        assert_eq!(roundtrip(&mut again).unwrap(), "ping");
    }
}
