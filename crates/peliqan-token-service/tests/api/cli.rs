//! The operator CLI, run as the real binary against the in-process
//! emulator: `tenants ...` and `hydrate ...`, in text and `--json`.

use crate::helpers::{TestApp, base_settings, spawn_app};
use crate::hydrate::{Workdir, blueprint_in};
use peliqan_client::{ExternalId, Operation, SubaccountInput};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub const BIN: &str = env!("CARGO_BIN_EXE_peliqan-token-service");

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: not JSON: {}", self.stdout))
    }
}

/// The CLI's environment: the service's test settings, the ledger in `dir`.
pub fn env_for(app: &TestApp, dir: &Workdir) -> BTreeMap<String, String> {
    let mut env = base_settings(&app.emulator);
    // Creates are never retried: a loaded test machine must not turn a slow
    // answer into a failed command.
    env.insert("TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS".into(), "15".into());
    env.insert(
        "TOKEN_SERVICE_HYDRATION_LEDGER_FILE".into(),
        dir.path("ledger.sqlite3").display().to_string(),
    );
    env
}

/// Runs the binary with exactly `env` and `args`.
pub async fn run(env: &BTreeMap<String, String>, args: &[&str]) -> Run {
    let (env, args) = (
        env.clone(),
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .env_clear()
            .envs(env)
            .args(args)
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

pub async fn create(app: &TestApp, tenant: &str) {
    app.partner()
        .create_subaccount(&SubaccountInput {
            external_id: ExternalId::from(tenant),
            company_name: Some(format!("{tenant} Ltd")),
            ..SubaccountInput::default()
        })
        .await
        .unwrap();
}

fn assert_secret_free(app: &TestApp, r: &Run) {
    let partner = app.emulator.partner_token();
    assert!(!r.stdout.contains(partner) && !r.stderr.contains(partner));
}

#[tokio::test]
async fn tenants_commands_answer_in_text_and_json() {
    let app = spawn_app().await;
    let dir = Workdir::new("cli-tenants");
    let env = env_for(&app, &dir);

    let r = run(
        &env,
        &[
            "tenants",
            "create",
            "--external-id",
            "acme",
            "--company-name",
            "Acme Ltd",
            "--json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let created = r.json();
    assert_eq!(created["external_id"], "acme");
    assert_eq!(created["company_name"], "Acme Ltd");
    let id = created["subaccount_id"].as_u64().unwrap();

    let r = run(&env, &["tenants", "list"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["ID", "EXTERNAL", "ID", "COMPANY", "EMAIL", "HYDRATION"]
    );
    assert!(
        lines.next().unwrap().starts_with(&format!("{id}  ")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("acme") && r.stdout.ends_with("1 tenant\n"),
        "{}",
        r.stdout
    );
    let list = run(&env, &["tenants", "list", "--json"]).await.json();
    assert_eq!(list["tenants"][0]["external_id"], "acme");
    assert_eq!(list["tenants"][0]["hydration"], Value::Null);

    // The `partner` dialect has no update or delete route: said so, by key.
    let can_change = app.routes.route(Operation::UpdateSubaccount).is_ok();
    let r = run(
        &env,
        &["tenants", "update", "acme", "--email", "ops@acme.test"],
    )
    .await;
    if can_change {
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, format!("updated sub-account {id} (`acme`)\n").as_str())
        );
    } else {
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("PELIQAN_API_ROUTE_UPDATE_SUBACCOUNT"),
            "{}",
            r.stderr
        );
    }
    let r = run(&env, &["tenants", "show", "acme"]).await;
    assert!(r.stdout.contains("company      Acme Ltd\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("hydration    never hydrated\n"),
        "{}",
        r.stdout
    );
    let show = run(&env, &["tenants", "show", "acme", "--json"])
        .await
        .json();
    assert_eq!(show["subaccount_id"], id);
    if can_change {
        assert_eq!(show["email"], "ops@acme.test");
    }

    let r = run(&env, &["tenants", "show", "nobody"]).await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "peliqan-token-service: error: no sub-account has the external id `nobody`\n"
    );
    let r = run(&env, &["tenants", "show", "nobody", "--json"]).await;
    assert_eq!(
        (r.code, r.json()["error"]["code"].as_str()),
        (1, Some("unknown_tenant"))
    );

    // A short-lived token is printed as is; a non-expiring one only when
    // asked, with a warning.
    let r = run(&env, &["tenants", "token", "acme"]).await;
    assert_eq!(
        (
            r.code,
            r.stdout.trim().split('.').count(),
            r.stderr.as_str()
        ),
        (0, 3, "")
    );
    assert_secret_free(&app, &r);
    let r = run(
        &env,
        &["tenants", "token", "acme", "--non-expiring", "--json"],
    )
    .await;
    assert_eq!(r.code, 0);
    assert_eq!(r.json()["expires"], false);
    assert!(
        r.stderr.contains("WARNING") && r.stderr.contains("NEVER EXPIRES"),
        "{}",
        r.stderr
    );

    let r = run(&env, &["tenants", "delete", "acme"]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("add --yes to confirm"), "{}", r.stderr);
    let r = run(&env, &["tenants", "delete", "acme", "--yes", "--json"]).await;
    if can_change {
        assert_eq!((r.code, &r.json()["deleted"]), (0, &Value::Bool(true)));
        assert_eq!(
            app.emulator
                .subaccounts_with_external_id("acme")
                .unwrap()
                .count,
            0
        );
    } else {
        assert_eq!(
            (r.code, r.json()["error"]["code"].as_str()),
            (2, Some("unsupported"))
        );
    }
}

#[tokio::test]
async fn a_wrong_partner_token_is_named_without_being_printed() {
    let app = spawn_app().await;
    let dir = Workdir::new("cli-wrong");
    let mut env = env_for(&app, &dir);
    let wrong = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3cm9uZyJ9.c2lnbmF0dXJl";
    env.insert("PELIQAN_PARTNER_TOKEN".into(), wrong.into());
    let r = run(&env, &["tenants", "list"]).await;
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("Peliqan refused the partner token (401)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("check PELIQAN_PARTNER_TOKEN"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(wrong) && r.stdout.is_empty());
    let r = run(
        &env,
        &[
            "hydrate",
            "--blueprint",
            blueprint_in(&dir).to_str().unwrap(),
            "--all",
            "--json",
        ],
    )
    .await;
    assert_eq!(
        (r.code, r.json()["error"]["code"].as_str()),
        (2, Some("partner_unauthorized"))
    );
    assert!(!r.stdout.contains(wrong));
}

#[tokio::test]
async fn hydrate_prints_a_summary_and_reruns_create_nothing() {
    let app = spawn_app().await;
    let dir = Workdir::new("cli-hydrate");
    let env = env_for(&app, &dir);
    for t in ["t1", "t2", "t3"] {
        create(&app, t).await;
    }
    let bp = blueprint_in(&dir);
    let bp = bp.to_str().unwrap();

    let r = run(
        &env,
        &["hydrate", "--blueprint", bp, "--all", "--dry-run", "--json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stdout);
    let plan = r.json();
    assert_eq!(plan["summary"]["planned"], 3);
    assert_eq!(
        plan["tenants"][0]["planned"],
        serde_json::json!(["table orders_t1", "script Nightly sync for t1 Ltd"])
    );
    assert!(
        app.emulator
            .assets(None)
            .accounts
            .iter()
            .all(|a| a.tables.is_empty())
    );

    let r = run(&env, &["hydrate", "--blueprint", bp, "--all"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(&format!(
            "blueprint {bp} (version 1): 3 tenants, ledger in SQLite\n"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\nhydrated   3\n"), "{}", r.stdout);
    assert!(r.stdout.contains("\nfailed     0\n"), "{}", r.stdout);

    let r = run(&env, &["hydrate", "--blueprint", bp, "--all", "--json"]).await;
    assert_eq!(r.code, 0);
    assert_eq!(r.json()["summary"]["unchanged"], 3);
    let assets = app.emulator.assets(None);
    assert!(assets.duplicates().is_empty(), "{:?}", assets.duplicates());
    assert!(
        assets
            .accounts
            .iter()
            .all(|a| a.tables.len() == 1 && a.scripts.len() == 1)
    );

    let r = run(&env, &["hydrate", "--blueprint", bp, "--tenant", "t2"]).await;
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("t2      2            unchanged  already there: table orders_t2, script Nightly sync for t2 Ltd"), "{}", r.stdout);
    let r = run(&env, &["tenants", "show", "t2", "--json"]).await.json();
    assert_eq!(r["hydration"]["state"], "hydrated");
    assert_eq!(r["hydration"]["attempts"], 3);
    assert_eq!(r["steps"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_blueprint_with_a_mistake_is_refused_with_file_line_and_field() {
    let app = spawn_app().await;
    let dir = Workdir::new("cli-bad");
    let env = env_for(&app, &dir);
    let bp = dir.write(
        "blueprint.toml",
        "version = 1\n\n[[tables]]\nname = \"orders\"\nsql = \"SELECT 1\"\n",
    );
    let bp = bp.to_str().unwrap();
    let r = run(&env, &["hydrate", "--blueprint", bp, "--all"]).await;
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!(
            "peliqan-token-service: error: {bp}:5: tables[0].sql: unknown field `sql`"
        )),
        "{}",
        r.stderr
    );
    let r = run(&env, &["hydrate", "--blueprint", bp, "--all", "--json"]).await;
    assert_eq!(r.json()["error"]["code"], "bad_blueprint");
    let missing = Path::new(bp).with_file_name("nope.toml");
    let r = run(
        &env,
        &[
            "hydrate",
            "--blueprint",
            missing.to_str().unwrap(),
            "--tenant",
            "x",
        ],
    )
    .await;
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("nope.toml:1: (file): cannot be read"),
        "{}",
        r.stderr
    );
}
