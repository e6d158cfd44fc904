//! The host's side of a worker process: [`Worker`], a [`Backend`] whose operations travel to
//! the worker over the wire, and the watch over the process (its death, its reaping).
// `state` (what the host knows of its worker) sits beside `stage` (a pipeline's) everywhere:
// both are the domain's words.
#![allow(clippy::similar_names)]

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::oneshot;

mod backend;
mod death;
mod launch;

use self::backend::failed;
use self::death::{Death, death_error, forward_stderr, short_of_memory};
pub use self::launch::Launch;
use self::launch::discovery_cache_dir;
use super::shm::Board;
use super::wire::{Frame, FrameReader, PROTOCOL, Tag, Writer};
use crate::error::SandboxError;

/// Why a worker did not answer its hello.
enum Refused {
    /// It said why (it could not start Python, or enter its sandbox).
    Said(SandboxError),
    /// It did not: it died, or answered garbage.
    Broke(String),
}

/// How long the worker may take to start Python and answer the hello.
const START_TIMEOUT: Duration = Duration::from_mins(1);
/// How long a worker asked to stop (or whose socket failed) may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How long a cancelled stage's code may ignore interrupts before the worker is killed.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);
/// How long the calls of a stage not blamed for a worker's death wait before they fail (as a
/// cancel), so that the blamed stage's error is the run's.
const ABORT_DELAY: Duration = Duration::from_millis(500);
/// How long the worker's stderr may take to reach its end once the worker is gone.
const STDERR_WAIT: Duration = Duration::from_millis(300);
/// The end of the worker's standard error kept for a crash report (a fault handler's dump).
const STDERR_TAIL: usize = 8 << 10;

type Answer = Result<Frame, SandboxError>;

/// A worker process and the calls waiting for its answers.
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    state: Mutex<State>,
    reaped: Condvar,
    next_call: AtomicU64,
    board: Board,
    pid: u32,
    /// The process that started the worker: a child forked from it must not stop it.
    owner: u32,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    /// The sandbox the worker entered, if any: its limits explain some deaths.
    sandbox: Option<super::Policy>,
}

#[derive(Default)]
struct State {
    /// Calls waiting for an answer, with their stage.
    pending: HashMap<u64, (Option<u64>, oneshot::Sender<Answer>)>,
    /// Each stage's node ids, to name the node a crash happened in.
    stages: HashMap<u64, Vec<String>>,
    /// When each cancelled stage was first interrupted.
    interrupted: HashMap<u64, Instant>,
    /// A timed-out call that did not stop: (node id, message).
    stuck: Option<(String, String)>,
    /// Why the worker is gone, once it is.
    death: Option<Death>,
    /// How the worker process ended, once it was reaped.
    exit: Option<ExitStatus>,
    /// Whether the worker process has been reaped.
    exited: bool,
    /// Whether its death is known and every call answered.
    reaped: bool,
}

impl Worker {
    /// Starts a worker process and waits for its hello.
    ///
    /// # Errors
    /// [`SandboxError::Start`]: the program cannot be started, or exits or fails before it
    /// answers (its standard error is in the message).
    pub fn start(launch: &Launch) -> Result<Worker, SandboxError> {
        let start =
            |e: std::io::Error| SandboxError::Start(format!("cannot start a worker process: {e}"));
        let (host_end, worker_end) = UnixStream::pair().map_err(start)?;
        let board = Board::create().map_err(start)?;
        // The worker's stdout and stderr are one pipe the host copies to its own stderr: the
        // worker holds no descriptor of the host's streams (a terminal it could resize, a log
        // file it could truncate), and stdout stays the host's data channel.
        let (output, output_end) = std::io::pipe().map_err(start)?;
        let mut command = launch.command(worker_end, output_end).map_err(start)?;
        let child = command.spawn().map_err(|e| {
            SandboxError::Start(format!(
                "cannot start a worker process ({}): {e}",
                launch.program.display()
            ))
        })?;
        // The command holds the worker's end of the socket: without it, the worker's death
        // closes the socket, and the host sees it at once.
        drop(command);
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let forwarder = Some(forward_stderr(output, Arc::clone(&stderr)));
        let pid = child.id();
        let inner = Arc::new(Inner {
            writer: Writer::new(host_end.try_clone().map_err(start)?),
            state: Mutex::new(State::default()),
            reaped: Condvar::new(),
            next_call: AtomicU64::new(1),
            board,
            pid,
            owner: std::process::id(),
            stderr,
            sandbox: launch.sandbox.clone(),
        });
        let reaper = Arc::clone(&inner);
        std::thread::Builder::new()
            .name(format!("remotemedia-reap-{pid}"))
            .spawn(move || reaper.reap(child))
            .map_err(start)?;
        let mut reader = FrameReader::new(host_end);
        let hello = inner.hello(&mut reader);
        let watch = Arc::clone(&inner);
        std::thread::Builder::new()
            .name(format!("remotemedia-worker-{pid}"))
            .spawn(move || watch.read_answers(reader, forwarder))
            .map_err(start)?;
        match hello {
            Ok(()) => {}
            // The worker said why: its words are the error.
            Err(Refused::Said(error)) => {
                inner.wait_death();
                return Err(
                    match (error, launch.sandbox.as_ref().and_then(|p| p.memory_mb)) {
                        (SandboxError::Start(m), Some(mb))
                            if short_of_memory(&m) || m.contains("MemoryError") =>
                        {
                            SandboxError::Start(format!(
                                "{m} (runtime.sandbox.memory_mb is {mb} MiB: too little for the worker to start)"
                            ))
                        }
                        (error, _) => error,
                    },
                );
            }
            Err(Refused::Broke(error)) => {
                let death = inner.wait_death();
                let said = death.map(|d| d.describe()).unwrap_or_default();
                return Err(SandboxError::Start(format!(
                    "the worker process did not start: {error}{said}"
                )));
            }
        }
        let mut all = ALL.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&inner));
        drop(all);
        Ok(Worker { inner })
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Whether the worker is alive (it has not exited or been stopped).
    pub fn is_alive(&self) -> bool {
        self.inner.lock().death.is_none()
    }

    /// Asks the worker to stop, waits until it has (killing it after a grace period) and
    /// reaps it.
    pub fn stop(&self) {
        if self.inner.stop() {
            self.inner.wait_death();
        }
    }

    /// Stops every worker this process started that still runs, and waits for them (the
    /// native module calls this at exit, before Python goes).
    pub fn stop_all() {
        let all: Vec<Arc<Inner>> = ALL
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .filter_map(|w| w.upgrade())
            .collect();
        let stopped: Vec<_> = all.iter().filter(|w| w.stop()).collect();
        for worker in stopped {
            drop(worker.wait_death());
        }
    }
}

/// Every worker started, to stop them at exit.
static ALL: Mutex<Vec<std::sync::Weak<Inner>>> = Mutex::new(Vec::new());

impl Drop for Worker {
    fn drop(&mut self) {
        self.inner.stop(); // the watching thread reaps it
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn hello(&self, reader: &mut FrameReader) -> Result<(), Refused> {
        let sandbox = self.sandbox.as_ref();
        let cache_dir = sandbox.and(discovery_cache_dir());
        let body =
            json!({"protocol": PROTOCOL, "sandbox": sandbox, "cache_dir": cache_dir}).to_string();
        self.send(Tag::Hello, 0, body.as_bytes(), Some(self.board.fd()))
            .map_err(|e| Refused::Broke(e.to_string()))?;
        reader
            .set_timeout(Some(START_TIMEOUT))
            .map_err(|e| Refused::Broke(e.to_string()))?;
        let frame = match reader.read_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return Err(Refused::Broke("it closed its socket".into())),
            Err(e) => return Err(Refused::Broke(e.to_string())),
        };
        reader
            .set_timeout(None)
            .map_err(|e| Refused::Broke(e.to_string()))?;
        match frame.tag {
            Tag::HelloBack => {
                let said: serde_json::Value =
                    frame.json().map_err(|e| Refused::Broke(e.to_string()))?;
                let protocol = said.get("protocol").and_then(serde_json::Value::as_u64);
                if protocol == Some(u64::from(PROTOCOL)) {
                    Ok(())
                } else {
                    Err(Refused::Broke(format!(
                        "it speaks wire protocol {protocol:?}, the host {PROTOCOL}"
                    )))
                }
            }
            Tag::Failed => Err(Refused::Said(failed(&frame))),
            other => Err(Refused::Broke(format!(
                "it answered {other:?} to the hello"
            ))),
        }
    }

    fn send(
        &self,
        tag: Tag,
        call: u64,
        body: &[u8],
        fd: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> std::io::Result<()> {
        self.writer.send(tag, call, body, fd)
    }

    /// Sends a request and returns its answer to come; after the worker's death, the error
    /// that says how it died.
    fn call(
        self: &Arc<Self>,
        tag: Tag,
        stage: Option<u64>,
        body: &[u8],
        fd: Option<&OwnedFd>,
    ) -> impl std::future::Future<Output = Answer> + Send + use<> {
        let call = self.next_call.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let dead = {
            let mut state = self.lock();
            if state.death.is_some() {
                Some(death_error(&state, stage))
            } else {
                state.pending.insert(call, (stage, tx));
                None
            }
        };
        if dead.is_none()
            && let Err(error) = self.send(tag, call, body, fd.map(AsFd::as_fd))
        {
            // The watching thread sees the socket fail too and answers every call.
            tracing::debug!("cannot write to the worker process: {error}");
        }
        let inner = Arc::clone(self);
        async move {
            if let Some(error) = dead {
                if matches!(error, SandboxError::Aborted) {
                    // Another stage reports the death: this one gives that error time to
                    // cancel the run first (failing at once would hide it).
                    tokio::time::sleep(ABORT_DELAY).await;
                }
                return Err(error);
            }
            match rx.await {
                Ok(answer) => answer,
                Err(_) => Err(death_error(&inner.lock(), stage)),
            }
        }
    }

    /// Asks the worker to stop; `false` (and nothing done) in a process forked from the one
    /// that started it, whose socket and threads are the parent's.
    fn stop(&self) -> bool {
        if std::process::id() != self.owner {
            return false;
        }
        let alive = {
            let mut state = self.lock();
            let alive = state.death.is_none();
            state.death.get_or_insert_with(Death::by_host);
            alive
        };
        if alive {
            drop(self.send(Tag::Shutdown, 0, &[], None));
            self.writer.shutdown(std::net::Shutdown::Write);
        }
        true
    }

    /// Kills the worker's process group now (a stuck or unresponsive worker).
    fn kill(&self) {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.pid).unwrap_or(0));
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        self.writer.shutdown(std::net::Shutdown::Both);
    }

    /// Waits until the worker has been reaped; its death.
    fn wait_death(&self) -> Option<Death> {
        let mut state = self.lock();
        while !state.reaped {
            state = self
                .reaped
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.death.clone()
    }

    /// The watching thread: hands every answer to its call, until the socket ends; then
    /// reaps the worker and fails every call still waiting with the reason.
    fn read_answers(
        &self,
        mut reader: FrameReader,
        forwarder: Option<std::sync::mpsc::Receiver<()>>,
    ) {
        let ended = loop {
            match reader.read_frame() {
                Ok(Some(frame)) if frame.tag == Tag::Stuck => {
                    let said: serde_json::Value = frame.json().unwrap_or_default();
                    let text = |k: &str| {
                        said.get(k)
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    self.lock().stuck = Some((text("node_id"), text("message")));
                    self.kill();
                }
                Ok(Some(frame)) => {
                    let waiting = self.lock().pending.remove(&frame.call);
                    if let Some((_, tx)) = waiting {
                        drop(tx.send(Ok(frame)));
                    }
                }
                Ok(None) => break None,
                Err(error) => break Some(error),
            }
        };
        if let Some(error) = &ended {
            tracing::debug!("the worker's socket failed: {error}");
        }
        self.record_death(forwarder);
    }
}
