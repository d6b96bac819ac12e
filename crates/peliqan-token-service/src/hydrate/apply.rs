//! Applying a blueprint to one sub-account, exactly once per step.
//!
//! For each table and script, by rendered name:
//! 1. the ledger says `done`: already there, skipped;
//! 2. the dialect can list scripts (`partner`: `GET /api/interfaces/`): a
//!    script of that name in the account is already there (recorded as
//!    `done`), whatever the ledger says, so a lost ledger does not
//!    duplicate scripts;
//! 3. the ledger says `started` and Peliqan cannot be asked: *uncertain*.
//!    The previous attempt stopped after sending the create and before
//!    recording its answer; creating again could duplicate it, so it is
//!    left alone and reported, until an operator checks the account and
//!    answers with `hydrate --uncertain exists` (recorded as done) or
//!    `--uncertain missing` (created);
//! 4. else it is created: marked `started`, created, marked `done`. A
//!    create Peliqan answers with an error (or that was never sent: no
//!    connection) created nothing: the mark is forgotten and the attempt
//!    fails (the rest waits for the next one). One answered 2xx with a body
//!    that does not read was created: `done`. One without an answer
//!    (timeout, connection lost) stays `started`: uncertain, as in 3.

use super::blueprint::{Blueprint, Kind, Vars, render};
use super::ledger::{Ledger, StepState};
use peliqan_api::{NewInterface, NewTable, Operation};
use peliqan_client::{Expiry, PartnerApi, PeliqanClient, Secret, SubaccountApi, SubaccountId};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The sub-account to hydrate.
#[derive(Debug, Clone)]
pub struct Target {
    /// Peliqan's id (the ledger's key).
    pub subaccount_id: SubaccountId,
    /// The partner's id.
    pub external_id: String,
    /// Its company name, for `{{company_name}}`.
    pub company_name: Option<String>,
}

/// How to apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Only say what would be created.
    pub dry_run: bool,
    /// What an operator found for steps an earlier attempt left uncertain;
    /// `None` leaves them uncertain.
    pub uncertain: Option<Resolve>,
}

/// An operator's answer for uncertain steps, after looking in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Resolve {
    /// They are in the account: record them as done.
    Exists,
    /// They are not: create them.
    Missing,
}

/// How an attempt ended for one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Something was created; everything is there now.
    Hydrated,
    /// Everything was already there.
    Unchanged,
    /// Dry run: `planned` would be created.
    Planned,
    /// A step failed; it is retried by the next attempt.
    Failed,
    /// A step may or may not exist (see the module docs).
    Uncertain,
}

impl Outcome {
    /// The tenant's state as the ledger keeps it: `hydrated` whenever
    /// everything is there (created now or before), else the outcome.
    pub fn ledger_state(self) -> &'static str {
        match self {
            Self::Unchanged => Self::Hydrated.as_str(),
            other => other.as_str(),
        }
    }

    /// The snake_case name (metrics label, output).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hydrated => "hydrated",
            Self::Unchanged => "unchanged",
            Self::Planned => "planned",
            Self::Failed => "failed",
            Self::Uncertain => "uncertain",
        }
    }
}

/// What an attempt did to one tenant. Steps are written `table NAME`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The partner's id.
    pub external_id: String,
    /// Peliqan's id.
    pub subaccount_id: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Created by this attempt.
    pub created: Vec<String>,
    /// Already there.
    pub present: Vec<String>,
    /// Would be created (dry run).
    pub planned: Vec<String>,
    /// Neither known to exist nor safe to create.
    pub uncertain: Vec<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A blueprint, a ledger and a way to call Peliqan.
pub struct Hydrator {
    /// The blueprint applied.
    pub blueprint: Arc<Blueprint>,
    /// Where steps are recorded.
    pub ledger: Ledger,
    client: PeliqanClient,
    partner: PartnerApi,
    /// Whether the dialect has `list_scripts`.
    lists_scripts: bool,
}

/// What a failed create call did in Peliqan.
enum Sent {
    /// Not sent, or answered with an error: nothing was created.
    NotCreated,
    /// Answered 2xx, but the body did not read: it was created.
    Created,
    /// Sent without an answer (timeout, connection lost): unknown.
    Unknown,
}

fn sent(e: &peliqan_client::Error) -> Sent {
    use peliqan_client::Error;
    match e {
        Error::Decode { .. } => Sent::Created,
        Error::Timeout { .. } => Sent::Unknown,
        // A refused or failed connection sent nothing.
        Error::Transport { source, .. } if !source.is_connect() => Sent::Unknown,
        _ => Sent::NotCreated,
    }
}

struct Step<'a> {
    kind: Kind,
    name: String,
    table: Option<&'a super::blueprint::TableSpec>,
    script: Option<&'a super::blueprint::ScriptSpec>,
}

impl Step<'_> {
    fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

impl Hydrator {
    /// Applies `blueprint` through `client` (partner calls with `partner`),
    /// recording in `ledger`.
    pub fn new(
        blueprint: Arc<Blueprint>,
        ledger: Ledger,
        client: PeliqanClient,
        partner: PartnerApi,
    ) -> Self {
        let lists_scripts = client.routes().route(Operation::ListScripts).is_ok();
        Self {
            blueprint,
            ledger,
            client,
            partner,
            lists_scripts,
        }
    }

    /// Applies the blueprint to `target` (with its `token` when the caller
    /// has one, else a short-lived one is fetched) and records the outcome.
    pub async fn apply(&self, target: &Target, token: Option<&str>, options: Options) -> Report {
        let mut report = Report {
            external_id: target.external_id.clone(),
            subaccount_id: target.subaccount_id.0,
            outcome: Outcome::Unchanged,
            created: Vec::new(),
            present: Vec::new(),
            planned: Vec::new(),
            uncertain: Vec::new(),
            error: None,
        };
        if let Err(e) = self.run(target, token, options, &mut report).await {
            report.outcome = if report.uncertain.is_empty() {
                Outcome::Failed
            } else {
                Outcome::Uncertain
            };
            report.error = Some(format!("{e:#}"));
        } else if !report.uncertain.is_empty() {
            report.outcome = Outcome::Uncertain;
        } else if options.dry_run && !report.planned.is_empty() {
            report.outcome = Outcome::Planned;
        } else if !report.created.is_empty() {
            report.outcome = Outcome::Hydrated;
        }
        if !options.dry_run {
            let recorded = self
                .ledger
                .record(
                    target.subaccount_id.0,
                    &target.external_id,
                    report.outcome.ledger_state(),
                    self.blueprint.version,
                    report.error.clone(),
                )
                .await;
            if let Err(e) = recorded
                && report.error.is_none()
            {
                report.outcome = Outcome::Failed;
                report.error = Some(format!("{e:#}"));
            }
        }
        report
    }

    fn steps(&self, target: &Target) -> Vec<Step<'_>> {
        let vars = Vars {
            external_id: &target.external_id,
            company_name: target.company_name.as_deref(),
        };
        let tables = self.blueprint.tables.iter().map(|t| Step {
            kind: Kind::Table,
            name: render(&t.name, &vars),
            table: Some(t),
            script: None,
        });
        let scripts = self.blueprint.scripts.iter().map(|s| Step {
            kind: Kind::Script,
            name: render(&s.name, &vars),
            table: None,
            script: Some(s),
        });
        tables.chain(scripts).collect()
    }

    async fn run(
        &self,
        target: &Target,
        token: Option<&str>,
        options: Options,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let account = target.subaccount_id.0;
        let version = self.blueprint.version;
        let recorded: HashMap<(Kind, String), StepState> = self
            .ledger
            .steps(account)
            .await?
            .into_iter()
            .map(|s| ((s.kind, s.name), s.state))
            .collect();
        let steps = self.steps(target);
        let state = |s: &Step<'_>| recorded.get(&(s.kind, s.name.clone())).copied();
        let needs_list = self.lists_scripts
            && steps
                .iter()
                .any(|s| s.kind == Kind::Script && state(s) != Some(StepState::Done));
        let needs_create = steps.iter().any(|s| state(s) != Some(StepState::Done));
        let mut api: Option<SubaccountApi> = None;
        if needs_list || (needs_create && !options.dry_run) {
            api = Some(self.account_api(target, token).await?);
        }
        let listed: BTreeSet<String> = match (&api, needs_list) {
            (Some(api), true) => api
                .list_scripts()
                .await
                .map_err(|e| anyhow::anyhow!("listing the account's scripts: {e}"))?
                .into_iter()
                .filter_map(|s| s.name)
                .collect(),
            _ => BTreeSet::new(),
        };
        for step in &steps {
            let label = step.label();
            match state(step) {
                Some(StepState::Done) => {
                    report.present.push(label);
                    continue;
                }
                _ if step.kind == Kind::Script && listed.contains(&step.name) => {
                    if !options.dry_run {
                        let (ledger, kind) = (&self.ledger, step.kind);
                        ledger
                            .mark(account, kind, &step.name, StepState::Done, version, None)
                            .await?;
                    }
                    report.present.push(label);
                    continue;
                }
                Some(StepState::Started) if !(step.kind == Kind::Script && self.lists_scripts) => {
                    match options.uncertain {
                        None => {
                            report.uncertain.push(label);
                            continue;
                        }
                        Some(Resolve::Exists) => {
                            if !options.dry_run {
                                let (ledger, kind) = (&self.ledger, step.kind);
                                ledger
                                    .mark(account, kind, &step.name, StepState::Done, version, None)
                                    .await?;
                            }
                            report.present.push(label);
                            continue;
                        }
                        Some(Resolve::Missing) => {}
                    }
                }
                _ => {}
            }
            if options.dry_run {
                report.planned.push(label);
                continue;
            }
            let api = api
                .as_ref()
                .expect("a token is fetched when a step is created");
            self.ledger
                .mark(
                    account,
                    step.kind,
                    &step.name,
                    StepState::Started,
                    version,
                    None,
                )
                .await?;
            let created = self.create(api, step, target).await;
            match created {
                Ok(id) => {
                    self.ledger
                        .mark(
                            account,
                            step.kind,
                            &step.name,
                            StepState::Done,
                            version,
                            Some(id),
                        )
                        .await?;
                    report.created.push(label);
                }
                Err(e) => match sent(&e) {
                    Sent::NotCreated => {
                        self.ledger.forget(account, step.kind, &step.name).await?;
                        anyhow::bail!("creating {label}: {e}");
                    }
                    Sent::Created => {
                        // A 2xx whose body did not read: it exists.
                        self.ledger
                            .mark(
                                account,
                                step.kind,
                                &step.name,
                                StepState::Done,
                                version,
                                None,
                            )
                            .await?;
                        report.created.push(label);
                    }
                    Sent::Unknown => {
                        // Left `started`: never created blindly again.
                        report.uncertain.push(label.clone());
                        anyhow::bail!("creating {label} got no answer, so it may exist: {e}");
                    }
                },
            }
        }
        Ok(())
    }

    async fn create(
        &self,
        api: &SubaccountApi,
        step: &Step<'_>,
        target: &Target,
    ) -> Result<u64, peliqan_client::Error> {
        let vars = Vars {
            external_id: &target.external_id,
            company_name: target.company_name.as_deref(),
        };
        if let Some(t) = step.table {
            let body = NewTable {
                name: step.name.clone(),
                query: render(&t.query, &vars),
                database_id: t.database,
                schema_id: None,
            };
            return api.create_table(&body).await.map(|t| t.id.0);
        }
        let s = step.script.expect("a step is a table or a script");
        let body = NewInterface {
            name: step.name.clone(),
            raw_code: render(&s.code, &vars),
            schedule: s.schedule,
        };
        api.create_interface(&body).await.map(|i| i.id.0)
    }

    async fn account_api(
        &self,
        target: &Target,
        token: Option<&str>,
    ) -> anyhow::Result<SubaccountApi> {
        let token = match token {
            Some(t) => t.to_owned(),
            None => {
                self.partner
                    .subaccount_token(target.subaccount_id, Expiry::ShortLived)
                    .await
                    .map_err(|e| anyhow::anyhow!("getting the account's token: {e}"))?
                    .token
            }
        };
        Ok(self.client.subaccount(Secret::new(token)))
    }
}
