//! [`RedisServer`]: a real `redis-server` (Debian's package, which
//! `cargo xtask test` installs) of the test's own, on a free loopback port,
//! for the shared tier's tests. Nothing is persisted (`--save ""`,
//! `--appendonly no`); the process is killed when the value is dropped.
//!
//! ```ignore
//! let mut redis = RedisServer::new();        // started and answering PING
//! settings.insert("TOKEN_SERVICE_REDIS_URL", redis.url());
//! redis.stop();                              // an outage...
//! redis.start();                             // ...and the same server back, same port, empty
//! ```
//!
//! Only std: readiness is a raw `PING` over TCP until `+PONG`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `redis-server` package puts the binary.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// How long a start may take before the test fails (a loaded CI machine
/// still starts redis in well under a second).
const READY_WITHIN: Duration = Duration::from_secs(10);

/// How often a port is drawn again when another process took it between
/// our draw and redis binding it.
const PORT_ATTEMPTS: usize = 5;

/// A `redis-server` child process on `127.0.0.1:port`.
pub struct RedisServer {
    port: u16,
    password: Option<String>,
    child: Option<Child>,
    log: PathBuf,
}

impl RedisServer {
    /// Starts a server without a password on a free port; returns once it
    /// answers `PING`.
    pub fn new() -> RedisServer {
        Self::launch(None)
    }

    /// Starts a server that requires `password` (`--requirepass`);
    /// [`RedisServer::url`] carries it.
    pub fn with_password(password: &str) -> RedisServer {
        Self::launch(Some(password.to_owned()))
    }

    fn launch(password: Option<String>) -> RedisServer {
        assert!(
            Path::new(REDIS_SERVER).exists(),
            "redis-server is not installed: run `cargo xtask test` (it installs it) or \
             `apt-get install redis-server`"
        );
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut server = RedisServer {
                port,
                password: password.clone(),
                child: None,
                log: std::env::temp_dir().join(format!(
                    "peliqan-token-service-redis-{}-{port}.log",
                    std::process::id()
                )),
            };
            match server.try_start() {
                Ok(()) => return server,
                // Most likely the port was taken meanwhile: draw another.
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start after {PORT_ATTEMPTS} attempts: {last_error}");
    }

    /// `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` with
    /// a password (percent-encoded).
    pub fn url(&self) -> String {
        match &self.password {
            None => format!("redis://127.0.0.1:{}", self.port),
            Some(pw) => format!("redis://:{}@127.0.0.1:{}", percent_encode(pw), self.port),
        }
    }

    /// The port, the same across [`RedisServer::stop`] and
    /// [`RedisServer::start`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the process is running (it may not answer yet).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server (an abrupt outage: connections drop, nothing is
    /// saved) and waits until the process is gone. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty; returns once it
    /// answers `PING`. Panics if it cannot (e.g. the port was taken while
    /// it was stopped). Does nothing when it is running.
    pub fn start(&mut self) {
        if self.is_running() {
            return;
        }
        if let Err(e) = self.try_start() {
            panic!(
                "redis-server could not start again on port {}: {e}",
                self.port
            );
        }
    }

    /// Whether the server answers `PING` with `+PONG` now (authenticating
    /// first when it has a password).
    pub fn ping(&self) -> bool {
        let mut request = Vec::new();
        if let Some(pw) = &self.password {
            request.extend(command(&["AUTH", pw]));
        }
        request.extend(command(&["PING"]));
        let expected: &[u8] = if self.password.is_some() {
            b"+OK\r\n+PONG\r\n"
        } else {
            b"+PONG\r\n"
        };
        exchange(self.addr(), &request, expected.len()).is_ok_and(|answer| answer == expected)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Spawns the process and waits for `+PONG`; on failure the process is
    /// gone and the error says why (with redis' own log).
    fn try_start(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let dir = std::env::temp_dir();
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(&self.log);
        if let Some(pw) = &self.password {
            cmd.args(["--requirepass", pw]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {REDIS_SERVER}: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if self.ping() {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(format!(
                    "it exited ({status}); its log:\n{}",
                    self.log_text()
                ));
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(format!(
                    "no +PONG within {READY_WITHIN:?}; its log:\n{}",
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port that was free a moment ago: redis cannot be given port 0, so the
/// kernel picks one for a listener we drop at once.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A RESP array of bulk strings.
fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend(format!("${}\r\n", arg.len()).into_bytes());
        out.extend(arg.as_bytes());
        out.extend(b"\r\n");
    }
    out
}

/// Sends `request` and reads until `len` bytes or the connection ends.
fn exchange(addr: SocketAddr, request: &[u8], len: usize) -> std::io::Result<Vec<u8>> {
    let timeout = Duration::from_millis(500);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(request)?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    while answer.len() < len {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    Ok(answer)
}

/// Percent-encodes everything but unreserved URL characters.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn redis_server_starts_answers_stops_and_starts_again_on_the_same_port() {
    let mut redis = RedisServer::new();
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
    assert!(redis.is_running() && redis.ping());
    redis.stop();
    assert!(!redis.is_running());
    assert!(!redis.ping(), "stopped: nothing answers");
    redis.stop(); // idempotent
    redis.start();
    assert_eq!(redis.port(), port, "same port after a restart");
    assert!(redis.ping());
    redis.start(); // running: nothing to do
    assert!(redis.ping());
    let addr = redis.addr();
    drop(redis);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "dropping kills the server"
    );
}

#[test]
fn redis_server_with_a_password_refuses_unauthenticated_commands() {
    let redis = RedisServer::with_password("s3cret/pass word");
    assert_eq!(
        redis.url(),
        format!("redis://:s3cret%2Fpass%20word@127.0.0.1:{}", redis.port())
    );
    assert!(redis.ping(), "AUTH then PING");
    let bare = exchange(redis.addr(), &command(&["PING"]), 7).unwrap();
    assert!(
        bare.starts_with(b"-NOAUTH"),
        "{}",
        String::from_utf8_lossy(&bare)
    );
}
