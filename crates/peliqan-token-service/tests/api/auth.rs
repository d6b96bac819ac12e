//! Every way a user JWT can be wrong gets its own problem code.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use std::time::Duration;

#[tokio::test]
async fn a_request_without_credentials_gets_missing_credentials() {
    let app = spawn_app().await;
    let res = app
        .http
        .post(format!("{}/v1/token", app.url))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("www-authenticate"));
    assert_problem(res, 401, "missing_credentials").await;
    let res = app
        .http
        .post(format!("{}/v1/token", app.url))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "missing_credentials").await;
}

#[tokio::test]
async fn a_jwt_with_a_bad_signature_or_shape_gets_invalid_token() {
    let app = spawn_app().await;
    let forged = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-of-32-bytes-or-more"),
        &claims("acme"),
    );
    assert_problem(app.token(&forged).await, 401, "invalid_token").await;
    assert_problem(app.token("not.a.jwt").await, 401, "invalid_token").await;
    let mut no_sub = claims("acme");
    no_sub.as_object_mut().unwrap().remove("sub");
    assert_problem(app.token(&jwt(&no_sub)).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn an_expired_jwt_gets_token_expired() {
    let app = spawn_app().await;
    let mut c = claims("acme");
    c["exp"] = (now() - 3600).into();
    assert_problem(app.token(&jwt(&c)).await, 401, "token_expired").await;
}

#[tokio::test]
async fn a_jwt_accepted_before_is_refused_once_it_expires() {
    // However a JWT was accepted before (remembered, with a public key),
    // expiry must still hold,
    // on the service's clock.
    let app = spawn_app_with_clock(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_JWT_LEEWAY_SECS".into(), "0".into());
    })
    .await;
    let mut c = app.claims("acme");
    let exp = app.clock().unix_secs() + 2;
    c["exp"] = exp.into();
    let short = jwt(&c);
    for _ in 0..3 {
        assert_eq!(app.token(&short).await.status(), 200);
    }
    // `exp` has whole-second precision: still valid during its last second.
    app.advance(Duration::from_secs(2));
    assert_eq!(app.token(&short).await.status(), 200);
    app.advance(Duration::from_secs(1));
    assert_problem(app.token(&short).await, 401, "token_expired").await;
}

#[tokio::test]
async fn jwt_exp_and_nbf_follow_the_service_clock_with_the_leeway() {
    let app = spawn_app_with_clock(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_JWT_LEEWAY_SECS".into(), "30".into());
    })
    .await;
    let now = app.clock().unix_secs();
    let mut c = app.claims("acme");
    c["exp"] = (now + 10).into();
    let expiring = jwt(&c);
    let mut c = app.claims("acme");
    c["nbf"] = (now + 100).into();
    c["exp"] = (now + 1000).into();
    let early = jwt(&c);
    let res = app.token(&early).await;
    assert_eq!(res.status(), 401);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("invalid_token") && text.contains("nbf"),
        "{text}"
    );
    assert_eq!(app.token(&expiring).await.status(), 200);
    // 40 s on, `exp` is 30 s past: still within the leeway.
    app.advance(Duration::from_secs(40));
    assert_eq!(app.token(&expiring).await.status(), 200, "exp + leeway");
    // 70 s on, `nbf` is 30 s ahead: within the leeway; `exp` is past it,
    // refused even though it was accepted (and remembered) before.
    app.advance(Duration::from_secs(30));
    assert_eq!(app.token(&early).await.status(), 200, "nbf - leeway");
    assert_problem(app.token(&expiring).await, 401, "token_expired").await;
    // An expired JWT for another audience is expired first, as always.
    let mut c = app.claims("acme");
    c["exp"] = (now - 100).into();
    c["aud"] = "some-other-api".into();
    assert_problem(app.token(&jwt(&c)).await, 401, "token_expired").await;
}

#[tokio::test]
async fn a_jwt_for_another_audience_or_issuer_is_refused() {
    let app = spawn_app().await;
    let mut c = claims("acme");
    c["aud"] = "some-other-api".into();
    assert_problem(app.token(&jwt(&c)).await, 401, "invalid_audience").await;
    let mut c = claims("acme");
    c["iss"] = "https://evil.test".into();
    assert_problem(app.token(&jwt(&c)).await, 401, "invalid_issuer").await;
}

#[tokio::test]
async fn an_unsigned_alg_none_jwt_gets_unsupported_algorithm() {
    let app = spawn_app().await;
    let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims("acme").to_string());
    for token in [format!("{head}.{body}."), format!("{head}.{body}.c2ln")] {
        assert_problem(app.token(&token).await, 401, "unsupported_algorithm").await;
    }
}

#[tokio::test]
async fn an_hs256_jwt_signed_with_the_public_key_gets_unsupported_algorithm() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.remove("TOKEN_SERVICE_JWT_HS256_SECRET");
        s.insert(
            "TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE".into(),
            ES256_PUBLIC_PATH.into(),
        );
    })
    .await;
    // The classic confusion attack: the public key is public, so an attacker
    // can HMAC with it; the algorithm comes from configuration, not the token.
    let public_pem = std::fs::read(ES256_PUBLIC_PATH).unwrap();
    let forged = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public_pem),
        &claims("acme"),
    );
    assert_problem(app.token(&forged).await, 401, "unsupported_algorithm").await;
    // The real ES256 signature is accepted.
    let key = EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap();
    let res = app
        .token(&sign(Algorithm::ES256, &key, &claims("acme")))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_jwt_without_a_tenant_claim_gets_missing_tenant_claim() {
    let app = spawn_app().await;
    let mut c = claims("acme");
    c.as_object_mut().unwrap().remove("external_id");
    c["tenant"] = "acme".into();
    assert_problem(app.token(&jwt(&c)).await, 403, "missing_tenant_claim").await;
}

#[tokio::test]
async fn tenant_claims_are_never_normalised_onto_one_tenant() {
    let app = spawn_app().await;
    let with = |tenant: serde_json::Value| {
        let mut c = claims("ignored");
        c["external_id"] = tenant;
        jwt(&c)
    };
    for bad in [
        serde_json::json!("norm\u{a0}"),
        serde_json::json!("\tnorm\n"),
        serde_json::json!(" norm"),
        serde_json::json!("no\u{200b}rm"),
        serde_json::json!("no\u{2028}rm"),
        serde_json::json!(" 42 "),
        serde_json::json!(42.0),
        serde_json::json!(1e3),
    ] {
        let body = assert_problem(
            app.token(&with(bad.clone())).await,
            403,
            "invalid_tenant_claim",
        )
        .await;
        let detail = body.detail.as_str();
        assert!(detail.contains("`external_id`"), "{bad}: {detail}");
        assert!(
            !detail.contains('\n') && !detail.contains('\u{a0}'),
            "{detail}"
        );
    }
    assert_eq!(
        app.upstream_token_calls().await,
        0,
        "no token for a refused claim"
    );
    let answer: peliqan_api::TokenAnswer =
        app.token(&with("norm".into())).await.json().await.unwrap();
    assert_eq!(answer.external_id.as_str(), "norm");
    let res = app.token(&with(4242.into())).await;
    assert_eq!(res.status(), 200);
    let answer: peliqan_api::TokenAnswer = res.json().await.unwrap();
    assert_eq!(
        answer.external_id.as_str(),
        "4242",
        "an integer is its decimal text"
    );
}
