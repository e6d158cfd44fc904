//! The one place host errors become Python exceptions: the classes of `remotemedia.errors`,
//! the same ones the pure-Python executor raises.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use remotemedia_host::HostError;

/// `error` as an instance of the matching `remotemedia.errors` class.
pub fn to_pyerr(py: Python<'_>, error: &HostError) -> PyErr {
    build(py, error).unwrap_or_else(|e| e)
}

fn build(py: Python<'_>, error: &HostError) -> Result<PyErr, PyErr> {
    let errors = py.import("remotemedia.errors")?;
    let kwargs = PyDict::new(py);
    let message = error.to_string();
    let class = match error {
        HostError::Manifest {
            problems,
            source_name,
        } => {
            let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
            kwargs.set_item("problems", rendered)?;
            kwargs.set_item("source", source_name)?;
            "ManifestError"
        }
        HostError::Usage(_) | HostError::Input { .. } => "UsageError",
        HostError::Node(failure) => {
            kwargs.set_item("node_id", &failure.node_id)?;
            kwargs.set_item("node_type", &failure.node_type)?;
            kwargs.set_item("error_type", &failure.error.error_type)?;
            kwargs.set_item("message", &failure.error.message)?;
            kwargs.set_item("traceback", failure.error.traceback.as_deref())?;
            "NodeError"
        }
        HostError::Cancelled => "PipelineCancelled",
        HostError::Sandbox(_) => "SandboxError",
        HostError::Io { .. } | HostError::Runtime(_) => "RemoteMediaError",
    };
    let instance = if kwargs.is_empty() {
        errors.getattr(class)?.call1((message,))?
    } else {
        errors.getattr(class)?.call((), Some(&kwargs))?
    };
    Ok(PyErr::from_value(instance))
}

/// For errors that cannot even be turned into a `remotemedia.errors` class.
pub fn internal(message: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(message.into())
}
