//! `spawn_app()`: an in-process emulator plus the service on port 0, and
//! helpers to mint user JWTs, call the service and read emulator stats.
//!
//! The suite runs in the API dialect named by `PELIQAN_TEST_DIALECT` (unset:
//! `seed`). When it is set, the emulator serves that dialect only, with
//! Django's strict trailing slashes, and the service is configured with the
//! same `PELIQAN_API_DIALECT`. Stats, fault prefixes and test clients are
//! looked up by [`Operation`] in the emulator's routes, never written as
//! paths.
//!
//! [`spawn_app_with_clock`] (and [`spawn_app_on_clock`]) run the service on
//! a [`ManualClock`]: a test moves the service's time with
//! [`TestApp::advance`] instead of sleeping through an expiry. The emulator
//! keeps real time, so advancing past its `token_ttl` makes its tokens
//! expired in the service's eyes. User JWTs for such an app are minted at
//! the app's time ([`TestApp::claims`], [`TestApp::token_for`]).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use peliqan_api::TokenAnswer;
use peliqan_api::clock::{Clock, ManualClock, SystemClock};
use peliqan_api::embed::{PROBLEM_TYPE_PREFIX, Problem};
use peliqan_client::{Dialect, Operation, PartnerApi, PeliqanClient, Routes, Secret};
use peliqan_emulator::{Config, Emulator, Fault, Stats};
use peliqan_token_service::Application;
use peliqan_token_service::settings::Settings;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes";
pub const ISSUER: &str = "https://login.partner.test";
pub const AUDIENCE: &str = "peliqan-token-service";
pub const ORIGIN: &str = "https://app.partner.test";
pub const ES256_PRIVATE: &[u8] = include_bytes!("keys/es256_private.pem");
pub const ES256_PUBLIC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/api/keys/es256_public.pem"
);

/// Every log line of every app in this test binary (see [`logs`]).
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        // Everything at debug, except the emulator, which is the party that
        // legitimately knows (and may print) the partner token.
        let filter = tracing_subscriber::EnvFilter::new("debug,peliqan_emulator=off");
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .with_writer(move || writer.clone())
            .init();
        buf
    })
    .clone()
}

/// All captured log output so far.
pub fn logs() -> String {
    String::from_utf8_lossy(&init_logs().lock().unwrap()).into_owned()
}

/// The suite's dialect as set: `PELIQAN_TEST_DIALECT`, `None` when unset.
pub fn test_dialect() -> Option<Dialect> {
    let name = std::env::var("PELIQAN_TEST_DIALECT").ok()?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some(
        name.parse()
            .unwrap_or_else(|e| panic!("PELIQAN_TEST_DIALECT: {e}")),
    )
}

/// The suite's dialect (`seed` when `PELIQAN_TEST_DIALECT` is unset).
pub fn dialect() -> Dialect {
    test_dialect().unwrap_or_default()
}

/// The emulator configuration of the suite: tokens living `token_ttl`, the
/// test origin allowed, the suite's dialect (strict slashes when one is set).
pub fn emulator_config(token_ttl: Duration) -> Config {
    let mut config = Config {
        token_ttl,
        allowed_origins: vec![ORIGIN.to_owned()],
        ..Config::default()
    };
    if let Some(dialect) = test_dialect() {
        config.dialect = dialect;
        config.strict_slashes = true;
    }
    config
}

/// The emulator's stats key of `op` in `routes`: `"METHOD <path_template>"`.
pub fn stats_key(routes: &Routes, op: Operation) -> String {
    let route = routes.route(op).expect("the dialect has the operation");
    format!("{} {}", route.method, route.path_template())
}

/// The longest path prefix shared by the routes of `ops` (up to the first
/// placeholder): a fault rule's `path_prefix` hitting all of them.
pub fn path_prefix(routes: &Routes, ops: &[Operation]) -> String {
    let paths: Vec<String> = ops
        .iter()
        .map(|op| {
            let t = routes
                .route(*op)
                .expect("the dialect has the operation")
                .path_template();
            t.split('{').next().unwrap_or_default().to_owned()
        })
        .collect();
    let first = paths[0].as_str();
    let len = paths[1..].iter().fold(first.len(), |len, p| {
        first
            .bytes()
            .zip(p.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count()
    });
    first[..len].to_owned()
}

pub struct TestApp {
    pub url: String,
    pub emulator: Emulator,
    /// The routes the emulator serves (its dialect's table).
    pub routes: Routes,
    pub http: reqwest::Client,
    /// The service's clock, when it runs on a manual one.
    pub clock: Option<Arc<ManualClock>>,
}

/// Settings for tests: HS256 users, issuer and audience checked, fast
/// retries, the suite's dialect when one is set.
pub fn base_settings(emulator: &Emulator) -> BTreeMap<String, String> {
    let mut map = base_settings_without_dialect(emulator);
    if let Some(d) = test_dialect() {
        map.insert("PELIQAN_API_DIALECT".into(), d.name().into());
    }
    map
}

fn base_settings_without_dialect(emulator: &Emulator) -> BTreeMap<String, String> {
    let pairs = [
        ("PELIQAN_API_URL", emulator.url()),
        ("PELIQAN_PARTNER_TOKEN", emulator.partner_token()),
        ("TOKEN_SERVICE_LISTEN", "127.0.0.1:0"),
        ("TOKEN_SERVICE_WORKERS", "2"),
        ("TOKEN_SERVICE_ALLOWED_ORIGINS", ORIGIN),
        ("TOKEN_SERVICE_JWT_HS256_SECRET", JWT_SECRET),
        ("TOKEN_SERVICE_JWT_ISSUER", ISSUER),
        ("TOKEN_SERVICE_JWT_AUDIENCE", AUDIENCE),
        ("TOKEN_SERVICE_AUTO_PROVISION", "true"),
        ("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE", "0"),
        ("TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS", "2"),
        ("TOKEN_SERVICE_UPSTREAM_RETRY_BASE_SECS", "0.05"),
        ("TOKEN_SERVICE_SHUTDOWN_TIMEOUT_SECS", "1"),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Duration::from_secs(1800), |_| {}).await
}

/// An emulator whose tokens live `token_ttl`, and the service with the
/// test settings changed by `tweak`.
pub async fn spawn_app_with(
    token_ttl: Duration,
    tweak: impl FnOnce(&mut BTreeMap<String, String>),
) -> TestApp {
    spawn_app_on(emulator_config(token_ttl), |map, _| tweak(map)).await
}

/// An emulator configured by `config`, and the service with the test
/// settings changed by `tweak` (which may read the emulator, e.g. its OAuth
/// client). The service speaks `config.dialect` (a `tweak` may set another
/// `PELIQAN_API_DIALECT`).
pub async fn spawn_app_on(
    config: Config,
    tweak: impl FnOnce(&mut BTreeMap<String, String>, &Emulator),
) -> TestApp {
    spawn_app_on_clock(config, None, tweak).await
}

/// [`spawn_app_with`], the service running on a [`ManualClock`] (see
/// [`TestApp::advance`]).
pub async fn spawn_app_with_clock(
    token_ttl: Duration,
    tweak: impl FnOnce(&mut BTreeMap<String, String>),
) -> TestApp {
    spawn_app_on_clock(
        emulator_config(token_ttl),
        Some(ManualClock::new()),
        |map, _| tweak(map),
    )
    .await
}

/// [`spawn_app_on`], the service reading time from `clock` (the system
/// clock when `None`).
pub async fn spawn_app_on_clock(
    config: Config,
    clock: Option<Arc<ManualClock>>,
    tweak: impl FnOnce(&mut BTreeMap<String, String>, &Emulator),
) -> TestApp {
    init_logs();
    let routes = config.dialect.routes();
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let mut map = base_settings_without_dialect(&emulator);
    map.insert("PELIQAN_API_DIALECT".into(), routes.dialect().name().into());
    tweak(&mut map, &emulator);
    let settings = Settings::from_map(&map).expect("test settings are valid");
    let shared = match &clock {
        Some(manual) => manual.clone(),
        None => SystemClock::shared(),
    };
    let app = Application::build_with_clock(settings, shared)
        .await
        .expect("app builds");
    let url = app.url();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        url,
        emulator,
        routes,
        http: reqwest::Client::new(),
        clock,
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims of a valid user of `tenant`.
pub fn claims(tenant: &str) -> Value {
    claims_at(tenant, now())
}

/// Claims of a user of `tenant` valid at unix second `now` (for 300 s).
pub fn claims_at(tenant: &str, now: u64) -> Value {
    json!({
        "sub": format!("user-of-{tenant}"),
        "external_id": tenant,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 300,
        "email": format!("owner@{tenant}.test"),
        "given_name": "Ann",
        "family_name": "Lee",
        "locale": "en-GB",
        "company_name": format!("{tenant} Ltd"),
    })
}

/// An HS256 JWT signed with the service's configured secret.
pub fn jwt(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        claims,
    )
}

pub fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("test JWT signs")
}

/// Decodes a JWT payload without verification (to inspect Peliqan tokens).
pub fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

/// The `/metrics` text of the service at `url`.
pub async fn metrics_text_of(http: &reqwest::Client, url: &str) -> String {
    http.get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

impl TestApp {
    /// `POST /v1/token` with `Authorization: Bearer <jwt>`.
    pub async fn token(&self, jwt: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/token", self.url))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap()
    }

    /// The service's clock: the manual one, or the system clock.
    pub fn clock(&self) -> &dyn Clock {
        match &self.clock {
            Some(manual) => &**manual,
            None => &SystemClock,
        }
    }

    /// Moves the service's manual clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.clock
            .as_ref()
            .expect("the app runs on a manual clock (spawn_app_with_clock)")
            .advance(by);
    }

    /// Claims of a user of `tenant` valid at the service's time.
    pub fn claims(&self, tenant: &str) -> Value {
        claims_at(tenant, self.clock().unix_secs())
    }

    /// `POST /v1/token` for a valid user of `tenant`, expecting success.
    pub async fn token_for(&self, tenant: &str) -> TokenAnswer {
        let res = self.token(&jwt(&self.claims(tenant))).await;
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
        res.json().await.unwrap()
    }

    /// A client of the emulator, in the emulator's dialect.
    pub fn peliqan(&self) -> PeliqanClient {
        PeliqanClient::builder(self.emulator.url())
            .routes(self.routes.clone())
            .build()
            .unwrap()
    }

    /// Partner calls to the emulator with its partner token.
    pub fn partner(&self) -> PartnerApi {
        self.peliqan()
            .partner(Secret::new(self.emulator.partner_token()))
    }

    /// Creates `tenant`'s sub-account directly in the emulator.
    pub async fn provision(&self, tenant: &str) {
        let input = peliqan_api::SubaccountInput {
            external_id: peliqan_api::ExternalId::from(tenant),
            ..Default::default()
        };
        self.partner().create_subaccount(&input).await.unwrap();
    }

    /// The service's `/metrics` text.
    pub async fn metrics_text(&self) -> String {
        metrics_text_of(&self.http, &self.url).await
    }

    /// The emulator's request count for `ops` (a route shared by several,
    /// as `integrate/` is in some dialects, is counted once).
    pub async fn upstream_calls(&self, ops: &[Operation]) -> u64 {
        let stats = self.emulator.stats();
        let mut keys: Vec<String> = ops.iter().map(|op| self.stats_key(*op)).collect();
        keys.sort();
        keys.dedup();
        keys.iter().map(|k| stats.get(k)).sum()
    }

    /// Token calls to the emulator, by external id and by sub-account id.
    pub async fn upstream_token_calls(&self) -> u64 {
        self.upstream_calls(&[Operation::TokenByExternalId, Operation::TokenById])
            .await
    }

    /// The emulator's stats key of `op`.
    pub fn stats_key(&self, op: Operation) -> String {
        stats_key(&self.routes, op)
    }

    /// A fault `path_prefix` hitting the routes of all of `ops`.
    pub fn path_prefix(&self, ops: &[Operation]) -> String {
        path_prefix(&self.routes, ops)
    }

    /// A fault `path_prefix` hitting every token call (by id and by
    /// external id).
    pub fn token_prefix(&self) -> String {
        self.path_prefix(&[Operation::TokenByExternalId, Operation::TokenById])
    }

    /// Adds a fault rule to the emulator (its typed control API).
    pub async fn fault(&self, rule: Fault) {
        self.emulator.add_fault(rule).expect("fault accepted");
    }

    pub async fn clear_faults(&self) {
        self.emulator.clear_faults();
    }
}

/// A counter from `/metrics`, e.g. `token_service_token_cache_misses_total`.
pub async fn metric(app: &TestApp, name: &str) -> f64 {
    app.metrics_text()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

/// Waits until the counter `name` in `/metrics` reaches `at_least`: the
/// signal that a background task (a refresh) has finished. Polls with a
/// scheduling yield; the 30 s bound only stops a hung test.
pub async fn until_metric(app: &TestApp, name: &str, at_least: f64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let value = metric(app, name).await;
        if value >= at_least {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} stayed at {value}, below {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the emulator has received a request whose stats key starts
/// with `key_prefix` (it counts a request before any injected delay or
/// fault), i.e. until the service's call is really in flight upstream. Use
/// [`stats_key`] for the key.
pub async fn until_upstream_saw(emulator: &Emulator, key_prefix: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let stats: Stats = emulator.stats();
        if stats.requests.keys().any(|k| k.starts_with(key_prefix)) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no upstream request {key_prefix}* within 30 s: {stats:?}"
        );
        tokio::task::yield_now().await;
    }
}

/// Asserts a problem answer with `status` and `code`; returns its body,
/// read with the type the service writes it with.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Problem {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let text = res.text().await.unwrap();
    let body: Problem = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body.code, code, "{body:?}");
    assert_eq!(body.status, status);
    assert_eq!(body.kind, format!("{PROBLEM_TYPE_PREFIX}{code}"));
    body
}
