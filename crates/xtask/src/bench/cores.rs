//! Sharing the machine's cores between the server under test and wrk.
//!
//! When both run on the same few cores, the scheduler decides the tail: on
//! the 2-core development VM even the bare handler shows a p99 near 8 ms,
//! because a server worker preempted by a wrk thread leaves its connections
//! waiting a whole time slice. Giving each side its own cores (`taskset`,
//! from util-linux) measures the server instead. The bench prints both
//! layouts: the throughput ratio is judged with every core shared (it then
//! reflects the CPU each request costs), the tail latency with the cores
//! split (it then reflects the server's queue, not the scheduler's).

use std::process::Command;

/// Where the server and the load generator run.
#[derive(Clone, Debug)]
pub struct Layout {
    /// CPU list for the server (`taskset -c`), `None` for anywhere.
    pub server_cpus: Option<String>,
    /// Server worker threads, `None` for actix's default (one per core).
    pub workers: Option<usize>,
    /// CPU list for wrk, `None` for anywhere.
    pub wrk_cpus: Option<String>,
    /// wrk threads.
    pub wrk_threads: usize,
}

impl Layout {
    /// Everything shares every core: default workers, 2 wrk threads.
    pub fn shared() -> Self {
        Self {
            server_cpus: None,
            workers: None,
            wrk_cpus: None,
            wrk_threads: 2,
        }
    }

    /// The lower half of the cores for the server (as many workers), the
    /// upper half for wrk; `None` on one core or without `taskset`.
    pub fn split() -> Option<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let has_taskset = Command::new("taskset").arg("-V").output().is_ok();
        if cores < 2 || !has_taskset {
            return None;
        }
        let half = cores / 2;
        let range = |from: usize, to: usize| {
            if from == to {
                from.to_string()
            } else {
                format!("{from}-{to}")
            }
        };
        Some(Self {
            server_cpus: Some(range(0, half - 1)),
            workers: Some(half),
            wrk_cpus: Some(range(half, cores - 1)),
            wrk_threads: cores - half,
        })
    }

    /// Whether server and wrk have cores of their own.
    pub fn is_split(&self) -> bool {
        self.server_cpus.is_some() && self.wrk_cpus.is_some()
    }

    /// One line saying how the cores are used.
    pub fn describe(&self) -> String {
        match (&self.server_cpus, &self.wrk_cpus) {
            (Some(s), Some(w)) => format!(
                "split cores: server {} worker(s) on CPU {s}, wrk {} thread(s) on CPU {w}",
                self.workers.unwrap_or(1),
                self.wrk_threads
            ),
            _ => format!(
                "shared cores: server default workers, wrk {} threads, nothing pinned",
                self.wrk_threads
            ),
        }
    }
}

/// `program`, started under `taskset -c cpus` when `cpus` is given (taskset
/// execs it, so the pid stays the program's).
pub fn pinned(program: &std::path::Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", cpus]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}
