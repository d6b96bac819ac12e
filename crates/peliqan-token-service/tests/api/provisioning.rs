//! Auto-provisioning: exactly one sub-account, even under concurrency.

use crate::helpers::*;
use peliqan_client::Operation;

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
