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

/// The `remotemedia.errors` class of each kind of host error: a kind is never lost on the
/// way (a sandbox error stays a `SandboxError`).
fn class_name(error: &HostError) -> &'static str {
    match error {
        HostError::Manifest { .. } => "ManifestError",
        HostError::Usage(_) | HostError::Input { .. } => "UsageError",
        HostError::Node(_) => "NodeError",
        HostError::Cancelled => "PipelineCancelled",
        HostError::Sandbox(_) => "SandboxError",
        HostError::Io { .. } | HostError::Runtime(_) => "RemoteMediaError",
    }
}

fn build(py: Python<'_>, error: &HostError) -> Result<PyErr, PyErr> {
    let errors = py.import("remotemedia.errors")?;
    let kwargs = PyDict::new(py);
    let message = error.to_string();
    match error {
        HostError::Manifest {
            problems,
            source_name,
        } => {
            let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
            kwargs.set_item("problems", rendered)?;
            kwargs.set_item("source", source_name)?;
        }
        HostError::Node(failure) => {
            kwargs.set_item("node_id", &failure.node_id)?;
            kwargs.set_item("node_type", &failure.node_type)?;
            kwargs.set_item("error_type", &failure.error.error_type)?;
            kwargs.set_item("message", &failure.error.message)?;
            kwargs.set_item("traceback", failure.error.traceback.as_deref())?;
        }
        _ => {}
    }
    let class = class_name(error);
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

#[cfg(test)]
mod tests {
    use remotemedia_vm_sandbox::SandboxError;

    use super::*;

    #[test]
    fn a_sandbox_error_stays_a_sandbox_error() {
        let errors = [
            SandboxError::Env("not a virtualenv".into()),
            SandboxError::Start("no SDK".into()),
            SandboxError::Stopped,
            SandboxError::Unsupported("no live nodes".into()),
        ];
        for error in errors {
            assert_eq!(class_name(&HostError::Sandbox(error)), "SandboxError");
        }
        assert_eq!(class_name(&HostError::Cancelled), "PipelineCancelled");
        assert_eq!(class_name(&HostError::Usage(String::new())), "UsageError");
    }
}
