//! Worker processes from Python (DESIGN §10): a `Pipeline` keeps its worker across runs in a
//! [`WorkerHandle`]; a worker is this program's Python running `remotemedia_runtime._worker`,
//! which serves the host with [`_serve_worker`].

use std::sync::{Mutex, PoisonError};

use pyo3::prelude::*;
use remotemedia_host::HostError;
use remotemedia_host::python::PythonChoice;
use remotemedia_vm_sandbox::worker::{Launch, Policy};
use remotemedia_vm_sandbox::{Interpreter, InterpreterKind, PythonEnv};

use crate::errors::to_pyerr;

/// The variable that hands the caller's `sys.path` to its worker, so that the worker imports
/// what the caller can (a test's helper modules, a script's own directory).
const SYS_PATH_VAR: &str = "REMOTEMEDIA_WORKER_SYS_PATH";

/// How this program starts a worker: its own Python, with its `sys.path`.
pub fn launch(py: Python<'_>) -> PyResult<Launch> {
    let sys = py.import("sys")?;
    let executable: String = sys.getattr("executable")?.extract()?;
    let path: Vec<String> = sys.getattr("path")?.extract()?;
    let path = serde_json::to_string(&path).map_err(|e| crate::errors::internal(e.to_string()))?;
    Ok(Launch {
        program: executable.into(),
        args: vec!["-m".into(), "remotemedia_runtime._worker".into()],
        env: vec![(SYS_PATH_VAR.into(), path.into())],
        sandbox: None,
    })
}

/// The native module's choice of Python, with this program's way to start a worker.
pub fn choice(py: Python<'_>) -> PyResult<PythonChoice> {
    Ok(PythonChoice::in_program(launch(py)?))
}

/// A pipeline's worker process or RustPython VM, started on first use and kept across runs
/// (DESIGN §10); a worker that died (a crash, a kill after a stuck timeout) is replaced by the
/// next run.
#[pyclass(module = "remotemedia_runtime._native", frozen)]
#[derive(Default)]
pub struct WorkerHandle {
    /// The worker (or VM), and the sandbox it entered.
    running: Mutex<Option<(Interpreter, Option<Policy>)>>,
}

impl WorkerHandle {
    /// The running interpreter if it is of `kind` and entered `sandbox` (or none, as
    /// asked), or a new one (`choice` says how to start it): a worker process for CPython, a
    /// VM for RustPython. A sandbox is entered once, so another policy needs another worker,
    /// and the old one is stopped.
    pub fn get(
        &self,
        choice: &PythonChoice,
        kind: InterpreterKind,
        sandbox: Option<&Policy>,
    ) -> Result<Interpreter, HostError> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        match running.as_ref() {
            Some((interpreter, entered))
                if interpreter.is_alive()
                    && interpreter.kind() == kind
                    && entered.as_ref() == sandbox =>
            {
                return Ok(interpreter.clone());
            }
            Some((interpreter, _)) => interpreter.shutdown(),
            None => {}
        }
        *running = None;
        let started = match kind {
            InterpreterKind::Rustpython => choice.start(kind)?,
            InterpreterKind::Cpython => choice.start_worker(sandbox)?,
        };
        *running = Some((started.clone(), sandbox.cloned()));
        Ok(started)
    }
}

#[pymethods]
impl WorkerHandle {
    #[new]
    fn new() -> Self {
        WorkerHandle::default()
    }

    /// The worker's process id, while one runs.
    #[getter]
    fn pid(&self) -> Option<u32> {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running
            .as_ref()
            .map(|(i, _)| i)
            .filter(|i| i.is_alive())
            .and_then(Interpreter::worker_pid)
    }

    /// Stops the worker (or VM), if one runs, and waits until it has ended.
    fn close(&self, py: Python<'_>) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((interpreter, _)) = running {
            py.detach(|| interpreter.shutdown());
        }
    }
}

/// The worker's main: serves the host on standard input with this interpreter, until the
/// host stops it. Called by `python -m remotemedia_runtime._worker`.
#[pyfunction]
pub fn _serve_worker(py: Python<'_>) -> PyResult<()> {
    py.detach(|| remotemedia_vm_sandbox::worker::serve(&PythonEnv::current_program()))
        .map_err(|e| to_pyerr(py, &HostError::Sandbox(e)))
}
