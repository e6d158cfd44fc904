//! How a worker ended: reaping it, the error its calls get, and its standard error.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Inner, STDERR_TAIL, State};
use crate::backend::PyFailure;
use crate::error::SandboxError;

/// Why a worker is gone.
#[derive(Clone, Debug)]
pub(super) struct Death {
    pub(super) status: Option<ExitStatus>,
    /// Whether the host stopped it (asked to, or killed it on purpose).
    pub(super) by_host: bool,
    pub(super) stderr: String,
}

impl Inner {
    /// The error a call of `stage` gets once the worker has died: a node error naming the node
    /// whose code ran when it did, where the board says.
    pub(super) fn death_error(&self, state: &State, stage: Option<u64>) -> SandboxError {
        let Some(death) = &state.death else {
            return SandboxError::Stopped;
        };
        let nodes = stage.and_then(|s| state.stages.get(&s));
        if let Some((node, message)) = &state.stuck {
            return SandboxError::Raised(PyFailure {
                node_id: Some(node.clone()),
                error_type: "TimeoutError".into(),
                message: format!(
                    "{message}; the call did not stop when interrupted, so its worker process was killed"
                ),
                traceback: String::new(),
            });
        }
        let running = stage
            .map(|s| self.board.read(s))
            .and_then(|k| usize::try_from(k).ok()?.checked_sub(1))
            .and_then(|i| nodes?.get(i).cloned());
        let (error_type, what) = death.what();
        let message = match &running {
            Some(node) => format!("{what} while node \"{node}\" ran"),
            None => what,
        };
        SandboxError::Raised(PyFailure {
            node_id: running.or_else(|| nodes.and_then(|n| n.first().cloned())),
            error_type: error_type.into(),
            message,
            traceback: fault_dump(&death.stderr),
        })
    }
}

impl Death {
    /// The host stopped the worker (its status follows once it is reaped).
    pub(super) fn by_host() -> Death {
        Death {
            status: None,
            by_host: true,
            stderr: String::new(),
        }
    }

    /// The error type and what happened.
    fn what(&self) -> (&'static str, String) {
        match self.status {
            Some(status) => match (status.code(), status.signal()) {
                (_, Some(signal)) => (
                    "WorkerCrashed",
                    format!("the worker process was killed by {}", signal_name(signal)),
                ),
                (Some(code), _) => (
                    "WorkerExited",
                    format!("the worker process exited with status {code}"),
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

/// `SIGSEGV (segmentation fault)` and the like.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        4 => "SIGILL (illegal instruction)",
        6 => "SIGABRT (abort)",
        7 => "SIGBUS (bus error)",
        8 => "SIGFPE (arithmetic error)",
        9 => "SIGKILL",
        11 => "SIGSEGV (segmentation fault)",
        15 => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

/// Waits for `child` to exit; after `grace`, kills it (with `kill`) and waits.
pub(super) fn reap(child: &mut Child, grace: Duration, kill: impl Fn()) -> ExitStatus {
    let until = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                kill();
                drop(child.kill());
                if let Ok(status) = child.wait() {
                    return status;
                }
            }
            Err(_) => {
                if let Ok(status) = child.wait() {
                    return status;
                }
            }
        }
    }
}

/// Copies the worker's standard error to the host's, keeping its end for a crash report.
pub(super) fn forward_stderr(
    mut pipe: std::process::ChildStderr,
    tail: Arc<Mutex<VecDeque<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            drop(std::io::stderr().write_all(&buf[..n]));
            let mut kept = tail.lock().unwrap_or_else(PoisonError::into_inner);
            kept.extend(&buf[..n]);
            let excess = kept.len().saturating_sub(STDERR_TAIL);
            kept.drain(..excess);
        }
    })
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
