//! A one-trick HTTP server for answers the emulator never gives (malformed
//! JSON, other list shapes, pages of a listing, a redirect): it answers the
//! n-th request with the n-th prepared answer (the last one repeats) and
//! records each request, head and body.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One prepared answer.
#[derive(Clone)]
pub struct RawAnswer {
    pub status: u16,
    /// Extra header lines, e.g. `location: /x/`.
    pub headers: Vec<String>,
    pub body: String,
}

impl RawAnswer {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec!["content-type: application/json".into()],
            body: body.into(),
        }
    }
}

pub struct RawServer {
    pub url: String,
    /// Each request as received: head (request line and headers), a blank
    /// line, then the body.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    /// The n-th request, lower-cased.
    pub fn request(&self, n: usize) -> String {
        self.requests.lock().unwrap()[n].to_lowercase()
    }

    /// The JSON body of the n-th request, as sent.
    pub fn body(&self, n: usize) -> serde_json::Value {
        let request = self.requests.lock().unwrap()[n].clone();
        let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {request}"))
    }

    /// The body of the n-th request, as sent.
    pub fn body_text(&self, n: usize) -> String {
        let request = self.requests.lock().unwrap()[n].clone();
        request
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// A server answering every request with `status` and a JSON `body`.
pub async fn spawn_raw_server(status: u16, body: &str) -> RawServer {
    spawn_raw_server_seq(vec![RawAnswer::json(status, body)]).await
}

/// A server answering the n-th request with `answers[n]` (the last repeats).
pub async fn spawn_raw_server_seq(answers: Vec<RawAnswer>) -> RawServer {
    assert!(!answers.is_empty(), "give at least one answer");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let answers = Arc::new(answers);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            let answers = answers.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut stream).await else {
                    return;
                };
                let answer = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(request);
                    answers[(seen.len() - 1).min(answers.len() - 1)].clone()
                };
                let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
                for line in &answer.headers {
                    head.push_str(line);
                    head.push_str("\r\n");
                }
                let text = format!(
                    "{head}content-length: {}\r\nconnection: close\r\n\r\n{}",
                    answer.body.len(),
                    answer.body
                );
                let _ = stream.write_all(text.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    RawServer { url, requests }
}

/// Reads one request: its head, then as many body bytes as its
/// `content-length` says.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&data).into_owned())
}
