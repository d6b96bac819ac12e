//! A keep-alive HTTP/1.1 client over `std::net`, for the soak's load loop
//! and its creation of cold tenants.
//!
//! The bench's client ([`crate::bench::http`]) opens one connection per
//! request; at the soak's steady rate that would leave tens of thousands of
//! sockets in TIME_WAIT on loopback. Here each load thread keeps one
//! connection and reads every answer whole (status, `Retry-After`, body),
//! so each one can be classified, not only counted as wrk does.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long one answer may take before it counts as "no answer". Longer
/// than the service's worst case in any phase (its retries included).
const READ_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One HTTP answer.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// One connection to `host:port`, opened on first use and again whenever
/// the server closes it.
pub struct Conn {
    addr: SocketAddr,
    host: String,
    stream: Option<BufReader<TcpStream>>,
    /// Requests sent twice because the reused connection was found closed;
    /// counted so that a server dropping connections cannot hide here.
    pub resent: u64,
}

impl Conn {
    /// A client for `url` (`http://host:port`, any path ignored).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let host = url
            .strip_prefix("http://")
            .context("only http:// URLs")?
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let addr = host
            .to_socket_addrs()?
            .next()
            .with_context(|| format!("no address for {host}"))?;
        Ok(Self {
            addr,
            host,
            stream: None,
            resent: 0,
        })
    }

    /// Sends one request. A `POST`/`PUT`/`DELETE` always carries
    /// `Content-Type: application/json`: the bodies here are JSON, and the
    /// emulator refuses a control call's body of any other type. A reused connection that the server had
    /// already closed is reopened and the request sent once more, as
    /// browsers do; any other failure is returned.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> anyhow::Result<Answer> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        if method != "GET" {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        let reused = self.stream.is_some();
        match self.exchange(head.as_bytes()) {
            Ok(answer) => Ok(answer),
            Err(Failure::Stale(_)) if reused => {
                self.resent += 1;
                self.exchange(head.as_bytes()).map_err(Failure::into_error)
            }
            Err(e) => Err(e.into_error()),
        }
    }

    fn exchange(&mut self, request: &[u8]) -> Result<Answer, Failure> {
        let stream = match &mut self.stream {
            Some(s) => s,
            None => {
                let s = TcpStream::connect_timeout(&self.addr, CONNECT_TIMEOUT)
                    .with_context(|| format!("connect {}", self.addr))
                    .map_err(fatal)?;
                s.set_read_timeout(Some(READ_TIMEOUT)).map_err(fatal)?;
                s.set_nodelay(true).map_err(fatal)?;
                self.stream.insert(BufReader::new(s))
            }
        };
        if let Err(e) = stream.get_mut().write_all(request) {
            self.stream = None;
            return Err(Failure::Stale(e.into()));
        }
        let mut status_line = String::new();
        match stream.read_line(&mut status_line) {
            // Closed before answering: a keep-alive connection the server
            // dropped while idle.
            Ok(0) => {
                self.stream = None;
                return Err(Failure::Stale(anyhow::anyhow!(
                    "connection closed before an answer"
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                self.stream = None;
                return Err(Failure::Stale(e.into()));
            }
            Err(e) => {
                self.stream = None;
                return Err(fatal(e));
            }
            Ok(_) => {}
        }
        let answer = read_rest(stream, &status_line);
        match answer {
            Ok((answer, keep)) => {
                if !keep {
                    self.stream = None;
                }
                Ok(answer)
            }
            Err(e) => {
                self.stream = None;
                Err(fatal(e))
            }
        }
    }
}

enum Failure {
    /// The connection was closed before any answer: on a reused
    /// connection, the server may simply have closed it while idle.
    Stale(anyhow::Error),
    /// Anything else (a timeout, a cut answer): never resent.
    Fatal(anyhow::Error),
}

impl Failure {
    fn into_error(self) -> anyhow::Error {
        match self {
            Failure::Stale(e) | Failure::Fatal(e) => e,
        }
    }
}

fn fatal(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Fatal(e.into())
}

/// Reads headers and body after the status line; also says whether the
/// connection stays open.
fn read_rest(
    stream: &mut BufReader<TcpStream>,
    status_line: &str,
) -> anyhow::Result<(Answer, bool)> {
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or_default();
    let status: u16 = words
        .next()
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let (mut length, mut chunked, mut retry_after) = (None, false, None);
    let mut keep = version == "HTTP/1.1";
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            bail!("connection closed inside the headers");
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            bail!("bad header line {line:?}")
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = Some(value.parse::<usize>()?),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep = !value.eq_ignore_ascii_case("close"),
            "retry-after" => retry_after = Some(value.to_owned()),
            _ => {}
        }
    }
    let body = if status == 204 || status == 304 || status < 200 {
        // No body by definition, whatever the headers say.
        Vec::new()
    } else if chunked {
        read_chunked(stream)?
    } else if let Some(n) = length {
        let mut body = vec![0; n];
        stream.read_exact(&mut body)?;
        body
    } else {
        // Neither length nor chunks: the body runs to the end of the
        // connection (HTTP/1.0 style).
        keep = false;
        let mut body = Vec::new();
        stream.read_to_end(&mut body)?;
        body
    };
    let answer = Answer {
        status,
        retry_after,
        body,
    };
    Ok((answer, keep))
}

fn read_chunked(stream: &mut BufReader<TcpStream>) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        stream.read_line(&mut size)?;
        let size = size.trim().split(';').next().unwrap_or_default();
        let n = usize::from_str_radix(size, 16).with_context(|| format!("bad chunk {size:?}"))?;
        let mut chunk = vec![0; n + 2];
        stream.read_exact(&mut chunk)?;
        if n == 0 {
            // `0\r\n\r\n` (no trailers are expected from these servers).
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}
