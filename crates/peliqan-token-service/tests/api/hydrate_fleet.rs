//! Hydration in a fleet: three replicas sharing a real `redis-server`, in
//! front of an emulator that *accepts* duplicate `external_id`s (so only
//! the fleet-wide lock makes one sub-account). A new tenant hit on every
//! replica at once is provisioned and hydrated exactly once, and its
//! state is in the Redis ledger, where the operator CLI reads it.

use crate::cli::run;
use crate::helpers::{base_settings, emulator_config, jwt, spawn_app_on};
use crate::hydrate::{Workdir, blueprint_in};
use crate::redis_server::RedisServer;
use peliqan_token_service::Application;
use peliqan_token_service::settings::Settings;
use std::collections::BTreeMap;
use std::time::Duration;

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

#[tokio::test]
async fn a_new_tenant_hit_on_three_replicas_at_once_is_hydrated_once_with_the_ledger_in_redis() {
    let redis = RedisServer::new();
    let dir = Workdir::new("fleet");
    let blueprint = blueprint_in(&dir).display().to_string();
    let shared = |map: &mut BTreeMap<String, String>| {
        map.insert("TOKEN_SERVICE_REDIS_URL".into(), redis.url());
        map.insert("TOKEN_SERVICE_CACHE_KEY".into(), KEY.into());
        map.insert("TOKEN_SERVICE_BLUEPRINT_FILE".into(), blueprint.clone());
        // Never used with Redis: proven by its absence afterwards.
        let unused = dir.path("unused.sqlite3").display().to_string();
        map.insert("TOKEN_SERVICE_HYDRATION_LEDGER_FILE".into(), unused);
    };
    let config = peliqan_emulator::Config {
        accept_duplicate_external_ids: true,
        ..emulator_config(Duration::from_secs(1800))
    };
    let first = spawn_app_on(config, |map, _| shared(map)).await;
    let mut urls = vec![first.url.clone()];
    for _ in 0..2 {
        let mut map = base_settings(&first.emulator);
        map.insert(
            "PELIQAN_API_DIALECT".into(),
            first.routes.dialect().name().into(),
        );
        shared(&mut map);
        let app = Application::build(Settings::from_map(&map).unwrap())
            .await
            .unwrap();
        urls.push(app.url());
        tokio::spawn(app.run_until_stopped());
    }
    // A slow create keeps the replicas' first requests together.
    first.fault(peliqan_emulator::Fault::delay("/", 30)).await;
    let token = jwt(&first.claims("fleet_co"));
    let requests = (0..150).map(|i| {
        first
            .http
            .post(format!("{}/v1/token", urls[i % urls.len()]))
            .bearer_auth(&token)
            .send()
    });
    for res in futures::future::join_all(requests).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    first.clear_faults().await;
    assert_eq!(
        first
            .emulator
            .subaccounts_with_external_id("fleet_co")
            .unwrap()
            .count,
        1
    );
    let assets = first.emulator.assets(Some("fleet_co"));
    let account = assets.of("fleet_co").unwrap();
    assert_eq!((account.tables.len(), account.scripts.len()), (1, 1));

    let mut env = base_settings(&first.emulator);
    shared(&mut env);
    let r = run(&env, &["tenants", "show", "fleet_co", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let show = r.json();
    assert_eq!(show["hydration"]["state"], "hydrated", "{show}");
    assert_eq!(show["steps"].as_array().unwrap().len(), 2, "{show}");
    // The CLI re-running the blueprint over the fleet's ledger adds nothing.
    let r = run(
        &env,
        &["hydrate", "--blueprint", &blueprint, "--all", "--json"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["ledger"], "Redis");
    assert_eq!(r.json()["summary"]["unchanged"], 1);
    assert!(first.emulator.assets(None).duplicates().is_empty());
    assert!(!dir.path("unused.sqlite3").exists());
}
