//! Embedded CPython: one interpreter per process, on a dedicated thread.
//!
//! CPython 3.11 has one interpreter lock per process and PyO3 supports no sub-interpreters, so
//! every pipeline's Python stages share this thread (each gets its own node instances). Host
//! threads only post requests ([`mailbox`]); the interpreter lock is taken on this thread alone,
//! so tokio's workers never wait for it. The Python driver (`remotemedia.driver`) waits on a
//! plain selector, and on an asyncio loop once a stage needs one.

pub mod convert;
mod home;
mod mailbox;
pub mod memory;

use std::future::Future;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use self::mailbox::{Mailbox, Reply, Request, Shared};
use crate::backend::{Backend, BoxFuture, Capabilities, Fed, NodeCounts, NodeSpec, StageId};
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

/// How long a request may wait untaken before the interpreter thread counts as busy.
const BUSY_AFTER: std::time::Duration = std::time::Duration::from_millis(40);

/// `major.minor` of the Python this crate was built against.
pub const LINKED_VERSION: &str = env!("REMOTEMEDIA_PYTHON_VERSION");

/// The running interpreter thread.
pub struct CPython {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    next_stage: AtomicU64,
    /// Whether the host owns the process: then every stage in it belongs to the one run a
    /// cancel is for, and busy async code may be interrupted whichever stage it is.
    owns_process: bool,
}

static RUNNING: Mutex<Option<(PythonEnv, Arc<CPython>)>> = Mutex::new(None);

impl CPython {
    /// Starts the interpreter thread with `env` on `sys.path`, or returns the one already
    /// running. Blocks until Python is ready (the SDK imported, the loop built).
    ///
    /// # Errors
    /// The interpreter runs already with another environment; the SDK cannot be imported.
    pub fn start(env: &PythonEnv) -> Result<Arc<CPython>, SandboxError> {
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        // A thread that ended (a module that killed it, say) is replaced by a new one.
        if running
            .as_ref()
            .is_some_and(|(_, python)| python.shared.is_stopped())
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
        let python = Arc::new(Self::spawn(env.clone())?);
        *running = Some((env.clone(), Arc::clone(&python)));
        Ok(python)
    }

    fn spawn(env: PythonEnv) -> Result<CPython, SandboxError> {
        let io = |e: std::io::Error| {
            SandboxError::Start(format!("cannot create the wake-up socket: {e}"))
        };
        let (host_end, loop_end) = UnixStream::pair().map_err(io)?;
        host_end.set_nonblocking(true).map_err(io)?;
        let shared = Arc::new(Shared::new(host_end));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let owns_process = env.owns_process;
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("remotemedia-python".into())
            // A main thread's stack: node code, and converting items nested up to the
            // 1000 levels DESIGN allows, run here.
            .stack_size(8 << 20)
            .spawn(move || {
                if env.owns_process
                    && let Err(text) = home::initialize_with_home()
                {
                    let _ = ready_tx.send(Err(text));
                    thread_shared.abandon();
                    return;
                }
                Python::initialize();
                let outcome = Python::attach(|py| -> PyResult<()> {
                    if env.owns_process {
                        prepare_path(py, &env)?;
                    }
                    let runtime = py.import("remotemedia.driver")?;
                    let mailbox = Bound::new(py, Mailbox::new(Arc::clone(&thread_shared)))?;
                    let driver = runtime.getattr("Driver")?.call1((
                        mailbox,
                        loop_end.as_raw_fd(),
                        env.owns_process,
                    ))?;
                    let _ = ready_tx.send(Ok(()));
                    driver.call_method0("run")?;
                    Ok(())
                });
                if let Err(error) = outcome {
                    let text = Python::attach(|py| describe_error(py, &error));
                    if ready_tx.send(Err(text.clone())).is_err() {
                        tracing::error!("the Python interpreter thread failed: {text}");
                    }
                }
                thread_shared.abandon();
            })
            .map_err(|e| {
                SandboxError::Start(format!("cannot start the interpreter thread: {e}"))
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(CPython {
                shared,
                thread: Mutex::new(Some(thread)),
                next_stage: AtomicU64::new(1),
                owns_process,
            }),
            Ok(Err(text)) => {
                let _ = thread.join();
                Err(SandboxError::Start(
                    if text.contains("No module named 'remotemedia") {
                        format!(
                            "{text}: the remotemedia SDK is not installed in the selected Python environment (pip install remotemedia there, or pick the environment with --python-env)"
                        )
                    } else {
                        text
                    },
                ))
            }
            Err(_) => Err(SandboxError::Start(
                "the interpreter thread ended during start-up".into(),
            )),
        }
    }

    /// Stops the interpreter thread if one runs, and forgets it (a later `start` makes a new
    /// one). Does nothing, and starts nothing, when none runs.
    pub fn stop_running() {
        let running = RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((_, python)) = running {
            python.shutdown();
        }
    }

    /// Stops the event loop and joins the thread. Stages still running get no more answers.
    pub fn shutdown(&self) {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            drop(self.shared.post(0, Request::Shutdown));
            let _ = thread.join();
        }
    }
}

impl CPython {
    /// Posts `request` for `stage` now; the answer resolves later.
    fn call(
        &self,
        stage: StageId,
        request: Request,
    ) -> impl Future<Output = Result<Reply, SandboxError>> + Send + 'static {
        let reply = self.shared.post(stage.0, request);
        async move { reply.await.map_err(|_| SandboxError::Stopped) }
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

    /// Posts a request answered with a JSON document, and reads it as `T`.
    fn document<T: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> BoxFuture<'static, Result<T, SandboxError>> {
        let reply = self.call(StageId(0), request);
        Box::pin(async move {
            match reply.await? {
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
        limit: usize,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let id = StageId(self.next_stage.fetch_add(1, Ordering::Relaxed));
        let created = self.ack(id, Request::Create { nodes, limit });
        Box::pin(async move { created.await.map(|()| id) })
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
        let running = self.shared.running.load(Ordering::Acquire);
        let mine = running == stage.0 || (running == mailbox::ASYNC_STAGES && self.owns_process);
        let thread = self.shared.python_thread.load(Ordering::Acquire);
        // Only a thread that is busy: one waiting for work takes the cleanup request itself.
        if !mine || thread == 0 || stage.0 == 0 || !self.shared.stalled(BUSY_AFTER) {
            return;
        }
        let raised = Python::attach(|py| -> PyResult<()> {
            // Checked again with the lock held: the thread is between two instructions now,
            // still in that stage's code or its bookkeeping.
            let running = self.shared.running.load(Ordering::Acquire);
            if running != stage.0 && !(running == mailbox::ASYNC_STAGES && self.owns_process) {
                return Ok(());
            }
            let class = py
                .import("remotemedia._calls")?
                .getattr("StageInterrupted")?;
            home::interrupt_thread(thread, &class);
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

/// Puts the environment's site-packages on `sys.path` as a virtualenv's own `python` would:
/// after `PYTHONPATH` and the standard library, `.pth` files processed, the base
/// interpreter's site-packages removed unless the virtualenv includes them. Also leaves
/// SIGINT to the host and sends `print()` to stderr.
fn prepare_path(py: Python<'_>, env: &PythonEnv) -> PyResult<()> {
    let vars = PyDict::new(py);
    vars.set_item(
        "site_packages",
        env.site_packages.as_ref().map(|p| p.display().to_string()),
    )?;
    vars.set_item("system_site", env.system_site_packages)?;
    py.run(
        c"import signal, site, sys
# Importing `signal` made Python take SIGINT if nobody had it yet, and it would raise
# KeyboardInterrupt in this thread, killing the loop before any cleanup: the host owns SIGINT.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
# stdout is the host's data channel: a node's print() goes to stderr with the logs.
sys.stdout = sys.stderr
if sys.flags.no_site:
    # Started without `site` (the host's own start): its paths are laid out here as the
    # environment's own python would, running no `.pth` file of the base interpreter's
    # site-packages unless the environment includes them.
    if site_packages is not None:
        site.addsitedir(site_packages)
    if system_site:
        site.main()
    else:
        site.setquit()
        site.setcopyright()
        site.sethelper()
        site.execsitecustomize()
else:
    if not system_site:
        base = set(site.getsitepackages()) | {site.getusersitepackages()}
        sys.path[:] = [p for p in sys.path if p not in base]
    if site_packages is not None:
        site.addsitedir(site_packages)
",
        Some(&vars),
        None,
    )
}

fn describe_error(py: Python<'_>, error: &PyErr) -> String {
    let tb = error
        .traceback(py)
        .and_then(|tb| tb.format().ok())
        .unwrap_or_default();
    let value = error.value(py).to_string();
    let ty = error
        .get_type(py)
        .name()
        .map_or_else(|_| "Exception".into(), |n| n.to_string());
    if tb.is_empty() {
        format!("{ty}: {value}")
    } else {
        format!("{ty}: {value}\n{tb}")
    }
}
