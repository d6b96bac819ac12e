//! The benchmark's baseline: a bare actix-web handler answering
//! `POST /v1/token` with a fixed JSON body of the same size as the service's
//! answer, on as many workers. `cargo xtask bench token-service` compares the
//! service's cached path against it.
//!
//! `bare [LISTEN_ADDR] [BODY_BYTES] [WORKERS]`; prints `listening on
//! http://ADDR`. Without `WORKERS`, actix's default (one per core).

use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(400);
    let workers: Option<usize> = args.next().and_then(|s| s.parse().ok());
    let body = format!("{{\"token\":\"{}\"}}", "x".repeat(size.saturating_sub(12)));
    let body = web::Bytes::from(body);
    let listener = TcpListener::bind(&listen)?;
    println!("listening on http://{}", listener.local_addr()?);
    let server = HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/v1/token",
            web::post().to(move || {
                let body = body.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .insert_header(("cache-control", "no-store"))
                        .body(body)
                }
            }),
        )
    });
    let server = match workers {
        Some(n) => server.workers(n),
        None => server,
    };
    server.listen(listener)?.run().await
}
