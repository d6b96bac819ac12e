//! Sub-account tokens: by id and by external id, their lifetime, and what
//! they may reach.

use crate::helpers::{input, jwt_claims, spawn_app, spawn_app_with, test_config};
use peliqan_api::clock::ManualClock;
use peliqan_client::{Error, Expiry, ExternalId, Operation, Secret, ServerId};
use peliqan_emulator::Config;
use std::time::Duration;

#[tokio::test]
async fn tokens_are_issued_by_id_and_by_external_id_for_the_right_tenant() {
    let app = spawn_app().await;
    let account = app
        .partner
        .create_subaccount(&input("wood_123"))
        .await
        .unwrap();

    let by_id = app
        .partner
        .subaccount_token(account.id, Expiry::ShortLived)
        .await
        .unwrap();
    let by_ext = app
        .partner
        .subaccount_token_by_external_id(&ExternalId::from("wood_123"), Expiry::ShortLived)
        .await
        .unwrap();

    for answer in [&by_id, &by_ext] {
        // The ids are optional in an answer (the `partner` dialect's SDK
        // reads only `token`); when given, they are the tenant's.
        if let Some(id) = answer.subaccount_id {
            assert_eq!(id, account.id);
        }
        if let Some(ext) = &answer.external_id {
            assert_eq!(ext.as_str(), "wood_123");
        }
        assert_eq!(jwt_claims(&answer.token)["subaccount_id"], account.id.0);
        assert!(!format!("{answer:?}").contains(&answer.token));
    }
    // Both work inside the tenant's account.
    for answer in [by_id, by_ext] {
        let tenant = app.client.subaccount(Secret::from(answer));
        assert!(tenant.connections().await.unwrap().is_empty());
    }
    assert_eq!(
        app.count_all(&[Operation::TokenById, Operation::TokenByExternalId]),
        2
    );
}

#[tokio::test]
async fn a_short_lived_token_has_an_exp_and_a_non_expiring_one_has_none() {
    let app = spawn_app().await;
    let account = app
        .partner
        .create_subaccount(&input("wood_123"))
        .await
        .unwrap();
    let ext = ExternalId::from("wood_123");

    let short = app
        .partner
        .subaccount_token(account.id, Expiry::ShortLived)
        .await
        .unwrap();
    let short_ext = app
        .partner
        .subaccount_token_by_external_id(&ext, Expiry::ShortLived)
        .await
        .unwrap();
    let forever = app
        .partner
        .subaccount_token(account.id, Expiry::NonExpiring)
        .await
        .unwrap();
    let forever_ext = app
        .partner
        .subaccount_token_by_external_id(&ext, Expiry::NonExpiring)
        .await
        .unwrap();

    for t in [&short, &short_ext] {
        let claims = jwt_claims(&t.token);
        let ttl = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert_eq!(ttl, 1800, "default emulator TTL: {claims}");
    }
    for t in [&forever, &forever_ext] {
        let claims = jwt_claims(&t.token);
        assert!(
            claims.get("exp").is_none(),
            "expire=false must give no exp: {claims}"
        );
    }
    assert_eq!(Expiry::default(), Expiry::ShortLived);
}

#[tokio::test]
async fn an_unknown_tenant_gets_no_token() {
    let app = spawn_app().await;

    let by_ext = app
        .partner
        .subaccount_token_by_external_id(&ExternalId::from("nobody"), Expiry::ShortLived)
        .await
        .unwrap_err();
    let by_id = app
        .partner
        .subaccount_token(peliqan_client::SubaccountId(424_242), Expiry::ShortLived)
        .await
        .unwrap_err();

    assert_eq!(by_ext.status(), Some(404), "{by_ext}");
    assert_eq!(by_id.status(), Some(404), "{by_id}");
    // The error names the path, not the query string the client sent.
    let Error::Api { ref path, .. } = by_ext else {
        panic!("{by_ext:?}")
    };
    assert_eq!(*path, app.path(Operation::TokenByExternalId, 0));
    assert_eq!(by_ext.route_mismatch(), None, "{by_ext}");
    assert!(!by_ext.to_string().contains("external_id="), "{by_ext}");
}

#[tokio::test]
async fn a_subaccount_token_cannot_read_another_subaccounts_connection() {
    let app = spawn_app().await;
    let (_, wood) = app.tenant("wood").await;
    let (_, acme) = app.tenant("acme").await;
    let pipedrive = app.servertype("pipedrive").await;
    let body = crate::helpers::connection(&pipedrive, serde_json::json!({"api_token": "k"}));
    let woods = wood.add_connection(&body).await.unwrap();

    let err = acme.connection(woods.id).await.unwrap_err();
    let logs = acme.connection_logs(woods.id).await.unwrap_err();

    assert!(
        matches!(
            err,
            Error::Api {
                status: 403 | 404,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        matches!(
            logs,
            Error::Api {
                status: 403 | 404,
                ..
            }
        ),
        "{logs:?}"
    );
    assert!(acme.connections().await.unwrap().is_empty());
    assert_eq!(wood.connection(woods.id).await.unwrap().id, woods.id);
}

#[tokio::test]
async fn tokens_of_the_wrong_scope_are_forbidden() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;
    let token = app
        .partner
        .subaccount_token_by_external_id(&"wood".into(), Expiry::ShortLived)
        .await
        .unwrap();

    // A sub-account token on a partner endpoint...
    let as_partner = app.client.partner(Secret::from(token));
    let err = as_partner.servertypes().await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    // ...and the partner token on a sub-account endpoint.
    let as_tenant = app
        .client
        .subaccount(Secret::new(app.emulator.partner_token()));
    let err = as_tenant.connections().await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    // A forged token is not authenticated at all.
    let forged = app
        .client
        .subaccount(Secret::new("eyJhbGciOiJIUzI1NiJ9.e30.bm9wZQ"));
    let err = forged.connection(ServerId(1)).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(tenant.connections().await.is_ok());
}

#[tokio::test]
async fn an_expired_token_is_rejected_with_401() {
    let app = spawn_app_with(Config {
        token_ttl: Duration::from_secs(1),
        manual_clock: Some(ManualClock::new()),
        ..test_config()
    })
    .await;
    let (_, tenant) = app.tenant("wood").await;
    assert!(tenant.connections().await.is_ok(), "fresh token works");

    // Past the 1 s token's `exp` second, on the emulator's clock.
    app.emulator.advance_clock(Duration::from_secs(2)).unwrap();

    let err = tenant.connections().await.unwrap_err();
    let Error::Api {
        status: 401,
        ref body,
        ..
    } = err
    else {
        panic!("expected 401, got {err:?}")
    };
    assert!(
        body.detail
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
            .contains("expired"),
        "{body:?}"
    );
    // 401 is not retried.
    assert_eq!(app.count(Operation::ListConnections), 2);
}
