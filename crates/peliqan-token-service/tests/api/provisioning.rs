//! Auto-provisioning: exactly one sub-account, even under concurrency.

use crate::helpers::*;
use peliqan_client::Operation;
use peliqan_emulator::Fault;

#[tokio::test]
async fn concurrent_first_requests_provision_the_tenant_exactly_once() {
    let app = spawn_app().await;
    let token = jwt(&claims("brand_new"));
    let answers = futures::future::join_all((0..50).map(|_| app.token(&token))).await;
    assert!(answers.iter().all(|r| r.status() == 200));
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 1);
    let all = app.partner().list_subaccounts().await.unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|s| s.external_id.as_str() == "brand_new")
        .collect();
    assert_eq!(mine.len(), 1);
    // Created from the JWT's profile claims.
    assert_eq!(mine[0].email.as_deref(), Some("owner@brand_new.test"));
    assert_eq!(mine[0].first_name.as_deref(), Some("Ann"));
    assert_eq!(mine[0].company_name.as_deref(), Some("brand_new Ltd"));
    assert_eq!(mine[0].language.as_deref(), Some("en"));
}

#[tokio::test]
async fn a_profile_peliqan_refuses_is_provisioning_refused_naming_the_field() {
    let app = spawn_app().await;
    let mut c = claims("bad_profile");
    c["email"] = "not-an-email".into();
    let res = app.token(&jwt(&c)).await;
    let problem = assert_problem(res, 502, "provisioning_refused").await;
    let detail = problem.detail.as_str();
    assert!(detail.contains("email"), "{detail}");
    assert!(detail.contains("`email` claim"), "{detail}");
    assert!(!detail.contains("external_id"), "{detail}");
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 1);
    // Not mistaken for another replica's creation: no second lookup.
    assert_eq!(app.upstream_calls(&[Operation::TokenByExternalId]).await, 1);
    assert!(app.partner().list_subaccounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_create_that_loses_the_race_to_another_replica_uses_that_sub_account() {
    let app = spawn_app().await;
    // Hold the service's create back until the "other replica" has made
    // the sub-account; the rule only delays, and is gone before ours runs.
    let create = app.path_prefix(&[Operation::CreateSubaccount]);
    app.fault(Fault::delay(create, 500)).await;
    let pending = tokio::spawn({
        let (http, url, user) = (app.http.clone(), app.url.clone(), jwt(&claims("raced")));
        async move {
            http.post(format!("{url}/v1/token"))
                .bearer_auth(user)
                .send()
                .await
                .unwrap()
        }
    });
    // Until the service's create is in flight (counted before the delay).
    // Counted by exact route: in some dialects the token route starts with
    // the create route's path.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.upstream_calls(&[Operation::CreateSubaccount]).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no create within 30 s"
        );
        tokio::task::yield_now().await;
    }
    app.clear_faults().await;
    app.provision("raced").await;
    let res = pending.await.unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let answer: peliqan_api::TokenAnswer = res.json().await.unwrap();
    let all = app.partner().list_subaccounts().await.unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|s| s.external_id.as_str() == "raced")
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(answer.subaccount_id, Some(mine[0].id));
    // Ours (refused as a duplicate) and the other replica's.
    assert_eq!(app.upstream_calls(&[Operation::CreateSubaccount]).await, 2);
}
