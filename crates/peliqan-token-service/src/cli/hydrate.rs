//! `hydrate --blueprint FILE (--tenant ID | --all) [--dry-run]
//! [--concurrency N] [--retry-uncertain]`: applies a blueprint to existing
//! tenants, exactly once per step (see [`crate::hydrate::apply`]).
//!
//! Resumable: the ledger records each step as it goes, so a run stopped
//! anywhere (crash, kill, Ctrl-C) is finished by running it again; steps
//! already done are skipped without a Peliqan call. `--all` shows a
//! progress bar on a terminal and ends with a summary table; the exit code
//! is 1 when any tenant failed or is uncertain.

use super::output::{CliError, Out, table};
use super::tenants::Partner;
use crate::hydrate::{Blueprint, Options, Outcome, Report, Target};
use crate::settings::Settings;
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Most tenants hydrated at once.
const MAX_CONCURRENCY: usize = 64;

/// `hydrate`'s options.
#[derive(Args, Debug)]
pub struct HydrateArgs {
    /// The blueprint file (TOML).
    #[arg(long, value_name = "FILE")]
    blueprint: PathBuf,
    /// One tenant, by external id.
    #[arg(long, value_name = "ID", required_unless_present = "all", conflicts_with = "all")]
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
    /// Create steps an earlier run left uncertain (only after checking in
    /// Peliqan that they do not exist).
    #[arg(long)]
    retry_uncertain: bool,
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
        retry_uncertain: args.retry_uncertain,
    };
    let bar = if args.all && !out.json {
        // Hidden by itself when stderr is not a terminal.
        let bar = ProgressBar::with_draw_target(
            Some(targets.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {elapsed} {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let hydrator = &hydrator;
    let mut reports: Vec<Report> = futures::stream::iter(targets.iter())
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
    reports.sort_by(|a, b| a.subaccount_id.cmp(&b.subaccount_id));
    let mut counts: BTreeMap<&str, usize> = [
        Outcome::Hydrated,
        Outcome::Unchanged,
        Outcome::Planned,
        Outcome::Failed,
        Outcome::Uncertain,
    ]
    .into_iter()
    .filter(|o| args.dry_run || *o != Outcome::Planned)
    .map(|o| (o.as_str(), 0))
    .collect();
    for r in &reports {
        *counts.entry(r.outcome.as_str()).or_default() += 1;
    }
    let bad = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Uncertain))
        .count();
    let version = hydrator.blueprint.version;
    let mut human = format!(
        "blueprint {} (version {version}){}: {} tenants, ledger in {ledger}\n\n",
        args.blueprint.display(),
        if args.dry_run { ", dry run" } else { "" },
        reports.len(),
    );
    let summary: Vec<Vec<String>> = counts
        .iter()
        .map(|(o, n)| vec![(*o).to_owned(), n.to_string()])
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
                     --retry-uncertain)",
                    r.uncertain.join(", ")
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
        human.push_str(&table(&["TENANT", "SUB-ACCOUNT", "OUTCOME", "DETAIL"], &detail));
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
        "tenants": reports,
    });
    out.emit(&human, &body);
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
