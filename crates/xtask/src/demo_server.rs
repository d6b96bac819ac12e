//! The demo's web server: the page in `web-demo/`, the built npm package
//! under `/pkg/peliqan-embed/`, `GET /demo/config.json` (where the token
//! service and Peliqan are) and the demo-only `POST /demo/login`; in the
//! cookie-session variant also `POST /demo/logout` and `GET /demo/whoami`
//! (the who-am-I endpoint the token service checks the cookie with).
//!
//! It plays the partner's own web app. It serves files from disk on every
//! request, so edits to the page show on reload.

use crate::demo_http::{HttpServer, Reply, Request};
use crate::demo_login;
use anyhow::Context;
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What the server serves.
pub struct Site {
    /// The demo page (`web-demo/`).
    pub web_root: PathBuf,
    /// The built npm package directory.
    pub pkg_root: PathBuf,
    /// Body of `/demo/config.json`.
    pub config: serde_json::Value,
    /// HS256 secret shared with the token service, for `/demo/login`.
    pub jwt_secret: String,
    /// Server-side sessions, in the cookie-session variant (`--session`):
    /// the login sets a cookie instead of answering a JWT.
    pub sessions: Option<demo_login::Sessions>,
}

/// A running demo server; stops on drop.
pub struct DemoServer {
    _http: HttpServer,
}

/// Binds the demo's port on 127.0.0.1. The origin must be known before the
/// emulator and the token service start (their CORS allow-lists name it),
/// so binding comes first. A busy `preferred` port falls back to any free
/// one rather than failing the demo.
pub fn bind(preferred: u16) -> anyhow::Result<(TcpListener, String)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, preferred))
        .or_else(|err| {
            if preferred == 0 {
                return Err(err);
            }
            eprintln!("xtask: port {preferred} is busy ({err}); using a free port instead");
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        })
        .context("could not bind the demo server")?;
    let addr: SocketAddr = listener.local_addr()?;
    Ok((listener, format!("http://{addr}")))
}

impl DemoServer {
    /// Serves `site` on `listener` until dropped.
    pub fn start(listener: TcpListener, site: Site) -> anyhow::Result<DemoServer> {
        let site = Arc::new(site);
        let http = HttpServer::start(listener, Arc::new(move |r: &Request| respond(&site, r)))?;
        Ok(DemoServer { _http: http })
    }
}

fn respond(site: &Site, request: &Request) -> Reply {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/demo/config.json") => json_reply(200, &site.config),
        ("GET", "/pkg/peliqan-embed.js") => entry_module(&site.pkg_root),
        ("POST", "/demo/login") => login(site, request),
        ("POST", "/demo/logout") => match &site.sessions {
            Some(sessions) => Reply {
                set_cookie: Some(sessions.logout(request.cookie.as_deref())),
                ..json_reply(200, &json!({}))
            },
            None => json_reply(404, &json!({"error": "not the cookie-session demo"})),
        },
        ("GET", "/demo/whoami") => match &site.sessions {
            Some(sessions) => match sessions.who_am_i(request.cookie.as_deref()) {
                Some(me) => json_reply(200, &me),
                None => json_reply(401, &json!({"error": "not signed in"})),
            },
            None => json_reply(404, &json!({"error": "not the cookie-session demo"})),
        },
        ("GET" | "HEAD", p) => match p.strip_prefix("/pkg/peliqan-embed/") {
            Some(rest) => file(&site.pkg_root, rest),
            None => file(&site.web_root, p.trim_start_matches('/')),
        },
        _ => json_reply(405, &json!({"error": "method not allowed"})),
    }
}

fn login(site: &Site, request: &Request) -> Reply {
    let user = serde_json::from_slice::<serde_json::Value>(&request.body)
        .ok()
        .and_then(|v| v.get("user").and_then(|u| u.as_str()).map(str::to_string))
        .unwrap_or_default();
    if let Some(sessions) = &site.sessions {
        return match sessions.login(&user) {
            Some(Ok((cookie, who))) => Reply {
                set_cookie: Some(cookie),
                ..json_reply(200, &json!({"user": who}))
            },
            Some(Err(err)) => json_reply(500, &json!({"error": err.to_string()})),
            None => json_reply(404, &json!({"error": format!("no demo user {user:?}")})),
        };
    }
    match demo_login::login(&user, &site.jwt_secret) {
        Some(Ok((jwt, who))) => json_reply(200, &json!({"jwt": jwt, "user": who})),
        Some(Err(err)) => json_reply(500, &json!({"error": err.to_string()})),
        None => json_reply(404, &json!({"error": format!("no demo user {user:?}")})),
    }
}

/// A module re-exporting the package's entry point, so the page's import
/// map can name the package the way a bundler resolves `peliqan-embed`,
/// whatever file `package.json` points at.
fn entry_module(pkg_root: &Path) -> Reply {
    let manifest = std::fs::read_to_string(pkg_root.join("package.json")).unwrap_or_default();
    let Some(entry) = package_entry(&manifest) else {
        let msg = "the npm package is not built: run `cargo xtask npm`";
        return json_reply(404, &json!({ "error": msg }));
    };
    let entry = entry.trim_start_matches("./");
    let body = format!(
        "export * from './peliqan-embed/{entry}';\nexport {{ default }} from './peliqan-embed/{entry}';\n"
    );
    Reply {
        status: 200,
        content_type: "text/javascript; charset=utf-8",
        body: body.into_bytes(),
        set_cookie: None,
    }
}

/// The ES-module entry of a `package.json`: `exports["."]` (a string, or
/// its `import`/`browser`/`default` condition), else `module`, else `main`.
fn package_entry(manifest: &str) -> Option<String> {
    let pkg: serde_json::Value = serde_json::from_str(manifest).ok()?;
    let dot = pkg.get("exports").map(|e| e.get(".").unwrap_or(e));
    let from_exports = dot.and_then(|d| {
        d.as_str().map(str::to_string).or_else(|| {
            ["import", "browser", "default"].iter().find_map(|k| {
                let c = d.get(k)?;
                c.as_str()
                    .or_else(|| c.get("default")?.as_str())
                    .map(str::to_string)
            })
        })
    });
    from_exports
        .or_else(|| pkg.get("module")?.as_str().map(str::to_string))
        .or_else(|| pkg.get("main")?.as_str().map(str::to_string))
        .filter(|e| !e.contains(".."))
}

fn file(root: &Path, rel: &str) -> Reply {
    let rel = if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.into()
    };
    // Only plain path segments: no `..`, no absolute paths out of the root.
    let safe = Path::new(&rel)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    let data = if safe {
        std::fs::read(root.join(&rel)).ok()
    } else {
        None
    };
    match data {
        Some(body) => Reply {
            status: 200,
            content_type: content_type(&rel),
            body,
            set_cookie: None,
        },
        None => json_reply(404, &json!({"error": format!("not found: /{rel}")})),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        // instantiateStreaming refuses anything else.
        "wasm" => "application/wasm",
        "json" => "application/json",
        "ts" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

fn json_reply(status: u16, body: &serde_json::Value) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        body: body.to_string().into_bytes(),
        set_cookie: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    fn get(url: &str, raw: &str) -> String {
        let addr = url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn the_package_entry_is_read_from_exports_module_or_main() {
        let e = |m: &str| package_entry(m);
        assert_eq!(
            e(r#"{"exports": {".": {"import": "./a.js"}}}"#).as_deref(),
            Some("./a.js")
        );
        assert_eq!(
            e(r#"{"exports": {"import": {"types": "x", "default": "./b.js"}}}"#).as_deref(),
            Some("./b.js")
        );
        assert_eq!(
            e(r#"{"exports": "./c.js", "main": "m.js"}"#).as_deref(),
            Some("./c.js")
        );
        assert_eq!(
            e(r#"{"module": "d.js", "main": "m.js"}"#).as_deref(),
            Some("d.js")
        );
        assert_eq!(e(r#"{"main": "../../etc/passwd"}"#), None);
        assert_eq!(e("not json"), None);
    }

    #[test]
    fn serves_the_page_the_package_config_and_logins_but_nothing_outside() {
        let dir = std::env::temp_dir().join(format!("xtask-demo-{}", std::process::id()));
        let (web, pkg) = (dir.join("web"), dir.join("pkg"));
        std::fs::create_dir_all(&web).unwrap();
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(web.join("index.html"), "<h1>demo</h1>").unwrap();
        std::fs::write(pkg.join("x_bg.wasm"), b"\0asm").unwrap();
        std::fs::write(dir.join("secret.txt"), "no").unwrap();
        let (listener, url) = bind(0).unwrap();
        let site = Site {
            web_root: web,
            pkg_root: pkg,
            config: json!({"tokenUrl": "http://t"}),
            jwt_secret: "s".into(),
            sessions: None,
        };
        let _server = DemoServer::start(listener, site).unwrap();
        let close = "Connection: close\r\n\r\n";
        assert!(get(&url, &format!("GET / HTTP/1.1\r\n{close}")).contains("<h1>demo</h1>"));
        let wasm = get(
            &url,
            &format!("GET /pkg/peliqan-embed/x_bg.wasm HTTP/1.1\r\n{close}"),
        );
        assert!(wasm.contains("application/wasm"), "{wasm}");
        let cfg = get(&url, &format!("GET /demo/config.json HTTP/1.1\r\n{close}"));
        assert!(cfg.contains("http://t"));
        let escape = get(&url, &format!("GET /../secret.txt HTTP/1.1\r\n{close}"));
        assert!(escape.starts_with("HTTP/1.1 404"), "{escape}");
        let body = r#"{"user":"alice"}"#;
        let login = format!(
            "POST /demo/login HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let answer = get(&url, &login);
        assert!(
            answer.contains("\"jwt\"") && answer.contains("wood_123"),
            "{answer}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
