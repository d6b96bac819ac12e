//! A session cookie checked by the partner's who-am-I endpoint (a fake one
//! over real HTTP), with credentialed CORS and the CSRF checks.

use crate::helpers::*;
use crate::identity_fake::{FakeIdp, closed_url};
use peliqan_api::TokenAnswer;
use peliqan_api::clock::ManualClock;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const CSRF: &str = "x-requested-with";

/// The test settings with the session source at `url` instead of user
/// JWTs: the `sid` cookie forwarded, the tenant in the answer's
/// `account.slug`, the user in its `id`.
pub fn session(map: &mut BTreeMap<String, String>, url: &str) {
    for k in [
        "TOKEN_SERVICE_JWT_HS256_SECRET",
        "TOKEN_SERVICE_JWT_ISSUER",
        "TOKEN_SERVICE_JWT_AUDIENCE",
    ] {
        map.remove(k);
    }
    for (k, v) in [
        ("TOKEN_SERVICE_SESSION_URL", format!("{url}/me")),
        ("TOKEN_SERVICE_SESSION_COOKIES", "sid".into()),
        ("TOKEN_SERVICE_SESSION_SUBJECT_FIELD", "id".into()),
        ("TOKEN_SERVICE_TENANT_CLAIM", "account.slug".into()),
    ] {
        map.insert(k.into(), v);
    }
}

async fn spawn(idp: &FakeIdp) -> TestApp {
    let url = idp.url.clone();
    spawn_app_with(Duration::from_secs(1800), move |map| session(map, &url)).await
}

fn user(id: u64, tenant: &str) -> serde_json::Value {
    json!({"id": id, "email": format!("u{id}@{tenant}.test"), "account": {"slug": tenant}})
}

/// `POST /v1/token` as the SDK sends it from the partner's page.
fn post(app: &TestApp, cookie: &str) -> reqwest::RequestBuilder {
    app.http
        .post(format!("{}/v1/token", app.url))
        .header("origin", ORIGIN)
        .header(CSRF, "peliqan-embed")
        .header("cookie", cookie)
}

#[tokio::test]
async fn a_valid_session_cookie_gets_its_tenants_token_with_credentialed_cors() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp).await;
    idp.session("s-acme", user(7, "sess_acme"));
    for _ in 0..2 {
        let res = post(&app, "theme=dark; sid=s-acme; _ga=GA1.2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
        assert_eq!(res.headers()["access-control-allow-credentials"], "true");
        let answer: TokenAnswer = res.json().await.unwrap();
        assert_eq!(answer.external_id.as_str(), "sess_acme");
    }
    assert_eq!(idp.who_am_i(), 1, "the positive answer is cached");
    let seen = idp.seen.lock().unwrap().cookies.clone();
    assert_eq!(seen, ["sid=s-acme"], "only the configured cookie goes out");
    assert!(!logs().contains("s-acme"), "the cookie is never logged");
    // The connector list, a GET, needs the header but no Origin.
    let res = app
        .http
        .get(format!("{}/v1/connectors", app.url))
        .header(CSRF, "1")
        .header("cookie", "sid=s-acme")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_ended_or_missing_session_is_401_and_a_down_endpoint_503() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp).await;
    let res = post(&app, "sid=expired").send().await.unwrap();
    assert_problem(res, 401, "session_invalid").await;
    let res = post(&app, "other=x").send().await.unwrap();
    assert_problem(res, 401, "session_missing").await;
    assert_eq!(idp.who_am_i(), 1, "no cookie, no call");
    // A session that ends (logout, expiry) is refused as soon as the short
    // positive cache (10 s by default) lets go of it.
    let url = idp.url.clone();
    let clock = ManualClock::new();
    let app2 = spawn_app_on_clock(
        emulator_config(Duration::from_secs(1800)),
        Some(clock.clone()),
        move |map, _| session(map, &url),
    )
    .await;
    idp.session("s-end", user(8, "sess_end"));
    assert_eq!(post(&app2, "sid=s-end").send().await.unwrap().status(), 200);
    idp.end_session("s-end");
    clock.advance(Duration::from_secs(9));
    assert_eq!(post(&app2, "sid=s-end").send().await.unwrap().status(), 200);
    clock.advance(Duration::from_secs(1));
    assert_problem(
        post(&app2, "sid=s-end").send().await.unwrap(),
        401,
        "session_invalid",
    )
    .await;
    let down = closed_url();
    let app = spawn_app_with(Duration::from_secs(1800), |map| session(map, &down)).await;
    let res = post(&app, "sid=s-acme").send().await.unwrap();
    assert_problem(res, 503, "session_unavailable").await;
    assert_eq!(app.upstream_token_calls().await, 0);
}

#[tokio::test]
async fn a_cookie_gets_its_own_tenant_whatever_else_the_request_names() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp).await;
    idp.session("s-globex", user(9, "sess_globex"));
    let res = post(&app, "sid=s-globex")
        .query(&[("tenant", "sess_initech")])
        .header("x-tenant", "sess_initech")
        .body(r#"{"external_id": "sess_initech", "tenant": "sess_initech"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: TokenAnswer = res.json().await.unwrap();
    assert_eq!(answer.external_id.as_str(), "sess_globex");
    let inside = payload(&answer.token);
    assert_eq!(
        inside["external_id"], "sess_globex",
        "the token is the session's tenant's"
    );
    // A session naming no tenant in the configured field is refused.
    idp.session("s-none", json!({"id": 10, "account": {"name": "x"}}));
    let res = post(&app, "sid=s-none").send().await.unwrap();
    assert_problem(res, 403, "session_no_tenant").await;
}

#[tokio::test]
async fn a_cross_site_request_without_the_header_or_from_elsewhere_is_refused() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp).await;
    idp.session("s-csrf", user(11, "sess_csrf"));
    let url = format!("{}/v1/token", app.url);
    // A form post from the allowed origin's look-alike, or a fetch without
    // the custom header, or a POST without Origin: all refused.
    let without_header = app
        .http
        .post(&url)
        .header("origin", ORIGIN)
        .header("cookie", "sid=s-csrf")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    let p = assert_problem(without_header, 403, "csrf_refused").await;
    assert!(p.detail.contains(CSRF), "{p:?}");
    let no_origin = app
        .http
        .post(&url)
        .header(CSRF, "1")
        .header("cookie", "sid=s-csrf")
        .send()
        .await
        .unwrap();
    assert_problem(no_origin, 403, "csrf_refused").await;
    let foreign = app
        .http
        .post(&url)
        .header("origin", "https://evil.test")
        .header(CSRF, "1")
        .header("cookie", "sid=s-csrf")
        .send()
        .await
        .unwrap();
    assert!(
        !foreign
            .headers()
            .contains_key("access-control-allow-credentials")
    );
    assert_problem(foreign, 403, "origin_not_allowed").await;
    assert_eq!(idp.who_am_i(), 0, "refused before the session is checked");
    assert_eq!(app.upstream_token_calls().await, 0);
}

#[tokio::test]
async fn credentialed_cors_is_for_listed_origins_only_and_never_for_bearer_sources() {
    let idp = FakeIdp::start().await;
    let app = spawn(&idp).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/v1/token", app.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", CSRF)
            .send()
    };
    let ok = preflight(ORIGIN).await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains(CSRF), "{allowed}");
    for origin in [
        "https://evil.test",
        "null",
        "https://app.partner.test.evil.test",
    ] {
        let no = preflight(origin).await.unwrap();
        assert!(
            !no.headers()
                .contains_key("access-control-allow-credentials")
        );
        assert!(!no.headers().contains_key("access-control-allow-origin"));
        assert_eq!(no.status(), 403);
    }
    // A bearer source (the JWT) sends no credentials header at all.
    let jwt_app = spawn_app().await;
    let res = jwt_app
        .http
        .post(format!("{}/v1/token", jwt_app.url))
        .header("origin", ORIGIN)
        .bearer_auth(jwt(&claims("sess_jwt")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        !res.headers()
            .contains_key("access-control-allow-credentials")
    );
}
