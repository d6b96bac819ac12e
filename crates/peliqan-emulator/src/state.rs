//! Everything the emulator remembers, behind one lock.
//!
//! Like stripe-mock and wiremock, all state lives in one struct behind one
//! `parking_lot::Mutex`: handlers lock, read or change, and unlock without
//! awaiting, so routes can never disagree about what exists.
//! [`EmulatorState`] adds what never changes after start (keys, partner
//! token, settings, the clock) and is
//! shared with every actix worker as `web::Data<EmulatorState>`.

use crate::Config;
use crate::control_api::Fault;
use crate::credentials::ClientCredentials;
use crate::error::Envelope;
use crate::routing::RouteTable;
use crate::servertypes;
use crate::tokens::{Keys, Scope};
use parking_lot::Mutex;
use peliqan_api::clock::{Clock, ManualClock, SharedClock, SystemClock};
use peliqan_api::{
    ConnectionLogEntry, Dialect, Interface, InterfaceId, LogLevel, Operation, Server, ServerId,
    Servertype, Subaccount, SubaccountId, Table, TableId,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// The only partner an emulator serves; its id is in every token.
pub(crate) const PARTNER_ID: u64 = 1;

/// Shared, per-process emulator context.
pub(crate) struct EmulatorState {
    pub state: Mutex<State>,
    pub keys: Keys,
    pub partner_token: String,
    /// Where the emulator is reachable, for `oauth_url`.
    pub base_url: String,
    pub allowed_origins: Vec<String>,
    pub token_ttl: Duration,
    pub coop: bool,
    pub servertypes: Vec<Servertype>,
    /// The dialect served, its routes, and its error shape.
    pub dialect: Dialect,
    pub strict_slashes: bool,
    /// Whether creating (or renaming to) an `external_id` that exists makes
    /// another account instead of a 400 ([`Config::accept_duplicate_external_ids`]).
    pub accept_duplicate_external_ids: bool,
    pub routes: RouteTable,
    pub envelope: Envelope,
    /// The OAuth application of `POST /api/oauth2/token/`.
    pub credentials: ClientCredentials,
    /// Whether partner routes take `Authorization: Bearer <access token>`
    /// (only where the dialect has the token endpoint).
    pub bearer: bool,
    /// What every time-based rule reads: token `iat`/`exp` and their check,
    /// access-token expiry, connection timestamps.
    pub clock: SharedClock,
    /// The same clock when it is manual ([`Config::manual_clock`]): what
    /// `POST /__emulator/clock` moves.
    pub manual_clock: Option<Arc<ManualClock>>,
}

impl EmulatorState {
    pub(crate) fn new(config: &Config, base_url: String) -> Self {
        let clock: SharedClock = match &config.manual_clock {
            Some(manual) => manual.clone(),
            None => SystemClock::shared(),
        };
        let keys = Keys::random(clock.clone());
        let partner_token = keys.issue(Scope::Partner, PARTNER_ID, None, None);
        Self {
            state: Mutex::new(State::default()),
            keys,
            partner_token,
            base_url,
            // Origins never end in '/', but a hand-typed flag might.
            allowed_origins: config
                .allowed_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
            token_ttl: config.token_ttl,
            coop: config.coop,
            servertypes: servertypes::catalog(),
            dialect: config.dialect,
            strict_slashes: config.strict_slashes,
            accept_duplicate_external_ids: config.accept_duplicate_external_ids,
            routes: RouteTable::new(config.dialect, config.strict_slashes),
            envelope: match config.dialect {
                Dialect::Partner => Envelope::Partner,
                Dialect::Seed | Dialect::SubAccount => Envelope::Drf,
            },
            credentials: ClientCredentials::random(config.access_token_ttl, clock.clone()),
            bearer: config.dialect.routes().has(Operation::OauthToken),
            clock,
            manual_clock: config.manual_clock.clone(),
        }
    }

    pub(crate) fn servertype(&self, id: u64) -> Option<&Servertype> {
        self.servertypes.iter().find(|s| s.id.0 == id)
    }
}

/// A connection plus what the API never shows (its owner, its logs).
pub(crate) struct ConnectionRecord {
    pub owner: SubaccountId,
    pub server: Server,
    pub logs: Vec<ConnectionLogEntry>,
}

impl ConnectionRecord {
    /// Appends a log line stamped with `clock`'s time.
    pub(crate) fn log(&mut self, clock: &dyn Clock, level: LogLevel, message: impl Into<String>) {
        self.logs.push(ConnectionLogEntry {
            timestamp: now_rfc3339(clock),
            level,
            message: message.into(),
        });
    }
}

/// What a sub-account has beyond [`Subaccount`]: the `partner` dialect's
/// profile fields, its default data warehouse and its default script group.
pub(crate) struct AccountExtras {
    /// Partner fields as given (`country`, `timezone`, ...; never `password`).
    pub profile: Map<String, Value>,
    pub dw_id: u64,
    pub group_id: u64,
}

/// A script and what the `partner` dialect adds to it.
pub(crate) struct ScriptRecord {
    pub owner: SubaccountId,
    pub interface: Interface,
    pub group_id: Option<u64>,
    pub run_mode: Option<String>,
    pub kind: Option<String>,
}

/// A query table and the schema the `partner` dialect put it in.
pub(crate) struct TableRecord {
    pub owner: SubaccountId,
    pub table: Table,
    pub schema_id: Option<u64>,
}

/// The mutable state. Id counters survive [`State::reset`] on purpose: a
/// sub-account token issued before a reset must not start working for an
/// unrelated new account that happens to reuse its id.
pub(crate) struct State {
    /// Written only through [`State::put_subaccount`] and
    /// [`State::remove_subaccount`], which keep `external_ids` in step.
    pub subaccounts: BTreeMap<SubaccountId, Subaccount>,
    /// external_id -> its accounts, lowest id first: lookups and the
    /// uniqueness check stay O(1) when a benchmark provisions 100,000
    /// tenants. More than one id only with
    /// [`Config::accept_duplicate_external_ids`].
    external_ids: HashMap<String, BTreeSet<SubaccountId>>,
    /// Kept in step with `subaccounts` by the same two methods.
    pub extras: HashMap<SubaccountId, AccountExtras>,
    pub connections: BTreeMap<ServerId, ConnectionRecord>,
    pub tables: BTreeMap<TableId, TableRecord>,
    pub interfaces: BTreeMap<InterfaceId, ScriptRecord>,
    /// OAuth `state` -> the pending connection it completes (used once).
    pub oauth_states: HashMap<String, ServerId>,
    /// "METHOD /path/{id}" -> count.
    pub stats: BTreeMap<String, u64>,
    pub faults: Vec<Fault>,
    /// The `oauth_url` the next OAuth connection answers instead of the
    /// consent page's (`POST /__emulator/next-oauth-url`), used once.
    pub next_oauth_url: Option<String>,
    next_ids: [u64; 6],
}

impl Default for State {
    fn default() -> Self {
        Self {
            subaccounts: BTreeMap::new(),
            external_ids: HashMap::new(),
            extras: HashMap::new(),
            connections: BTreeMap::new(),
            tables: BTreeMap::new(),
            interfaces: BTreeMap::new(),
            oauth_states: HashMap::new(),
            stats: BTreeMap::new(),
            faults: Vec::new(),
            next_oauth_url: None,
            // Separate ranges per kind make an id passed to the wrong
            // endpoint answer 404 instead of silently hitting something.
            next_ids: [1, 1001, 5001, 7001, 3001, 9001],
        }
    }
}

impl State {
    fn next(&mut self, kind: usize) -> u64 {
        let id = self.next_ids[kind];
        self.next_ids[kind] += 1;
        id
    }
    pub(crate) fn next_subaccount(&mut self) -> SubaccountId {
        SubaccountId(self.next(0))
    }
    pub(crate) fn next_server(&mut self) -> ServerId {
        ServerId(self.next(1))
    }
    pub(crate) fn next_table(&mut self) -> TableId {
        TableId(self.next(2))
    }
    pub(crate) fn next_interface(&mut self) -> InterfaceId {
        InterfaceId(self.next(3))
    }

    /// Forgets everything but the id counters (see the type's docs).
    pub(crate) fn reset(&mut self) {
        let next_ids = self.next_ids;
        *self = Self {
            next_ids,
            ..Self::default()
        };
    }

    /// The account with this `external_id`, if any; the first one (lowest
    /// id) when duplicates were accepted.
    pub(crate) fn subaccount_by_external_id(&self, external_id: &str) -> Option<&Subaccount> {
        self.external_ids
            .get(external_id)
            .and_then(|ids| ids.first())
            .and_then(|id| self.subaccounts.get(id))
    }

    /// Every account with this `external_id`, lowest id first (more than
    /// one only with [`Config::accept_duplicate_external_ids`]).
    pub(crate) fn subaccounts_with_external_id(&self, external_id: &str) -> Vec<SubaccountId> {
        self.external_ids
            .get(external_id)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Takes `id` out of the index under `external_id`.
    fn unindex(&mut self, external_id: &str, id: SubaccountId) {
        if let Some(ids) = self.external_ids.get_mut(external_id) {
            ids.remove(&id);
            if ids.is_empty() {
                self.external_ids.remove(external_id);
            }
        }
    }

    /// Inserts or replaces an account (uniqueness is checked by the caller).
    /// A new account gets its own data warehouse and script group.
    pub(crate) fn put_subaccount(&mut self, account: Subaccount) {
        if let Some(old) = self.subaccounts.get(&account.id) {
            let old = old.external_id.0.clone();
            self.unindex(&old, account.id);
        }
        if !self.extras.contains_key(&account.id) {
            let (dw_id, group_id) = (self.next(4), self.next(5));
            let extras = AccountExtras {
                profile: Map::new(),
                dw_id,
                group_id,
            };
            self.extras.insert(account.id, extras);
        }
        self.external_ids
            .entry(account.external_id.0.clone())
            .or_default()
            .insert(account.id);
        self.subaccounts.insert(account.id, account);
    }

    /// Removes a sub-account and everything it owns.
    pub(crate) fn remove_subaccount(&mut self, id: SubaccountId) -> Option<Subaccount> {
        let removed = self.subaccounts.remove(&id)?;
        self.unindex(removed.external_id.as_str(), id);
        self.extras.remove(&id);
        self.connections.retain(|_, c| c.owner != id);
        let live = &self.connections;
        self.oauth_states
            .retain(|_, server| live.contains_key(server));
        self.tables.retain(|_, t| t.owner != id);
        self.interfaces.retain(|_, s| s.owner != id);
        Some(removed)
    }
}

/// `clock`'s now, as RFC 3339 with milliseconds, UTC.
pub(crate) fn now_rfc3339(clock: &dyn Clock) -> String {
    chrono::DateTime::<chrono::Utc>::from(clock.now())
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::ExternalId;

    fn account(id: u64, ext: &str) -> Subaccount {
        Subaccount {
            id: SubaccountId(id),
            external_id: ExternalId::from(ext),
            first_name: None,
            last_name: None,
            email: None,
            language: None,
            company_name: None,
        }
    }

    #[test]
    fn the_external_id_index_follows_updates_removals_and_resets() {
        let mut state = State::default();
        state.put_subaccount(account(1, "a"));
        state.put_subaccount(account(1, "b"));
        assert!(state.subaccount_by_external_id("a").is_none());
        assert_eq!(
            state.subaccount_by_external_id("b").unwrap().id,
            SubaccountId(1)
        );
        state.remove_subaccount(SubaccountId(1));
        assert!(state.subaccount_by_external_id("b").is_none());
        assert!(state.extras.is_empty(), "extras go with their account");
        state.put_subaccount(account(2, "c"));
        assert_eq!(state.extras[&SubaccountId(2)].group_id, 9002);
        let next = state.next_subaccount();
        state.reset();
        assert!(state.subaccount_by_external_id("c").is_none());
        assert!(state.next_subaccount() > next, "ids survive a reset");
    }

    #[test]
    fn duplicate_external_ids_are_indexed_lowest_id_first() {
        let mut state = State::default();
        state.put_subaccount(account(7, "dup"));
        state.put_subaccount(account(3, "dup"));
        state.put_subaccount(account(5, "dup"));
        let ids = |s: &State| s.subaccounts_with_external_id("dup");
        assert_eq!(ids(&state), [3, 5, 7].map(SubaccountId));
        assert_eq!(
            state.subaccount_by_external_id("dup").unwrap().id,
            SubaccountId(3)
        );
        state.remove_subaccount(SubaccountId(3));
        assert_eq!(
            state.subaccount_by_external_id("dup").unwrap().id,
            SubaccountId(5)
        );
        state.put_subaccount(account(5, "other"));
        assert_eq!(ids(&state), [SubaccountId(7)]);
        state.remove_subaccount(SubaccountId(7));
        assert!(ids(&state).is_empty());
        assert!(
            !state.external_ids.contains_key("dup"),
            "no empty sets left"
        );
    }
}
