//! The `peliqan-emulator` binary's startup contract.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_prints_its_url_and_partner_token_as_the_first_stdout_line() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_peliqan-emulator"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--allowed-origin",
                "http://localhost:5173",
                "--token-ttl",
                "60",
            ])
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
    assert!(line.starts_with(r#"{"url":"http://127.0.0.1:"#), "{line}");
    let first: serde_json::Value = serde_json::from_str(&line).unwrap();
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
