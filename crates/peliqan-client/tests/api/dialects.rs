//! Dialects: a client in the wrong one is told so (route mismatch, never a
//! followed redirect), an override fixes one operation, an operation the
//! dialect lacks is refused before any request, and the `partner` dialect's
//! own behaviour (paging, script groups, body shapes) on the wire.

use crate::helpers::{
    RawAnswer, TestApp, client_for, spawn_app_with, spawn_raw_server, spawn_raw_server_seq,
};
use peliqan_client::{
    Dialect, Error, Expiry, NewInterface, NewTable, Operation, Secret, ServerId, SubaccountId,
};
use peliqan_emulator::Config;
use serde_json::{Value, json};

/// An emulator speaking `dialect` strictly, and a client speaking `dialect` too.
async fn strict(dialect: Dialect) -> TestApp {
    spawn_app_with(Config {
        dialect,
        strict_slashes: true,
        ..Config::default()
    })
    .await
}

fn assert_mismatch(err: &Error, dialect: Dialect) {
    assert_eq!(err.route_mismatch(), Some(dialect), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "API dialect `{dialect}` is likely not the one this Peliqan speaks"
        )),
        "{text}"
    );
    let status = err.status().expect("a mismatch keeps its status");
    assert!(text.contains(&status.to_string()), "{text}");
}

#[tokio::test]
async fn a_seed_client_against_a_partner_peliqan_is_told_its_dialect_is_likely_wrong() {
    let app = strict(Dialect::Partner).await;
    let seed =
        client_for(app.emulator.url(), |b| b).partner(Secret::new(app.emulator.partner_token()));

    let list = seed.list_subaccounts().await.unwrap_err();
    let token = seed
        .subaccount_token_by_external_id(&"wood".into(), Expiry::ShortLived)
        .await
        .unwrap_err();

    assert_mismatch(&list, Dialect::Seed);
    assert_mismatch(&token, Dialect::Seed);
    assert_eq!(list.status(), Some(404), "{list}");
    assert!(!list.is_retryable());
}

#[tokio::test]
async fn a_partner_client_against_a_seed_peliqan_is_told_its_dialect_is_likely_wrong() {
    let app = strict(Dialect::Seed).await;
    let partner = client_for(app.emulator.url(), |b| b.dialect(Dialect::Partner))
        .partner(Secret::new(app.emulator.partner_token()));

    let list = partner.list_subaccounts().await.unwrap_err();
    let created = partner
        .create_subaccount(&crate::helpers::input("wood"))
        .await
        .unwrap_err();

    assert_mismatch(&list, Dialect::Partner);
    assert_mismatch(&created, Dialect::Partner);
}

#[tokio::test]
async fn a_get_without_its_trailing_slash_is_a_301_that_is_not_followed() {
    // The seed's `GET /api/servertypes` against a Peliqan whose route is
    // `GET /api/servertypes/`: Django answers 301 to the slashed URL.
    let app = strict(Dialect::SubAccount).await;
    let seed =
        client_for(app.emulator.url(), |b| b).partner(Secret::new(app.emulator.partner_token()));

    let err = seed.servertypes().await.unwrap_err();

    assert_mismatch(&err, Dialect::Seed);
    assert_eq!(err.status(), Some(301), "{err}");
    assert!(err.to_string().contains("/api/servertypes/"), "{err}");
    // The redirect was not followed: no request reached the slashed route
    // beyond the one that was redirected.
    assert!(app.count(Operation::Servertypes) <= 1);
}

#[tokio::test]
async fn a_post_without_its_trailing_slash_gets_djangos_error_page_and_a_mismatch() {
    let app = strict(Dialect::SubAccount).await;
    let (_, _) = app.tenant("wood").await;
    let token = app
        .partner
        .subaccount_token_by_external_id(&"wood".into(), Expiry::ShortLived)
        .await
        .unwrap();
    let seed_tenant = client_for(app.emulator.url(), |b| b).subaccount(token.into());
    let pipedrive = app.servertype("pipedrive").await;

    let err = seed_tenant
        .add_connection(&crate::helpers::connection(
            &pipedrive,
            json!({"api_token": "k"}),
        ))
        .await
        .unwrap_err();

    assert_mismatch(&err, Dialect::Seed);
    assert_eq!(err.status(), Some(500), "{err}");
}

#[tokio::test]
async fn a_redirect_from_any_server_is_never_followed() {
    let server = spawn_raw_server_seq(vec![
        RawAnswer {
            status: 302,
            headers: vec!["location: /elsewhere/?tenant=private".into()],
            body: String::new(),
        },
        RawAnswer::json(200, "[]"),
    ])
    .await;
    let partner =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).partner(Secret::new("tok"));

    let err = partner.servertypes().await.unwrap_err();

    assert_mismatch(&err, Dialect::Partner);
    assert!(err.to_string().contains("/elsewhere/"), "{err}");
    assert!(!err.to_string().contains("private"), "{err}");
    assert_eq!(server.request_count(), 1, "the redirect was not followed");
}

#[tokio::test]
async fn an_override_fixes_one_operation_and_leaves_the_others() {
    // A seed client whose servertypes route is overridden to the partner
    // form works against a partner Peliqan for that operation only.
    let app = strict(Dialect::Partner).await;
    let mut routes = Dialect::Seed.routes();
    routes
        .set_text(Operation::Servertypes, "GET /api/servertypes/")
        .unwrap();
    let partner = client_for(app.emulator.url(), |b| b.routes(routes))
        .partner(Secret::new(app.emulator.partner_token()));

    let servertypes = partner.servertypes().await.unwrap();
    let list = partner.list_subaccounts().await.unwrap_err();

    assert!(!servertypes.is_empty());
    assert_mismatch(&list, Dialect::Seed);
    assert_eq!(app.count_key("GET /api/servertypes/"), 1);
}

#[tokio::test]
async fn an_overridden_route_is_called_as_written() {
    let server = spawn_raw_server(200, r#"{"id": 7, "status": "connected"}"#).await;
    let mut routes = Dialect::Partner.routes();
    routes
        .set_text(
            Operation::GetConnection,
            "GET /api/v2/servers/{id}/?expand=status",
        )
        .unwrap();
    let tenant = client_for(&server.url, |b| b.routes(routes)).subaccount(Secret::new("t"));

    tenant.connection(ServerId(7)).await.unwrap();

    let head = server.request(0);
    assert!(
        head.starts_with("get /api/v2/servers/7/?expand=status http/1.1"),
        "{head}"
    );
}

#[tokio::test]
async fn an_operation_the_dialect_lacks_is_refused_before_any_request() {
    let server = spawn_raw_server(204, "").await;
    let partner =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).partner(Secret::new("tok"));

    let err = partner
        .delete_subaccount(SubaccountId(1))
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            Error::Route {
                operation: Operation::DeleteSubaccount,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("`partner`") && text.contains("PELIQAN_API_ROUTE_DELETE_SUBACCOUNT"),
        "{text}"
    );
    assert_eq!(err.status(), None);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_paged_listing_follows_pages_until_a_short_one() {
    let full: Vec<Value> = (1..=100)
        .map(|n| json!({"id": n, "external_id": format!("t{n}")}))
        .collect();
    let server = spawn_raw_server_seq(vec![
        RawAnswer::json(
            200,
            json!({"count": 101, "next": "http://x/?page=2", "results": full}).to_string(),
        ),
        RawAnswer::json(200, json!([{"id": 101, "external_id": "t101"}]).to_string()),
    ])
    .await;
    let partner =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).partner(Secret::new("tok"));

    let listed = partner.list_subaccounts().await.unwrap();

    assert_eq!(listed.len(), 101);
    assert_eq!(server.request_count(), 2);
    assert!(
        server
            .request(0)
            .starts_with("get /api/partner/sub-accounts/?page=1&per_page=100 "),
        "{}",
        server.request(0)
    );
    assert!(
        server
            .request(1)
            .starts_with("get /api/partner/sub-accounts/?page=2&per_page=100 "),
        "{}",
        server.request(1)
    );
}

#[tokio::test]
async fn a_page_without_next_ends_the_listing() {
    let server = spawn_raw_server(
        200,
        &json!({"next": null, "results": [{"id": 1, "external_id": "a"}]}).to_string(),
    )
    .await;
    let partner =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).partner(Secret::new("tok"));

    assert_eq!(partner.list_subaccounts().await.unwrap().len(), 1);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_partner_script_goes_in_the_first_group_with_the_partner_body() {
    let server = spawn_raw_server_seq(vec![
        RawAnswer::json(200, r#"[{"id": 7, "name": "Main"}, {"id": 9}]"#),
        RawAnswer::json(200, r#"{"id": 3, "name": "sync"}"#),
    ])
    .await;
    let tenant =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).subaccount(Secret::new("t"));

    let script = tenant
        .create_interface(&NewInterface {
            name: "sync".into(),
            raw_code: "print(1)".into(),
            schedule: 60,
        })
        .await
        .unwrap();

    assert_eq!(script.id.0, 3);
    assert!(
        server.request(0).starts_with("get /api/groups/ "),
        "{}",
        server.request(0)
    );
    let post = server.request(1);
    assert!(post.starts_with("post /api/interfaces/group/7/ "), "{post}");
    let body = server.body(1);
    assert_eq!(body["raw_script"], "print(1)", "{body}");
    assert_eq!(body["run_mode"], "SHELL", "{body}");
}

#[tokio::test]
async fn a_partner_script_without_any_group_is_a_clear_error() {
    let server = spawn_raw_server(200, "[]").await;
    let tenant =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).subaccount(Secret::new("t"));

    let err = tenant
        .create_interface(&NewInterface {
            name: "sync".into(),
            raw_code: "pass".into(),
            schedule: 60,
        })
        .await
        .unwrap_err();

    assert!(matches!(err, Error::NoScriptGroup { .. }), "{err:?}");
    assert!(err.to_string().contains("GET /api/groups/"), "{err}");
    assert_eq!(server.request_count(), 1, "no script was posted");
}

#[tokio::test]
async fn a_partner_table_has_the_partner_body() {
    let server = spawn_raw_server(200, r#"{"id": 5, "name": "deals"}"#).await;
    let tenant =
        client_for(&server.url, |b| b.dialect(Dialect::Partner)).subaccount(Secret::new("t"));

    tenant
        .create_table(&NewTable {
            name: "deals".into(),
            query: "select 1".into(),
            database_id: None,
            schema_id: Some(4),
        })
        .await
        .unwrap();

    let post = server.request(0);
    assert!(
        post.starts_with("post /api/database/tables/create-sql-query/ "),
        "{post}"
    );
    let body = server.body(0);
    assert_eq!(body["table_type"], "query", "{body}");
    assert_eq!(body["schema_id"], 4, "{body}");
}
