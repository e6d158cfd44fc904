//! Which backend runs a pipeline's Python nodes, and starting it: the one place that knows
//! the backends. A RustPython VM per pipeline or a worker process per pipeline is one more
//! [`InterpreterKind`] here.

use std::sync::Arc;

use crate::backend::Backend;
use crate::env::PythonEnv;
use crate::error::SandboxError;
use crate::worker::{Launch, Worker};

/// A kind of interpreter for Python nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpreterKind {
    /// Embedded CPython: one interpreter per process, a thread of its own per stage;
    /// pipelines share its modules and get their own node instances.
    Cpython,
}

impl InterpreterKind {
    /// Its name in manifests and messages.
    pub fn name(self) -> &'static str {
        match self {
            InterpreterKind::Cpython => "cpython",
        }
    }

    /// `major.minor` of the Python this kind runs, which a virtualenv must match ("none" when
    /// this build lacks the backend).
    pub fn python_version(self) -> &'static str {
        match self {
            #[cfg(feature = "cpython")]
            InterpreterKind::Cpython => crate::cpython::LINKED_VERSION,
            #[cfg(not(feature = "cpython"))]
            InterpreterKind::Cpython => "none",
        }
    }
}

/// A started interpreter and the backend that drives it.
#[derive(Clone)]
pub struct Interpreter {
    kind: InterpreterKind,
    backend: Arc<dyn Backend>,
    /// The worker process, for an interpreter isolated in one.
    worker: Option<Arc<Worker>>,
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Interpreter {
    /// Starts an interpreter of `kind` with `env`'s packages (CPython: or joins the one the
    /// process runs already). Blocks until Python is ready.
    ///
    /// # Errors
    /// [`SandboxError::Unsupported`] when this build lacks the backend;
    /// [`SandboxError::Start`] when the SDK cannot be imported, or CPython runs already with
    /// another environment.
    pub fn start(kind: InterpreterKind, env: &PythonEnv) -> Result<Interpreter, SandboxError> {
        match kind {
            InterpreterKind::Cpython => {
                #[cfg(feature = "cpython")]
                {
                    tracing::debug!(?env, "starting CPython");
                    let backend = crate::cpython::CPython::start(env)?;
                    Ok(Interpreter {
                        kind,
                        backend,
                        worker: None,
                    })
                }
                #[cfg(not(feature = "cpython"))]
                {
                    let _ = env;
                    Err(SandboxError::Unsupported(
                        "this build has no CPython support (the cpython feature)".into(),
                    ))
                }
            }
        }
    }

    /// Starts a worker process (DESIGN §10) with `launch` and waits until its Python is
    /// ready: the pipeline's Python nodes run there.
    ///
    /// # Errors
    /// [`SandboxError::Start`]: the worker cannot be started, or failed before it was ready.
    pub fn start_worker(launch: &Launch) -> Result<Interpreter, SandboxError> {
        tracing::debug!(?launch, "starting a worker process");
        let worker = Arc::new(Worker::start(launch)?);
        Ok(Interpreter {
            kind: InterpreterKind::Cpython,
            backend: Arc::clone(&worker) as Arc<dyn Backend>,
            worker: Some(worker),
        })
    }

    /// The worker process's id, for an interpreter isolated in one.
    pub fn worker_pid(&self) -> Option<u32> {
        self.worker.as_ref().map(|w| w.pid())
    }

    /// Whether it can still run stages: `false` once its worker process has ended (crashed,
    /// killed, stopped); an in-process interpreter counts as alive.
    pub fn is_alive(&self) -> bool {
        self.worker.as_ref().is_none_or(|w| w.is_alive())
    }

    /// Its kind.
    pub fn kind(&self) -> InterpreterKind {
        self.kind
    }

    /// The backend stages run in.
    pub fn backend(&self) -> Arc<dyn Backend> {
        Arc::clone(&self.backend)
    }

    /// Stops the interpreter once every stage has been cleaned up. A worker process stops
    /// (and is reaped); CPython's threads serve the whole process: they stop, and a later
    /// [`Interpreter::start`] makes new ones.
    pub fn shutdown(&self) {
        if let Some(worker) = &self.worker {
            worker.stop();
            return;
        }
        match self.kind {
            InterpreterKind::Cpython => Self::stop_all(),
        }
    }

    /// Stops every interpreter the process runs; starts nothing (the native module calls this
    /// at exit).
    pub fn stop_all() {
        Worker::stop_all();
        #[cfg(feature = "cpython")]
        crate::cpython::CPython::stop_running();
    }
}
