//! `--accept-duplicate-external-ids` (`Config::accept_duplicate_external_ids`)
//! and `GET /__emulator/subaccounts?external_id=X`, which counts the
//! sub-accounts of one external id: what a fleet test needs to prove that
//! its own lock provisions a tenant exactly once.

use crate::helpers::{ORIGIN, body, claims, expect_json, spawn_app, spawn_app_with};
use peliqan_api::dialect::Vars;
use peliqan_api::{Dialect, Operation, SubaccountId};
use peliqan_emulator::{Config, ControlError, SubaccountsWithExternalId};
use reqwest::Method;
use serde_json::json;

fn accepting(dialect: Dialect) -> Config {
    Config {
        allowed_origins: vec![ORIGIN.to_owned()],
        dialect,
        strict_slashes: dialect != Dialect::Seed,
        accept_duplicate_external_ids: true,
        ..Config::default()
    }
}

fn by_external_id(external_id: &str) -> Vars<'_> {
    Vars {
        external_id: Some(external_id),
        ..Vars::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_flag_each_create_makes_another_account_and_lookups_answer_the_lowest_id() {
    for dialect in Dialect::ALL.iter().copied() {
        let app = spawn_app_with(accepting(dialect)).await;
        let partner = app.emulator.partner_token().to_owned();
        let create = || {
            app.call(
                dialect,
                Operation::CreateSubaccount,
                Vars::default(),
                Some(&partner),
                Some(json!({"external_id": "acme"})),
            )
        };
        // Concurrently, as replicas racing to provision would.
        let (a, b, c) = tokio::join!(create(), create(), create());
        let mut ids = Vec::new();
        for res in [a, b, c] {
            assert!(res.status().is_success(), "{dialect}: {}", res.status());
            let account = body(res).await;
            assert_eq!(account["external_id"], "acme", "{dialect}");
            ids.push(SubaccountId(account["id"].as_u64().unwrap()));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3, "{dialect}: three distinct ids");

        let expected = SubaccountsWithExternalId {
            external_id: "acme".to_owned(),
            count: 3,
            ids: ids.clone(),
        };
        let over_http = app
            .send(app.control().subaccounts_with_external_id("acme"))
            .await
            .unwrap();
        assert_eq!(over_http, expected, "{dialect}");
        assert_eq!(
            app.emulator.subaccounts_with_external_id("acme").unwrap(),
            expected,
            "{dialect}: in process"
        );

        // The token by external id is the first account's.
        let token_for = |ext: &'static str| {
            app.call(
                dialect,
                Operation::TokenByExternalId,
                by_external_id(ext),
                Some(&partner),
                None,
            )
        };
        let token = body(token_for("acme").await).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(claims(&token)["subaccount_id"], ids[0].0, "{dialect}");

        // Deleting it makes the next one the answer.
        app.emulator.delete_subaccount(ids[0]).unwrap();
        let token = body(token_for("acme").await).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(claims(&token)["subaccount_id"], ids[1].0, "{dialect}");
        let left = app.emulator.subaccounts_with_external_id("acme").unwrap();
        assert_eq!((left.count, left.ids), (2, ids[1..].to_vec()), "{dialect}");

        let info = app.send(app.control().info()).await.unwrap();
        assert!(info.accept_duplicate_external_ids, "{dialect}");
        assert_eq!(app.emulator.info(), info);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_flag_an_update_may_take_an_external_id_in_use() {
    let app = spawn_app_with(accepting(Dialect::Seed)).await;
    let first = app.create_subaccount("a").await;
    let second = app.create_subaccount("b").await;
    let res = app
        .as_partner(Method::PUT, &format!("/api/subaccount/{second}"))
        .json(&json!({"external_id": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 200).await["external_id"], "a");
    let a = app.emulator.subaccounts_with_external_id("a").unwrap();
    assert_eq!(a.ids, [SubaccountId(first), SubaccountId(second)]);
    assert_eq!(
        app.emulator
            .subaccounts_with_external_id("b")
            .unwrap()
            .count,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_flag_a_duplicate_is_still_refused_and_counted_once() {
    let app = spawn_app().await;
    let id = app.create_subaccount("acme").await;
    let res = app
        .as_partner(Method::POST, "/api/subaccount")
        .json(&json!({"external_id": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let count = app
        .send(app.control().subaccounts_with_external_id("acme"))
        .await
        .unwrap();
    assert_eq!((count.count, count.ids), (1, vec![SubaccountId(id)]));
    let none = app
        .send(app.control().subaccounts_with_external_id("nobody"))
        .await
        .unwrap();
    assert_eq!((none.count, none.ids), (0, vec![]));
    assert!(!app.emulator.info().accept_duplicate_external_ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_count_needs_an_external_id_and_is_never_counted_in_stats() {
    let app = spawn_app().await;
    for path in [
        "/__emulator/subaccounts",
        "/__emulator/subaccounts?external_id=%20",
    ] {
        let res = app.request(Method::GET, path).send().await.unwrap();
        assert_eq!(
            expect_json(res, 400).await,
            json!({"external_id": ["This query parameter is required."]}),
            "{path}"
        );
    }
    let err = app.emulator.subaccounts_with_external_id("").unwrap_err();
    assert!(
        matches!(err, ControlError::Refused { status: 400, .. }),
        "{err}"
    );
    assert_eq!(app.stats().await.total(), 0);
}
