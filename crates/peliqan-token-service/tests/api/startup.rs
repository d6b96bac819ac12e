//! What the binary does at start and writes to its log: it refuses a JWKS
//! or PEM key without issuer and audience checks (unless told to, then it
//! warns), refuses an empty setting, keeps every text log line one line
//! without colours when stdout is not a terminal, and names the metrics
//! listener with its real port.

use crate::helpers::*;
use crate::process::{self, Service};
use peliqan_emulator::Emulator;
use std::collections::BTreeMap;
use std::time::Duration;

async fn emulator() -> Emulator {
    Emulator::start(emulator_config(Duration::from_secs(1800)))
        .await
        .expect("emulator starts")
}

/// The test settings for the binary, with `RUST_LOG=info`.
fn env(emulator: &Emulator, tweak: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    let mut env = base_settings(emulator);
    env.insert("RUST_LOG".into(), "info".into());
    for (k, v) in tweak {
        match v {
            Some(v) => env.insert((*k).into(), (*v).into()),
            None => env.remove(*k),
        };
    }
    env
}

const HS: &str = "TOKEN_SERVICE_JWT_HS256_SECRET";
const PEM: &str = "TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE";
const JWKS: &str = "TOKEN_SERVICE_JWT_JWKS_URL";
const ISS: &str = "TOKEN_SERVICE_JWT_ISSUER";
const AUD: &str = "TOKEN_SERVICE_JWT_AUDIENCE";
const ALLOW: &str = "TOKEN_SERVICE_JWT_ALLOW_ANY_ISSUER_AUDIENCE";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_or_pem_service_without_issuer_and_audience_does_not_start_unless_told_to() {
    let emu = emulator().await;
    let jwks = "https://login.partner.test/.well-known/jwks.json";
    for (key, value, missing) in [(PEM, ES256_PUBLIC_PATH, ISS), (JWKS, jwks, AUD)] {
        let env = env(&emu, &[(HS, None), (key, Some(value)), (missing, None)]);
        let (code, stderr) = process::start(&env, &[]).exited();
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "invalid configuration: {missing}: is required with {key}"
            )),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("{ALLOW}=true")), "{stderr}");
    }
    // The explicit opt-out runs, and says so at every start.
    let env = env(
        &emu,
        &[
            (HS, None),
            (PEM, Some(ES256_PUBLIC_PATH)),
            (ISS, None),
            (AUD, None),
            (ALLOW, Some("true")),
        ],
    );
    for _ in 0..2 {
        let lines = process::start(&env, &[]).running().stop();
        let warned = lines.iter().any(|l| {
            l.contains("WARN") && l.contains(&format!("{ISS} and {AUD} not set and {ALLOW}=true"))
        });
        assert!(warned, "{}", lines.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hs256_service_without_issuer_or_audience_starts_with_a_warning() {
    let emu = emulator().await;
    let lines = process::start(&env(&emu, &[(ISS, None)]), &[])
        .running()
        .stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains(&format!("{ISS} not set"))),
        "{}",
        lines.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_environment_value_does_not_erase_the_files_issuer() {
    let emu = emulator().await;
    let file = std::env::temp_dir().join(format!("ts-empty-issuer-{}.toml", std::process::id()));
    let toml: String = base_settings(&emu)
        .iter()
        // A JSON string is a TOML basic string too.
        .map(|(k, v)| format!("{k} = {}\n", serde_json::Value::from(v.as_str())))
        .collect();
    std::fs::write(&file, toml).unwrap();
    let path = file.to_str().unwrap();
    let only_logs = BTreeMap::from([("RUST_LOG".to_owned(), "info".to_owned())]);
    process::start(&only_logs, &["--config", path])
        .running()
        .stop();
    let mut emptied = only_logs.clone();
    emptied.insert(ISS.into(), String::new());
    let (code, stderr) = process::start(&emptied, &["--config", path]).exited();
    std::fs::remove_file(&file).ok();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("invalid configuration: {ISS}: is empty")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_claim_with_line_breaks_stays_on_one_text_log_line_without_colours() {
    let emu = emulator().await;
    let service = process::start(&env(&emu, &[]), &[]).running();
    let forged = "2030-01-01T00:00:00.000000Z  INFO peliqan_token_service: forged line";
    let mut c = claims("ignored");
    c["external_id"] = format!("evil\n{forged}\r\u{1b}[2K").into();
    let res = reqwest::Client::new()
        .post(format!("{}/v1/token", service.url))
        .bearer_auth(jwt(&c))
        .send()
        .await
        .unwrap();
    let lines = stop(service).await;
    let all = lines.join("\n");
    let with_forged: Vec<&String> = lines.iter().filter(|l| l.contains("forged line")).collect();
    assert_eq!(with_forged.len(), 1, "{all}");
    assert!(
        with_forged[0].contains("evil\\n2030-01-01") && with_forged[0].contains("\\r\\x1b[2K"),
        "{all}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("2030-01-01")), "{all}");
    assert!(
        !all.contains('\u{1b}'),
        "no colours when stdout is not a terminal: {all}"
    );
    assert_problem(res, 403, "invalid_tenant_claim").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_is_logged_with_its_real_port_and_is_the_only_place_of_metrics() {
    let emu = emulator().await;
    let listen = [("TOKEN_SERVICE_METRICS_LISTEN", Some("127.0.0.1:0"))];
    let mut service = process::start(&env(&emu, &listen), &[]).running();
    let line = service
        .wait_for(|l| l.contains("serving /metrics on http://"))
        .expect("the metrics listener is named");
    let at = line.find("http://").unwrap();
    let metrics_url = line[at..].split_whitespace().next().unwrap().to_owned();
    assert!(!metrics_url.contains(":0/"), "the real port: {line}");
    let http = reqwest::Client::new();
    let res = http.get(&metrics_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("token_service_"));
    let public = http
        .get(format!("{}/metrics", service.url))
        .send()
        .await
        .unwrap();
    assert_problem(public, 404, "not_found").await;
    stop(service).await;
}

/// Stops `service` off the async threads; its stdout lines.
async fn stop(service: Service) -> Vec<String> {
    tokio::task::spawn_blocking(move || service.stop())
        .await
        .unwrap()
}
