//! Peliqan answering tokens no browser should get (no `exp`, already
//! expired, absurdly far in the future, living longer than the configured
//! cap): a 502 `upstream_misconfigured` each time, never a panic, and the
//! tenant is never stuck: the next request asks Peliqan again.
//!
//! The emulator only mints sane tokens, so these tests put a tiny stand-in
//! in front of the service that answers each call with the next scripted
//! token (the last one repeats). It answers every path alike, so it serves
//! whichever dialect the suite runs in.

use crate::helpers::*;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The `exp` of a scripted token.
#[derive(Clone)]
enum Exp {
    /// `now + seconds`, computed when the stand-in answers.
    In(u64),
    /// This payload, as is.
    Payload(Value),
}

struct Script {
    answers: Vec<Exp>,
    calls: AtomicUsize,
}

/// Starts the stand-in; returns its URL and the script (for its call count).
async fn spawn_peliqan(answers: Vec<Exp>) -> (String, Arc<Script>) {
    let script = Arc::new(Script {
        answers,
        calls: AtomicUsize::new(0),
    });
    let data = web::Data::from(script.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |script: web::Data<Script>| async move {
                let n = script.calls.fetch_add(1, Ordering::SeqCst);
                let exp = &script.answers[n.min(script.answers.len() - 1)];
                let payload = match exp {
                    Exp::In(secs) => json!({"exp": now() + secs, "n": n}),
                    Exp::Payload(p) => p.clone(),
                };
                let token = format!(
                    "e30.{}.c2ln",
                    URL_SAFE_NO_PAD.encode(payload.to_string().as_bytes())
                );
                HttpResponse::Ok().json(json!({"token": token, "subaccount_id": 7}))
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, script)
}

/// The service in front of the stand-in, with `tweak` applied.
async fn app_on(url: &str, tweak: impl FnOnce(&mut BTreeMap<String, String>)) -> TestApp {
    let url = url.to_owned();
    spawn_app_with(Duration::from_secs(1800), move |s| {
        s.insert("PELIQAN_API_URL".into(), url);
        tweak(s);
    })
    .await
}

/// [`app_on`], the service on a manual clock.
async fn app_on_clock(url: &str) -> TestApp {
    let url = url.to_owned();
    spawn_app_with_clock(Duration::from_secs(1800), move |s| {
        s.insert("PELIQAN_API_URL".into(), url);
    })
    .await
}

fn calls(script: &Script) -> usize {
    script.calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn an_absurd_token_is_a_502_and_the_next_request_gets_a_sane_one_from_peliqan() {
    let (url, script) =
        spawn_peliqan(vec![Exp::Payload(json!({"exp": 1e13})), Exp::In(1800)]).await;
    let app = app_on(&url, |_| {}).await;
    let user = jwt(&claims("absurd_then_sane"));
    let res = app.token(&user).await;
    assert_problem(res, 502, "upstream_misconfigured").await;
    assert_eq!(calls(&script), 1);
    let res = app.token(&user).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(calls(&script), 2, "the second request asked Peliqan again");
    assert!(logs().contains("IMPLAUSIBLE TOKEN"));
}

#[tokio::test]
async fn every_kind_of_implausible_token_is_refused_and_never_cached() {
    let absurd = [
        json!({"sub": 1}),                  // no exp: a non-expiring token
        json!({"exp": now() - 60}),         // already expired
        json!({"exp": -5}),                 // before 1970
        json!({"exp": 1e300}),              // past any date type
        json!({"exp": "soon"}),             // not a number
        json!({"exp": now() + 7200}),       // over the cap below
        json!({"exp": 253_402_300_800u64}), // year 10000
    ];
    let mut answers: Vec<Exp> = absurd.iter().cloned().map(Exp::Payload).collect();
    answers.push(Exp::In(1800));
    let (url, script) = spawn_peliqan(answers).await;
    let app = app_on(&url, |s| {
        s.insert(
            "TOKEN_SERVICE_MAX_TOKEN_LIFETIME_SECS".into(),
            "3600".into(),
        );
    })
    .await;
    let user = jwt(&claims("implausible"));
    for (i, payload) in absurd.iter().enumerate() {
        let res = app.token(&user).await;
        let body = assert_problem(res, 502, "upstream_misconfigured").await;
        assert!(
            !format!("{body:?}").contains("e30."),
            "no token in the answer"
        );
        assert_eq!(calls(&script), i + 1, "{payload} was not cached");
    }
    let res = app.token(&user).await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(calls(&script), absurd.len() + 1);
    // The loud line names the tenant and the reason, never the token.
    assert!(!logs().contains(&URL_SAFE_NO_PAD.encode(absurd[5].to_string().as_bytes())));
}

#[tokio::test]
async fn a_refresh_answered_with_an_absurd_token_leaves_the_tenant_refreshable() {
    let (url, script) = spawn_peliqan(vec![
        Exp::In(1800),
        Exp::Payload(json!({"exp": 1e13})),
        Exp::In(1800),
    ])
    .await;
    let app = app_on_clock(&url).await;
    let first = app.token_for("refresh_absurd").await;
    // The refresh is due by 1440 s (see cache.rs): it gets the absurd token.
    app.advance(Duration::from_secs(1500));
    assert_eq!(app.token_for("refresh_absurd").await.token, first.token);
    let error = "token_service_token_cache_refreshes_total{outcome=\"error\"}";
    until_metric(&app, error, 1.0).await;
    // Retried 10 s later (a quarter of what is left, at most 10 s).
    assert_eq!(app.token_for("refresh_absurd").await.token, first.token);
    assert_eq!(calls(&script), 2, "not retried at once");
    app.advance(Duration::from_secs(10));
    assert_eq!(app.token_for("refresh_absurd").await.token, first.token);
    let ok = "token_service_token_cache_refreshes_total{outcome=\"ok\"}";
    until_metric(&app, ok, 1.0).await;
    let fresh = app.token_for("refresh_absurd").await;
    assert_ne!(
        fresh.token, first.token,
        "a sane token after the absurd refresh"
    );
    assert_eq!(payload(&fresh.token)["n"], 2);
    assert_eq!(calls(&script), 3, "first, the refused refresh, its retry");
    assert_eq!(metric(&app, error).await, 1.0);
}
