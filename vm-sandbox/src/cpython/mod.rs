//! Embedded CPython: one interpreter per process, a thread per stage.
//!
//! CPython 3.11 has one interpreter per process and PyO3 supports no sub-interpreters, so
//! every pipeline's Python stages share it (each with its own node instances). Each stage gets
//! an OS thread of its own, attached to the interpreter from the stage's creation to its
//! cleanup: node code that releases the interpreter lock (`time.sleep`, numpy, I/O) overlaps
//! across branches and pipelines, a node's `initialize`, `process` and `cleanup` run on one
//! thread, and an interrupt aimed at a stage's thread reaches that stage's code only. A
//! service thread starts the interpreter and answers discovery and descriptions. Host threads
//! never take the interpreter lock: they post requests to a thread's [`mailbox`], so tokio's
//! workers never wait for it.
//!
//! # Layout
//! - `threads`: the service thread and the stage threads, their start and their end.
//! - `mailbox`: one thread's requests and answers.
//! - `home`: starting CPython with its own home; interrupting a thread.
//! - `convert`: items to Python objects and back.

pub mod convert;
mod home;
mod mailbox;
pub mod memory;
mod threads;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use pyo3::prelude::*;

use self::mailbox::{Reply, Request, Shared};
use self::threads::StageThreads;
pub(crate) use self::threads::prepare;
use crate::backend::{
    Backend, BoxFuture, Capabilities, Fed, Limits, NodeCounts, NodeSpec, StageId,
};
use crate::discovery::{Discovery, NodeTypeInfo};
use crate::env::PythonEnv;
use crate::error::SandboxError;
use crate::value::Value;

/// Wraps a Python object the caller made (a node instance) for a [`crate::NodeSpec`].
pub fn live_node(object: Py<PyAny>) -> crate::LiveNode {
    crate::LiveNode(Arc::new(object))
}

/// The Python object behind a [`crate::LiveNode`] made by [`live_node`].
pub fn live_object<'py>(py: Python<'py>, node: &crate::LiveNode) -> Option<Bound<'py, PyAny>> {
    node.0
        .downcast_ref::<Py<PyAny>>()
        .map(|object| object.bind(py).clone())
}

/// How long a request may wait untaken before a stage's thread counts as busy.
const BUSY_AFTER: std::time::Duration = std::time::Duration::from_millis(40);

/// `major.minor` of the Python this crate was built against.
pub const LINKED_VERSION: &str = env!("REMOTEMEDIA_PYTHON_VERSION");

/// The running interpreter: its service thread and its stages' threads.
pub struct CPython {
    /// The service thread's mailbox (discovery, descriptions).
    service: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stages: StageThreads,
    next_stage: AtomicU64,
    /// Whether the host owns the process (Python logging then goes to the host's log).
    owns_process: bool,
    /// The process that started the threads: a child forked from it has none of them.
    owner: u32,
}

static RUNNING: Mutex<Option<(PythonEnv, Arc<CPython>)>> = Mutex::new(None);

impl CPython {
    /// Starts the interpreter with `env` on `sys.path`, or returns the one already running.
    /// Blocks until Python is ready (the SDK imported).
    ///
    /// # Errors
    /// The interpreter runs already with another environment; the SDK cannot be imported.
    pub fn start(env: &PythonEnv) -> Result<Arc<CPython>, SandboxError> {
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        // A service thread that ended (a module that killed it, say) is replaced by a new one.
        if running
            .as_ref()
            .is_some_and(|(_, python)| python.service.is_stopped())
        {
            running.take();
        }
        if let Some((running_env, python)) = running.as_ref() {
            return if running_env == env {
                Ok(Arc::clone(python))
            } else {
                Err(SandboxError::Start(
                    "Python runs already, with another environment".into(),
                ))
            };
        }
        let owns_process = env.owns_process;
        let (service, thread) = threads::start_service(env.clone())?;
        let python = Arc::new(CPython {
            service,
            thread: Mutex::new(Some(thread)),
            stages: StageThreads::default(),
            next_stage: AtomicU64::new(1),
            owns_process,
            owner: std::process::id(),
        });
        *running = Some((env.clone(), Arc::clone(&python)));
        Ok(python)
    }

    /// Stops the interpreter's threads if they run, and forgets them (a later `start` makes
    /// new ones). Does nothing, and starts nothing, when none runs.
    pub fn stop_running() {
        let running = RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((_, python)) = running {
            python.shutdown();
        }
    }

    /// Stops every stage thread, then the service thread, and joins them. Stages still
    /// running get no more answers.
    pub fn shutdown(&self) {
        if std::process::id() != self.owner {
            return; // a forked child: the threads are its parent's, and not here to join
        }
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            self.stages.stop_all();
            drop(self.service.post(Request::Shutdown));
            let _ = thread.join();
        }
    }
}

impl CPython {
    /// Posts `request` to `stage`'s thread now; the answer resolves later. A stage whose
    /// thread has ended (after its cleanup) answers nothing more.
    fn call(
        &self,
        stage: StageId,
        request: Request,
    ) -> impl Future<Output = Result<Reply, SandboxError>> + Send + 'static {
        let reply = self.stages.get(stage.0).map(|thread| thread.post(request));
        async move {
            let reply = reply.ok_or(SandboxError::Stopped)?;
            reply.await.map_err(|_| SandboxError::Stopped)
        }
    }

    /// Posts a request whose only good answer is `Ack`.
    fn ack(
        &self,
        stage: StageId,
        request: Request,
    ) -> BoxFuture<'static, Result<(), SandboxError>> {
        let reply = self.call(stage, request);
        Box::pin(async move {
            match reply.await? {
                Reply::Ack => Ok(()),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    /// Posts a request to the service thread, answered with a JSON document, and reads it as
    /// `T`.
    fn document<T: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> BoxFuture<'static, Result<T, SandboxError>> {
        let reply = self.service.post(request);
        Box::pin(async move {
            match reply.await.map_err(|_| SandboxError::Stopped)? {
                Reply::Json(text) => serde_json::from_str(&text)
                    .map_err(|e| SandboxError::Protocol(format!("bad document from Python: {e}"))),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }
}

/// A `Failed` answer as the error it carries; anything else breaks the protocol.
fn failed_or_unexpected(reply: Reply) -> SandboxError {
    match reply {
        Reply::Failed(failure) => SandboxError::Raised(failure),
        other => SandboxError::Protocol(format!("{other:?}")),
    }
}

impl Backend for CPython {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "cpython",
            live_nodes: true,
        }
    }

    fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>> {
        self.document(Request::Discover)
    }

    fn describe(
        &self,
        module: &str,
        qualname: &str,
    ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>> {
        self.document(Request::Describe {
            module: module.to_owned(),
            qualname: qualname.to_owned(),
        })
    }

    fn create_stage(
        &self,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let id = StageId(self.next_stage.fetch_add(1, Ordering::Relaxed));
        let thread = match self.stages.spawn(id.0, self.owns_process) {
            Ok(thread) => thread,
            Err(error) => return Box::pin(async move { Err(error) }),
        };
        let reply = thread.post(Request::Create {
            nodes,
            limits,
            stage: id.0,
        });
        // A stage whose creation failed ends its thread itself; one whose caller went away
        // before the answer is cleaned up, which ends it too.
        let unclaimed = Unclaimed(Some(thread));
        Box::pin(async move {
            let reply = reply.await;
            unclaimed.claim();
            match reply.map_err(|_| SandboxError::Stopped)? {
                Reply::Ack => Ok(id),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    fn initialize(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        self.ack(stage, Request::Init)
    }

    fn push(
        &self,
        stage: StageId,
        items: Vec<Value>,
    ) -> BoxFuture<'static, Result<Fed, SandboxError>> {
        let reply = self.call(stage, Request::Push(items));
        Box::pin(async move {
            match reply.await? {
                Reply::Ack => Ok(Fed::Accepted),
                Reply::End => Ok(Fed::Closed),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    fn close(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        self.ack(stage, Request::Close)
    }

    fn pull(&self, stage: StageId) -> BoxFuture<'static, Result<Option<Vec<Value>>, SandboxError>> {
        let reply = self.call(stage, Request::Pull);
        Box::pin(async move {
            match reply.await? {
                Reply::Items(items) => Ok(Some(items)),
                Reply::End => Ok(None),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    fn interrupt(&self, stage: StageId) {
        let Some(thread) = self.stages.get(stage.0) else {
            return; // its thread has ended: no code of it runs
        };
        // Only a thread busy in node code: one waiting for work takes the cleanup request
        // itself, and one taking or answering requests must not lose them.
        if !thread.running.load(Ordering::Acquire) || !thread.stalled(BUSY_AFTER) {
            return;
        }
        let raised = Python::attach(|py| -> PyResult<()> {
            // Checked again with the lock held: the thread is between two instructions now, and
            // one that has stopped serving has cleared its id.
            let id = thread.python_thread.load(Ordering::Acquire);
            if id == 0 || !thread.running.load(Ordering::Acquire) {
                return Ok(());
            }
            let class = py
                .import("remotemedia._calls")?
                .getattr("StageInterrupted")?;
            home::interrupt_thread(id, &class);
            Ok(())
        });
        if let Err(error) = raised {
            tracing::warn!("cannot interrupt Python stage {}: {error}", stage.0);
        }
    }

    fn cleanup(&self, stage: StageId) -> BoxFuture<'static, Result<Vec<NodeCounts>, SandboxError>> {
        let reply = self.call(stage, Request::Cleanup);
        Box::pin(async move {
            match reply.await? {
                Reply::Counts(counts) => Ok(counts
                    .into_iter()
                    .map(|(seen, made)| NodeCounts { seen, made })
                    .collect()),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }
}

/// A stage thread whose creation nobody waits for any more: asked to clean up, which ends it.
struct Unclaimed(Option<Arc<Shared>>);

impl Unclaimed {
    /// Its creation was answered: the stage is the caller's to clean up.
    fn claim(mut self) {
        self.0 = None;
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            drop(thread.post(Request::Cleanup));
        }
    }
}
