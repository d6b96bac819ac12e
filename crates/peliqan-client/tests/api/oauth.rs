//! OAuth connectors: the connection waits for the end-customer's decision
//! on the consent page, then is live or failed.

use crate::helpers::{TestApp, connection, spawn_app};
use peliqan_client::{ConnectionStatus, CreatedConnection, SubaccountApi};
use serde_json::json;

async fn start_hubspot(app: &TestApp) -> (SubaccountApi, CreatedConnection) {
    let (_, tenant) = app.tenant("wood").await;
    let hubspot = app.servertype("hubspot").await;
    let created = tenant
        .add_connection(&connection(&hubspot, json!({})))
        .await
        .unwrap();
    let oauth_url = created
        .oauth_url
        .as_deref()
        .expect("an OAuth connector answers an oauth_url");
    assert!(oauth_url.starts_with(app.emulator.url()), "{oauth_url}");
    assert!(oauth_url.contains("/oauth/authorize?"), "{oauth_url}");
    let pending = tenant.connection(created.id).await.unwrap();
    assert_eq!(pending.status, ConnectionStatus::Pending);
    (tenant, created)
}

#[tokio::test]
async fn an_approved_oauth_flow_makes_the_connection_connected_and_logs_it() {
    let app = spawn_app().await;
    let (tenant, created) = start_hubspot(&app).await;

    app.decide_oauth(created.oauth_url.as_deref().unwrap(), "approve")
        .await;

    let server = tenant.connection(created.id).await.unwrap();
    assert_eq!(server.status, ConnectionStatus::Connected, "{server:?}");
    assert!(server.status.is_live());
    let logs = tenant.connection_logs(created.id).await.unwrap();
    assert!(
        logs.len() >= 2,
        "creation and grant are both logged: {logs:?}"
    );
}

#[tokio::test]
async fn a_denied_oauth_flow_makes_the_connection_failed_and_logs_why() {
    let app = spawn_app().await;
    let (tenant, created) = start_hubspot(&app).await;

    app.decide_oauth(created.oauth_url.as_deref().unwrap(), "deny")
        .await;

    let server = tenant.connection(created.id).await.unwrap();
    assert_eq!(server.status, ConnectionStatus::Failed, "{server:?}");
    assert!(server.status.is_final() && !server.status.is_live());
    let logs = tenant.connection_logs(created.id).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.level == peliqan_client::api::LogLevel::Error
                || l.message.to_lowercase().contains("den")),
        "the denial is logged: {logs:?}"
    );
}
