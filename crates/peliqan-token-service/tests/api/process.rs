//! The real binary, started with exactly the given environment, for what
//! only the process shows: a refused start (exit code, stderr), the log
//! lines as written to stdout, and the listeners it names there.
//!
//! Tests using it run on the multi-threaded runtime: waiting for a log line
//! blocks the test's thread, and the in-process emulator must keep answering.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long a start or an expected log line may take.
const WAIT: Duration = Duration::from_secs(20);

/// The binary, running.
pub struct Service {
    child: Child,
    lines: Receiver<String>,
    /// stdout lines read so far.
    pub seen: Vec<String>,
    /// `http://ADDR` from its `listening on` line.
    pub url: String,
}

/// What became of a start.
pub enum Started {
    Running(Service),
    Exited { code: i32, stderr: String },
}

impl Started {
    pub fn running(self) -> Service {
        match self {
            Self::Running(s) => s,
            Self::Exited { code, stderr } => panic!("exited with {code}: {stderr}"),
        }
    }

    pub fn exited(self) -> (i32, String) {
        match self {
            Self::Exited { code, stderr } => (code, stderr),
            Self::Running(s) => panic!("it runs; logged:\n{}", s.stop().join("\n")),
        }
    }
}

/// Starts the binary with exactly `env` and `args`, until it names its
/// address or exits.
pub fn start(env: &BTreeMap<String, String>, args: &[&str]) -> Started {
    let mut child = Command::new(env!("CARGO_BIN_EXE_peliqan-token-service"))
        .env_clear()
        .envs(env)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (tx, lines) = channel();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        let mut line = Vec::new();
        while stdout.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line);
            if tx.send(text.trim_end_matches('\n').to_owned()).is_err() {
                break;
            }
            line.clear();
        }
    });
    let mut service = Service {
        child,
        lines,
        seen: Vec::new(),
        url: String::new(),
    };
    match service.wait_for(|l| l.contains("listening on http://")) {
        Some(line) => {
            let at = line.find("listening on http://").unwrap() + "listening on ".len();
            service.url = line[at..].split_whitespace().next().unwrap().to_owned();
            Started::Running(service)
        }
        None => {
            let status = service.child.wait().unwrap();
            let mut stderr = String::new();
            if let Some(mut pipe) = service.child.stderr.take() {
                pipe.read_to_string(&mut stderr).unwrap();
            }
            let code = status.code().expect("exited, not killed");
            Started::Exited { code, stderr }
        }
    }
}

impl Service {
    /// The first line from now on (or already seen) matching `pred`; `None`
    /// when stdout closes first. Panics after [`WAIT`].
    pub fn wait_for(&mut self, pred: impl Fn(&str) -> bool) -> Option<String> {
        if let Some(l) = self.seen.iter().find(|l| pred(l)) {
            return Some(l.clone());
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no such line within {WAIT:?}:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// Stops the process; every stdout line it wrote.
    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader ends at EOF, so this takes everything written.
        while let Ok(line) = self.lines.recv_timeout(WAIT) {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
