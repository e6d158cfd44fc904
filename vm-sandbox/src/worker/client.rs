//! The host's side of a worker process: [`Worker`], a [`Backend`] whose operations travel to
//! the worker over the wire, and the watch over the process (its death, its reaping).
// `state` (what the host knows of its worker) sits beside `stage` (a pipeline's) everywhere:
// both are the domain's words.
#![allow(clippy::similar_names)]

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::oneshot;

use super::shm::Board;
use super::wire::{self, Frame, FrameReader, PROTOCOL, Tag, Writer};
use crate::backend::{
    Backend, BoxFuture, Capabilities, Fed, Limits, NodeCounts, NodeSpec, PyFailure, StageId,
};
use crate::discovery::{Discovery, NodeTypeInfo};
use crate::error::SandboxError;
use crate::value::Value;

/// How to start a worker: a program that serves the wire on its standard input (the host's
/// binary with its hidden `worker` command, or Python running `remotemedia_runtime._worker`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Environment variables to set for it.
    pub env: Vec<(OsString, OsString)>,
}

/// How long the worker may take to start Python and answer the hello.
const START_TIMEOUT: Duration = Duration::from_mins(1);
/// How long a worker asked to stop (or whose socket failed) may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How long a cancelled stage's code may ignore interrupts before the worker is killed.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);
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
    stderr: Arc<Mutex<VecDeque<u8>>>,
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
    child: Option<Child>,
    reaped: bool,
}

#[derive(Clone, Debug)]
struct Death {
    status: Option<ExitStatus>,
    /// Whether the host stopped it (asked to, or killed it on purpose).
    by_host: bool,
    stderr: String,
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
        let stdout: OwnedFd = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(start)?;
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::from(OwnedFd::from(worker_end)))
            // stdout is the host's data channel: what node code prints goes to stderr.
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::piped())
            // Its own group: the terminal's Ctrl-C reaches the host, which passes it on.
            .process_group(0);
        let mut child = command.spawn().map_err(|e| {
            SandboxError::Start(format!(
                "cannot start a worker process ({}): {e}",
                launch.program.display()
            ))
        })?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let forwarder = child
            .stderr
            .take()
            .map(|pipe| forward_stderr(pipe, Arc::clone(&stderr)));
        let pid = child.id();
        let inner = Arc::new(Inner {
            writer: Writer::new(host_end.try_clone().map_err(start)?),
            state: Mutex::new(State {
                child: Some(child),
                ..State::default()
            }),
            reaped: Condvar::new(),
            next_call: AtomicU64::new(1),
            board,
            pid,
            stderr,
        });
        let mut reader = FrameReader::new(host_end);
        let hello = inner.hello(&mut reader);
        let watch = Arc::clone(&inner);
        std::thread::Builder::new()
            .name(format!("remotemedia-worker-{pid}"))
            .spawn(move || watch.read_answers(reader, forwarder))
            .map_err(start)?;
        if let Err(error) = hello {
            let death = inner.wait_death();
            let said = death.map(|d| d.describe()).unwrap_or_default();
            return Err(SandboxError::Start(format!(
                "the worker process did not start: {error}{said}"
            )));
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
        self.inner.stop();
        self.inner.wait_death();
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
        for worker in &all {
            worker.stop();
        }
        for worker in &all {
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

    fn hello(&self, reader: &mut FrameReader) -> Result<(), String> {
        let body = json!({"protocol": PROTOCOL}).to_string();
        self.send(Tag::Hello, 0, body.as_bytes(), Some(self.board.fd()))
            .map_err(|e| e.to_string())?;
        reader
            .set_timeout(Some(START_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let frame = match reader.read_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return Err("it closed its socket".into()),
            Err(e) => return Err(e.to_string()),
        };
        reader.set_timeout(None).map_err(|e| e.to_string())?;
        match frame.tag {
            Tag::HelloBack => {
                let said: serde_json::Value = frame.json().map_err(|e| e.to_string())?;
                let protocol = said.get("protocol").and_then(serde_json::Value::as_u64);
                if protocol == Some(u64::from(PROTOCOL)) {
                    Ok(())
                } else {
                    Err(format!(
                        "it speaks wire protocol {protocol:?}, the host {PROTOCOL}"
                    ))
                }
            }
            Tag::Failed => Err(failed(&frame).to_string()),
            other => Err(format!("it answered {other:?} to the hello")),
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
                Some(self.death_error(&state, stage))
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
                return Err(error);
            }
            match rx.await {
                Ok(answer) => answer,
                Err(_) => Err(inner.death_error(&inner.lock(), stage)),
            }
        }
    }

    fn stop(&self) {
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
        forwarder: Option<std::thread::JoinHandle<()>>,
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
        let child = self.lock().child.take();
        let status = child.map(|mut child| reap(&mut child, STOP_GRACE, || self.kill()));
        if let Some(forwarder) = forwarder {
            drop(forwarder.join());
        }
        let stderr = {
            let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
            String::from_utf8_lossy(&tail.iter().copied().collect::<Vec<u8>>()).into_owned()
        };
        let mut state = self.lock();
        let by_host = state.death.as_ref().is_some_and(|d| d.by_host);
        state.death = Some(Death {
            status,
            by_host,
            stderr,
        });
        let pending: Vec<_> = state.pending.drain().collect();
        for (_, (stage, tx)) in pending {
            drop(tx.send(Err(self.death_error(&state, stage))));
        }
        state.reaped = true;
        drop(state);
        self.reaped.notify_all();
    }

    /// The error a call of `stage` gets once the worker has died: a node error naming the node
    /// whose code ran when it did, where the board says.
    fn death_error(&self, state: &State, stage: Option<u64>) -> SandboxError {
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
            traceback: death.stderr.clone(),
        })
    }
}

impl Death {
    /// The host stopped the worker (its status follows once it is reaped).
    fn by_host() -> Death {
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

    fn describe(&self) -> String {
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
fn reap(child: &mut Child, grace: Duration, kill: impl Fn()) -> ExitStatus {
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
fn forward_stderr(
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

fn failed(frame: &Frame) -> SandboxError {
    let said: serde_json::Value = frame.json().unwrap_or_default();
    let text = |k: &str| {
        said.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match frame.tag {
        Tag::Raised => SandboxError::Raised(PyFailure {
            node_id: said
                .get("node_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            error_type: text("error_type"),
            message: text("message"),
            traceback: text("traceback"),
        }),
        Tag::Failed => match text("kind").as_str() {
            "stopped" => SandboxError::Stopped,
            "unsupported" => SandboxError::Unsupported(text("message")),
            "start" => SandboxError::Start(text("message")),
            "env" => SandboxError::Env(text("message")),
            _ => SandboxError::Protocol(text("message")),
        },
        other => SandboxError::Protocol(format!("the worker answered {other:?}")),
    }
}

/// The answer as `T`, or the failure it reports.
fn expect<T>(answer: Answer, read: impl FnOnce(&Frame) -> Option<T>) -> Result<T, SandboxError> {
    let frame = answer?;
    if let Some(value) = read(&frame) {
        return Ok(value);
    }
    match frame.tag {
        Tag::Raised | Tag::Failed => Err(failed(&frame)),
        other => Err(SandboxError::Protocol(format!(
            "the worker answered {other:?}"
        ))),
    }
}

fn json_doc<T: serde::de::DeserializeOwned>(frame: &Frame) -> Option<Result<T, SandboxError>> {
    (frame.tag == Tag::Json).then(|| {
        frame
            .json()
            .map_err(|e| SandboxError::Protocol(e.to_string()))
    })
}

impl Worker {
    fn stage_call(
        &self,
        tag: Tag,
        stage: StageId,
    ) -> impl std::future::Future<Output = Answer> + Send + use<> {
        self.inner
            .call(tag, Some(stage.0), &stage.0.to_le_bytes(), None)
    }
}

impl Backend for Worker {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "worker process",
            live_nodes: false,
        }
    }

    fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>> {
        let answer = self.inner.call(Tag::Discover, None, &[], None);
        Box::pin(async move { expect(answer.await, json_doc)? })
    }

    fn describe(
        &self,
        module: &str,
        qualname: &str,
    ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>> {
        let body = json!({"module": module, "qualname": qualname}).to_string();
        let answer = self.inner.call(Tag::Describe, None, body.as_bytes(), None);
        Box::pin(async move { expect(answer.await, json_doc)? })
    }

    fn create_stage(
        &self,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let nodes: Vec<_> = nodes
            .iter()
            .map(|n| {
                json!({"id": n.id, "module": n.module, "qualname": n.qualname, "params": n.params,
                       "retry": n.retry, "timeout_ms": n.timeout_ms})
            })
            .collect();
        let body =
            json!({"nodes": nodes, "limits": {"items": limits.items, "bytes": limits.bytes}})
                .to_string();
        let answer = self.inner.call(Tag::Create, None, body.as_bytes(), None);
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let created: serde_json::Value = expect(answer.await, json_doc)??;
            let stage = created
                .get("stage")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| SandboxError::Protocol("a stage without an id".into()))?;
            inner.lock().stages.insert(stage, ids);
            Ok(StageId(stage))
        })
    }

    fn initialize(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        let answer = self.stage_call(Tag::Init, stage);
        Box::pin(async move { expect(answer.await, |f| (f.tag == Tag::Ack).then_some(())) })
    }

    fn push(
        &self,
        stage: StageId,
        items: Vec<Value>,
    ) -> BoxFuture<'static, Result<Fed, SandboxError>> {
        let answer = match wire::items_body(&stage.0.to_le_bytes(), &items) {
            Ok((body, fd)) => Ok(self
                .inner
                .call(Tag::Push, Some(stage.0), &body, fd.as_ref())),
            Err(e) => Err(SandboxError::Protocol(format!(
                "cannot pass items to the worker: {e}"
            ))),
        };
        Box::pin(async move {
            expect(answer?.await, |f| match f.tag {
                Tag::Accepted => Some(Fed::Accepted),
                Tag::Closed => Some(Fed::Closed),
                _ => None,
            })
        })
    }

    fn close(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        let answer = self.stage_call(Tag::Close, stage);
        Box::pin(async move { expect(answer.await, |f| (f.tag == Tag::Ack).then_some(())) })
    }

    fn pull(&self, stage: StageId) -> BoxFuture<'static, Result<Option<Vec<Value>>, SandboxError>> {
        let answer = self.stage_call(Tag::Pull, stage);
        Box::pin(async move {
            expect(answer.await, |f| match f.tag {
                Tag::Items => Some(f.items().map(Some)),
                Tag::End => Some(Ok(None)),
                _ => None,
            })?
            .map_err(|e| SandboxError::Protocol(format!("bad items from the worker: {e}")))
        })
    }

    fn interrupt(&self, stage: StageId) {
        let overdue = {
            let mut state = self.inner.lock();
            let first = *state
                .interrupted
                .entry(stage.0)
                .or_insert_with(Instant::now);
            first.elapsed() > INTERRUPT_GRACE && state.death.is_none()
        };
        if overdue {
            // Code that ignores interrupts (blocked in a C call) cannot be stopped otherwise.
            tracing::warn!(
                "a cancelled stage of worker {} does not stop: killing the worker",
                self.inner.pid
            );
            self.inner.lock().death.get_or_insert_with(Death::by_host);
            self.inner.kill();
            return;
        }
        drop(
            self.inner
                .send(Tag::Interrupt, 0, &stage.0.to_le_bytes(), None),
        );
    }

    fn cleanup(&self, stage: StageId) -> BoxFuture<'static, Result<Vec<NodeCounts>, SandboxError>> {
        if !self.is_alive() {
            // Nothing is left to clean up, and the pipeline's error says why; the counts died
            // with the worker.
            self.inner.lock().stages.remove(&stage.0);
            return Box::pin(async { Ok(Vec::new()) });
        }
        let answer = self.stage_call(Tag::Cleanup, stage);
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let counts: Result<Vec<(u64, u64)>, SandboxError> = expect(answer.await, |f| {
                (f.tag == Tag::Counts)
                    .then(|| f.json().map_err(|e| SandboxError::Protocol(e.to_string())))
            })?;
            let mut state = inner.lock();
            state.stages.remove(&stage.0);
            state.interrupted.remove(&stage.0);
            drop(state);
            Ok(counts?
                .into_iter()
                .map(|(seen, made)| NodeCounts { seen, made })
                .collect())
        })
    }
}
