//! Users checked against a JWKS URL: rotation-friendly, but a made-up `kid`
//! cannot make the service hammer the IdP.

use crate::helpers::*;
use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Serves `{"keys": [ES256 key "k1"]}` and counts fetches.
async fn spawn_idp() -> (String, Arc<AtomicUsize>) {
    let key = EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("k1".into());
    let set = web::Data::new(JwkSet { keys: vec![jwk] });
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = web::Data::from(fetches.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(set.clone())
            .app_data(counter.clone())
            .route(
                "/.well-known/jwks.json",
                web::get().to(
                    |set: web::Data<JwkSet>, n: web::Data<AtomicUsize>| async move {
                        n.fetch_add(1, Ordering::SeqCst);
                        HttpResponse::Ok().json(set.get_ref())
                    },
                ),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, fetches)
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

#[tokio::test]
async fn jwks_keys_verify_users_and_unknown_kids_do_not_hammer_the_idp() {
    let (jwks_url, fetches) = spawn_idp().await;
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.remove("TOKEN_SERVICE_JWT_HS256_SECRET");
        s.insert("TOKEN_SERVICE_JWT_JWKS_URL".into(), jwks_url);
        s.insert("TOKEN_SERVICE_JWKS_REFRESH_FLOOR_SECS".into(), "60".into());
    })
    .await;
    assert_eq!(app.token(&es256("k1", "jwks_tenant")).await.status(), 200);
    for i in 0..10 {
        let res = app
            .token(&es256(&format!("forged-{i}"), "jwks_tenant"))
            .await;
        assert_problem(res, 401, "invalid_token").await;
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
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
