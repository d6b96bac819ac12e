//! Users checked against a JWKS URL: rotation-friendly, but a made-up `kid`
//! cannot make the service hammer the IdP; a key removed from the JWKS stops
//! verifying within the TTL; keys are never used past their allowed
//! staleness; an IdP that cannot be reached is a 503, never a 401.
//!
//! The IdP is a local server whose keys and availability each test controls.
//! The service runs on a manual clock: TTLs, staleness and the spacing of
//! refetches pass by advancing it, not by waiting.

use crate::helpers::*;
use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
/// seconds) on top of the test defaults, on a manual clock.
async fn spawn_with(idp: &Idp, settings: &[(&str, &str)]) -> TestApp {
    spawn_app_with_clock(Duration::from_secs(1800), |s| {
        s.remove("TOKEN_SERVICE_JWT_HS256_SECRET");
        s.insert("TOKEN_SERVICE_JWT_JWKS_URL".into(), idp.url.clone());
        for (k, v) in settings {
            s.insert((*k).into(), (*v).into());
        }
    })
    .await
}

/// A user of `tenant` valid at `app`'s time, signed with the key `kid`.
fn es256(app: &TestApp, kid: &str, tenant: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        &app.claims(tenant),
        &EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn jwks_keys_verify_users_and_unknown_kids_do_not_hammer_the_idp() {
    let idp = spawn_idp(vec![jwk("k1")]).await;
    let app = spawn_with(&idp, &[("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "60")]).await;
    assert_eq!(
        app.token(&es256(&app, "k1", "jwks_tenant")).await.status(),
        200
    );
    for i in 0..10 {
        let res = app
            .token(&es256(&app, &format!("forged-{i}"), "jwks_tenant"))
            .await;
        assert_problem(res, 401, "invalid_token").await;
    }
    assert_eq!(
        idp.fetches(),
        1,
        "one fetch; unknown kids wait for the floor"
    );
    // Once the floor has passed, an unknown kid may cause one refetch.
    app.advance(Duration::from_secs(60));
    for i in 0..3 {
        let res = app
            .token(&es256(&app, &format!("new-{i}"), "jwks_tenant"))
            .await;
        assert_problem(res, 401, "invalid_token").await;
    }
    assert_eq!(idp.fetches(), 2);
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
    let app = spawn_with(
        &idp,
        &[
            ("TOKEN_SERVICE_JWKS_TTL_SECS", "60"),
            ("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "60"),
        ],
    )
    .await;
    let leaving = es256(&app, "leaves", "jwks_rotation");
    for _ in 0..3 {
        assert_eq!(app.token(&leaving).await.status(), 200);
    }
    assert_eq!(idp.fetches(), 1, "keys are reused within the TTL");
    idp.set_keys(vec![jwk("stays")]);
    app.advance(Duration::from_secs(59));
    assert_eq!(app.token(&leaving).await.status(), 200, "within the TTL");
    assert_eq!(idp.fetches(), 1);
    app.advance(Duration::from_secs(1));
    // The very JWT accepted before (and remembered) is refused now.
    let res = app.token(&leaving).await;
    assert_problem(res, 401, "invalid_token").await;
    assert_eq!(idp.fetches(), 2, "refetched once the TTL was over");
    assert_eq!(
        app.token(&es256(&app, "stays", "jwks_rotation"))
            .await
            .status(),
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
        app.token(&es256(&app, "enc", "jwks_use")).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.token(&es256(&app, "sig", "jwks_use")).await.status(),
        200
    );
}

#[tokio::test]
async fn while_the_first_fetch_fails_users_get_503_with_retry_after_not_401() {
    let idp = spawn_idp(vec![jwk("k1")]).await;
    idp.set_up(false);
    // Fetches while failing are at least min(floor, 1 s) apart.
    let app = spawn_with(&idp, &[("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "1")]).await;
    let user = es256(&app, "k1", "jwks_first_fetch");
    let res = app.token(&user).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "auth_unavailable").await;
    assert_eq!(idp.fetches(), 1);
    idp.set_up(true);
    for _ in 0..5 {
        assert_problem(app.token(&user).await, 503, "auth_unavailable").await;
    }
    assert_eq!(idp.fetches(), 1, "retries are spaced, not one per request");
    app.advance(Duration::from_secs(1));
    assert_eq!(app.token(&user).await.status(), 200);
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn keys_outlive_failed_refetches_only_up_to_max_stale_then_503() {
    let idp = spawn_idp(vec![jwk("k1")]).await;
    let app = spawn_with(
        &idp,
        &[
            ("TOKEN_SERVICE_JWKS_TTL_SECS", "60"),
            ("TOKEN_SERVICE_JWKS_MAX_STALE_SECS", "300"),
            ("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS", "10"),
        ],
    )
    .await;
    assert_eq!(
        app.token(&es256(&app, "k1", "jwks_stale")).await.status(),
        200
    );
    idp.set_up(false);
    // Past the TTL: the refetch fails, the last keys still verify.
    app.advance(Duration::from_secs(60));
    assert_eq!(
        app.token(&es256(&app, "k1", "jwks_stale")).await.status(),
        200
    );
    assert_eq!(idp.fetches(), 2, "a refetch was tried");
    // Up to the allowed staleness, with a retry at most once a second.
    app.advance(Duration::from_secs(239));
    assert_eq!(
        app.token(&es256(&app, "k1", "jwks_stale")).await.status(),
        200
    );
    assert_eq!(idp.fetches(), 3);
    // Past it: 503 with Retry-After, never 401.
    app.advance(Duration::from_secs(1));
    let res = app.token(&es256(&app, "k1", "jwks_stale")).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "auth_unavailable").await;
    idp.set_up(true);
    app.advance(Duration::from_secs(1));
    assert_eq!(
        app.token(&es256(&app, "k1", "jwks_stale")).await.status(),
        200
    );
}
