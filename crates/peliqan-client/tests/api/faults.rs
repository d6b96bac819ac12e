//! Injected faults: what is retried (by the route's method, so the same
//! operation may differ per dialect), how often, how long the client waits,
//! and the emulator's request counting the assertions rely on.

use crate::helpers::{connection, fast_retries, input, spawn_app};
use peliqan_client::{Error, Expiry, Operation, RetryPolicy};
use peliqan_emulator::Fault;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_injected_503_on_a_get_is_retried_until_max_retries_plus_one_attempts() {
    let app = spawn_app().await;
    let prefix = app.prefix(Operation::Servertypes);
    app.fault(Fault::status(&prefix, 503));

    let err = app.partner.servertypes().await.unwrap_err();

    assert!(
        matches!(
            err,
            Error::Api {
                status: 503,
                method: "GET",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        app.count(Operation::Servertypes),
        3,
        "max_retries 2 = 3 attempts"
    );

    let patient = app.partner_with(|b| b.retry(fast_retries(4)));
    patient.servertypes().await.unwrap_err();
    assert_eq!(app.count(Operation::Servertypes), 3 + 5);

    let impatient = app.partner_with(|b| b.retry(RetryPolicy::none()));
    impatient.servertypes().await.unwrap_err();
    assert_eq!(app.count(Operation::Servertypes), 3 + 5 + 1);

    app.clear_faults();
    assert!(!app.partner.servertypes().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_injected_503_on_a_post_is_attempted_only_once_but_a_put_is_retried() {
    let app = spawn_app().await;
    let account = app.partner.create_subaccount(&input("wood")).await.unwrap();
    for op in [
        Operation::CreateSubaccount,
        Operation::UpdateSubaccount,
        Operation::DeleteSubaccount,
    ] {
        if app.has(op) {
            let prefix = app.prefix(op);
            app.fault(Fault::status(&prefix, 503));
        }
    }

    let post = app
        .partner
        .create_subaccount(&input("acme"))
        .await
        .unwrap_err();
    assert_eq!(post.status(), Some(503), "{post}");
    assert_eq!(
        app.count(Operation::CreateSubaccount),
        1 + 1,
        "one setup call, one attempt"
    );
    if app.has(Operation::UpdateSubaccount) {
        let put = app
            .partner
            .update_subaccount(account.id, &input("wood"))
            .await
            .unwrap_err();
        assert_eq!(put.status(), Some(503), "{put}");
        assert_eq!(app.count(Operation::UpdateSubaccount), 3);
    }
    if app.has(Operation::DeleteSubaccount) {
        let delete = app.partner.delete_subaccount(account.id).await.unwrap_err();
        assert_eq!(delete.status(), Some(503), "{delete}");
        assert_eq!(app.count(Operation::DeleteSubaccount), 3);
    }
}

#[tokio::test]
async fn a_token_call_is_retried_only_when_its_routes_method_is_idempotent() {
    let app = spawn_app().await;
    let account = app.partner.create_subaccount(&input("wood")).await.unwrap();
    let prefix = app.prefix(Operation::TokenById);
    app.fault(Fault::status(&prefix, 503));

    let err = app
        .partner
        .subaccount_token(account.id, Expiry::ShortLived)
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(503), "{err}");
    // The seed mints tokens with a GET, `partner` and `sub-account` with a POST.
    let attempts = if app.idempotent(Operation::TokenById) {
        3
    } else {
        1
    };
    assert_eq!(app.count(Operation::TokenById), attempts);
}

#[tokio::test]
async fn an_injected_500_or_404_surfaces_with_its_status_and_is_not_retried() {
    let app = spawn_app().await;
    let servertypes_prefix = app.prefix(Operation::Servertypes);
    let list_prefix = app.prefix(Operation::ListSubaccounts);
    app.fault(Fault::status(&servertypes_prefix, 500));
    app.fault(Fault::status(&list_prefix, 404));

    let servertypes = app.partner.servertypes().await.unwrap_err();
    let list = app.partner.list_subaccounts().await.unwrap_err();

    assert!(
        matches!(servertypes, Error::Api { status: 500, .. }),
        "{servertypes:?}"
    );
    assert!(matches!(list, Error::Api { status: 404, .. }), "{list:?}");
    assert_eq!(app.count(Operation::Servertypes), 1);
    assert_eq!(app.count(Operation::ListSubaccounts), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_the_servers_retry_after() {
    let app = spawn_app().await;
    let prefix = app.prefix(Operation::Servertypes);
    app.fault(Fault::status(&prefix, 429));
    let partner = app.partner_with(|b| {
        b.retry(RetryPolicy {
            max_retry_after: Duration::from_secs(5),
            ..fast_retries(1)
        })
    });

    let started = Instant::now();
    let err = partner.servertypes().await.unwrap_err();
    let elapsed = started.elapsed();

    assert_eq!(err.status(), Some(429), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(app.count(Operation::Servertypes), 2);
    // The jittered backoff would be at most 5 ms; Retry-After asked for 1 s.
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
}

#[tokio::test]
async fn a_retry_after_beyond_max_retry_after_is_cut_short() {
    let app = spawn_app().await;
    let prefix = app.prefix(Operation::Servertypes);
    app.fault(Fault::status(&prefix, 429));
    let partner = app.partner_with(|b| {
        b.retry(RetryPolicy {
            max_retry_after: Duration::from_millis(50),
            ..fast_retries(2)
        })
    });

    let started = Instant::now();
    let err = partner.servertypes().await.unwrap_err();

    assert_eq!(err.status(), Some(429), "{err}");
    assert_eq!(app.count(Operation::Servertypes), 3);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_delay_beyond_the_client_timeout_is_a_timeout_and_is_retried_for_a_get() {
    let app = spawn_app().await;
    let prefix = app.prefix(Operation::Servertypes);
    app.fault(Fault::delay(&prefix, 5000));
    let partner =
        app.partner_with(|b| b.timeout(Duration::from_millis(300)).retry(fast_retries(1)));

    let started = Instant::now();
    let err = partner.servertypes().await.unwrap_err();

    let Error::Timeout { method, ref path } = err else {
        panic!("expected a timeout, got {err:?}")
    };
    assert_eq!(
        (method, path.clone()),
        ("GET", app.path(Operation::Servertypes, 0))
    );
    assert!(err.is_retryable() && err.status().is_none());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.count(Operation::Servertypes), 2);
}

#[tokio::test]
async fn stats_count_requests_per_method_and_path_template() {
    let app = spawn_app().await;
    let (_, tenant) = app.tenant("wood").await;
    let pipedrive = app.servertype("pipedrive").await;
    let a = tenant
        .add_connection(&connection(&pipedrive, json!({"api_token": "a"})))
        .await
        .unwrap();
    let b = tenant
        .add_connection(&connection(&pipedrive, json!({"api_token": "b"})))
        .await
        .unwrap();

    for id in [a.id, b.id, a.id] {
        tenant.connection(id).await.unwrap();
    }
    tenant.connection_logs(b.id).await.unwrap();

    let stats = app.stats();
    let count = |op| stats.count(app.client.routes(), op);
    assert_eq!(count(Operation::GetConnection), 3, "{stats:?}");
    assert_eq!(count(Operation::ConnectionLogs), 1, "{stats:?}");
    assert_eq!(count(Operation::AddConnection), 2, "{stats:?}");
    assert_eq!(count(Operation::TokenById), 1, "{stats:?}");
    assert!(
        stats
            .requests
            .keys()
            .all(|k| !k.contains('?') && !k.contains("__emulator")),
        "{stats:?}"
    );
}
