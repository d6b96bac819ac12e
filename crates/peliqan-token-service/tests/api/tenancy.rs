//! Tenant isolation: the tenant comes only from the verified claim.

use crate::helpers::*;
use peliqan_api::TokenAnswer;
use proptest::prelude::*;
use serde_json::{Value, json};

async fn token_with_extras(
    http: &reqwest::Client,
    url: &str,
    claims: &Value,
    victim: &str,
) -> TokenAnswer {
    // Everything a caller controls besides the signed claims names the victim.
    let res = http
        .post(format!("{url}/v1/token?external_id={victim}"))
        .header("x-external-id", victim)
        .json(&json!({"external_id": victim, "tenant": victim}))
        .bearer_auth(jwt(claims))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_user_of_tenant_a_never_gets_tenant_bs_token() {
    let app = spawn_app().await;
    let b = app.token_for("tenant_b").await;
    let a = token_with_extras(&app.http, &app.url, &claims("tenant_a"), "tenant_b").await;
    assert_eq!(a.external_id.as_str(), "tenant_a");
    assert_ne!(a.subaccount_id, b.subaccount_id);
    // The Peliqan token itself is scoped to tenant A's sub-account.
    let inside = payload(&a.token);
    assert_eq!(inside["external_id"], "tenant_a");
    assert_eq!(
        inside["subaccount_id"].as_u64(),
        a.subaccount_id.map(|id| id.0)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn for_any_claims_the_token_is_for_the_claimed_tenant_only(
        mine in "[a-z][a-z0-9_]{0,12}",
        victim in "[a-z][a-z0-9_]{0,12}",
        decoy_claim in prop::sample::select(vec!["tenant", "org", "external", "tenant_id"]),
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let app = shared_app().await;
            let mut c = claims(&mine);
            c[decoy_claim] = victim.clone().into();
            // A client per case: pooled connections die with each case's runtime.
            let body = token_with_extras(&reqwest::Client::new(), &app.url, &c, &victim).await;
            assert_eq!(body.external_id.as_str(), mine.as_str());
            assert_eq!(payload(&body.token)["external_id"], mine.as_str());
        });
    }
}

/// One app for all proptest cases, on its own long-lived runtime (each case
/// has a short-lived one; the app must outlive them).
async fn shared_app() -> &'static TestApp {
    static APP: std::sync::OnceLock<&'static TestApp> = std::sync::OnceLock::new();
    if let Some(app) = APP.get() {
        return app;
    }
    let app = std::thread::spawn(|| {
        let rt: &'static tokio::runtime::Runtime =
            Box::leak(Box::new(tokio::runtime::Runtime::new().unwrap()));
        let app: &'static TestApp = Box::leak(Box::new(rt.block_on(spawn_app())));
        // Keep the runtime (and so the emulator task) alive forever.
        std::thread::spawn(move || rt.block_on(std::future::pending::<()>()));
        app
    })
    .join()
    .unwrap();
    APP.get_or_init(|| app)
}
