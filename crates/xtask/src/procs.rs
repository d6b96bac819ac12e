//! Child processes that must never outlive the xtask: the emulator and the
//! token service of `cargo xtask demo` (and of the e2e tests, which run the
//! same command).
//!
//! Each child gets its own process group, so that stopping it also stops
//! anything it started, and a parent-death signal, so that it dies even when
//! the xtask is killed with SIGKILL and no destructor runs. Its stdout and
//! stderr are read line by line on threads: the lines are echoed to our
//! stderr with the child's name, and offered to [`Proc::wait_for`] until the
//! readiness line has been seen.

use anyhow::{Context, anyhow, bail};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::{Duration, Instant};

/// How long a child gets to exit after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A running child process, stopped (with its whole process group) on drop.
pub struct Proc {
    name: String,
    child: Child,
    /// Output lines, until the readiness line has been found.
    lines: Option<Receiver<String>>,
}

impl Proc {
    /// Starts `cmd` as `name`, with piped output and no stdin.
    pub fn spawn(name: &str, mut cmd: Command) -> anyhow::Result<Proc> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Our own group: Ctrl-C in the terminal reaches only the xtask, which
        // then stops the children in order, and killpg reaches grandchildren.
        cmd.process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                // The signal fires when the thread that forked dies; children
                // are spawned from the main thread, which lives as long as we do.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let shown = crate::cmd::shown(&cmd);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("could not start {name}: {shown}"))?;
        let (tx, rx) = channel();
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        pump(name, out, tx.clone());
        pump(name, err, tx);
        Ok(Proc {
            name: name.to_string(),
            child,
            lines: Some(rx),
        })
    }

    /// Waits until an output line makes `ready` answer `Some`, and returns
    /// that answer. Fails if the child exits or `timeout` passes first.
    pub fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut ready: impl FnMut(&str) -> Option<T>,
    ) -> anyhow::Result<T> {
        let lines = self
            .lines
            .take()
            .ok_or_else(|| anyhow!("{} already ready", self.name))?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(found) = ready(&strip_ansi(&line)) {
                        // Dropping `lines` makes the pumps only echo from now on.
                        return Ok(found);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    bail!("{} printed no readiness line within {timeout:?}", self.name)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait()?;
                    bail!("{} exited with {status} before it was ready", self.name)
                }
            }
        }
    }

    /// The exit status, if the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The child's name, as given to [`Proc::spawn`].
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        let group = self.child.id() as libc::pid_t;
        // SAFETY: plain syscalls on a process group we created.
        unsafe { libc::killpg(group, libc::SIGTERM) };
        let deadline = Instant::now() + TERM_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                // Grandchildren that ignored SIGTERM go too.
                unsafe { libc::killpg(group, libc::SIGKILL) };
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("xtask: {} ignored SIGTERM; killing it", self.name);
        unsafe { libc::killpg(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Reads `stream` line by line: echoes each line and offers it on `tx`.
fn pump(name: &str, stream: impl Read + Send + 'static, tx: Sender<String>) {
    let name = name.to_string();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if line.contains("partner_token") {
                // The emulator's startup line carries the partner token.
                eprintln!("[{name}] (startup line with the partner token, not shown)");
            } else {
                eprintln!("[{name}] {line}");
            }
            // The receiver is gone once the child is ready; keep echoing.
            let _ = tx.send(line);
        }
    });
}

/// Removes terminal colour codes, which log lines may carry.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequences end with a letter: ESC [ ... m
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The emulator's startup line (its contract: the first stdout line is
/// `{"url": .., "partner_token": ..}`) as `(url, partner_token)`.
pub fn emulator_ready(line: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    Some((
        v["url"].as_str()?.to_owned(),
        v["partner_token"].as_str()?.to_owned(),
    ))
}

/// The `http://ADDR` of a "listening on http://ADDR" log line.
pub fn listening_url(line: &str) -> Option<String> {
    let rest = &line[line.find("listening on http://")? + "listening on ".len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_url_in_plain_and_coloured_log_lines() {
        let plain =
            "2026-11-27T23:00:00Z  INFO peliqan_token_service: listening on http://127.0.0.1:40123";
        assert_eq!(
            listening_url(plain).as_deref(),
            Some("http://127.0.0.1:40123")
        );
        let coloured = "\u{1b}[32m INFO\u{1b}[0m listening on http://127.0.0.1:5/ more";
        assert_eq!(
            listening_url(&strip_ansi(coloured)).as_deref(),
            Some("http://127.0.0.1:5")
        );
        let json = r#"{"fields":{"message":"listening on http://127.0.0.1:9"}}"#;
        assert_eq!(listening_url(json).as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(listening_url("starting"), None);
    }

    #[test]
    fn a_child_is_ready_when_its_line_appears_and_stopped_on_drop() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo booting; echo 'listening on http://127.0.0.1:1'; exec sleep 60",
        ]);
        let mut proc = Proc::spawn("sh", cmd).unwrap();
        let url = proc
            .wait_for(Duration::from_secs(10), listening_url)
            .unwrap();
        assert_eq!(url, "http://127.0.0.1:1");
        let pid = proc.child.id() as libc::pid_t;
        drop(proc);
        // SAFETY: signal 0 only checks whether the process still exists.
        assert_ne!(
            unsafe { libc::kill(pid, 0) },
            0,
            "child still running after drop"
        );
    }

    #[test]
    fn a_child_that_exits_before_ready_is_an_error() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo oops; exit 3"]);
        let mut proc = Proc::spawn("sh", cmd).unwrap();
        let err = proc
            .wait_for(Duration::from_secs(10), listening_url)
            .unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
    }
}
