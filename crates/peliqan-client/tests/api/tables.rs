//! Query tables and scheduled scripts inside an end-customer account.

use crate::helpers::spawn_app;
use peliqan_client::{Error, NewInterface, NewTable, Operation};

#[tokio::test]
async fn a_query_table_and_a_scheduled_script_can_be_created() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;

    let table = tenant
        .create_table(&NewTable {
            name: "deals".into(),
            query: "SELECT * FROM pipedrive.deals".into(),
            database_id: None,
            schema_id: None,
        })
        .await
        .unwrap();
    let script = tenant
        .create_interface(&NewInterface {
            name: "Sync script".into(),
            raw_code: "print('hello')".into(),
            schedule: 3600,
        })
        .await
        .unwrap();

    assert_eq!(table.name.as_deref(), Some("deals"));
    assert_eq!(script.name.as_deref(), Some("Sync script"));
    assert_eq!(script.schedule, Some(3600));
    assert_eq!(app.count(Operation::CreateTable), 1);
    assert_eq!(app.count(Operation::CreateScript), 1);
    // Where a script goes in a group, the first group was listed for it.
    let needs_group = app
        .client
        .routes()
        .route(Operation::CreateScript)
        .unwrap()
        .uses("group_id");
    if needs_group {
        assert_eq!(app.count(Operation::ListGroups), 1);
    }
    let scripts = tenant.list_scripts().await;
    if app.has(Operation::ListScripts) {
        let ids: Vec<_> = scripts.unwrap().iter().map(|s| s.id).collect();
        assert!(ids.contains(&script.id), "{ids:?}");
    } else {
        let err = scripts.unwrap_err();
        assert!(matches!(err, Error::Route { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn script_groups_are_listed_where_the_dialect_has_them() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;

    let groups = tenant.list_groups().await;

    if app.has(Operation::ListGroups) {
        assert!(
            !groups.unwrap().is_empty(),
            "an account starts with a group"
        );
    } else {
        let err = groups.unwrap_err();
        assert!(
            err.to_string().contains("PELIQAN_API_ROUTE_LIST_GROUPS"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_table_without_a_query_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;

    let err = tenant
        .create_table(&NewTable {
            name: "deals".into(),
            query: " ".into(),
            database_id: None,
            schema_id: None,
        })
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        err.api_body().unwrap().fields.contains_key("query"),
        "{err}"
    );
}

#[tokio::test]
async fn a_script_with_a_zero_schedule_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;

    let err = tenant
        .create_interface(&NewInterface {
            name: "s".into(),
            raw_code: "pass".into(),
            schedule: 0,
        })
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        err.api_body().unwrap().fields.contains_key("schedule"),
        "{err}"
    );
}
