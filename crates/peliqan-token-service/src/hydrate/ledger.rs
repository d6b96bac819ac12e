//! The ledger: which blueprint steps were applied to which sub-account, at
//! which blueprint version, and each tenant's hydration state.
//!
//! It is what makes hydration exactly-once where Peliqan cannot be asked
//! (the seed has no route listing tables or scripts), and what makes
//! `hydrate --all` resumable: a step is marked `started` before its create
//! call and `done` after it; a create Peliqan *answered* with an error is
//! forgotten again (nothing was created). A step left `started` means the
//! process stopped (or the connection broke) while Peliqan may or may not
//! have created it: it is *uncertain*, and is never created again blindly
//! (see [`super::apply`]).
//!
//! Records are keyed by sub-account id, not external id: a tenant whose
//! sub-account was deleted and created anew is hydrated anew.
//!
//! Two stores: an embedded SQLite file (default; `rusqlite` with SQLite
//! built in; tables `steps` and `tenants`) and, when the shared tier is
//! configured, Redis, so a fleet shares one ledger (a hash per sub-account,
//! `peliqan-embed:hydration:<id>`, fields `step:<kind>:<name>` and
//! `tenant`, JSON values). Losing the ledger is covered in the README:
//! where the dialect lists scripts they are found again by name; tables are
//! created again.

use super::blueprint::Kind;
use anyhow::Context;
use parking_lot::Mutex;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Its create call was sent; no answer was recorded.
    Started,
    /// Peliqan created it.
    Done,
}

impl StepState {
    /// `started` or `done`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Done => "done",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "done" {
            Self::Done
        } else {
            Self::Started
        }
    }
}

/// One step of one sub-account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Table or script.
    pub kind: Kind,
    /// Its rendered name.
    pub name: String,
    /// Started or done.
    pub state: StepState,
    /// The blueprint version that applied it.
    pub version: u32,
    /// Peliqan's id of what was created, when known.
    pub peliqan_id: Option<u64>,
    /// When this record was last written (RFC 3339).
    pub at: String,
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Kind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown kind `{s}`")))
    }
}

/// A tenant's hydration state as last recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    /// Peliqan's sub-account id.
    pub subaccount_id: u64,
    /// The partner's id for it.
    pub external_id: String,
    /// `hydrated`, `failed`, `uncertain` or `pending`.
    pub state: String,
    /// The blueprint version of the last attempt.
    pub version: u32,
    /// Attempts so far.
    pub attempts: u32,
    /// The last failure, if the last attempt failed.
    pub error: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// The ledger; cheap to clone.
#[derive(Clone)]
pub enum Ledger {
    /// A local SQLite file.
    Sqlite(Arc<Mutex<Connection>>),
    /// The shared tier's Redis.
    Redis(ConnectionManager),
}

const REDIS_PREFIX: &str = "peliqan-embed:hydration:";
/// Bound on each Redis ledger command; a failure fails the attempt, which
/// is retried.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn step_field(kind: Kind, name: &str) -> String {
    format!("step:{kind}:{name}")
}

impl Ledger {
    /// Opens (creating it and its tables if needed) the SQLite ledger at `path`.
    pub fn sqlite(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the hydration ledger `{}`", path.display()))?;
        // WAL: a crash loses at most the step being written, never the file;
        // the busy timeout lets the service and the CLI share the file.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS steps (
                 account INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
                 state TEXT NOT NULL, version INTEGER NOT NULL, peliqan_id INTEGER,
                 at TEXT NOT NULL, PRIMARY KEY (account, kind, name));
             CREATE TABLE IF NOT EXISTS tenants (
                 account INTEGER PRIMARY KEY, external_id TEXT NOT NULL, state TEXT NOT NULL,
                 version INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT,
                 at TEXT NOT NULL);",
        )
        .with_context(|| format!("cannot set up the hydration ledger `{}`", path.display()))?;
        Ok(Self::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// The ledger in Redis at `url` (the shared tier's).
    pub fn redis(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("the hydration ledger's Redis URL: {:?}", e.kind()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| anyhow::anyhow!("the hydration ledger's Redis: {:?}", e.kind()))?;
        Ok(Self::Redis(conn))
    }

    /// Where it is kept, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Redis(_) => "Redis",
        }
    }

    async fn sql<T: Send + 'static>(
        conn: &Arc<Mutex<Connection>>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let conn = conn.clone();
        tokio::task::spawn_blocking(move || f(&conn.lock()))
            .await
            .context("the ledger task stopped")?
            .context("the hydration ledger (SQLite)")
    }

    async fn redis_do<T>(
        what: &str,
        f: impl Future<Output = redis::RedisResult<T>>,
    ) -> anyhow::Result<T> {
        match tokio::time::timeout(REDIS_TIMEOUT, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(anyhow::anyhow!("the hydration ledger (Redis, {what}): {e}")),
            Err(_) => Err(anyhow::anyhow!(
                "the hydration ledger (Redis, {what}): no answer within {} s",
                REDIS_TIMEOUT.as_secs()
            )),
        }
    }

    /// Every step recorded for `account`.
    pub async fn steps(&self, account: u64) -> anyhow::Result<Vec<StepRecord>> {
        match self {
            Self::Sqlite(conn) => {
                Self::sql(conn, move |c| {
                    let mut stmt = c.prepare_cached(
                        "SELECT kind, name, state, version, peliqan_id, at FROM steps \
                         WHERE account = ?1 ORDER BY kind, name",
                    )?;
                    let rows = stmt.query_map(params![account as i64], |r| {
                        let kind: String = r.get(0)?;
                        let state: String = r.get(2)?;
                        Ok((
                            kind,
                            r.get(1)?,
                            state,
                            r.get(3)?,
                            r.get::<_, Option<i64>>(4)?,
                            r.get(5)?,
                        ))
                    })?;
                    let mut out = Vec::new();
                    for row in rows {
                        let (kind, name, state, version, id, at) = row?;
                        if let Some(kind) = Kind::parse(&kind) {
                            out.push(StepRecord {
                                kind,
                                name,
                                state: StepState::parse(&state),
                                version,
                                peliqan_id: id.map(|i| i as u64),
                                at,
                            });
                        }
                    }
                    Ok(out)
                })
                .await
            }
            Self::Redis(conn) => {
                let mut conn = conn.clone();
                let all: Vec<(String, String)> =
                    Self::redis_do("HGETALL", conn.hgetall(format!("{REDIS_PREFIX}{account}")))
                        .await?;
                Ok(all
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("step:"))
                    .filter_map(|(_, v)| serde_json::from_str(&v).ok())
                    .collect())
            }
        }
    }

    /// Records a step as `state` (a `Done` replaces a `Started`).
    pub async fn mark(
        &self,
        account: u64,
        kind: Kind,
        name: &str,
        state: StepState,
        version: u32,
        peliqan_id: Option<u64>,
    ) -> anyhow::Result<()> {
        let record = StepRecord {
            kind,
            name: name.to_owned(),
            state,
            version,
            peliqan_id,
            at: now(),
        };
        match self {
            Self::Sqlite(conn) => {
                Self::sql(conn, move |c| {
                    c.prepare_cached(
                        "INSERT OR REPLACE INTO steps \
                         (account, kind, name, state, version, peliqan_id, at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        account as i64,
                        record.kind.as_str(),
                        record.name,
                        record.state.as_str(),
                        record.version,
                        record.peliqan_id.map(|i| i as i64),
                        record.at
                    ])
                    .map(drop)
                })
                .await
            }
            Self::Redis(conn) => {
                let mut conn = conn.clone();
                let json = serde_json::to_string(&record)?;
                let key = format!("{REDIS_PREFIX}{account}");
                let field = step_field(kind, name);
                Self::redis_do("HSET", conn.hset::<_, _, _, ()>(key, field, json)).await
            }
        }
    }

    /// Forgets a step (its create was refused: nothing exists).
    pub async fn forget(&self, account: u64, kind: Kind, name: &str) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(conn) => {
                let name = name.to_owned();
                Self::sql(conn, move |c| {
                    c.prepare_cached(
                        "DELETE FROM steps WHERE account = ?1 AND kind = ?2 AND name = ?3",
                    )?
                    .execute(params![account as i64, kind.as_str(), name])
                    .map(drop)
                })
                .await
            }
            Self::Redis(conn) => {
                let mut conn = conn.clone();
                let key = format!("{REDIS_PREFIX}{account}");
                Self::redis_do("HDEL", conn.hdel::<_, _, ()>(key, step_field(kind, name))).await
            }
        }
    }

    /// Records the outcome of an attempt for a tenant (attempts + 1).
    pub async fn record(
        &self,
        account: u64,
        external_id: &str,
        state: &str,
        version: u32,
        error: Option<String>,
    ) -> anyhow::Result<()> {
        let attempts = self.tenant(account).await?.map_or(0, |t| t.attempts) + 1;
        let record = TenantRecord {
            subaccount_id: account,
            external_id: external_id.to_owned(),
            state: state.to_owned(),
            version,
            attempts,
            error,
            at: now(),
        };
        match self {
            Self::Sqlite(conn) => {
                Self::sql(conn, move |c| {
                    c.prepare_cached(
                        "INSERT OR REPLACE INTO tenants \
                         (account, external_id, state, version, attempts, error, at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        account as i64,
                        record.external_id,
                        record.state,
                        record.version,
                        record.attempts,
                        record.error,
                        record.at
                    ])
                    .map(drop)
                })
                .await
            }
            Self::Redis(conn) => {
                let mut conn = conn.clone();
                let json = serde_json::to_string(&record)?;
                let key = format!("{REDIS_PREFIX}{account}");
                Self::redis_do("HSET", conn.hset::<_, _, _, ()>(key, "tenant", json)).await
            }
        }
    }

    /// A tenant's last recorded state.
    pub async fn tenant(&self, account: u64) -> anyhow::Result<Option<TenantRecord>> {
        match self {
            Self::Sqlite(conn) => {
                Self::sql(conn, move |c| {
                    c.prepare_cached(
                        "SELECT external_id, state, version, attempts, error, at FROM tenants \
                         WHERE account = ?1",
                    )?
                    .query_row(params![account as i64], |r| {
                        Ok(TenantRecord {
                            subaccount_id: account,
                            external_id: r.get(0)?,
                            state: r.get(1)?,
                            version: r.get(2)?,
                            attempts: r.get(3)?,
                            error: r.get(4)?,
                            at: r.get(5)?,
                        })
                    })
                    .optional()
                })
                .await
            }
            Self::Redis(conn) => {
                let mut conn = conn.clone();
                let key = format!("{REDIS_PREFIX}{account}");
                let json: Option<String> = Self::redis_do("HGET", conn.hget(key, "tenant")).await?;
                Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
            }
        }
    }
}
