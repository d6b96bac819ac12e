//! End-customer accounts: the full lifecycle with the partner token, in
//! whatever dialect the suite runs (operations a dialect lacks are refused
//! before any request).

use crate::helpers::{TestApp, input, spawn_app};
use peliqan_client::{Error, ExternalId, Operation, SubaccountInput};

/// Asserts `err` is the refusal of an operation the dialect lacks.
fn assert_missing_route(app: &TestApp, op: Operation, err: &Error) {
    assert!(
        matches!(err, Error::Route { operation, .. } if *operation == op),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("`{}`", app.dialect())) && text.contains(&op.config_key()),
        "{text}"
    );
}

#[tokio::test]
async fn a_tenant_can_be_created_read_listed_updated_and_deleted() {
    let app = spawn_app().await;

    let created = app
        .partner
        .create_subaccount(&SubaccountInput {
            external_id: ExternalId::from("wood_123"),
            first_name: Some("John".into()),
            last_name: Some("Doe".into()),
            email: Some("john@woodsolutions.com".into()),
            language: Some("en".into()),
            company_name: Some("Wood Solutions Ltd".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.external_id.as_str(), "wood_123");
    assert_eq!(created.company_name.as_deref(), Some("Wood Solutions Ltd"));

    let read = app.partner.subaccount(created.id).await.unwrap();
    assert_eq!(read, created);

    let other = app
        .partner
        .create_subaccount(&input("acme_9"))
        .await
        .unwrap();
    let listed = app.partner.list_subaccounts().await.unwrap();
    let ids: Vec<_> = listed.iter().map(|s| s.id).collect();
    assert!(
        ids.contains(&created.id) && ids.contains(&other.id),
        "{listed:?}"
    );

    let mut changed = input("wood_123");
    changed.company_name = Some("Wood Solutions Group".into());
    let update = app.partner.update_subaccount(created.id, &changed).await;
    if app.has(Operation::UpdateSubaccount) {
        let updated = update.unwrap();
        assert_eq!(updated.id, created.id);
        assert_eq!(
            updated.company_name.as_deref(),
            Some("Wood Solutions Group")
        );
        assert_eq!(
            app.partner
                .subaccount(created.id)
                .await
                .unwrap()
                .company_name
                .as_deref(),
            Some("Wood Solutions Group")
        );
    } else {
        assert_missing_route(&app, Operation::UpdateSubaccount, &update.unwrap_err());
    }

    let delete = app.partner.delete_subaccount(created.id).await;
    if app.has(Operation::DeleteSubaccount) {
        delete.unwrap();
        let gone = app.partner.subaccount(created.id).await.unwrap_err();
        assert_eq!(gone.status(), Some(404), "{gone}");
        assert_eq!(gone.route_mismatch(), None, "{gone}");
        let listed = app.partner.list_subaccounts().await.unwrap();
        assert_eq!(
            listed.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![other.id]
        );
    } else {
        assert_missing_route(&app, Operation::DeleteSubaccount, &delete.unwrap_err());
    }
}

#[tokio::test]
async fn a_tenant_is_found_by_external_id_and_its_info_read_where_the_dialect_has_them() {
    let app = spawn_app().await;
    let created = app.partner.create_subaccount(&input("wood")).await.unwrap();

    let found = app
        .partner
        .subaccount_by_external_id(&ExternalId::from("wood"))
        .await;
    let info = app.partner.subaccount_info(created.id).await;

    if app.has(Operation::GetSubaccountByExternalId) {
        assert_eq!(found.unwrap().id, created.id);
        let missing = app
            .partner
            .subaccount_by_external_id(&ExternalId::from("nobody"))
            .await
            .unwrap_err();
        assert_eq!(missing.status(), Some(404), "{missing}");
    } else {
        assert_missing_route(
            &app,
            Operation::GetSubaccountByExternalId,
            &found.unwrap_err(),
        );
    }
    if app.has(Operation::SubaccountInfo) {
        let info = info.unwrap();
        assert!(info.default_dw_id.is_some(), "{info:?}");
    } else {
        assert_missing_route(&app, Operation::SubaccountInfo, &info.unwrap_err());
    }
}

#[tokio::test]
async fn a_paged_listing_is_read_to_the_end() {
    let app = spawn_app().await;
    // More than one page of the client's (100 a page) where the route pages.
    let total = if app
        .client
        .routes()
        .route(Operation::ListSubaccounts)
        .unwrap()
        .uses("page")
    {
        105
    } else {
        3
    };
    let mut created = tokio::task::JoinSet::new();
    for n in 0..total {
        let partner = app.partner.clone();
        created.spawn(async move { partner.create_subaccount(&input(&format!("t{n}"))).await });
    }
    while let Some(result) = created.join_next().await {
        result.unwrap().unwrap();
    }

    let listed = app.partner.list_subaccounts().await.unwrap();

    let mut externals: Vec<_> = listed.iter().map(|s| s.external_id.0.clone()).collect();
    externals.sort();
    externals.dedup();
    assert_eq!(externals.len(), total, "every tenant once");
    assert_eq!(listed.len(), total);
    // 100 + 5 where the route pages: the short second page ends the listing.
    let calls = if total > 100 { 2 } else { 1 };
    assert_eq!(app.count(Operation::ListSubaccounts), calls);
}

#[tokio::test]
async fn a_duplicate_external_id_is_a_400_naming_the_field_and_is_not_retried() {
    let app = spawn_app().await;
    app.partner.create_subaccount(&input("dup")).await.unwrap();

    let err = app
        .partner
        .create_subaccount(&input("dup"))
        .await
        .unwrap_err();

    let Error::Api {
        status: 400,
        method: "POST",
        ref path,
        ref body,
        ..
    } = err
    else {
        panic!("expected a 400 API error, got {err:?}");
    };
    assert_eq!(*path, app.path(Operation::CreateSubaccount, 0));
    assert!(body.fields.contains_key("external_id"), "{body:?}");
    assert!(!err.is_retryable());
    assert_eq!(app.count(Operation::CreateSubaccount), 2);
}

#[tokio::test]
async fn a_missing_external_id_is_a_400_naming_the_field() {
    let app = spawn_app().await;

    let err = app.partner.create_subaccount(&input("")).await.unwrap_err();

    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        err.api_body().unwrap().fields.contains_key("external_id"),
        "{err}"
    );
}

#[tokio::test]
async fn updating_or_deleting_an_unknown_tenant_is_a_404() {
    let app = spawn_app().await;
    let missing = peliqan_client::SubaccountId(999_999);

    let update = app.partner.update_subaccount(missing, &input("x")).await;
    let delete = app.partner.delete_subaccount(missing).await;

    for (op, result) in [
        (Operation::UpdateSubaccount, update.map(drop)),
        (Operation::DeleteSubaccount, delete),
    ] {
        let err = result.unwrap_err();
        if !app.has(op) {
            assert_missing_route(&app, op, &err);
            continue;
        }
        assert_eq!(err.status(), Some(404), "{err}");
        assert_eq!(
            err.route_mismatch(),
            None,
            "an API 404 is no mismatch: {err}"
        );
        let path = app.path(op, 999_999);
        assert!(err.to_string().contains(&path), "{err}");
        // A 404 is final: one attempt, no retries.
        assert_eq!(app.count(op), 1, "{op}");
    }
    // Refused operations sent nothing.
    let sent: u64 = app.stats().total();
    let expected = [Operation::UpdateSubaccount, Operation::DeleteSubaccount]
        .iter()
        .filter(|op| app.has(**op))
        .count() as u64;
    assert_eq!(sent, expected);
}
