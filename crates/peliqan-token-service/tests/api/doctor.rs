//! `doctor`: all-pass against the emulator in each dialect, and each fault
//! (wrong partner token, wrong dialect, an origin Peliqan does not allow, a
//! 5xx upstream, an unknown tenant, incomplete user-JWT settings) gives its
//! own failing line with its fix. Mostly through `doctor::run`; the real
//! binary for the exit code and `--json`.

use crate::helpers::{ORIGIN, base_settings};
use peliqan_api::Dialect;
use peliqan_emulator::{Config, Emulator, Fault};
use peliqan_token_service::doctor::{self, Options, Report, Status};
use peliqan_token_service::settings::Settings;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The dialect of the suite run (`PELIQAN_TEST_DIALECT`, default `seed`).
fn test_dialect() -> Dialect {
    std::env::var("PELIQAN_TEST_DIALECT")
        .ok()
        .map(|d| d.parse().expect("PELIQAN_TEST_DIALECT names a dialect"))
        .unwrap_or_default()
}

/// A strict emulator in `dialect` allowing [`ORIGIN`].
async fn emulator(dialect: Dialect) -> Emulator {
    Emulator::start(Config {
        dialect,
        strict_slashes: true,
        allowed_origins: vec![ORIGIN.to_owned()],
        token_ttl: Duration::from_secs(1800),
        ..Config::default()
    })
    .await
    .expect("emulator starts")
}

/// The test settings for `emulator`, configured with `dialect`, changed by `tweak`.
fn settings_map(
    emulator: &Emulator,
    dialect: Dialect,
    tweak: impl FnOnce(&mut BTreeMap<String, String>),
) -> BTreeMap<String, String> {
    let mut map = base_settings(emulator);
    map.insert("PELIQAN_API_DIALECT".into(), dialect.name().into());
    tweak(&mut map);
    map
}

async fn doctor_with(
    emulator: &Emulator,
    dialect: Dialect,
    tenant: Option<&str>,
    tweak: impl FnOnce(&mut BTreeMap<String, String>),
) -> Report {
    let map = settings_map(emulator, dialect, tweak);
    let settings = Settings::from_map(&map).expect("test settings are valid");
    let options = Options {
        tenant: tenant.map(String::from),
    };
    doctor::run(&settings, &options).await
}

/// Names of the failed checks, in order.
fn failed(report: &Report) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name)
        .collect()
}

fn line<'r>(report: &'r Report, name: &str) -> &'r doctor::Check {
    report
        .get(name)
        .unwrap_or_else(|| panic!("no `{name}` line in:\n{}", report.to_text()))
}

/// Runs the real binary with exactly `env` and `args`: (exit code, stdout).
async fn doctor_binary(env: BTreeMap<String, String>, args: &[&str]) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_peliqan-token-service"))
            .env_clear()
            .envs(env)
            .args(args)
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().expect("exited"), stdout)
}

async fn all_pass_in(dialect: Dialect) {
    let emu = emulator(dialect).await;
    let report = doctor_with(&emu, dialect, None, |_| {}).await;
    let text = report.to_text();
    assert!(!report.failed(), "{text}");
    for name in [
        "configuration",
        "url",
        "clock",
        "dialect",
        "partner_credentials",
        "cors",
        "connectors",
        "user_jwt",
    ] {
        assert_ne!(line(&report, name).status, Status::Fail, "{text}");
    }
    let d = line(&report, "dialect");
    assert_eq!(d.status, Status::Pass, "{text}");
    assert!(d.detail.contains(&format!("`{dialect}`")), "{text}");
    assert!(!report.to_json().contains(emu.partner_token()), "{text}");
    // Read-only: nothing was created or changed upstream.
    let stats = emu.stats();
    let writes: Vec<&String> = stats
        .requests
        .keys()
        .filter(|k| !k.starts_with("GET ") && !k.starts_with("OPTIONS ") && !k.starts_with("HEAD "))
        .collect();
    assert!(writes.is_empty(), "doctor sent {writes:?}");
}

#[tokio::test]
async fn doctor_passes_against_the_seed_dialect() {
    all_pass_in(Dialect::Seed).await;
}

#[tokio::test]
async fn doctor_passes_against_the_sub_account_dialect() {
    all_pass_in(Dialect::SubAccount).await;
}

#[tokio::test]
async fn doctor_passes_against_the_partner_dialect() {
    all_pass_in(Dialect::Partner).await;
}

#[tokio::test]
async fn the_binary_prints_json_and_exits_zero_when_all_pass_and_one_when_a_check_fails() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let env = settings_map(&emu, dialect, |_| {});
    let (code, stdout) = doctor_binary(env.clone(), &["doctor", "--json"]).await;
    let report: Value = serde_json::from_str(&stdout).expect("--json prints JSON");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert!(
        report["checks"].as_array().unwrap().len() >= 8,
        "{report:#}"
    );

    let mut wrong = env;
    wrong.insert(
        "PELIQAN_PARTNER_TOKEN".into(),
        "not-the-partner-token".into(),
    );
    let (code, stdout) = doctor_binary(wrong, &["doctor"]).await;
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("✘ partner_credentials: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        lines[at + 1].starts_with("  fix: set PELIQAN_PARTNER_TOKEN"),
        "{stdout}"
    );
    assert!(!stdout.contains("not-the-partner-token"), "{stdout}");
}

#[tokio::test]
async fn a_configuration_error_is_a_failed_line_naming_the_key() {
    let emu = emulator(Dialect::Seed).await;
    let mut env = settings_map(&emu, Dialect::Seed, |_| {});
    env.remove("PELIQAN_API_URL");
    let (code, stdout) = doctor_binary(env, &["doctor", "--json"]).await;
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["checks"].as_array().unwrap().len(), 1, "{report:#}");
    let check = &report["checks"][0];
    assert_eq!(check["name"], "configuration");
    assert_eq!(check["status"], "fail");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .starts_with("PELIQAN_API_URL"),
        "{report:#}"
    );
    assert!(
        check["fix"].as_str().unwrap().contains("PELIQAN_API_URL"),
        "{report:#}"
    );
}

#[tokio::test]
async fn a_wrong_partner_token_fails_the_credentials_line_only() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let report = doctor_with(&emu, dialect, None, |s| {
        s.insert(
            "PELIQAN_PARTNER_TOKEN".into(),
            "not-the-partner-token".into(),
        );
    })
    .await;
    assert_eq!(
        failed(&report),
        ["partner_credentials"],
        "{}",
        report.to_text()
    );
    let c = line(&report, "partner_credentials");
    assert!(
        c.detail.contains("refused the partner token"),
        "{}",
        c.detail
    );
    assert!(
        c.fix.as_deref().unwrap().contains("PELIQAN_PARTNER_TOKEN"),
        "{c:?}"
    );
    assert_eq!(line(&report, "dialect").status, Status::Pass);
}

#[tokio::test]
async fn a_wrong_dialect_is_named_on_the_dialect_line_with_the_setting_to_change() {
    let emu = emulator(Dialect::Partner).await;
    let report = doctor_with(&emu, Dialect::Seed, None, |_| {}).await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["dialect"], "{text}");
    let d = line(&report, "dialect");
    assert!(d.detail.contains("`partner`"), "{text}");
    assert_eq!(
        d.fix.as_deref(),
        Some("set PELIQAN_API_DIALECT=partner"),
        "{text}"
    );
    // The other checks ran on the routes that answer.
    assert_eq!(
        line(&report, "partner_credentials").status,
        Status::Pass,
        "{text}"
    );
    assert_ne!(line(&report, "connectors").status, Status::Fail, "{text}");

    let env = settings_map(&emu, Dialect::Seed, |_| {});
    let (code, stdout) = doctor_binary(env, &["doctor", "--json"]).await;
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let dialect = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dialect")
        .unwrap();
    assert_eq!(dialect["status"], "fail");
    assert_eq!(dialect["fix"], "set PELIQAN_API_DIALECT=partner");
}

#[tokio::test]
async fn an_origin_peliqan_does_not_allow_fails_its_own_cors_line() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let other = "https://other.partner.test";
    let report = doctor_with(&emu, dialect, None, |s| {
        s.insert(
            "TOKEN_SERVICE_ALLOWED_ORIGINS".into(),
            format!("{ORIGIN},{other}"),
        );
    })
    .await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["cors"], "{text}");
    let cors: Vec<_> = report.checks.iter().filter(|c| c.name == "cors").collect();
    assert_eq!(cors.len(), 2, "{text}");
    assert_eq!(cors[0].status, Status::Pass, "{text}");
    assert!(cors[0].detail.starts_with(ORIGIN), "{text}");
    assert_eq!(cors[1].status, Status::Fail, "{text}");
    assert!(
        cors[1].detail.starts_with(other)
            && cors[1].detail.contains("no Access-Control-Allow-Origin"),
        "{text}"
    );
    assert!(
        cors[1]
            .fix
            .as_deref()
            .unwrap()
            .contains(&format!("allow the origin {other}")),
        "{text}"
    );
}

#[tokio::test]
async fn no_configured_origin_is_a_warning() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let report = doctor_with(&emu, dialect, None, |s| {
        s.remove("TOKEN_SERVICE_ALLOWED_ORIGINS");
    })
    .await;
    assert!(!report.failed(), "{}", report.to_text());
    let c = line(&report, "cors");
    assert_eq!(c.status, Status::Warn);
    assert!(c.detail.contains("TOKEN_SERVICE_ALLOWED_ORIGINS"), "{c:?}");
}

#[tokio::test]
async fn a_failing_peliqan_gives_a_server_error_line() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    emu.add_fault(Fault::status("/api", 503)).unwrap();
    let report = doctor_with(&emu, dialect, None, |_| {}).await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["dialect"], "{text}");
    let d = line(&report, "dialect");
    assert!(
        d.detail.contains("503") && d.detail.contains("server error"),
        "{text}"
    );
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .starts_with("Peliqan is failing on its side"),
        "{text}"
    );
}

#[tokio::test]
async fn tenant_gets_a_short_lived_token_and_its_lifetime_is_reported() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let report = doctor_with(&emu, dialect, Some("doctor_tenant"), |_| {}).await;
    let text = report.to_text();
    assert!(!report.failed(), "{text}");
    let t = line(&report, "tenant_token");
    assert_eq!(t.status, Status::Pass, "{text}");
    // The emulator's `exp` is whole seconds, 1800 s after issue.
    let secs: u64 = t
        .detail
        .split("lifetime ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no lifetime in {text}"));
    assert!((1795..=1800).contains(&secs), "{text}");
    assert!(t.detail.contains(" s (30 min)"), "{text}");
    assert!(t.detail.contains("was just created"), "{text}");
    assert_eq!(
        line(&report, "subaccount_api").status,
        Status::Pass,
        "{text}"
    );

    // Through the binary, the tenant now exists: nothing is created again.
    let env = settings_map(&emu, dialect, |_| {});
    let (code, stdout) = doctor_binary(env, &["doctor", "--tenant", "doctor_tenant"]).await;
    assert_eq!(code, 0, "{stdout}");
    let tenant = stdout
        .lines()
        .find(|l| l.starts_with("✔ tenant_token: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(tenant.contains("lifetime 1"), "{stdout}");
    assert!(!tenant.contains("just created"), "{stdout}");
}

#[tokio::test]
async fn an_unknown_tenant_without_auto_provisioning_fails_and_creates_nothing() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let report = doctor_with(&emu, dialect, Some("nobody_yet"), |s| {
        s.insert("TOKEN_SERVICE_AUTO_PROVISION".into(), "false".into());
    })
    .await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["tenant_token"], "{text}");
    let t = line(&report, "tenant_token");
    assert!(
        t.fix
            .as_deref()
            .unwrap()
            .contains("TOKEN_SERVICE_AUTO_PROVISION=true"),
        "{text}"
    );
    let stats = emu.stats();
    let created = stats
        .requests
        .keys()
        .filter(|k| k.starts_with("POST ") && k.contains("sub"))
        .filter(|k| !k.contains("integrate") && !k.contains("token"))
        .count();
    assert_eq!(created, 0, "{stats:?}");
}

#[tokio::test]
async fn jwks_without_an_audience_fails_and_says_why() {
    let dialect = test_dialect();
    let emu = emulator(dialect).await;
    let report = doctor_with(&emu, dialect, None, |s| {
        s.remove("TOKEN_SERVICE_JWT_HS256_SECRET");
        s.remove("TOKEN_SERVICE_JWT_AUDIENCE");
        s.insert(
            "TOKEN_SERVICE_JWT_JWKS_URL".into(),
            "https://login.partner.test/.well-known/jwks.json".into(),
        );
    })
    .await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["user_jwt"], "{text}");
    let u = line(&report, "user_jwt");
    assert!(u.detail.contains("any other application"), "{text}");
    assert!(
        u.fix
            .as_deref()
            .unwrap()
            .contains("TOKEN_SERVICE_JWT_AUDIENCE"),
        "{text}"
    );
}

#[tokio::test]
async fn plain_http_to_another_host_and_a_failed_tls_handshake_fail_the_url_line() {
    let emu = emulator(Dialect::Seed).await;
    let report = doctor_with(&emu, Dialect::Seed, None, |s| {
        s.insert("PELIQAN_API_URL".into(), "http://peliqan.invalid".into());
    })
    .await;
    assert_eq!(failed(&report), ["url"], "{}", report.to_text());
    assert_eq!(
        line(&report, "url")
            .fix
            .as_deref()
            .map(|f| f.starts_with("use https://")),
        Some(true)
    );
    // The emulator speaks plain http: an https URL to it fails the handshake.
    let https = emu.url().replacen("http://", "https://", 1);
    let report = doctor_with(&emu, Dialect::Seed, None, |s| {
        s.insert("PELIQAN_API_URL".into(), https);
    })
    .await;
    assert_eq!(failed(&report), ["url"], "{}", report.to_text());
    assert!(
        line(&report, "url").detail.contains("did not answer"),
        "{}",
        report.to_text()
    );
}

#[tokio::test]
async fn client_credentials_are_exchanged_first_and_then_accepted() {
    let emu = emulator(Dialect::Partner).await;
    let with_client = |s: &mut BTreeMap<String, String>| {
        s.remove("PELIQAN_PARTNER_TOKEN");
        s.insert("PELIQAN_CLIENT_ID".into(), emu.client_id().into());
        s.insert("PELIQAN_CLIENT_SECRET".into(), emu.client_secret().into());
    };
    let report = doctor_with(&emu, Dialect::Partner, Some("cc_tenant"), with_client).await;
    let text = report.to_text();
    assert!(!report.failed(), "{text}");
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("oauth_token") < at("dialect") && at("dialect") < at("partner_credentials"));
    assert!(
        line(&report, "oauth_token").detail.contains("lives 3600 s"),
        "{text}"
    );
    assert_eq!(line(&report, "tenant_token").status, Status::Pass, "{text}");
    assert!(!report.to_json().contains(emu.client_secret()), "{text}");
}

#[tokio::test]
async fn a_wrong_client_secret_fails_the_exchange_line_only() {
    let emu = emulator(Dialect::Partner).await;
    let report = doctor_with(&emu, Dialect::Partner, None, |s| {
        s.remove("PELIQAN_PARTNER_TOKEN");
        s.insert("PELIQAN_CLIENT_ID".into(), emu.client_id().into());
        s.insert("PELIQAN_CLIENT_SECRET".into(), "not-the-secret".into());
    })
    .await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["oauth_token"], "{text}");
    let o = line(&report, "oauth_token");
    assert!(
        o.detail.contains("refused the client credentials"),
        "{text}"
    );
    assert!(
        o.fix.as_deref().unwrap().contains("PELIQAN_CLIENT_SECRET"),
        "{text}"
    );
    // The dialect is still told (Django routes before it authenticates).
    assert_eq!(line(&report, "dialect").status, Status::Pass, "{text}");
    assert!(report.get("partner_credentials").is_none(), "{text}");
    assert!(!text.contains("not-the-secret"), "{text}");
}

#[tokio::test]
async fn an_override_of_the_list_route_that_peliqan_lacks_is_named_for_removal() {
    let emu = emulator(Dialect::Partner).await;
    let report = doctor_with(&emu, Dialect::Partner, None, |s| {
        s.insert(
            "PELIQAN_API_ROUTE_LIST_SUBACCOUNTS".into(),
            "GET /api/partner/accounts/".into(),
        );
    })
    .await;
    let text = report.to_text();
    assert_eq!(failed(&report), ["dialect"], "{text}");
    assert_eq!(
        line(&report, "dialect").fix.as_deref(),
        Some(
            "remove PELIQAN_API_ROUTE_LIST_SUBACCOUNTS: the `partner` dialect's own route answers"
        ),
        "{text}"
    );
}
