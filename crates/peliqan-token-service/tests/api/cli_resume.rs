//! `hydrate --all` over 500 tenants, killed (SIGKILL) half-way as a crash
//! would stop it, then run again: it resumes from the ledger, and no table
//! or script exists twice in any account.

use crate::cli::{BIN, env_for, run};
use crate::helpers::spawn_app;
use crate::hydrate::{Workdir, blueprint_in};
use futures::StreamExt;
use peliqan_api::Operation;
use peliqan_client::{ExternalId, SubaccountInput};
use peliqan_emulator::Fault;
use std::time::{Duration, Instant};

const TENANTS: usize = 500;
const CONCURRENCY: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hydrate_all_over_500_tenants_resumes_after_a_crash_without_duplicates() {
    let app = spawn_app().await;
    let dir = Workdir::new("resume");
    let env = env_for(&app, &dir);
    let partner = app.partner();
    futures::stream::iter(0..TENANTS)
        .map(|i| {
            let partner = partner.clone();
            async move {
                let input = SubaccountInput {
                    external_id: ExternalId::from(format!("tenant_{i:03}").as_str()),
                    company_name: Some(format!("Company {i}")),
                    ..SubaccountInput::default()
                };
                partner.create_subaccount(&input).await.unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let bp = blueprint_in(&dir);
    let bp = bp.to_str().unwrap().to_owned();
    // A little latency on the script call, as a real Peliqan has, so the
    // kill lands while calls are in flight.
    app.fault(Fault::delay(app.path_prefix(&[Operation::CreateScript]), 3))
        .await;

    let concurrency = CONCURRENCY.to_string();
    let args = [
        "hydrate",
        "--blueprint",
        &bp,
        "--all",
        "--concurrency",
        &concurrency,
    ];
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .envs(&env)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Crash it once about half the tenants have their script.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = app
            .emulator
            .assets(None)
            .accounts
            .iter()
            .filter(|a| !a.scripts.is_empty())
            .count();
        if done >= TENANTS / 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} tenants hydrated in 60 s"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the crash"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let assets = app.emulator.assets(None);
    let before = assets
        .accounts
        .iter()
        .filter(|a| !a.scripts.is_empty())
        .count();
    assert!(before < TENANTS, "the crash came after the end: {before}");
    app.clear_faults().await;

    let started = Instant::now();
    let r = run(
        &env,
        &[
            "hydrate",
            "--blueprint",
            &bp,
            "--all",
            "--concurrency",
            &concurrency,
            "--json",
        ],
    )
    .await;
    let resumed_in = started.elapsed();
    let report = r.json();
    let summary = &report["summary"];
    let n = |k: &str| summary[k].as_u64().unwrap() as usize;
    let assets = app.emulator.assets(None);
    assert!(
        assets.duplicates().is_empty(),
        "duplicates: {:?}",
        assets.duplicates()
    );
    assert_eq!(n("failed"), 0, "{summary}");
    assert_eq!(
        n("hydrated") + n("unchanged") + n("uncertain"),
        TENANTS,
        "{summary}"
    );
    // Only calls in flight at the kill can be uncertain: at most one per
    // worker. They are reported, never created twice.
    assert!(n("uncertain") <= CONCURRENCY, "{summary}");
    assert!(n("unchanged") >= before - CONCURRENCY, "{summary}");
    assert_eq!(r.code, if n("uncertain") > 0 { 1 } else { 0 });
    for t in report["tenants"].as_array().unwrap() {
        let id = t["external_id"].as_str().unwrap();
        let a = assets.of(id).unwrap();
        if t["outcome"] == "uncertain" {
            assert!(a.tables.len() <= 1 && a.scripts.len() <= 1);
        } else {
            assert_eq!((a.tables.len(), a.scripts.len()), (1, 1), "{id}: {t}");
        }
    }
    eprintln!(
        "crashed at {before}/{TENANTS} hydrated; resumed: {summary} in {:.2} s",
        resumed_in.as_secs_f64()
    );

    // The operator looks at each uncertain tenant's account and answers.
    for t in report["tenants"].as_array().unwrap() {
        if t["outcome"] != "uncertain" {
            continue;
        }
        let id = t["external_id"].as_str().unwrap();
        let a = assets.of(id).unwrap();
        let exists = t["uncertain"].as_array().unwrap().iter().all(|step| {
            let step = step.as_str().unwrap();
            match step.split_once(' ').unwrap() {
                ("table", n) => a.tables.iter().any(|x| x.name.as_deref() == Some(n)),
                (_, n) => a.scripts.iter().any(|x| x.name.as_deref() == Some(n)),
            }
        });
        let found = if exists { "exists" } else { "missing" };
        let r = run(
            &env,
            &[
                "hydrate",
                "--blueprint",
                &bp,
                "--tenant",
                id,
                "--uncertain",
                found,
            ],
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.stdout);
    }
    let assets = app.emulator.assets(None);
    assert!(assets.duplicates().is_empty(), "{:?}", assets.duplicates());
    assert!(
        assets
            .accounts
            .iter()
            .all(|a| a.tables.len() == 1 && a.scripts.len() == 1)
    );
    let r = run(&env, &["hydrate", "--blueprint", &bp, "--all", "--json"]).await;
    assert_eq!(
        (r.code, r.json()["summary"]["unchanged"].as_u64()),
        (0, Some(TENANTS as u64))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_hydrate_all_cleanly_and_a_rerun_finishes_it() {
    let app = spawn_app().await;
    let dir = Workdir::new("sigint");
    let env = env_for(&app, &dir);
    for i in 0..60 {
        crate::cli::create(&app, &format!("c{i:02}")).await;
    }
    let bp = blueprint_in(&dir);
    let bp = bp.to_str().unwrap().to_owned();
    // Slow enough that the signal lands mid-run.
    app.fault(Fault::delay(app.path_prefix(&[Operation::CreateTable]), 40))
        .await;
    let child = std::process::Command::new(BIN)
        .env_clear()
        .envs(&env)
        .args([
            "hydrate",
            "--blueprint",
            &bp,
            "--all",
            "--concurrency",
            "2",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while app
        .emulator
        .assets(None)
        .accounts
        .iter()
        .all(|a| a.scripts.is_empty())
    {
        assert!(Instant::now() < deadline, "nothing hydrated in 60 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // SAFETY: a plain kill(2) of our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("stopping: finishing the tenants in progress"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let not_started = report["not_started"].as_u64().unwrap();
    assert!(not_started > 0 && not_started < 60, "{report}");
    assert_eq!(
        report["summary"]["uncertain"], 0,
        "the tenants in progress finished"
    );
    assert_eq!(report["summary"]["failed"], 0);
    app.clear_faults().await;
    let r = run(&env, &["hydrate", "--blueprint", &bp, "--all", "--json"]).await;
    let summary = &r.json()["summary"];
    assert_eq!(r.code, 0, "{summary}");
    assert_eq!(summary["hydrated"].as_u64(), Some(not_started), "{summary}");
    assert_eq!(
        summary["unchanged"].as_u64(),
        Some(60 - not_started),
        "{summary}"
    );
    let assets = app.emulator.assets(None);
    assert!(
        assets
            .accounts
            .iter()
            .all(|a| a.tables.len() == 1 && a.scripts.len() == 1)
    );
}
