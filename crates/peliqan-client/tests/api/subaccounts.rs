//! End-customer accounts: the full lifecycle with the partner token.

use crate::helpers::{input, spawn_app};
use peliqan_client::{Error, ExternalId, SubaccountInput};

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
    let updated = app
        .partner
        .update_subaccount(created.id, &changed)
        .await
        .unwrap();
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

    app.partner.delete_subaccount(created.id).await.unwrap();
    let gone = app.partner.subaccount(created.id).await.unwrap_err();
    assert_eq!(gone.status(), Some(404), "{gone}");
    let listed = app.partner.list_subaccounts().await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![other.id]
    );
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
    assert_eq!(path, "/api/subaccount");
    assert!(body.fields.contains_key("external_id"), "{body:?}");
    assert!(!err.is_retryable());
    assert_eq!(app.count("POST /api/subaccount").await, 2);
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

    let update = app
        .partner
        .update_subaccount(missing, &input("x"))
        .await
        .unwrap_err();
    let delete = app.partner.delete_subaccount(missing).await.unwrap_err();

    assert_eq!(update.status(), Some(404), "{update}");
    assert_eq!(delete.status(), Some(404), "{delete}");
    assert!(
        delete.to_string().contains("DELETE /api/subaccount/999999"),
        "{delete}"
    );
    // A 404 is final: one attempt each, no retries.
    assert_eq!(app.count("PUT /api/subaccount/{id}").await, 1);
    assert_eq!(app.count("DELETE /api/subaccount/{id}").await, 1);
}
