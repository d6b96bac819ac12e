//! The `peliqan-emulator` binary's startup contract.

use peliqan_emulator::{Control, ControlCall, ControlError, Info};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends a control call to an emulator in another process.
async fn send<T>(http: &reqwest::Client, call: ControlCall<T>) -> Result<T, ControlError> {
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).unwrap();
    let mut req = http.request(method, &call.url);
    if let Some(body) = &call.body {
        req = req
            .header("Content-Type", "application/json")
            .body(body.clone());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    call.answer(status, &res.text().await.unwrap())
}

/// Starts the binary with `args` on a free port; returns it and its first
/// stdout line, parsed.
async fn start(args: &[&str]) -> (Child, serde_json::Value, String) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_peliqan-emulator"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let first = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    (child, first, line)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_prints_its_url_partner_token_and_client_credentials_first() {
    let (_child, first, line) = start(&[
        "--allowed-origin",
        "http://localhost:5173",
        "--token-ttl",
        "60",
    ])
    .await;
    assert!(line.starts_with(r#"{"url":"http://127.0.0.1:"#), "{line}");
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for key in ["partner_token", "client_id", "client_secret"] {
        assert!(first[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
    let (url, token) = (
        first["url"].as_str().unwrap(),
        first["partner_token"].as_str().unwrap(),
    );
    assert!(!url.ends_with('/'));
    let res = reqwest::Client::new()
        .get(format!("{url}/api/servertypes"))
        .header("Authorization", format!("JWT {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dialect_slash_and_access_token_flags_take_effect() {
    let (_child, first, _) = start(&[
        "--dialect",
        "partner",
        "--strict-slashes",
        "--access-token-ttl",
        "60",
    ])
    .await;
    let url = first["url"].as_str().unwrap();
    let http = reqwest::Client::new();
    let info = send(&http, Control::new(url).info()).await.unwrap();
    let partner = "partner".to_owned();
    assert_eq!(
        info,
        Info {
            dialect: partner,
            strict_slashes: true,
            accept_duplicate_external_ids: false,
        }
    );
    let answer: serde_json::Value = http
        .post(format!("{url}/api/oauth2/token/"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", first["client_id"].as_str().unwrap()),
            ("client_secret", first["client_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["expires_in"], 60);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_accept_duplicate_external_ids_a_second_create_makes_another_account() {
    let (_child, first, _) = start(&["--accept-duplicate-external-ids"]).await;
    let url = first["url"].as_str().unwrap();
    let partner = first["partner_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let res = http
            .post(format!("{url}/api/subaccount"))
            .header("Authorization", format!("JWT {partner}"))
            .json(&serde_json::json!({"external_id": "acme"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let control = Control::new(url);
    let info = send(&http, control.info()).await.unwrap();
    assert!(info.accept_duplicate_external_ids);
    let accounts = send(&http, control.subaccounts_with_external_id("acme"))
        .await
        .unwrap();
    assert_eq!(accounts.count, 2, "{accounts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_partner_token_file_the_partner_token_is_written_owner_only() {
    let dir = std::env::temp_dir().join(format!("emulator-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("partner_token");
    std::fs::write(&path, "an old token").unwrap();
    let (_child, first, _) = start(&["--partner-token-file", path.to_str().unwrap()]).await;
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, first["partner_token"].as_str().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn with_manual_clock_tokens_expire_when_the_clock_is_advanced_and_not_before() {
    let (_child, first, _) = start(&["--manual-clock", "--token-ttl", "60"]).await;
    let url = first["url"].as_str().unwrap();
    let partner = first["partner_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let jwt = |token: &str| format!("JWT {token}");
    let res = http
        .post(format!("{url}/api/subaccount"))
        .header("Authorization", jwt(partner))
        .json(&serde_json::json!({"external_id": "acme"}))
        .send()
        .await
        .unwrap();
    let id = res.json::<serde_json::Value>().await.unwrap()["id"].clone();
    let token: serde_json::Value = http
        .get(format!("{url}/api/subaccount/{id}/token"))
        .header("Authorization", jwt(partner))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    let servers = || {
        http.get(format!("{url}/api/servers"))
            .header("Authorization", jwt(token))
            .send()
    };
    assert_eq!(servers().await.unwrap().status(), 200);
    let control = Control::new(url);
    let moved = send(&http, control.advance_clock(Duration::from_secs(61)))
        .await
        .unwrap();
    assert!(moved.unix_secs > 0);
    assert_eq!(servers().await.unwrap().status(), 401, "expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_manual_clock_the_clock_endpoint_says_how_to_get_one() {
    let (_child, first, _) = start(&[]).await;
    let control = Control::new(first["url"].as_str().unwrap());
    let err = send(
        &reqwest::Client::new(),
        control.advance_clock(Duration::from_secs(1)),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("answered 400") && text.contains("--manual-clock"),
        "{text}"
    );
}

#[test]
fn an_unknown_dialect_is_refused_naming_the_choices() {
    let out = Command::new(env!("CARGO_BIN_EXE_peliqan-emulator"))
        .args(["--dialect", "v3"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("seed, sub-account, partner"), "{err}");
}
