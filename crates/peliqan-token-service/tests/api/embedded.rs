//! The endpoints mounted as a scope in a partner's own actix-web app, with
//! the partner's session extractor as the identity source.

use crate::helpers::*;
use actix_web::dev::Payload;
use actix_web::{App, FromRequest, HttpRequest, HttpResponse, HttpServer, web};
use peliqan_api::TokenAnswer;
use peliqan_token_service::auth::Profile;
use peliqan_token_service::{Embedded, PartnerSession, PartnerUser, Settings};
use std::future::{Ready, ready};
use std::time::Duration;

/// The partner's own session: `app_session=<user>:<tenant>` (a real app
/// would look the cookie up in its session store).
struct AppSession(Option<(String, String)>);

impl FromRequest for AppSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let cookie = req
            .headers()
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let user = cookie
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("app_session="))
            .find_map(|v| v.split_once(':'))
            .map(|(u, t)| (u.to_owned(), t.to_owned()));
        ready(Ok(Self(user)))
    }
}

impl PartnerSession for AppSession {
    fn user(&self) -> Option<PartnerUser> {
        let (subject, tenant) = self.0.clone()?;
        Some(PartnerUser {
            profile: email_profile(&subject),
            subject,
            tenant,
        })
    }
}

fn email_profile(subject: &str) -> Profile {
    Profile {
        email: Some(format!("{subject}@partner.test")),
        ..Profile::default()
    }
}

/// The partner's app: its own route, and the service's under `/peliqan`.
async fn partner_app(app: &TestApp) -> String {
    let mut map = base_settings(&app.emulator);
    for k in [
        "TOKEN_SERVICE_JWT_HS256_SECRET",
        "TOKEN_SERVICE_JWT_ISSUER",
        "TOKEN_SERVICE_JWT_AUDIENCE",
    ] {
        map.remove(k);
    }
    let settings = Settings::from_map_embedded(&map).unwrap();
    let peliqan = Embedded::new::<AppSession>(&settings).unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .route(
                "/hello",
                web::get().to(|| async { HttpResponse::Ok().body("hi") }),
            )
            .service(peliqan.scope("/peliqan"))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    url
}

#[tokio::test]
async fn a_partner_app_mounts_the_scope_and_issues_tokens_from_its_own_session() {
    // The emulator of a spawned service; the service itself is not used.
    let app = spawn_app_with(Duration::from_secs(1800), |_| {}).await;
    let url = partner_app(&app).await;
    let http = &app.http;
    let signed_in = "theme=dark; app_session=ann:embed_acme";
    let res = http
        .post(format!("{url}/peliqan/v1/token"))
        .header("origin", ORIGIN)
        .header("x-requested-with", "peliqan-embed")
        .header("cookie", signed_in)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let answer: TokenAnswer = res.json().await.unwrap();
    assert_eq!(answer.external_id.as_str(), "embed_acme");
    assert_eq!(payload(&answer.token)["external_id"], "embed_acme");
    let res = http
        .get(format!("{url}/peliqan/v1/connectors"))
        .header("x-requested-with", "1")
        .header("cookie", signed_in)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Signed out, or a cross-site form: refused; the partner's own routes
    // are untouched.
    let res = http
        .post(format!("{url}/peliqan/v1/token"))
        .header("origin", ORIGIN)
        .header("x-requested-with", "1")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "not_signed_in").await;
    let res = http
        .post(format!("{url}/peliqan/v1/token"))
        .header("origin", ORIGIN)
        .header("cookie", signed_in)
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "csrf_refused").await;
    let res = http
        .post(format!("{url}/peliqan/v1/token"))
        .header("origin", "https://evil.test")
        .header("x-requested-with", "1")
        .header("cookie", signed_in)
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "origin_not_allowed").await;
    let hello = http.get(format!("{url}/hello")).send().await.unwrap();
    assert_eq!(hello.text().await.unwrap(), "hi");
}
