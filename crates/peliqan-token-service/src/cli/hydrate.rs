//! `hydrate --blueprint FILE (--tenant ID | --all) [--dry-run]
//! [--concurrency N] [--uncertain exists|missing]`: applies a blueprint to
//! existing tenants, exactly once per step (see [`crate::hydrate::apply`]).
//!
//! Resumable: the ledger records each step as it goes, so a run stopped
//! anywhere (crash, kill) is finished by running it again; steps already
//! done are skipped without a Peliqan call. Ctrl-C (SIGINT) stops cleanly:
//! no new tenant is started, those in progress finish (so none is left
//! uncertain), the summary says how many were not started, and the exit
//! code is 130; a second Ctrl-C stops at once. `--all` shows a
//! progress bar on a terminal and ends with a summary table; the exit code
//! is 1 when any tenant failed or is uncertain.

use super::output::{CliError, Out, table};
use super::tenants::Partner;
use crate::hydrate::{Blueprint, Options, Outcome, Report, Resolve, Target};
use crate::settings::Settings;
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// First Ctrl-C: start no new tenant (those in progress finish). Second:
/// stop at once, as a crash would (the ledger still lets a rerun resume).
async fn stop_on_ctrl_c(stop: Arc<AtomicBool>, bar: ProgressBar) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    stop.store(true, Ordering::SeqCst);
    bar.suspend(|| {
        eprintln!(
            "peliqan-token-service: stopping: finishing the tenants in progress (Ctrl-C again \
             to stop at once)"
        );
    });
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

/// Most tenants hydrated at once.
const MAX_CONCURRENCY: usize = 64;

/// `hydrate`'s options.
#[derive(Args, Debug)]
pub struct HydrateArgs {
    /// The blueprint file (TOML).
    #[arg(long, value_name = "FILE")]
    blueprint: PathBuf,
    /// One tenant, by external id.
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    tenant: Option<String>,
    /// Every sub-account of the partner.
    #[arg(long)]
    all: bool,
    /// Show what would be created; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Tenants hydrated at once (1 to 64).
    #[arg(long, default_value_t = 4, value_name = "N")]
    concurrency: usize,
    /// For steps an earlier run left uncertain (a create without an
    /// answer), what you found in the tenant's Peliqan account: `exists`
    /// records them as done, `missing` creates them.
    #[arg(long, value_name = "FOUND", requires = "tenant")]
    uncertain: Option<Resolve>,
}

pub(super) async fn run(
    settings: &Settings,
    args: HydrateArgs,
    out: &Out,
) -> Result<ExitCode, CliError> {
    if !(1..=MAX_CONCURRENCY).contains(&args.concurrency) {
        return Err(CliError::new(
            "usage",
            format!("--concurrency must be 1 to {MAX_CONCURRENCY}"),
            2,
        ));
    }
    let blueprint = Blueprint::load(&args.blueprint)
        .map_err(|e| CliError::new("bad_blueprint", e.to_string(), 2))?;
    let (partner, client) = Partner::new(settings)?;
    let targets: Vec<Target> = match &args.tenant {
        Some(id) => vec![partner.find(id).await?],
        None => partner.list().await?,
    }
    .into_iter()
    .map(|a| Target {
        subaccount_id: a.id,
        external_id: a.external_id.as_str().to_owned(),
        company_name: a.company_name,
    })
    .collect();
    let hydrator = crate::hydrate::hydrator(settings, Arc::new(blueprint), client)
        .map_err(|e| CliError::config(format!("{e:#}")))?;
    let ledger = hydrator.ledger.describe();
    let options = Options {
        dry_run: args.dry_run,
        uncertain: args.uncertain,
    };
    let bar = if args.all && !out.json {
        // Hidden by itself when stderr is not a terminal.
        let bar =
            ProgressBar::with_draw_target(Some(targets.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {elapsed} {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(stop_on_ctrl_c(stop.clone(), bar.clone()));
    let hydrator = &hydrator;
    let stopping = &stop;
    let mut reports: Vec<Report> = futures::stream::iter(targets.iter())
        .take_while(|_| std::future::ready(!stopping.load(Ordering::SeqCst)))
        .map(|t| async move { hydrator.apply(t, None, options).await })
        .buffer_unordered(args.concurrency)
        .inspect(|r| {
            if r.outcome == Outcome::Failed {
                bar.set_message(format!("last failure: {}", r.external_id));
            }
            bar.inc(1);
        })
        .collect()
        .await;
    bar.finish_and_clear();
    watcher.abort();
    let not_started = targets.len() - reports.len();
    reports.sort_by_key(|a| a.subaccount_id);
    let order: Vec<Outcome> = [
        Outcome::Hydrated,
        Outcome::Unchanged,
        Outcome::Planned,
        Outcome::Failed,
        Outcome::Uncertain,
    ]
    .into_iter()
    .filter(|o| args.dry_run || *o != Outcome::Planned)
    .collect();
    let mut counts: BTreeMap<&str, usize> = order.iter().map(|o| (o.as_str(), 0)).collect();
    for r in &reports {
        *counts.entry(r.outcome.as_str()).or_default() += 1;
    }
    let bad = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Uncertain))
        .count();
    let version = hydrator.blueprint.version;
    let mut human = format!(
        "blueprint {} (version {version}){}: {}, ledger in {ledger}\n\n",
        args.blueprint.display(),
        if args.dry_run { ", dry run" } else { "" },
        super::output::count(reports.len(), "tenant").trim_end(),
    );
    let summary: Vec<Vec<String>> = order
        .iter()
        .map(|o| vec![o.as_str().to_owned(), counts[o.as_str()].to_string()])
        .collect();
    human.push_str(&table(&["OUTCOME", "TENANTS"], &summary));
    let detail: Vec<Vec<String>> = reports
        .iter()
        .filter(|r| args.tenant.is_some() || r.outcome != Outcome::Unchanged)
        .filter(|r| args.tenant.is_some() || args.dry_run || r.outcome != Outcome::Hydrated)
        .map(|r| {
            let what = match r.outcome {
                Outcome::Hydrated => format!("created {}", r.created.join(", ")),
                Outcome::Unchanged => format!("already there: {}", r.present.join(", ")),
                Outcome::Planned => format!("would create {}", r.planned.join(", ")),
                Outcome::Failed => r.error.clone().unwrap_or_default(),
                Outcome::Uncertain => format!(
                    "may exist, not created again: {} (check the account, then \
                     --tenant {} --uncertain exists|missing)",
                    r.uncertain.join(", "),
                    r.external_id
                ),
            };
            vec![
                r.external_id.clone(),
                r.subaccount_id.to_string(),
                r.outcome.as_str().to_owned(),
                what,
            ]
        })
        .collect();
    if !detail.is_empty() {
        human.push('\n');
        human.push_str(&table(
            &["TENANT", "SUB-ACCOUNT", "OUTCOME", "DETAIL"],
            &detail,
        ));
    }
    if not_started > 0 {
        human.push_str(&format!(
            "\ninterrupted: {not_started} tenant(s) not started; run the same command again to \
             go on\n"
        ));
    }
    if bad > 0 {
        human.push_str(&format!(
            "\n{bad} tenant(s) not hydrated; run the same command again to retry the failed ones\n"
        ));
    }
    let body = json!({
        "blueprint": args.blueprint.display().to_string(),
        "version": version,
        "dry_run": args.dry_run,
        "ledger": ledger,
        "summary": counts,
        "not_started": not_started,
        "tenants": reports,
    });
    out.emit(&human, &body);
    Ok(if not_started > 0 {
        ExitCode::from(130)
    } else if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
