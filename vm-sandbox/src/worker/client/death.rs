//! How a worker ended: reaping it, the error its calls get, and its standard error.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{ABORT_DELAY, Inner, STDERR_TAIL, STDERR_WAIT, STOP_GRACE, State};
use crate::backend::PyFailure;
use crate::error::SandboxError;
use crate::worker::Policy;

/// The error a call of `stage` gets once the worker has died: a node error naming the node
/// whose code ran when it did, where the board says.
pub(super) fn death_error(state: &State, stage: Option<u64>) -> SandboxError {
    let Some(death) = &state.death else {
        return SandboxError::Stopped;
    };
    let stage_of = |node: &str| {
        let mut stages: Vec<_> = state.stages.iter().collect();
        stages.sort_by_key(|(id, _)| **id);
        stages
            .into_iter()
            .find(|(_, nodes)| nodes.iter().any(|n| n == node))
            .map(|(id, _)| *id)
    };
    // One stage is to blame, and only its calls say so: the others' fail later (`Aborted`,
    // after `ABORT_DELAY`, as a cancel), so the run's error names that node whichever stage
    // would have heard of the death first.
    if let Some((node, message)) = &state.stuck {
        if stage.is_some() && stage != stage_of(node) {
            return SandboxError::Aborted;
        }
        return SandboxError::Raised(PyFailure {
            node_id: Some(node.clone()),
            error_type: "TimeoutError".into(),
            message: format!(
                "{message}; the call did not stop when interrupted, so its worker process was killed"
            ),
            traceback: String::new(),
        });
    }
    let (error_type, what) = death.what();
    let (blamed, named) = match &death.culprit {
        Some((id, node)) => (Some(*id), node.clone()),
        None => (None, None),
    };
    if blamed.is_some() && stage.is_some() && stage != blamed {
        return SandboxError::Aborted;
    }
    let message = match &named {
        Some(node) => format!("{what} while node \"{node}\" ran"),
        None => what,
    };
    let node_id = named.or_else(|| {
        let own = stage.or(blamed)?;
        state.stages.get(&own)?.first().cloned()
    });
    SandboxError::Raised(PyFailure {
        node_id,
        error_type: error_type.into(),
        message,
        traceback: fault_dump(&death.stderr),
    })
}

/// Why a worker is gone.
#[derive(Clone, Debug)]
pub(super) struct Death {
    pub(super) status: Option<ExitStatus>,
    /// Whether the host stopped it (asked to, or killed it on purpose).
    pub(super) by_host: bool,
    pub(super) stderr: String,
    /// The stage to blame, and the node whose code it ran when the worker died where the board
    /// said: only that stage's calls report the death.
    pub(super) culprit: Option<(u64, Option<String>)>,
    /// The sandbox's limit the death came from, where it says so (`SIGXCPU`, a failed
    /// allocation that aborted).
    pub(super) limit: Option<String>,
}

impl Death {
    /// The host stopped the worker (its status follows once it is reaped).
    pub(super) fn by_host() -> Death {
        Death {
            status: None,
            by_host: true,
            stderr: String::new(),
            culprit: None,
            limit: None,
        }
    }

    /// The error type and what happened.
    fn what(&self) -> (&'static str, String) {
        match self.status {
            Some(status) => match (status.code(), status.signal()) {
                (_, Some(signal)) => (
                    "WorkerCrashed",
                    format!(
                        "the worker process was killed by {}{}",
                        signal_name(signal),
                        self.limit.as_deref().unwrap_or_default()
                    ),
                ),
                (Some(code), _) => (
                    "WorkerExited",
                    format!(
                        "the worker process exited with status {code}{}",
                        self.limit.as_deref().unwrap_or_default()
                    ),
                ),
                (None, None) => ("WorkerExited", "the worker process ended".into()),
            },
            None => ("WorkerExited", "the worker process is gone".into()),
        }
    }

    pub(super) fn describe(&self) -> String {
        let (_, what) = self.what();
        let stderr = self.stderr.trim();
        if stderr.is_empty() {
            format!(" ({what})")
        } else {
            format!(" ({what}):\n{stderr}")
        }
    }
}

/// The sandbox limit a worker that died with `status` and `stderr` reached, as words to add to
/// what happened: its CPU time (`SIGXCPU`), or its memory where a library outside Python said
/// it ran short before it gave up (Rust's "memory allocation of N bytes failed", `OpenBLAS`'s
/// failed thread or buffer) and ended the process.
fn limit_reached(policy: &Policy, status: Option<ExitStatus>, stderr: &str) -> Option<String> {
    let status = status?;
    if status.signal() == Some(24) {
        return policy
            .cpu_s
            .map(|s| format!(" past the sandbox's runtime.sandbox.cpu_s of {s} s"));
    }
    let mb = policy.memory_mb?;
    short_of_memory(stderr).then(|| {
        format!(" after memory ran short under the sandbox's runtime.sandbox.memory_mb of {mb} MiB")
    })
}

/// Whether what a worker printed, or the reason it gave for not starting, says that memory ran
/// short outside Python: an allocation or a thread refused (Rust's "memory allocation of N
/// bytes failed", `OpenBLAS`'s, the C library's).
pub(super) fn short_of_memory(text: &str) -> bool {
    [
        "memory allocation of",
        "Memory allocation",
        "pthread_create failed",
        "Resource temporarily unavailable",
        "Cannot allocate memory",
        "out of memory",
    ]
    .iter()
    .any(|sign| text.contains(sign))
}

/// `SIGSEGV (segmentation fault)` and the like.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL (illegal instruction)",
        5 => "SIGTRAP",
        6 => "SIGABRT (abort)",
        7 => "SIGBUS (bus error)",
        8 => "SIGFPE (arithmetic error)",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV (segmentation fault)",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU (CPU time limit)",
        25 => "SIGXFSZ (file size limit)",
        31 => "SIGSYS (bad system call)",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

impl Inner {
    /// The reaping thread: waits for the worker to exit, kills what it left in its process
    /// group (a node's subprocess would be an orphan), and closes the host's end of the socket
    /// (a forked grandchild may hold the worker's end open), so that the reading thread ends.
    pub(super) fn reap(&self, mut child: Child) {
        let status = loop {
            match child.wait() {
                Ok(status) => break Some(status),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break None,
            }
        };
        self.kill();
        let mut state = self.lock();
        state.exit = status;
        state.exited = true;
        drop(state);
        self.reaped.notify_all();
    }

    /// The worker's exit status, waiting for it: after [`STOP_GRACE`], a worker still alive
    /// (its socket failed, yet it runs) is killed.
    pub(super) fn exit_status(&self) -> Option<ExitStatus> {
        let until = Instant::now() + STOP_GRACE;
        let mut state = self.lock();
        let mut killed = false;
        while !state.exited {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() && !killed {
                killed = true;
                drop(state);
                self.kill();
                state = self.lock();
                continue;
            }
            let wait = if killed {
                Duration::from_millis(50)
            } else {
                left
            };
            state = self
                .reaped
                .wait_timeout(state, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.exit
    }

    /// Once the socket has ended: waits for the worker's exit and the end of its stderr,
    /// records how it died, answers every call still waiting, and says it is reaped.
    pub(super) fn record_death(&self, forwarder: Option<std::sync::mpsc::Receiver<()>>) {
        let status = self.exit_status();
        // The fault handler's dump is on its way through the pipe; a grandchild that keeps
        // the pipe open must not hold the error back.
        if let Some(forwarder) = forwarder {
            let _ = forwarder.recv_timeout(STDERR_WAIT);
        }
        let stderr = {
            let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&tail.iter().copied().collect::<Vec<u8>>()).into_owned()
        };
        let mut state = self.lock();
        let by_host = state.death.as_ref().is_some_and(|d| d.by_host);
        let culprit = self.culprit(&state);
        let limit = self
            .sandbox
            .as_ref()
            .and_then(|policy| limit_reached(policy, status, &stderr));
        state.death = Some(Death {
            status,
            by_host,
            stderr,
            culprit,
            limit,
        });
        let pending: Vec<_> = state.pending.drain().collect();
        for (_, (stage, tx)) in pending {
            match death_error(&state, stage) {
                // Failed later, so that the blamed stage's error is the run's (`ABORT_DELAY`).
                SandboxError::Aborted => {
                    drop(std::thread::spawn(move || {
                        std::thread::sleep(ABORT_DELAY);
                        let _ = tx.send(Err(SandboxError::Aborted));
                    }));
                }
                error => drop(tx.send(Err(error))),
            }
        }
        state.reaped = true;
        drop(state);
        self.reaped.notify_all();
    }

    /// The stage to blame for the death, among those with a call waiting (a stage that has
    /// finished would never report it): the first whose board word names a node, else the
    /// first of them; `None` when no call waits.
    pub(super) fn culprit(&self, state: &State) -> Option<(u64, Option<String>)> {
        let mut waiting: Vec<u64> = state.pending.values().filter_map(|(s, _)| *s).collect();
        waiting.sort_unstable();
        waiting.dedup();
        let named = waiting.iter().find_map(|id| {
            let index = usize::try_from(self.board.read(*id)).ok()?.checked_sub(1)?;
            Some((*id, Some(state.stages.get(id)?.get(index)?.clone())))
        });
        named.or_else(|| waiting.first().map(|id| (*id, None)))
    }
}

/// Copies the worker's standard error to the host's, keeping its end for a crash report. The
/// receiver hears when the pipe has ended.
pub(super) fn forward_stderr(
    mut pipe: std::io::PipeReader,
    tail: Arc<Mutex<VecDeque<u8>>>,
) -> std::sync::mpsc::Receiver<()> {
    let (done, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            drop(std::io::stderr().write_all(&buf[..n]));
            let mut kept = tail.lock().unwrap_or_else(PoisonError::into_inner);
            kept.extend(&buf[..n]);
            let excess = kept.len().saturating_sub(STDERR_TAIL);
            kept.drain(..excess);
        }
        let _ = done.send(());
    });
    ended
}

/// The crashing thread's Python stack from the fault handler's dump at the end of the
/// worker's stderr (`Fatal Python error: ...` and its `Current thread` block), or nothing when
/// there is no dump (an `os._exit`): the rest (other threads, what node code printed) was
/// copied to the host's stderr as it came.
fn fault_dump(stderr: &str) -> String {
    let Some(start) = stderr.rfind("Fatal Python error:") else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut in_current = false;
    for line in stderr[start..].lines() {
        if line.starts_with("Current thread") {
            in_current = true;
        } else if in_current && line.trim().is_empty() {
            break;
        } else if !in_current && !kept.is_empty() && !line.trim().is_empty() {
            continue; // between the error line and the current thread's block
        }
        kept.push(line);
    }
    kept.join("\n").trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::fault_dump;

    #[test]
    fn the_dump_keeps_the_error_and_the_crashing_threads_stack() {
        let stderr = "node said hello\nFatal Python error: Segmentation fault\n\n\
                      Current thread 0x01 (most recent call first):\n  File \"n.py\", line 3 in process\n\n\
                      Thread 0x02 (most recent call first):\n  File \"d.py\", line 9 in run\n\n\
                      Extension modules: numpy (total: 1)\n";
        assert_eq!(
            fault_dump(stderr),
            "Fatal Python error: Segmentation fault\n\n\
             Current thread 0x01 (most recent call first):\n  File \"n.py\", line 3 in process"
        );
        assert_eq!(fault_dump("printed by a node\n"), "");
    }
}
