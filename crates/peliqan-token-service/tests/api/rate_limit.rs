//! The per-user rate limit.

use crate::helpers::*;
use std::time::Duration;

#[tokio::test]
async fn a_user_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE".into(), "5".into());
    })
    .await;
    let greedy = jwt(&claims("limited"));
    for _ in 0..5 {
        assert_eq!(app.token(&greedy).await.status(), 200);
    }
    let res = app.token(&greedy).await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    assert_problem(res, 429, "rate_limited").await;
    // Another user of the same tenant has their own budget.
    let mut other = claims("limited");
    other["sub"] = "someone-else".into();
    assert_eq!(app.token(&jwt(&other)).await.status(), 200);
}

#[tokio::test]
async fn the_same_sub_in_two_tenants_has_two_budgets() {
    let app = spawn_app_with(Duration::from_secs(1800), |s| {
        s.insert("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE".into(), "3".into());
    })
    .await;
    // Two login systems (or two tenants of one IdP) may both have a user "1".
    let user_of = |tenant: &str| {
        let mut c = claims(tenant);
        c["sub"] = "1".into();
        jwt(&c)
    };
    let (in_a, in_b) = (user_of("budget_a"), user_of("budget_b"));
    for _ in 0..3 {
        assert_eq!(app.token(&in_a).await.status(), 200);
    }
    assert_problem(app.token(&in_a).await, 429, "rate_limited").await;
    // Tenant B's user "1" was not slowed down by tenant A's.
    for _ in 0..3 {
        assert_eq!(app.token(&in_b).await.status(), 200);
    }
    assert_problem(app.token(&in_b).await, 429, "rate_limited").await;
}
