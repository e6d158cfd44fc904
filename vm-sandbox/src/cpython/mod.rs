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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use pyo3::prelude::*;

pub(crate) use self::threads::prepare;
use crate::backend::{Backend, BoxFuture, Capabilities, Limits, NodeSpec, StageId};
use crate::discovery::{Discovery, NodeTypeInfo};
use crate::env::PythonEnv;
use crate::error::SandboxError;
use crate::mailbox::{Request, Shared};
use crate::stages::{self, StageThreads};

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

/// The base interpreter's own site-packages (`{base_prefix}/lib/pythonX.Y/site-packages`).
#[cfg(feature = "rustpython")]
pub(crate) fn base_site_packages() -> String {
    format!(
        "{}/lib/python{LINKED_VERSION}/site-packages",
        env!("REMOTEMEDIA_PYTHON_HOME")
    )
}

/// The `sys.path` of the Python program the host runs inside (the native module), without
/// its standard library; empty if it cannot be read.
#[cfg(feature = "rustpython")]
pub(crate) fn program_path() -> Vec<String> {
    let read = |py: Python<'_>| -> PyResult<Vec<String>> {
        let vars = pyo3::types::PyDict::new(py);
        // As globals: the comprehensions' own scopes look their names up there.
        py.run(
            c"import sys, sysconfig
std = {sysconfig.get_path(n) for n in ('stdlib', 'platstdlib')}
paths = [p for p in sys.path
         if p and p not in std and not p.endswith(('.zip', 'lib-dynload'))]",
            Some(&vars),
            None,
        )?;
        vars.get_item("paths")?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err("paths"))?
            .extract()
    };
    // Only in a program that runs Python already: nothing is started here.
    Python::try_attach(|py| read(py).unwrap_or_default()).unwrap_or_default()
}

/// Logs a record of a RustPython VM's node in the Python program the host runs inside (the
/// native module): to that program's logger `logger`, with the node's id as `node_id`.
#[cfg(feature = "rustpython")]
pub(crate) fn log_in_program(level: u32, logger: &str, node_id: Option<&str>, message: &str) {
    let outcome = Python::try_attach(|py| -> PyResult<()> {
        let extra = pyo3::types::PyDict::new(py);
        extra.set_item("node_id", node_id)?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("extra", extra)?;
        py.import("logging")?
            .call_method1("getLogger", (logger,))?
            .call_method("log", (level, message), Some(&kwargs))?;
        Ok(())
    });
    if !matches!(outcome, Some(Ok(()))) {
        crate::mailbox::log(level, logger, node_id, message);
    }
}

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
        if let Some(thread) = stages::take_thread(&self.thread) {
            self.stages.stop_all(true);
            drop(self.service.post(Request::Shutdown));
            let _ = thread.join();
        }
    }
}

impl Backend for CPython {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "cpython",
            live_nodes: true,
            interrupts: true,
        }
    }

    fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>> {
        stages::document(&self.service, Request::Discover)
    }

    fn describe(
        &self,
        module: &str,
        qualname: &str,
    ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>> {
        stages::describe(&self.service, module, qualname)
    }

    fn create_stage(
        &self,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let id = StageId(self.next_stage.fetch_add(1, Ordering::Relaxed));
        let spawned = threads::spawn_stage(&self.stages, id.0, self.owns_process);
        StageThreads::create(spawned, id, nodes, limits)
    }

    crate::stages::stage_operations!();

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
}
