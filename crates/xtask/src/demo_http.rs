//! A deliberately tiny HTTP/1.1 server for the demo page: one thread per
//! connection, one request per connection (`Connection: close`), bodies up
//! to 64 KiB. That is all a local demo page needs, it cannot wedge on
//! keep-alive bookkeeping (tiny_http 0.12 did, with Chromium's parallel
//! connections), and it adds no dependency to the xtask.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Requests larger than this (head or body) are refused.
const MAX_BYTES: u64 = 64 * 1024;
/// A client that stalls mid-request is dropped after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request.
pub struct Request {
    pub method: String,
    /// The path without query string or fragment.
    pub path: String,
    /// The `Cookie` header, if any (the cookie-session demo reads it).
    pub cookie: Option<String>,
    pub body: Vec<u8>,
}

/// An answer: status, content type, body, and maybe a cookie to set.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// A `Set-Cookie` value (the cookie-session demo's login and logout).
    pub set_cookie: Option<String>,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server; stops accepting on drop.
pub struct HttpServer {
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves `handler` on `listener` until dropped.
    pub fn start(listener: TcpListener, handler: Arc<Handler>) -> std::io::Result<HttpServer> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let handler = handler.clone();
                thread::spawn(move || {
                    let _ = serve(stream, &*handler);
                });
            }
        });
        Ok(HttpServer {
            stop,
            addr,
            accept: Some(accept),
        })
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // `accept` blocks; one last connection wakes it up to see the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(MAX_BYTES));
    let reply = match read_request(&mut reader) {
        Some(request) => handler(&request),
        None => Reply {
            status: 400,
            content_type: "text/plain",
            body: b"bad request".to_vec(),
            set_cookie: None,
        },
    };
    write_reply(stream, &reply)
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?;
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    let mut length = 0u64;
    let mut cookie = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            } else if name.trim().eq_ignore_ascii_case("cookie") {
                cookie = Some(value.trim().to_string());
            }
        }
    }
    let mut body = Vec::new();
    reader
        .take(length.min(MAX_BYTES))
        .read_to_end(&mut body)
        .ok()?;
    Some(Request {
        method,
        path,
        cookie,
        body,
    })
}

fn write_reply(mut stream: TcpStream, reply: &Reply) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let cookie = reply
        .set_cookie
        .as_ref()
        .map(|c| format!("Set-Cookie: {c}\r\n"))
        .unwrap_or_default();
    // no-store: a rebuilt package or an edited page shows on the next reload.
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\n{cookie}Connection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}
