//! Shared set-up: an emulator per test, a client pointed at it, and small
//! helpers to read the emulator's stats, inject faults and decode JWTs.

use base64::Engine;
use peliqan_client::{
    ClientBuilder, Expiry, ExternalId, NewConnection, PartnerApi, PeliqanClient, RetryPolicy,
    Secret, Servertype, Subaccount, SubaccountApi, SubaccountInput,
};
use peliqan_emulator::{Config, Emulator};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running emulator and a client for it.
pub struct TestApp {
    pub emulator: Emulator,
    pub client: PeliqanClient,
    pub partner: PartnerApi,
    /// A plain HTTP client, for the emulator's control and OAuth endpoints.
    pub http: reqwest::Client,
}

/// Retries with tiny delays, so retry tests stay fast.
pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default()).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let client = client_for(emulator.url(), |b| b.retry(fast_retries(2)));
    let partner = client.partner(Secret::new(emulator.partner_token()));
    TestApp {
        emulator,
        client,
        partner,
        http: reqwest::Client::new(),
    }
}

/// A client for `url`, configured by `configure`.
pub fn client_for(
    url: &str,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> PeliqanClient {
    configure(PeliqanClient::builder(url))
        .build()
        .expect("client builds")
}

/// A sub-account body with only the required field and an e-mail.
pub fn input(external_id: &str) -> SubaccountInput {
    SubaccountInput {
        external_id: ExternalId::from(external_id),
        email: Some(format!("{external_id}@example.com")),
        ..SubaccountInput::default()
    }
}

/// The claims of a JWT, read without checking the signature.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("JWT payload is base64url");
    serde_json::from_slice(&bytes).expect("JWT payload is JSON")
}

/// A connection body: `fields` must be a JSON object.
pub fn connection(servertype: &Servertype, fields: Value) -> NewConnection {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object")
    };
    NewConnection {
        servertype_id: servertype.id,
        name: Some(servertype.name.clone()),
        fields,
    }
}

impl TestApp {
    /// The same emulator through a differently configured client.
    pub fn partner_with(
        &self,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> PartnerApi {
        client_for(self.emulator.url(), configure)
            .partner(Secret::new(self.emulator.partner_token()))
    }

    /// Creates a sub-account and returns it with an API using a fresh
    /// short-lived token for it.
    pub async fn tenant(&self, external_id: &str) -> (Subaccount, SubaccountApi) {
        let account = self
            .partner
            .create_subaccount(&input(external_id))
            .await
            .expect("create");
        let token = self
            .partner
            .subaccount_token(account.id, Expiry::ShortLived)
            .await
            .expect("token");
        (account, self.client.subaccount(Secret::from(token)))
    }

    /// The servertype with machine name `name`.
    pub async fn servertype(&self, name: &str) -> Servertype {
        let all = self.partner.servertypes().await.expect("servertypes");
        all.into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no servertype {name}"))
    }

    fn control(&self, path: &str) -> String {
        format!(
            "{}/__emulator/{path}",
            self.emulator.url().trim_end_matches('/')
        )
    }

    /// Requests counted per `METHOD /path/template`.
    pub async fn stats(&self) -> HashMap<String, u64> {
        let res = self
            .http
            .get(self.control("stats"))
            .send()
            .await
            .expect("stats");
        assert!(res.status().is_success(), "stats answered {}", res.status());
        let body: Value = res.json().await.expect("stats JSON");
        serde_json::from_value(body["requests"].clone()).expect("stats map")
    }

    /// How often `key` (e.g. `GET /api/servertypes`) was requested.
    pub async fn count(&self, key: &str) -> u64 {
        self.stats().await.get(key).copied().unwrap_or(0)
    }

    pub async fn inject_fault(&self, rule: Value) {
        let res = self
            .http
            .post(self.control("faults"))
            .json(&rule)
            .send()
            .await
            .expect("fault");
        assert!(
            res.status().is_success(),
            "fault refused: {}",
            res.text().await.unwrap_or_default()
        );
    }

    pub async fn clear_faults(&self) {
        let res = self
            .http
            .delete(self.control("faults"))
            .send()
            .await
            .expect("clear faults");
        assert!(res.status().is_success());
    }

    /// What the end-customer's click on the consent page sends.
    pub async fn decide_oauth(&self, oauth_url: &str, decision: &str) {
        let url = url::Url::parse(oauth_url).expect("oauth_url is a URL");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("oauth_url carries a state");
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", &state)
            .append_pair("decision", decision)
            .finish();
        let res = self
            .http
            .post(format!(
                "{}/oauth/decision",
                self.emulator.url().trim_end_matches('/')
            ))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("decision");
        assert!(
            res.status().is_success(),
            "decision answered {}",
            res.status()
        );
    }
}

/// A one-trick HTTP server answering every request with `response` (a full
/// HTTP/1.1 answer), recording each request's head. For answers the
/// emulator never gives: malformed JSON, other list shapes.
pub struct RawServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

pub async fn spawn_raw_server(status: u16, body: &'static str) -> RawServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    RawServer { url, requests }
}
