//! Which backend runs a pipeline's Python nodes, and starting it: the one place that knows
//! the backends (embedded CPython, a RustPython VM per pipeline, a worker process per
//! pipeline).

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
    /// A RustPython VM per pipeline, in the host process: modules of its own, pure-Python
    /// plugins only.
    Rustpython,
}

impl InterpreterKind {
    /// Its name in manifests and messages.
    pub fn name(self) -> &'static str {
        match self {
            InterpreterKind::Cpython => "cpython",
            InterpreterKind::Rustpython => "rustpython",
        }
    }

    /// `major.minor` of the Python whose virtualenvs this kind uses, which a virtualenv must
    /// match ("none" when this build lacks CPython). RustPython uses the packages of the
    /// CPython the host embeds: pure-Python packages run on either.
    pub fn python_version(self) -> &'static str {
        #[cfg(feature = "cpython")]
        let version = crate::cpython::LINKED_VERSION;
        #[cfg(not(feature = "cpython"))]
        let version = "none";
        version
    }
}

/// A started interpreter and the backend that drives it.
#[derive(Clone)]
pub struct Interpreter {
    kind: InterpreterKind,
    backend: Arc<dyn Backend>,
    /// The worker process, for an interpreter isolated in one.
    worker: Option<Arc<Worker>>,
    /// The VM, for a RustPython one.
    #[cfg(feature = "rustpython")]
    vm: Option<Arc<crate::rustpython::RustPython>>,
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
                    Ok(Interpreter::in_process(kind, backend))
                }
                #[cfg(not(feature = "cpython"))]
                {
                    let _ = env;
                    Err(SandboxError::Unsupported(
                        "this build has no CPython support (the cpython feature)".into(),
                    ))
                }
            }
            InterpreterKind::Rustpython => {
                #[cfg(feature = "rustpython")]
                {
                    tracing::debug!(?env, "starting a RustPython VM");
                    let vm = crate::rustpython::RustPython::start(&env.rustpython_paths())?;
                    Ok(Interpreter {
                        vm: Some(Arc::clone(&vm)),
                        ..Interpreter::in_process(kind, vm)
                    })
                }
                #[cfg(not(feature = "rustpython"))]
                {
                    let _ = env;
                    Err(SandboxError::Unsupported(
                        "this build has no RustPython support (the rustpython feature)".into(),
                    ))
                }
            }
        }
    }

    #[cfg_attr(
        not(any(feature = "cpython", feature = "rustpython")),
        allow(dead_code)
    )]
    fn in_process(kind: InterpreterKind, backend: Arc<dyn Backend>) -> Interpreter {
        Interpreter {
            kind,
            backend,
            worker: None,
            #[cfg(feature = "rustpython")]
            vm: None,
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
            worker: Some(Arc::clone(&worker)),
            ..Interpreter::in_process(InterpreterKind::Cpython, worker)
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
    /// (and is reaped); a RustPython VM stops; CPython's threads serve the whole process: they
    /// stop, and a later [`Interpreter::start`] makes new ones.
    pub fn shutdown(&self) {
        if let Some(worker) = &self.worker {
            worker.stop();
            return;
        }
        #[cfg(feature = "rustpython")]
        if let Some(vm) = &self.vm {
            vm.shutdown();
            return;
        }
        Self::stop_all();
    }

    /// Stops every interpreter the process runs; starts nothing (the native module calls this
    /// at exit).
    pub fn stop_all() {
        Worker::stop_all();
        #[cfg(feature = "rustpython")]
        crate::rustpython::RustPython::stop_discovery();
        #[cfg(feature = "cpython")]
        crate::cpython::CPython::stop_running();
    }
}
