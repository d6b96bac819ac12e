//! Shared set-up: an emulator per test, a client pointed at it, and small
//! helpers to read the emulator's stats, inject faults (through its typed
//! in-process control API) and decode JWTs.
//!
//! `PELIQAN_TEST_DIALECT` picks the API dialect the suite runs in: unset,
//! the emulator and the client speak the seed's API with lenient slashes
//! (as before dialects existed); set (`seed`, `sub-account`, `partner`),
//! both speak that dialect and the emulator answers the wrong trailing-slash
//! form as Django does (`strict_slashes`). Assertions name operations, not
//! paths: [`TestApp::count`] and [`TestApp::path`] look the route up.

use base64::Engine;
use peliqan_client::api::dialect::Vars;
use peliqan_client::{
    ClientBuilder, Dialect, Expiry, ExternalId, NewConnection, Operation, PartnerApi,
    PeliqanClient, RetryPolicy, Secret, Servertype, Subaccount, SubaccountApi, SubaccountInput,
};
use peliqan_emulator::{Config, Emulator, Fault, Stats};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

pub use crate::raw::{RawAnswer, spawn_raw_server, spawn_raw_server_seq};

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

/// The dialect named by `PELIQAN_TEST_DIALECT`, or `None` when unset.
fn dialect_from_env() -> Option<Dialect> {
    let raw = std::env::var("PELIQAN_TEST_DIALECT").ok()?;
    if raw.trim().is_empty() {
        return None;
    }
    Some(
        raw.parse()
            .unwrap_or_else(|e| panic!("PELIQAN_TEST_DIALECT: {e}")),
    )
}

/// The emulator configuration of this run: the seed, lenient, when
/// `PELIQAN_TEST_DIALECT` is unset; that dialect with strict slashes when set.
pub fn test_config() -> Config {
    match dialect_from_env() {
        None => Config::default(),
        Some(dialect) => Config {
            dialect,
            strict_slashes: true,
            ..Config::default()
        },
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

/// An emulator with `config`, and a client speaking `config.dialect`.
pub async fn spawn_app_with(config: Config) -> TestApp {
    let dialect = config.dialect;
    // A manual clock is shared with the client: advancing it moves both.
    let clock = config.manual_clock.clone();
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let client = client_for(emulator.url(), |b| {
        let b = b.dialect(dialect).retry(fast_retries(2));
        match clock {
            Some(clock) => b.clock(clock),
            None => b,
        }
    });
    let partner = client.partner(Secret::new(emulator.partner_token()));
    TestApp {
        emulator,
        client,
        partner,
        http: reqwest::Client::new(),
    }
}

/// A client for `url`, configured by `configure` (the seed dialect unless
/// `configure` says otherwise).
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

/// Values for any route: an id and an external id.
pub fn vars(id: u64) -> Vars<'static> {
    Vars {
        id: Some(id),
        external_id: Some("x"),
        group_id: Some(1),
        page: Some(1),
        per_page: Some(1),
    }
}

impl TestApp {
    /// The dialect this app's emulator and client speak.
    pub fn dialect(&self) -> Dialect {
        self.client.routes().dialect()
    }

    /// Whether the dialect has a route for `op`.
    pub fn has(&self, op: Operation) -> bool {
        self.client.routes().has(op)
    }

    /// Whether `op`'s route has an idempotent method (so it is retried).
    pub fn idempotent(&self, op: Operation) -> bool {
        self.route(op).method.is_idempotent()
    }

    fn route(&self, op: Operation) -> &peliqan_client::api::Route {
        self.client
            .routes()
            .route(op)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The emulator's stats key of `op`: `METHOD <path template>`.
    pub fn key(&self, op: Operation) -> String {
        Stats::key(self.client.routes(), op).unwrap_or_else(|| panic!("no route for {op}"))
    }

    /// The path the client calls for `op` with id `id` (what errors name).
    pub fn path(&self, op: Operation, id: u64) -> String {
        self.route(op).target(&vars(id)).expect("route fills").path
    }

    /// A fault-injection prefix covering `op`'s path: its path up to the
    /// first placeholder, without a trailing slash.
    pub fn prefix(&self, op: Operation) -> String {
        let path = &self.route(op).path;
        let cut = path.find('{').unwrap_or(path.len());
        path[..cut].trim_end_matches('/').to_owned()
    }

    /// The same emulator through a differently configured client (in this
    /// app's dialect unless `configure` says otherwise).
    pub fn partner_with(
        &self,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> PartnerApi {
        let dialect = self.dialect();
        client_for(self.emulator.url(), |b| configure(b.dialect(dialect)))
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

    /// The emulator's request counts.
    pub fn stats(&self) -> Stats {
        self.emulator.stats()
    }

    /// How often `key` (e.g. `POST /api/oauth2/token/`) was requested.
    pub fn count_key(&self, key: &str) -> u64 {
        self.stats().get(key)
    }

    /// How often `op`'s route was requested. Operations of one route (the
    /// `partner` dialect's token routes differ only in their query) share
    /// one count: see [`TestApp::count_all`].
    pub fn count(&self, op: Operation) -> u64 {
        self.stats().count(self.client.routes(), op)
    }

    /// Requests of all `ops`' routes, each route counted once.
    pub fn count_all(&self, ops: &[Operation]) -> u64 {
        let keys: BTreeSet<String> = ops.iter().map(|op| self.key(*op)).collect();
        let stats = self.stats();
        keys.iter().map(|k| stats.get(k)).sum()
    }

    /// Adds a fault rule to the emulator.
    pub fn fault(&self, fault: Fault) {
        self.emulator.add_fault(fault).expect("fault accepted");
    }

    pub fn clear_faults(&self) {
        self.emulator.clear_faults();
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
