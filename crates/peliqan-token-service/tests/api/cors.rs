//! CORS: the allow-list, preflights, and no echo of unknown origins.

use crate::helpers::*;

#[tokio::test]
async fn an_allowed_origin_gets_its_own_origin_back_and_its_preflight_answered() {
    let app = spawn_app().await;
    let pre = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/token", app.url))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers()["access-control-allow-origin"], ORIGIN);
    assert!(
        pre.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let res = app
        .http
        .post(format!("{}/v1/token", app.url))
        .header("origin", ORIGIN)
        .bearer_auth(jwt(&claims("cors_ok")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(res.headers()["vary"], "Origin");
}

#[tokio::test]
async fn an_unknown_origin_is_refused_and_never_echoed() {
    let app = spawn_app().await;
    for method in [reqwest::Method::OPTIONS, reqwest::Method::POST] {
        let res = app
            .http
            .request(method, format!("{}/v1/token", app.url))
            .header("origin", "https://evil.test")
            .header("access-control-request-method", "POST")
            .bearer_auth(jwt(&claims("cors_no")))
            .send()
            .await
            .unwrap();
        assert!(!res.headers().contains_key("access-control-allow-origin"));
        assert_problem(res, 403, "origin_not_allowed").await;
    }
    assert_eq!(
        app.upstream_token_calls().await,
        0,
        "no token minted for a foreign page"
    );
}
