//! The Python half of a CPython thread's mailbox ([`crate::mailbox`]): the object the driver
//! takes its requests from and answers through, converting items under the interpreter lock
//! it holds.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::convert::{from_py, list_to_py, params_to_py};
use crate::backend::PyFailure;
use crate::mailbox::{Reply, Request, Shared};
use crate::value::Value;

/// The thread's half, handed to its Python driver.
#[pyclass(module = "remotemedia_host", frozen)]
pub struct Mailbox {
    shared: Arc<Shared>,
}

impl Mailbox {
    /// Wraps the shared state for Python.
    pub fn new(shared: Arc<Shared>) -> Self {
        Mailbox { shared }
    }
}

/// A request as the driver takes it: `(op, payload)`.
fn request_to_py(py: Python<'_>, request: Request) -> PyResult<(&'static str, Bound<'_, PyAny>)> {
    Ok(match request {
        Request::Push(items) => ("push", list_to_py(py, &items)?.into_any()),
        Request::Pull => ("pull", py.None().into_bound(py)),
        Request::Close => ("close", py.None().into_bound(py)),
        Request::Init => ("init", py.None().into_bound(py)),
        Request::Cleanup => ("cleanup", py.None().into_bound(py)),
        Request::Shutdown => ("shutdown", py.None().into_bound(py)),
        // The payload is `use_cache`: the cache is checked against every plugin file.
        Request::Discover => (
            "discover",
            pyo3::types::PyBool::new(py, true).to_owned().into_any(),
        ),
        Request::Describe { module, qualname } => {
            ("describe", (module, qualname).into_pyobject(py)?.into_any())
        }
        Request::Create {
            nodes,
            limits,
            stage,
        } => {
            let specs = PyList::empty(py);
            for node in nodes {
                let params = params_to_py(py, &node.params)?;
                let live = node.live.as_ref().and_then(|l| super::live_object(py, l));
                let retry = node.retry.map(|r| (r.max_attempts, r.backoff_ms));
                specs.append((
                    node.id,
                    node.module,
                    node.qualname,
                    params,
                    live,
                    retry,
                    node.timeout_ms,
                ))?;
            }
            (
                "create",
                PyTuple::new(
                    py,
                    [
                        specs.into_any(),
                        limits.items.into_pyobject(py)?.into_any(),
                        limits.bytes.into_pyobject(py)?.into_any(),
                        stage.into_pyobject(py)?.into_any(),
                    ],
                )?
                .into_any(),
            )
        }
    })
}

#[pymethods]
impl Mailbox {
    /// Every queued request as `(token, op, payload)`.
    fn take<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (token, request) in self.shared.drain() {
            // A request that cannot be put into Python (a parameter Python cannot hold) is
            // answered with its error here: it must not end the thread.
            match request_to_py(py, request) {
                Ok((op, payload)) => out.append((token, op, payload))?,
                Err(error) => {
                    let failure = PyFailure::host(None, "ValueError", error.value(py).to_string());
                    self.shared.answer(token, Reply::Failed(failure));
                }
            }
        }
        Ok(out)
    }

    /// Answers request `token`. `kind` is `ack`, `end`, `items` (a list), `json` (a str),
    /// `counts` (a list of pairs) or `error` (`(node_id, type, message, traceback)`).
    fn reply(&self, token: u64, kind: &str, payload: &Bound<'_, PyAny>) -> PyResult<()> {
        let reply = match kind {
            "ack" => Reply::Ack,
            "end" => Reply::End,
            "json" => Reply::Json(payload.extract()?),
            "counts" => Reply::Counts(payload.extract()?),
            "error" => {
                let (node_id, error_type, message, traceback) = payload.extract()?;
                Reply::Failed(PyFailure {
                    node_id,
                    error_type,
                    message,
                    traceback,
                })
            }
            "items" => {
                let converted: Result<Vec<Value>, String> = payload
                    .cast::<PyList>()?
                    .iter()
                    .map(|item| from_py(&item))
                    .collect();
                match converted {
                    Ok(items) => Reply::Items(items),
                    Err(message) => Reply::Failed(PyFailure::host(None, "TypeError", message)),
                }
            }
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "unknown reply kind {other:?}"
                )));
            }
        };
        self.shared.answer(token, reply);
        Ok(())
    }

    /// The driver's thread id, for interrupting node code there.
    fn started(&self, thread_ident: u64) {
        self.shared
            .python_thread
            .store(thread_ident, Ordering::Release);
    }

    /// Whether node code may run now (see [`Shared::running`]).
    fn running(&self, busy: bool) {
        self.shared.running.store(busy, Ordering::Release);
    }

    /// Logs a Python log record through the host's log, tagged with the node that logged.
    #[pyo3(signature = (level, logger, node_id, message))]
    #[allow(clippy::unused_self)] // a method, so Python reaches it through the mailbox it has
    fn log(&self, level: u32, logger: &str, node_id: Option<&str>, message: &str) {
        crate::mailbox::log(level, logger, node_id, message);
    }
}
