//! Hydration of provisioned tenants (`TOKEN_SERVICE_BLUEPRINT_FILE`):
//! exactly once under a burst of first requests, and never withholding the
//! token when Peliqan fails (the background retry finishes it) nor until a
//! slow attempt ends.

use crate::helpers::{TestApp, jwt, metric, spawn_app_with, until_metric};
use peliqan_api::Operation;
use peliqan_emulator::Fault;
use peliqan_token_service::Application;
use peliqan_token_service::settings::Settings;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A fresh directory for one test's blueprint and ledger, removed on drop.
pub struct Workdir(pub PathBuf);

impl Workdir {
    pub fn new(name: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ts-hydrate-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One table (named after the tenant) and one script read from a file.
pub const BLUEPRINT: &str = r#"version = 1

[[tables]]
name = "orders_{{external_id}}"
query = "SELECT * FROM orders WHERE customer = '{{external_id}}'"

[[scripts]]
name = "Nightly sync for {{company_name}}"
file = "sync.py"
schedule = 86400
"#;

/// Writes [`BLUEPRINT`] and its script into `dir`; the blueprint's path.
pub fn blueprint_in(dir: &Workdir) -> PathBuf {
    dir.write("sync.py", "print('syncing {{external_id}}')\n");
    dir.write("blueprint.toml", BLUEPRINT)
}

/// The service with the blueprint of `dir` and its ledger there.
async fn hydrating_app(dir: &Workdir) -> TestApp {
    let blueprint = blueprint_in(dir);
    let ledger = dir.path("ledger.sqlite3");
    spawn_app_with(Duration::from_secs(1800), |map| {
        map.insert(
            "TOKEN_SERVICE_BLUEPRINT_FILE".into(),
            blueprint.display().to_string(),
        );
        map.insert(
            "TOKEN_SERVICE_HYDRATION_LEDGER_FILE".into(),
            ledger.display().to_string(),
        );
    })
    .await
}

const HYDRATED: &str = r#"token_service_tenant_hydrations_total{outcome="hydrated"}"#;
const FAILED: &str = r#"token_service_tenant_hydrations_total{outcome="failed"}"#;
const UNCERTAIN: &str = r#"token_service_tenant_hydrations_total{outcome="uncertain"}"#;

fn assert_hydrated_once(app: &TestApp, tenant: &str) {
    let assets = app.emulator.assets(Some(tenant));
    let account = assets.of(tenant).expect("the tenant was provisioned");
    let tables: Vec<_> = account
        .tables
        .iter()
        .map(|t| t.name.clone().unwrap())
        .collect();
    let scripts: Vec<_> = account
        .scripts
        .iter()
        .map(|s| s.name.clone().unwrap())
        .collect();
    assert_eq!(tables, [format!("orders_{tenant}")]);
    assert_eq!(scripts, [format!("Nightly sync for {tenant} Ltd")]);
    assert_eq!(
        account.tables[0].query.as_deref(),
        Some(format!("SELECT * FROM orders WHERE customer = '{tenant}'").as_str())
    );
    assert_eq!(account.scripts[0].schedule, Some(86400));
}

#[tokio::test]
async fn a_tenant_provisioned_by_200_concurrent_first_requests_is_hydrated_exactly_once() {
    let dir = Workdir::new("burst");
    let app = hydrating_app(&dir).await;
    let token = jwt(&app.claims("burst_co"));
    let started = std::time::Instant::now();
    let answers = futures::future::join_all((0..200).map(|_| app.token(&token))).await;
    let elapsed = started.elapsed();
    for res in answers {
        assert_eq!(res.status(), 200);
    }
    eprintln!("200 first requests, provisioned and hydrated: {elapsed:?}");
    assert_hydrated_once(&app, "burst_co");
    assert_eq!(metric(&app, HYDRATED).await, 1.0);
    let created = app
        .emulator
        .subaccounts_with_external_id("burst_co")
        .unwrap();
    assert_eq!(created.count, 1);
    // Later requests (cached or not) never hydrate again.
    assert_eq!(app.token(&token).await.status(), 200);
    assert_eq!(metric(&app, HYDRATED).await, 1.0);
    let logs = crate::helpers::logs();
    let lines = logs
        .lines()
        .filter(|l| l.contains("tenant hydrated") && l.contains("burst_co"))
        .count();
    assert_eq!(lines, 1, "one log line per hydrated tenant");
}

#[tokio::test]
async fn hydration_failing_still_answers_the_token_and_completes_in_the_background() {
    let dir = Workdir::new("retry");
    let app = hydrating_app(&dir).await;
    app.fault(Fault::status(
        app.path_prefix(&[Operation::CreateTable]),
        503,
    ))
    .await;
    let res = app.token(&jwt(&app.claims("flaky_co"))).await;
    assert_eq!(
        res.status(),
        200,
        "the token is answered whatever hydration does"
    );
    let account = app.emulator.assets(Some("flaky_co"));
    assert!(account.of("flaky_co").unwrap().tables.is_empty());
    assert!(metric(&app, FAILED).await >= 1.0);
    app.clear_faults().await;
    // The background retry (about a second later) finishes it.
    until_metric(&app, HYDRATED, 1.0).await;
    assert_hydrated_once(&app, "flaky_co");
    let logs = crate::helpers::logs();
    assert!(
        logs.lines().any(|l| l.contains("flaky_co")
            && l.contains("tenant hydration failed")
            && l.contains("503")),
        "the failure is logged with its cause"
    );
}

#[tokio::test]
async fn a_blueprint_with_a_mistake_stops_startup_naming_file_line_and_field() {
    let dir = Workdir::new("bad");
    let file = dir.write(
        "blueprint.toml",
        "version = 1\n\n[[scripts]]\nname = \"sync\"\ncode = \"print(1)\"\nschedule = \"daily\"\n",
    );
    let emulator =
        peliqan_emulator::Emulator::start(crate::helpers::emulator_config(Duration::from_secs(60)))
            .await
            .unwrap();
    let mut map = crate::helpers::base_settings(&emulator);
    map.insert(
        "TOKEN_SERVICE_BLUEPRINT_FILE".into(),
        file.display().to_string(),
    );
    map.insert(
        "TOKEN_SERVICE_HYDRATION_LEDGER_FILE".into(),
        dir.path("l.sqlite3").display().to_string(),
    );
    let settings = Settings::from_map(&map).unwrap();
    let err = match Application::build(settings).await {
        Ok(_) => panic!("a bad blueprint must stop startup"),
        Err(e) => format!("{e:#}"),
    };
    let expected = format!("{}:6: scripts[0].schedule:", file.display());
    assert!(err.contains("TOKEN_SERVICE_BLUEPRINT_FILE"), "{err}");
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("invalid type"), "{err}");
}

#[tokio::test]
async fn a_slow_hydration_answers_the_first_token_before_it_ends() {
    let dir = Workdir::new("slow");
    let mut text = String::from("version = 1\n");
    for i in 0..4 {
        text.push_str(&format!(
            "[[tables]]\nname = \"t{i}\"\nquery = \"SELECT {i}\"\n"
        ));
    }
    let blueprint = dir.write("blueprint.toml", &text);
    let ledger = dir.path("ledger.sqlite3");
    let app = spawn_app_with(Duration::from_secs(1800), |map| {
        map.insert(
            "TOKEN_SERVICE_BLUEPRINT_FILE".into(),
            blueprint.display().to_string(),
        );
        map.insert(
            "TOKEN_SERVICE_HYDRATION_LEDGER_FILE".into(),
            ledger.display().to_string(),
        );
    })
    .await;
    // Each create takes 1.2 s (below the 2 s call timeout): 4.8 s in all.
    app.fault(Fault::delay(
        app.path_prefix(&[Operation::CreateTable]),
        1200,
    ))
    .await;
    let res = app.token(&jwt(&app.claims("slow_co"))).await;
    assert_eq!(res.status(), 200);
    let tables = app.emulator.assets(Some("slow_co")).accounts[0]
        .tables
        .len();
    assert!(
        tables < 4,
        "the token waited for all of hydration ({tables} tables)"
    );
    // The attempt was not cancelled: it finishes after the token.
    until_metric(&app, HYDRATED, 1.0).await;
    assert_eq!(
        app.emulator.assets(Some("slow_co")).accounts[0]
            .tables
            .len(),
        4
    );
}

#[tokio::test]
async fn a_create_without_an_answer_is_left_uncertain_until_an_operator_answers() {
    let dir = Workdir::new("uncertain");
    let app = hydrating_app(&dir).await;
    // Longer than the service's 2 s call timeout: the create gets no answer.
    app.fault(Fault::delay(
        app.path_prefix(&[Operation::CreateTable]),
        2500,
    ))
    .await;
    let res = app.token(&jwt(&app.claims("unsure_co"))).await;
    assert_eq!(
        res.status(),
        200,
        "the token is answered whatever hydration does"
    );
    until_metric(&app, UNCERTAIN, 1.0).await;
    app.clear_faults().await;
    assert_eq!(metric(&app, FAILED).await, 0.0, "never retried blindly");
    let logs = crate::helpers::logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("unsure_co") && l.contains("tenant hydration UNCERTAIN")),
        "logged for the operator"
    );

    // The operator reads the state, looks in the account, and answers.
    let env = crate::cli::env_for(&app, &dir);
    let show = crate::cli::run(&env, &["tenants", "show", "unsure_co", "--json"]).await;
    assert_eq!(
        show.json()["hydration"]["state"],
        "uncertain",
        "{}",
        show.stdout
    );
    let account = app.emulator.assets(Some("unsure_co"));
    let found = if account.accounts[0].tables.is_empty() {
        "missing"
    } else {
        "exists"
    };
    let bp = dir.path("blueprint.toml");
    let args = [
        "hydrate",
        "--blueprint",
        bp.to_str().unwrap(),
        "--tenant",
        "unsure_co",
    ];
    let r = crate::cli::run(&env, &args).await;
    assert_eq!(r.code, 1, "still uncertain without an answer: {}", r.stdout);
    assert!(
        r.stdout.contains("--uncertain exists|missing"),
        "{}",
        r.stdout
    );
    let r = crate::cli::run(&env, &[&args[..], &["--uncertain", found]].concat()).await;
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_hydrated_once(&app, "unsure_co");
}
