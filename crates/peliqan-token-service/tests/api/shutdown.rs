//! Graceful shutdown: a stop (what SIGTERM triggers) lets in-flight
//! requests finish before the server exits.

use crate::helpers::*;
use peliqan_client::Operation;
use peliqan_emulator::{Emulator, Fault};
use peliqan_token_service::{Application, Settings};

#[tokio::test]
async fn a_graceful_stop_finishes_the_request_in_flight() {
    let config = emulator_config(std::time::Duration::from_secs(1800));
    let routes = config.dialect.routes();
    let emulator = Emulator::start(config).await.unwrap();
    let mut map = base_settings(&emulator);
    map.insert("TOKEN_SERVICE_SHUTDOWN_TIMEOUT_SECS".into(), "5".into());
    let settings = Settings::from_map(&map).unwrap();
    let app = Application::build(settings).await.unwrap();
    let (url, handle) = (app.url(), app.handle());
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let token = [Operation::TokenByExternalId];
    let rule = Fault::delay(path_prefix(&routes, &token), 700);
    emulator.add_fault(rule).unwrap();
    let in_flight = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.post(format!("{url}/v1/token"))
                .bearer_auth(jwt(&claims("leaving")))
                .send()
                .await
        }
    });
    // Stop only once the request is inside the service, waiting on Peliqan.
    until_upstream_saw(&emulator, &stats_key(&routes, token[0])).await;
    handle.stop(true).await;
    let res = in_flight
        .await
        .unwrap()
        .expect("the request in flight got its answer");
    assert_eq!(res.status(), 200);
    server.await.unwrap().unwrap();
    assert!(
        http.get(format!("{url}/healthz")).send().await.is_err(),
        "no longer listening"
    );
}
