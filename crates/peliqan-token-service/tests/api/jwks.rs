//! Users checked against a JWKS URL: rotation-friendly, but a made-up `kid`
//! cannot make the service hammer the IdP; a key removed from the JWKS stops
//! verifying within the TTL; keys are never used past their allowed
//! staleness; an IdP that cannot be reached is a 503, never a 401.
//!
//! The IdP is a local server whose keys and availability each test controls.

use crate::helpers::*;
use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The IdP's state, changed by the test while the service runs.
struct Idp {
    url: String,
    keys: Mutex<Vec<Jwk>>,
    up: AtomicBool,
    fetches: AtomicUsize,
}

impl Idp {
    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    fn set_keys(&self, keys: Vec<Jwk>) {
        *self.keys.lock().unwrap() = keys;
    }
}

/// The test key pair published under `kid`.
fn jwk(kid: &str) -> Jwk {
    let key = EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some(kid.into());
    jwk
}

/// Serves `{"keys": [...]}` (503 while down) and counts fetches.
async fn spawn_idp(keys: Vec<Jwk>) -> Arc<Idp> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let idp = Arc::new(Idp {
        url: format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        ),
        keys: Mutex::new(keys),
        up: AtomicBool::new(true),
        fetches: AtomicUsize::new(0),
    });
    let data = web::Data::from(idp.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/.well-known/jwks.json",
            web::get().to(|idp: web::Data<Idp>| async move {
                idp.fetches.fetch_add(1, Ordering::SeqCst);
                if !idp.up.load(Ordering::SeqCst) {
                    return HttpResponse::ServiceUnavailable().finish();
                }
                let keys = idp.keys.lock().unwrap().clone();
                HttpResponse::Ok().json(JwkSet { keys })
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    idp
}

/// The service checking users against `idp`, with `settings` (decimal
/// seconds) on top of the test defaults.
async fn spawn_with(idp: &Idp, settings: &[(&str, &str)]) -> TestApp {
    spawn_app_with(Duration::from_secs(1800), |s| {
        s.remove("TOKEN_SERVICE_JWT_HS256_SECRET");
        s.insert("TOKEN_SERVICE_JWT_JWKS_URL".into(), idp.url.clone());
        for (k, v) in settings {
            s.insert((*k).into(), (*v).into());
        }
    })
    .await
}

fn es256(kid: &str, tenant: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        &claims(tenant),
        &EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap(),
    )
    .unwrap()
}

/// Sends `jwt` until the answer's status is `status` (at most `within`).
async fn until_status(
    app: &TestApp,
    jwt: &str,
    status: u16,
    within: Duration,
) -> reqwest::Response {
    let deadline = Instant::now() + within;
    loop {
        let res = app.token(jwt).await;
        if res.status() == status {
            return res;
        }
        assert!(
            Instant::now() < deadline,
            "no {status} within {within:?}; last: {} {:?}",
            res.status(),
            res.text().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn jwks_keys_verify_users_and_unknown_kids_do_not_hammer_the_idp() {
    let idp = spawn_idp(vec![jwk("k1")]).await;
    let app = spawn_with(&idp, &[("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "60")]).await;
    assert_eq!(app.token(&es256("k1", "jwks_tenant")).await.status(), 200);
    for i in 0..10 {
        let res = app
            .token(&es256(&format!("forged-{i}"), "jwks_tenant"))
            .await;
        assert_problem(res, 401, "invalid_token").await;
    }
    assert_eq!(
        idp.fetches(),
        1,
        "one fetch; unknown kids wait for the floor"
    );
    // An HS256 token naming the JWKS key id is not accepted: the key fixes the algorithm.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &claims("jwks_tenant"),
        &EncodingKey::from_secret(b"x"),
    )
    .unwrap();
    assert_problem(app.token(&forged).await, 401, "unsupported_algorithm").await;
}

#[tokio::test]
async fn a_key_removed_from_the_jwks_stops_verifying_within_the_ttl() {
    let idp = spawn_idp(vec![jwk("stays"), jwk("leaves")]).await;
    let ttl = Duration::from_millis(400);
    let app = spawn_with(
        &idp,
        &[
            ("TOKEN_SERVICE_JWKS_TTL_SECS", "0.4"),
            ("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "60"),
        ],
    )
    .await;
    let leaving = es256("leaves", "jwks_rotation");
    let fetched = Instant::now();
    for _ in 0..3 {
        assert_eq!(app.token(&leaving).await.status(), 200);
    }
    if fetched.elapsed() < ttl {
        assert_eq!(idp.fetches(), 1, "keys are reused within the TTL");
    }
    idp.set_keys(vec![jwk("stays")]);
    let before = idp.fetches();
    // The bound itself is what is tested: wait it out from the latest fetch
    // that can have happened (a deadline, not a readiness signal).
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    // The very JWT accepted before (and remembered) is refused now.
    let res = app.token(&leaving).await;
    assert_problem(res, 401, "invalid_token").await;
    assert_eq!(idp.fetches(), before + 1, "refetched once the TTL was over");
    assert_eq!(
        app.token(&es256("stays", "jwks_rotation")).await.status(),
        200
    );
}

#[tokio::test]
async fn keys_whose_use_is_not_sig_are_ignored() {
    let mut enc = jwk("enc");
    enc.common.public_key_use = Some(PublicKeyUse::Encryption);
    let mut sig = jwk("sig");
    sig.common.public_key_use = Some(PublicKeyUse::Signature);
    let idp = spawn_idp(vec![enc, sig]).await;
    let app = spawn_with(&idp, &[]).await;
    assert_problem(
        app.token(&es256("enc", "jwks_use")).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(app.token(&es256("sig", "jwks_use")).await.status(), 200);
}

#[tokio::test]
async fn while_the_first_fetch_fails_users_get_503_with_retry_after_not_401() {
    let idp = spawn_idp(vec![jwk("k1")]).await;
    idp.set_up(false);
    let app = spawn_with(&idp, &[("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "1")]).await;
    let user = es256("k1", "jwks_first_fetch");
    let res = app.token(&user).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "auth_unavailable").await;
    let tried = idp.fetches();
    for _ in 0..5 {
        assert_problem(app.token(&user).await, 503, "auth_unavailable").await;
    }
    assert!(
        idp.fetches() <= tried + 1,
        "retries are spaced, not one per request"
    );
    idp.set_up(true);
    until_status(&app, &user, 200, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn keys_outlive_failed_refetches_only_up_to_max_stale_then_503() {
    let idp = spawn_idp(vec![jwk("k1")]).await;
    let max_stale = Duration::from_millis(1500);
    let app = spawn_with(
        &idp,
        &[
            ("TOKEN_SERVICE_JWKS_TTL_SECS", "0.2"),
            ("TOKEN_SERVICE_JWKS_MAX_STALE_SECS", "1.5"),
            ("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "0.1"),
        ],
    )
    .await;
    let user = es256("k1", "jwks_stale");
    let before_fetch = Instant::now();
    assert_eq!(app.token(&user).await.status(), 200);
    idp.set_up(false);
    // Past the TTL: the refetch fails, the last keys still verify.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.token(&user).await.status(), 200);
    assert!(idp.fetches() >= 2, "a refetch was tried");
    // Past the allowed staleness: 503 with Retry-After, never 401.
    let res = until_status(&app, &user, 503, max_stale + Duration::from_secs(3)).await;
    assert!(
        before_fetch.elapsed() >= max_stale,
        "503 only after max_stale"
    );
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "auth_unavailable").await;
    idp.set_up(true);
    until_status(&app, &user, 200, Duration::from_secs(5)).await;
}
