//! Adding connections with credentials, and the connect-form validation.

use crate::helpers::{connection, spawn_app};
use peliqan_client::{ConnectionStatus, Error, Operation};
use serde_json::json;

#[tokio::test]
async fn the_catalogue_lists_api_key_login_database_and_oauth_connectors() {
    let app = spawn_app().await;

    let all = app.partner.servertypes().await.unwrap();

    let pipedrive = all
        .iter()
        .find(|s| s.name == "pipedrive")
        .expect("pipedrive");
    let token_field = pipedrive
        .connect_form
        .fields
        .iter()
        .find(|f| f.name == "api_token")
        .unwrap();
    assert!(token_field.required);
    let postgres = all
        .iter()
        .find(|s| s.name == "postgresql")
        .expect("postgresql");
    let names: Vec<_> = postgres
        .connect_form
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    for needed in ["host", "port", "database", "user", "password"] {
        assert!(names.contains(&needed), "{names:?}");
    }
    assert!(all.iter().any(|s| s.name == "hubspot" && s.is_oauth()));
    assert!(
        all.iter()
            .any(|s| s.connect_form.fields.iter().any(|f| f.name == "login"))
    );
}

#[tokio::test]
async fn an_api_key_connection_goes_connected_and_is_listed_and_logged() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;
    let pipedrive = app.servertype("pipedrive").await;

    let created = tenant
        .add_connection(&connection(&pipedrive, json!({"api_token": "pd-123"})))
        .await
        .unwrap();

    assert_eq!(created.oauth_url, None);
    let server = tenant.connection(created.id).await.unwrap();
    assert_eq!(server.status, ConnectionStatus::Connected, "{server:?}");
    assert_eq!(server.servertype_id, Some(pipedrive.id));
    let listed = tenant.connections().await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![created.id]
    );
    let logs = tenant.connection_logs(created.id).await.unwrap();
    assert!(!logs.is_empty());
    assert!(
        logs.iter().all(|l| !l.message.contains("pd-123")),
        "logs must not echo secrets: {logs:?}"
    );
}

#[tokio::test]
async fn login_password_and_database_connections_go_connected() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;
    let all = app.partner.servertypes().await.unwrap();
    let login = all
        .iter()
        .find(|s| s.connect_form.fields.iter().any(|f| f.name == "login"))
        .expect("a login/password connector");
    let postgres = app.servertype("postgresql").await;

    let mut fields = json!({"login": "john", "password": "pw"});
    for f in login
        .connect_form
        .fields
        .iter()
        .filter(|f| f.required && f.name != "login" && f.name != "password")
    {
        fields[&f.name] = json!("value");
    }
    let by_login = tenant
        .add_connection(&connection(login, fields))
        .await
        .unwrap();
    let db = tenant
        .add_connection(&connection(
            &postgres,
            json!({"host": "db.example.com", "port": 5432, "database": "crm", "user": "u", "password": "pw"}),
        ))
        .await
        .unwrap();

    for id in [by_login.id, db.id] {
        assert_eq!(
            tenant.connection(id).await.unwrap().status,
            ConnectionStatus::Connected
        );
    }
}

#[tokio::test]
async fn a_missing_required_field_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;
    let pipedrive = app.servertype("pipedrive").await;

    let err = tenant
        .add_connection(&connection(&pipedrive, json!({})))
        .await
        .unwrap_err();

    let Error::Api {
        status: 400,
        ref body,
        ..
    } = err
    else {
        panic!("expected 400, got {err:?}")
    };
    assert!(body.fields.contains_key("api_token"), "{body:?}");
    assert!(err.to_string().contains("api_token"), "{err}");
    assert!(
        tenant.connections().await.unwrap().is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn a_wrongly_typed_field_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;
    let postgres = app.servertype("postgresql").await;

    let err = tenant
        .add_connection(&connection(
            &postgres,
            json!({"host": "db", "port": "not-a-port", "database": "crm", "user": "u", "password": "pw"}),
        ))
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400), "{err}");
    let body = err.api_body().unwrap();
    assert_eq!(
        body.fields.keys().collect::<Vec<_>>(),
        vec!["port"],
        "{body:?}"
    );
    // A 400 on a POST is final: one attempt.
    assert_eq!(app.count(Operation::AddConnection), 1);
}

#[tokio::test]
async fn an_unknown_connection_is_a_404() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;

    let err = tenant
        .connection(peliqan_client::ServerId(777))
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(404), "{err}");
    let call = format!("GET {}", app.path(Operation::GetConnection, 777));
    assert!(err.to_string().contains(&call), "{err}");
    assert_eq!(err.route_mismatch(), None, "{err}");
}
