//! The partner token never leaves the service: not in an answer, not in a log.

use crate::helpers::*;
use peliqan_emulator::Fault;
use std::time::Duration;

#[tokio::test]
async fn the_partner_token_never_appears_in_any_response_or_log_line() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS".into(), "0.3".into());
        s.insert("TOKEN_SERVICE_UPSTREAM_MAX_RETRIES".into(), "1".into());
    })
    .await;
    let secret = app.emulator.partner_token().to_owned();
    let good = jwt(&claims("secret_keeper"));
    let mut seen = Vec::new();
    let record = |res: reqwest::Response| async move {
        let mut text = format!("{:?}", res.headers());
        text.push_str(&res.text().await.unwrap());
        text
    };
    let url = |p: &str| format!("{}{p}", app.url);
    seen.push(record(app.token(&good).await).await);
    seen.push(record(app.token("garbage").await).await);
    seen.push(
        record(
            app.http
                .get(url("/v1/connectors"))
                .bearer_auth(&good)
                .send()
                .await
                .unwrap(),
        )
        .await,
    );
    for path in ["/healthz", "/readyz", "/metrics", "/nope"] {
        seen.push(record(app.http.get(url(path)).send().await.unwrap()).await);
    }
    // Failures carry upstream details to the logs: they must not carry the token either.
    for rule in [Fault::status("/api", 503), Fault::delay("/api", 1000)] {
        app.fault(rule).await;
        seen.push(record(app.token(&jwt(&claims("another_tenant"))).await).await);
        app.clear_faults().await;
    }
    for (i, text) in seen.iter().enumerate() {
        assert!(
            !text.contains(&secret),
            "answer {i} leaks the partner token"
        );
    }
    let logs = logs();
    assert!(logs.contains("listening on http://"), "logs were captured");
    assert!(
        !logs.contains(&secret),
        "a log line leaks the partner token"
    );
}
