//! A partner's login system as the identity sources see it, in-process on
//! port 0: an RFC 7662 introspection endpoint (`POST /introspect`, HTTP
//! Basic client credentials) and a who-am-I endpoint (`GET /me`, reading
//! the `sid` cookie). Tests register tokens and sessions, and read what the
//! service sent.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "token-service";
pub const CLIENT_SECRET: &str = "introspection-client-secret";

#[derive(Default)]
pub struct Seen {
    /// Introspection answers by token (unknown: `{"active": false}`).
    pub tokens: HashMap<String, Value>,
    /// Who-am-I answers by `sid` cookie (unknown: 401).
    pub sessions: HashMap<String, Value>,
    pub introspections: u32,
    pub who_am_i: u32,
    /// The `Cookie` headers `/me` received.
    pub cookies: Vec<String>,
}

pub struct FakeIdp {
    pub url: String,
    pub seen: Arc<Mutex<Seen>>,
}

impl FakeIdp {
    pub async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let data = web::Data::new(seen.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/introspect", web::post().to(introspect))
                .route("/me", web::get().to(me))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let url = format!("http://{}", server.addrs()[0]);
        tokio::spawn(server.run());
        Self { url, seen }
    }

    pub fn token(&self, token: &str, answer: Value) {
        self.seen
            .lock()
            .unwrap()
            .tokens
            .insert(token.into(), answer);
    }

    pub fn session(&self, sid: &str, answer: Value) {
        self.seen
            .lock()
            .unwrap()
            .sessions
            .insert(sid.into(), answer);
    }

    pub fn end_session(&self, sid: &str) {
        self.seen.lock().unwrap().sessions.remove(sid);
    }

    pub fn introspections(&self) -> u32 {
        self.seen.lock().unwrap().introspections
    }

    pub fn who_am_i(&self) -> u32 {
        self.seen.lock().unwrap().who_am_i
    }
}

/// A URL on which nothing listens (a port just bound and released).
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

async fn introspect(
    req: HttpRequest,
    form: web::Form<BTreeMap<String, String>>,
    seen: web::Data<Arc<Mutex<Seen>>>,
) -> HttpResponse {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(expected.as_str()) {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let mut seen = seen.lock().unwrap();
    seen.introspections += 1;
    let answer = form
        .get("token")
        .and_then(|t| seen.tokens.get(t))
        .cloned()
        .unwrap_or_else(|| json!({"active": false}));
    HttpResponse::Ok().json(answer)
}

async fn me(req: HttpRequest, seen: web::Data<Arc<Mutex<Seen>>>) -> HttpResponse {
    let mut seen = seen.lock().unwrap();
    seen.who_am_i += 1;
    let cookie = req
        .headers()
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let sid = cookie
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == "sid")
        .map(|(_, v)| v.to_owned());
    seen.cookies.push(cookie);
    match sid.and_then(|sid| seen.sessions.get(&sid).cloned()) {
        Some(user) => HttpResponse::Ok().json(user),
        None => HttpResponse::Unauthorized().json(json!({"error": "not signed in"})),
    }
}
