//! A fleet of three replicas sharing one real `redis-server` (the shared
//! tier): one upstream call per cold burst, one sub-account per new tenant
//! against an emulator that *accepts* duplicate `external_id`s (so only the
//! service's lock can make it one), a vanished lock holder, Redis stopped
//! and restarted under load, a forced refresh reaching every replica, and
//! tokens unreadable in Redis without the cache key.

use crate::helpers::*;
use crate::redis_server::RedisServer;
use peliqan_api::clock::{Clock, ManualClock};
use peliqan_client::Operation;
use peliqan_token_service::settings::Settings;
use peliqan_token_service::shared::crypto::{Kind, name};
use peliqan_token_service::startup::Application;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const OTHER_KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";

/// Replicas sharing `redis`, all in front of the first one's emulator.
struct Fleet {
    first: TestApp,
    urls: Vec<String>,
}

fn shared_settings(map: &mut BTreeMap<String, String>, redis: &RedisServer, key: &str) {
    map.insert("TOKEN_SERVICE_REDIS_URL".into(), redis.url());
    map.insert("TOKEN_SERVICE_CACHE_KEY".into(), key.into());
    // A debug build under a 1,000-request burst, on a CI machine running
    // other tests, can take longer than the default 0.25 s to get a Redis
    // answer through; a replica would then go degraded and (rightly) call
    // Peliqan itself. These tests are about the shared tier working.
    map.insert("TOKEN_SERVICE_REDIS_TIMEOUT_SECS".into(), "2".into());
}

async fn fleet(redis: &RedisServer, replicas: usize) -> Fleet {
    fleet_with(redis, replicas, |_| {}).await
}

/// [`fleet`], every replica's settings changed by `tweak`.
async fn fleet_with(
    redis: &RedisServer,
    replicas: usize,
    tweak: impl Fn(&mut BTreeMap<String, String>),
) -> Fleet {
    fleet_on_clock(redis, replicas, None, tweak).await
}

/// [`fleet_with`], every replica reading time from `clock` (the system
/// clock when `None`).
async fn fleet_on_clock(
    redis: &RedisServer,
    replicas: usize,
    clock: Option<Arc<ManualClock>>,
    tweak: impl Fn(&mut BTreeMap<String, String>),
) -> Fleet {
    let config = peliqan_emulator::Config {
        accept_duplicate_external_ids: true,
        ..emulator_config(Duration::from_secs(1800))
    };
    let first = spawn_app_on_clock(config, clock.clone(), |map, _| {
        shared_settings(map, redis, KEY);
        tweak(map);
    })
    .await;
    let mut urls = vec![first.url.clone()];
    for _ in 1..replicas {
        urls.push(replica_on_clock(&first, redis, KEY, &tweak, clock.clone()).await);
    }
    Fleet { first, urls }
}

/// A fleet for the per-minute rate limit: on one manual clock, set to the
/// first second of a minute and left there, so no minute ends mid-test
/// (counts and refusals are per clock minute).
async fn fleet_in_one_minute(
    redis: &RedisServer,
    replicas: usize,
    tweak: impl Fn(&mut BTreeMap<String, String>),
) -> Fleet {
    let clock = ManualClock::new();
    let into_minute = clock
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    clock.advance(Duration::from_secs(61 - into_minute));
    fleet_on_clock(redis, replicas, Some(clock), tweak).await
}

/// One more replica in front of `first`'s emulator, sealing with `key`.
async fn replica(first: &TestApp, redis: &RedisServer, key: &str) -> String {
    replica_with(first, redis, key, &|_| {}).await
}

async fn replica_with(
    first: &TestApp,
    redis: &RedisServer,
    key: &str,
    tweak: &dyn Fn(&mut BTreeMap<String, String>),
) -> String {
    replica_on_clock(first, redis, key, tweak, None).await
}

async fn replica_on_clock(
    first: &TestApp,
    redis: &RedisServer,
    key: &str,
    tweak: &dyn Fn(&mut BTreeMap<String, String>),
    clock: Option<Arc<ManualClock>>,
) -> String {
    let mut map = base_settings(&first.emulator);
    tweak(&mut map);
    map.insert(
        "PELIQAN_API_DIALECT".into(),
        first.routes.dialect().name().into(),
    );
    shared_settings(&mut map, redis, key);
    let settings = Settings::from_map(&map).expect("valid settings");
    let app = match clock {
        Some(clock) => Application::build_with_clock(settings, clock).await,
        None => Application::build(settings).await,
    }
    .expect("replica builds");
    let url = app.url();
    tokio::spawn(app.run_until_stopped());
    url
}

impl Fleet {
    /// `POST /v1/token` on replica `i`.
    async fn token_on(&self, i: usize, jwt: &str) -> reqwest::Response {
        self.first
            .http
            .post(format!("{}/v1/token", self.urls[i % self.urls.len()]))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap()
    }

    /// `n` token requests for `jwt` spread over the replicas, all at once;
    /// their statuses.
    async fn burst(&self, jwt: &str, n: usize) -> Vec<u16> {
        let requests = (0..n).map(|i| self.token_on(i, jwt));
        futures::future::join_all(requests)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect()
    }

    async fn token_text_on(&self, i: usize, jwt: &str) -> String {
        let res = self.token_on(i, jwt).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Replica `i`'s `/metrics` text.
    async fn metrics(&self, i: usize) -> String {
        metrics_text_of(&self.first.http, &self.urls[i]).await
    }
}

fn all_ok(statuses: &[u16]) -> bool {
    statuses.iter().all(|s| *s == 200)
}

async fn redis_command(redis: &RedisServer, args: &[&str]) -> redis::Value {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(&mut c).await.unwrap()
}

#[tokio::test]
async fn a_cold_burst_of_1000_over_three_replicas_makes_one_upstream_call() {
    let redis = RedisServer::new();
    let fleet = fleet(&redis, 3).await;
    fleet.first.provision("burst_tenant").await;
    // A slow Peliqan keeps the burst's requests waiting together.
    let slow = peliqan_emulator::Fault::delay(fleet.first.token_prefix(), 200);
    fleet.first.fault(slow).await;
    let statuses = fleet.burst(&jwt(&claims("burst_tenant")), 1000).await;
    assert!(all_ok(&statuses), "{statuses:?}");
    assert_eq!(fleet.first.upstream_token_calls().await, 1);
}

#[tokio::test]
async fn a_new_tenant_hit_on_every_replica_at_once_is_provisioned_once() {
    let redis = RedisServer::new();
    let fleet = fleet(&redis, 3).await;
    // Slow lookups, so every replica would be past its "not found" before
    // any create landed: without the fleet's lock, one create per replica.
    let slow = peliqan_emulator::Fault::delay(fleet.first.token_prefix(), 300);
    fleet.first.fault(slow).await;
    let statuses = fleet.burst(&jwt(&claims("fleet_new")), 60).await;
    assert!(all_ok(&statuses), "{statuses:?}");
    // The emulator would have created one per replica: only the lock made it one.
    let found = fleet
        .first
        .emulator
        .subaccounts_with_external_id("fleet_new")
        .unwrap();
    assert_eq!(found.count, 1, "{:?}", found.ids);
    assert_eq!(
        fleet
            .first
            .upstream_calls(&[Operation::CreateSubaccount])
            .await,
        1
    );
}

#[tokio::test]
async fn a_lock_holder_that_vanished_delays_the_fleet_only_until_its_lock_expires() {
    let redis = RedisServer::new();
    let fleet = fleet(&redis, 3).await;
    fleet.first.provision("orphaned").await;
    // A replica took the lock and died before storing anything.
    let lock = name(Kind::Lock, &"orphaned".into());
    redis_command(&redis, &["SET", &lock, "a-dead-replica", "PX", "1500"]).await;
    let started = Instant::now();
    let statuses = fleet.burst(&jwt(&claims("orphaned")), 30).await;
    let waited = started.elapsed();
    assert!(all_ok(&statuses), "{statuses:?}");
    assert_eq!(
        fleet.first.upstream_token_calls().await,
        1,
        "one replica took over"
    );
    assert!(
        waited >= Duration::from_millis(1400),
        "nobody fetched under the dead lock: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(5),
        "taken over once it expired: {waited:?}"
    );
}

#[tokio::test]
async fn redis_stopped_under_load_costs_no_errors_and_the_fleet_shares_again_after() {
    let mut redis = RedisServer::new();
    let fleet = fleet(&redis, 3).await;
    let tenants: Vec<String> = (0..10).map(|i| format!("warm_{i}")).collect();
    for (i, t) in tenants.iter().enumerate() {
        fleet.first.provision(t).await;
        for r in 0..3 {
            assert_eq!(fleet.token_on(r + i, &jwt(&claims(t))).await.status(), 200);
        }
    }
    redis.stop();
    // Cached tenants: every request answered, from each replica's first tier.
    let mut statuses = Vec::new();
    for t in &tenants {
        statuses.extend(fleet.burst(&jwt(&claims(t)), 30).await);
    }
    assert!(all_ok(&statuses), "{statuses:?}");
    // A tenant no replica holds still works: each replica fetches on its own.
    fleet.first.provision("during_outage").await;
    assert!(all_ok(
        &fleet.burst(&jwt(&claims("during_outage")), 6).await
    ));
    assert!(
        fleet
            .metrics(0)
            .await
            .contains("token_service_shared_tier_degraded 1")
    );

    redis.start();
    // Requests probe Redis (once a second); the fleet converges by itself.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut probe = 0;
    loop {
        probe += 1;
        let t = format!("probe_{probe}");
        fleet.first.provision(&t).await;
        for r in 0..3 {
            fleet.token_on(r, &jwt(&claims(&t))).await;
        }
        let mut healthy = true;
        for r in 0..3 {
            healthy &= fleet
                .metrics(r)
                .await
                .contains("token_service_shared_tier_degraded 0");
        }
        if healthy {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fleet never used Redis again"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    fleet.first.provision("after_outage").await;
    let before = fleet.first.upstream_token_calls().await;
    assert!(all_ok(
        &fleet.burst(&jwt(&claims("after_outage")), 90).await
    ));
    assert_eq!(
        fleet.first.upstream_token_calls().await - before,
        1,
        "shared again"
    );
}

#[tokio::test]
async fn a_forced_refresh_on_one_replica_reaches_the_others() {
    let redis = RedisServer::new();
    let fleet = fleet(&redis, 3).await;
    fleet.first.provision("forced_fleet").await;
    let user = jwt(&claims("forced_fleet"));
    let old = fleet.token_text_on(0, &user).await;
    for r in 1..3 {
        assert_eq!(fleet.token_text_on(r, &user).await, old);
    }
    let res = fleet
        .first
        .http
        .post(format!("{}/v1/token", fleet.urls[0]))
        .bearer_auth(&user)
        .json(&serde_json::json!({ "rejected_token": old }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new: serde_json::Value = res.json().await.unwrap();
    let new = new["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    // The other replicas drop the old token from their first tier within a second.
    let deadline = Instant::now() + Duration::from_secs(1);
    for r in 1..3 {
        loop {
            let seen = fleet.token_text_on(r, &user).await;
            if seen == new {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replica {r} still serves the rejected token"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    assert_eq!(
        fleet.first.upstream_token_calls().await,
        2,
        "one fetch, one forced fetch"
    );
}

#[tokio::test]
async fn tokens_in_redis_are_unreadable_without_the_cache_key() {
    let redis = RedisServer::new();
    let fleet = fleet(&redis, 1).await;
    fleet.first.provision("sealed").await;
    let user = jwt(&claims("sealed"));
    let token = fleet.token_text_on(0, &user).await;
    let stored = redis_command(&redis, &["GET", &name(Kind::Token, &"sealed".into())]).await;
    let redis::Value::BulkString(bytes) = stored else {
        panic!("no token in Redis: {stored:?}");
    };
    let payload = token.split('.').nth(1).unwrap();
    assert!(
        !bytes
            .windows(payload.len())
            .any(|w| w == payload.as_bytes()),
        "the token is stored in the clear"
    );
    let dump = redis_command(&redis, &["KEYS", "*"]).await;
    assert!(
        !format!("{dump:?}").contains("sealed"),
        "key names name the tenant: {dump:?}"
    );
    // A replica with another key cannot use it: it fetches its own.
    let stranger = replica(&fleet.first, &redis, OTHER_KEY).await;
    let res = fleet
        .first
        .http
        .post(format!("{stranger}/v1/token"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(fleet.first.upstream_token_calls().await, 2);
}

/// The fleet's request count in Redis for the one limited user.
async fn counted(redis: &RedisServer) -> u64 {
    let redis::Value::Array(keys) = redis_command(redis, &["KEYS", "peliqan-embed:rate:*"]).await
    else {
        return 0;
    };
    let mut total = 0;
    for k in keys {
        let redis::Value::BulkString(k) = k else {
            continue;
        };
        let key = String::from_utf8(k).unwrap();
        if let redis::Value::BulkString(v) = redis_command(redis, &["GET", &key]).await {
            total += String::from_utf8(v).unwrap().parse::<u64>().unwrap();
        }
    }
    total
}

/// Waits until Redis has counted `n` requests (each replica flushes its
/// counts every 200 ms).
async fn until_counted(redis: &RedisServer, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while counted(redis).await < n {
        assert!(
            Instant::now() < deadline,
            "Redis never counted {n} requests"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_per_user_rate_limit_holds_across_the_fleet() {
    let redis = RedisServer::new();
    let fleet = fleet_in_one_minute(&redis, 3, |map| {
        map.insert("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE".into(), "5".into());
    })
    .await;
    fleet.first.provision("limited").await;
    let user = jwt(&claims("limited"));
    // Three requests on each replica: within each replica's own limit of
    // five, but nine for the fleet.
    for i in 0..9 {
        assert_eq!(fleet.token_on(i, &user).await.status(), 200, "request {i}");
    }
    until_counted(&redis, 9).await;
    // A replica learns the fleet's count when it adds its own: at most
    // one more request each, then every replica refuses the user, though
    // none has served five.
    let mut served = 0;
    for r in 0..3 {
        served += u64::from(fleet.token_on(r, &user).await.status() == 200);
    }
    until_counted(&redis, 9 + served).await;
    if served > 0 {
        // The replicas that admitted one have flushed it and seen the total.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for r in 0..3 {
        assert_eq!(fleet.token_on(r, &user).await.status(), 429, "replica {r}");
    }
    // Another user of the same tenant is not affected.
    let mut other = claims("limited");
    other["sub"] = "someone-else".into();
    assert_eq!(fleet.token_on(0, &jwt(&other)).await.status(), 200);
}

#[tokio::test]
async fn users_far_from_the_limit_stay_off_redis_and_the_fleet_still_stops_a_busy_one() {
    let redis = RedisServer::new();
    // 32 a minute: each replica holds back a user's first 32 / 16 = 2.
    let fleet = fleet_in_one_minute(&redis, 3, |map| {
        map.insert("TOKEN_SERVICE_RATE_LIMIT_PER_MINUTE".into(), "32".into());
    })
    .await;
    fleet.first.provision("busy").await;
    let user = jwt(&claims("busy"));
    let mut local = [0u64; 3];
    let reported = |local: &[u64; 3]| local.iter().filter(|n| **n > 2).sum::<u64>();
    for i in 0..6 {
        assert_eq!(fleet.token_on(i, &user).await.status(), 200, "request {i}");
        local[i % 3] += 1;
    }
    // The third request on one replica reports it with the two held back,
    // while the other replicas still hold theirs.
    assert_eq!(fleet.token_on(0, &user).await.status(), 200);
    local[0] += 1;
    until_counted(&redis, 3).await;
    assert_eq!(counted(&redis).await, 3, "only the busy replica's count");
    // Round robin, each request waiting for its count to reach Redis, until
    // every replica refuses: far fewer than the 3 x 32 the replicas' own
    // limits would let through.
    let mut refused = [false; 3];
    for i in 0..200 {
        let r = i % 3;
        match fleet.token_on(r, &user).await.status().as_u16() {
            200 => {
                local[r] += 1;
                until_counted(&redis, reported(&local)).await;
            }
            429 => refused[r] = true,
            other => panic!("answered {other}"),
        }
        if refused.iter().all(|r| *r) {
            break;
        }
    }
    assert!(
        refused.iter().all(|r| *r),
        "the fleet never stopped the user"
    );
    let served: u64 = local.iter().sum();
    assert!(
        (32..=32 + 3 * 2 + 3).contains(&served),
        "served {served} in a minute against a limit of 32"
    );
}
