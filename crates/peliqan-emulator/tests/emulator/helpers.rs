//! A spawned emulator plus the small request helpers every test uses.

use base64::Engine;
use peliqan_api::dialect::Vars;
use peliqan_api::{Dialect, Operation};
use peliqan_emulator::{Config, Control, ControlCall, ControlError, Emulator, Fault, Stats};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::time::Duration;

pub const ORIGIN: &str = "http://localhost:5173";

pub struct TestApp {
    pub emulator: Emulator,
    pub http: reqwest::Client,
}

/// An emulator speaking `dialect`, `ORIGIN` allowed.
pub async fn spawn_dialect(dialect: Dialect, strict_slashes: bool) -> TestApp {
    spawn_app_with(Config {
        allowed_origins: vec![ORIGIN.to_owned()],
        dialect,
        strict_slashes,
        ..Config::default()
    })
    .await
}

/// An emulator with default settings and `ORIGIN` allowed.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config {
        allowed_origins: vec![ORIGIN.to_owned()],
        ..Config::default()
    })
    .await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { emulator, http }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.url())
    }

    /// A request without any token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// A request with `Authorization: JWT <token>`.
    pub fn with_token(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path)
            .header("Authorization", format!("JWT {token}"))
    }

    /// A request with `Authorization: Bearer <token>`.
    pub fn with_bearer(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path)
            .header("Authorization", format!("Bearer {token}"))
    }

    /// Exchanges the emulator's client credentials for an access token.
    pub async fn access_token(&self) -> String {
        let res = self
            .request(Method::POST, "/api/oauth2/token/")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.emulator.client_id()),
                ("client_secret", self.emulator.client_secret()),
            ])
            .send()
            .await
            .unwrap();
        let answer = expect_json(res, 200).await;
        answer["access_token"].as_str().unwrap().to_owned()
    }

    pub fn as_partner(&self, method: Method, path: &str) -> RequestBuilder {
        self.with_token(method, path, self.emulator.partner_token())
    }

    /// Creates a sub-account; returns its id.
    pub async fn create_subaccount(&self, external_id: &str) -> u64 {
        let res = self
            .as_partner(Method::POST, "/api/subaccount")
            .json(&json!({"external_id": external_id, "email": "john@example.test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        body(res).await["id"].as_u64().unwrap()
    }

    /// A fresh expiring token for a sub-account.
    pub async fn subaccount_token(&self, id: u64) -> String {
        let res = self
            .as_partner(Method::GET, &format!("/api/subaccount/{id}/token"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        body(res).await["token"].as_str().unwrap().to_owned()
    }

    /// A sub-account and a token for it.
    pub async fn tenant(&self, external_id: &str) -> (u64, String) {
        let id = self.create_subaccount(external_id).await;
        (id, self.subaccount_token(id).await)
    }

    /// Typed requests for this emulator's control endpoints.
    pub fn control(&self) -> Control {
        Control::new(self.emulator.url())
    }

    /// Sends a control call over HTTP (so the endpoints themselves are
    /// under test) and reads its typed answer.
    pub async fn send<T>(&self, call: ControlCall<T>) -> Result<T, ControlError> {
        let method = Method::from_bytes(call.method.as_bytes()).unwrap();
        let mut req = self.http.request(method, &call.url);
        if let Some(body) = &call.body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        call.answer(status, &text)
    }

    /// `/__emulator/stats`' counts.
    pub async fn stats(&self) -> Stats {
        self.send(self.control().stats()).await.unwrap()
    }

    /// Calls `op` where `dialect`'s table puts it, with `Authorization: JWT
    /// <token>` when given.
    pub async fn call(
        &self,
        dialect: Dialect,
        op: Operation,
        vars: Vars<'_>,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let target = dialect.routes().target(op, &vars).unwrap();
        let method = Method::from_bytes(target.method.as_str().as_bytes()).unwrap();
        let mut req = self.request(method, &target.path_and_query());
        if let Some(t) = token {
            req = req.header("Authorization", format!("JWT {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn add_fault(&self, fault: Fault) {
        self.send(self.control().add_fault(&fault)).await.unwrap();
    }
}

/// The body as JSON; panics with the text when it is not JSON.
pub async fn body(res: Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts status and that the body is JSON; returns the body.
pub async fn expect_json(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status);
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(ct.as_deref(), Some("application/json"));
    body(res).await
}

/// Asserts Django's HTML 404 for an unknown path (not a JSON error).
pub async fn expect_html_404(res: Response) {
    assert_eq!(res.status(), 404, "{}", res.url());
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{}: {ct}", res.url());
    let text = res.text().await.unwrap();
    assert!(text.contains("<h1>Not Found</h1>"), "{text}");
}

/// A JWT's claims, read without verifying the signature.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
