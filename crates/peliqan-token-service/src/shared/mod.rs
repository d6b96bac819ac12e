//! The fleet's shared tier on Redis (`TOKEN_SERVICE_REDIS_URL`).
//!
//! Each replica keeps its moka cache as the first tier: a hit never touches
//! the network. Redis is the second tier, shared by the fleet: tokens
//! (sealed, see [`crypto`]) with a TTL equal to their validity, a per-tenant
//! fetch lock so one replica in the fleet calls Peliqan while the others
//! wait for its result, "no such tenant" notes, and a pub/sub channel on
//! which a replica announces a token it replaced (forced refresh), so every
//! replica's first tier drops the old one within a second.
//!
//! Redis trouble never reaches users: every command has a bounded timeout,
//! and a failure marks the tier degraded (one log line, the
//! `token_service_shared_tier_degraded` gauge) and makes every caller go on
//! without it (first tier, per-replica single flight) until a probe a
//! second later succeeds; then the fleet converges by itself.
//!
//! The client is `redis` (redis-rs): the maintained Redis client for Rust,
//! with a reconnecting async connection (`ConnectionManager`), pub/sub,
//! scripts and TLS through rustls (`rediss://`).

pub mod crypto;
pub mod rate;

use crate::metrics::Metrics;
use crate::settings::SharedTierSettings;
use crypto::{CHANNEL, Kind, Sealer, name};
use futures::StreamExt;
use peliqan_api::{ExternalId, SubaccountToken};
use rand::RngCore;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Releases the lock only if this replica still holds it (it may have
/// expired and been taken by another replica meanwhile).
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// How long a degraded tier is left alone before the next try.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// What a replica announces on [`CHANNEL`].
#[derive(Serialize, Deserialize)]
struct Replaced {
    tenant: ExternalId,
    token: SubaccountToken,
}

/// What a waiter sees of another replica's fetch.
pub struct Seen {
    /// The tenant's token in Redis, if readable.
    pub token: Option<SubaccountToken>,
    /// A replica noted that Peliqan has no such tenant.
    pub unknown: bool,
    /// The lock is held (the fetch is still running).
    pub locked: bool,
}

/// The connection to the shared tier and its health.
pub struct SharedTier {
    client: redis::Client,
    conn: ConnectionManager,
    sealer: Sealer,
    timeout: Duration,
    /// This replica's lock value, so it only ever releases its own lock.
    owner: String,
    /// How long a lock lives: longer than one fetch from Peliqan with its
    /// retries, so only a dead holder lets it expire.
    pub lock_ttl: Duration,
    degraded: AtomicBool,
    /// While degraded: milliseconds after `started` of the next try.
    next_try_ms: AtomicU64,
    started: Instant,
    metrics: Arc<Metrics>,
}

impl SharedTier {
    /// A tier on `settings`' Redis; connects lazily, so a Redis that is
    /// down at startup only means starting degraded.
    pub fn new(
        settings: &SharedTierSettings,
        lock_ttl: Duration,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<Self>> {
        let client = redis::Client::open(settings.redis_url.expose()).map_err(|e| {
            anyhow::anyhow!("TOKEN_SERVICE_REDIS_URL is not usable: {:?}", e.kind())
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(PROBE_EVERY);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| anyhow::anyhow!("the shared tier: {:?}", e.kind()))?;
        let mut id = [0u8; 12];
        rand::rng().fill_bytes(&mut id);
        Ok(Arc::new(Self {
            client,
            conn,
            sealer: Sealer::new(&settings.cache_keys),
            timeout: settings.timeout,
            owner: crypto::digest(&[&format!("{id:?}")]),
            lock_ttl,
            degraded: AtomicBool::new(false),
            next_try_ms: AtomicU64::new(0),
            started: Instant::now(),
            metrics,
        }))
    }

    /// Runs one Redis command with the bounded timeout; `None` when the
    /// tier is degraded or the command failed (which degrades it).
    async fn run<T>(
        &self,
        what: &str,
        command: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let now_ms = self.started.elapsed().as_millis() as u64;
        if self.degraded.load(Ordering::Relaxed) {
            let next = self.next_try_ms.load(Ordering::Relaxed);
            // One caller at a time probes; the others go on without Redis.
            if now_ms < next
                || self
                    .next_try_ms
                    .compare_exchange(
                        next,
                        now_ms + PROBE_EVERY.as_millis() as u64,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
            {
                return None;
            }
        }
        let why = match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(v)) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    self.metrics.shared_tier_degraded(false);
                    tracing::info!(
                        "the shared tier (Redis) answers again; the fleet shares tokens again"
                    );
                }
                return Some(v);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} ms", self.timeout.as_millis()),
        };
        self.next_try_ms
            .store(now_ms + PROBE_EVERY.as_millis() as u64, Ordering::Relaxed);
        if !self.degraded.swap(true, Ordering::Relaxed) {
            self.metrics.shared_tier_degraded(true);
            tracing::warn!(
                command = what,
                error = %why,
                "the shared tier (Redis) is DEGRADED: each replica serves from its own cache and \
                 fetches on its own until Redis answers again (checked every second)"
            );
        }
        None
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The tenant's token, if the fleet has a readable one.
    pub async fn token(&self, tenant: &ExternalId) -> Option<SubaccountToken> {
        let key = name(Kind::Token, tenant);
        let mut c = self.conn();
        let value: Option<Vec<u8>> = self
            .run("GET", redis::cmd("GET").arg(&key).query_async(&mut c))
            .await?;
        self.read_token(&key, &value?)
    }

    fn read_token(&self, key: &str, sealed: &[u8]) -> Option<SubaccountToken> {
        let plain = self.sealer.open(key, sealed);
        if plain.is_none() {
            self.metrics.shared_tier("unreadable");
            tracing::warn!(
                "a token in the shared tier cannot be opened with TOKEN_SERVICE_CACHE_KEY (another \
                 key, or altered); fetching a new one"
            );
        }
        serde_json::from_slice(&plain?).ok()
    }

    /// Stores the tenant's token for `ttl` (its validity).
    pub async fn store(&self, tenant: &ExternalId, token: &SubaccountToken, ttl: Duration) {
        let ms = ttl.as_millis() as u64;
        if ms == 0 {
            return;
        }
        let key = name(Kind::Token, tenant);
        let sealed = self
            .sealer
            .seal(&key, &serde_json::to_vec(token).unwrap_or_default());
        let mut c = self.conn();
        let set = redis::cmd("SET")
            .arg(&key)
            .arg(sealed)
            .arg("PX")
            .arg(ms)
            .clone();
        self.run("SET", set.query_async::<()>(&mut c)).await;
    }

    /// Tries to take the tenant's fetch lock: `Some(true)` taken,
    /// `Some(false)` held by another replica, `None` tier unavailable.
    pub async fn claim(&self, tenant: &ExternalId) -> Option<bool> {
        let mut c = self.conn();
        let mut set = redis::cmd("SET");
        set.arg(name(Kind::Lock, tenant))
            .arg(&self.owner)
            .arg("NX")
            .arg("PX")
            .arg(self.lock_ttl.as_millis() as u64);
        let answer: Option<String> = self.run("SET NX", set.query_async(&mut c)).await?;
        Some(answer.is_some())
    }

    /// Releases the tenant's lock if this replica holds it.
    pub async fn release(&self, tenant: &ExternalId) {
        let mut c = self.conn();
        let script = redis::Script::new(RELEASE);
        let mut call = script.key(name(Kind::Lock, tenant));
        call.arg(&self.owner);
        self.run("release", call.invoke_async::<i64>(&mut c)).await;
    }

    /// What another replica's fetch for `tenant` has left, in one round trip.
    pub async fn look(&self, tenant: &ExternalId) -> Option<Seen> {
        let (token, unknown, lock) = (
            name(Kind::Token, tenant),
            name(Kind::Unknown, tenant),
            name(Kind::Lock, tenant),
        );
        let mut c = self.conn();
        let mget = redis::cmd("MGET")
            .arg(&token)
            .arg(&unknown)
            .arg(&lock)
            .clone();
        let values: Vec<Option<Vec<u8>>> = self.run("MGET", mget.query_async(&mut c)).await?;
        let mut values = values.into_iter();
        let (t, u, l) = (
            values.next().flatten(),
            values.next().flatten(),
            values.next().flatten(),
        );
        Some(Seen {
            token: t.and_then(|t| self.read_token(&token, &t)),
            unknown: u.is_some(),
            locked: l.is_some(),
        })
    }

    /// Notes for `ttl` that Peliqan has no sub-account for `tenant`.
    pub async fn note_unknown(&self, tenant: &ExternalId, ttl: Duration) {
        let ms = ttl.as_millis() as u64;
        if ms == 0 {
            return;
        }
        let mut c = self.conn();
        let set = redis::cmd("SET")
            .arg(name(Kind::Unknown, tenant))
            .arg(1)
            .arg("PX")
            .arg(ms)
            .clone();
        self.run("SET unknown", set.query_async::<()>(&mut c)).await;
    }

    /// Whether a replica noted `tenant` as unknown (and the note lives).
    pub async fn is_unknown(&self, tenant: &ExternalId) -> bool {
        let mut c = self.conn();
        let exists = redis::cmd("EXISTS")
            .arg(name(Kind::Unknown, tenant))
            .clone();
        self.run("EXISTS", exists.query_async::<bool>(&mut c))
            .await
            .unwrap_or(false)
    }

    /// Forgets that `tenant` was unknown (its sub-account was just created).
    pub async fn forget_unknown(&self, tenant: &ExternalId) {
        let mut c = self.conn();
        let del = redis::cmd("DEL").arg(name(Kind::Unknown, tenant)).clone();
        self.run("DEL", del.query_async::<()>(&mut c)).await;
    }

    /// Adds each `(key, count)` to its counter (kept `ttl`); the new totals.
    pub async fn add_counts(&self, counts: &[(String, u64)], ttl: Duration) -> Option<Vec<u64>> {
        let mut pipe = redis::pipe();
        for (key, n) in counts {
            pipe.cmd("INCRBY").arg(key).arg(*n);
            pipe.cmd("PEXPIRE")
                .arg(key)
                .arg(ttl.as_millis() as u64)
                .ignore();
        }
        let mut c = self.conn();
        self.run("INCRBY", pipe.query_async::<Vec<u64>>(&mut c))
            .await
    }

    /// Tells every replica that `tenant`'s token was replaced by `token`.
    pub async fn announce(&self, tenant: &ExternalId, token: &SubaccountToken) {
        let message = Replaced {
            tenant: tenant.clone(),
            token: token.clone(),
        };
        let sealed = self
            .sealer
            .seal(CHANNEL, &serde_json::to_vec(&message).unwrap_or_default());
        let mut c = self.conn();
        let publish = redis::cmd("PUBLISH").arg(CHANNEL).arg(sealed).clone();
        self.run("PUBLISH", publish.query_async::<i64>(&mut c))
            .await;
    }

    /// Runs `replaced(tenant, token)` for every replacement another
    /// replica announces, for as long as this tier lives; subscribes again
    /// after Redis trouble.
    pub fn listen<F, Fut>(self: &Arc<Self>, replaced: F)
    where
        F: Fn(ExternalId, SubaccountToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let tier = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(t) = tier.upgrade() else { return };
                let client = t.client.clone();
                drop(t);
                if let Ok(mut pubsub) = client.get_async_pubsub().await
                    && pubsub.subscribe(CHANNEL).await.is_ok()
                {
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Some(t) = tier.upgrade() else { return };
                        let opened = t.sealer.open(CHANNEL, msg.get_payload_bytes());
                        drop(t);
                        if let Some(m) =
                            opened.and_then(|p| serde_json::from_slice::<Replaced>(&p).ok())
                        {
                            replaced(m.tenant, m.token).await;
                        }
                    }
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
        });
    }
}
