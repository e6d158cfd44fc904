//! The interpreter for the commands that need it: environment from the flags, plugin problems
//! on stderr.

use std::path::Path;

use remotemedia_vm_sandbox::PythonEnv;

use crate::error::HostError;
use crate::node::python::PluginError;
use crate::pipeline::Pipeline;
use crate::python::{Python, registry_for};

/// The Python environment the flags and the process environment select.
pub fn select_env(python_env: Option<&Path>) -> Result<PythonEnv, HostError> {
    PythonEnv::select(python_env, Python::linked_version())
        .map_err(|e| HostError::Usage(e.to_string()))
}

/// Starts the interpreter in the selected environment.
pub fn start(python_env: Option<&Path>) -> Result<Python, HostError> {
    Python::start(&select_env(python_env)?)
}

/// Reports a plugin that failed to load.
pub fn report(e: &PluginError) {
    eprintln!(
        "warning: plugin \"{}\" ({}) failed to load: {}",
        e.entry_point, e.provider, e.error
    );
}

/// Reads, validates and builds a manifest, starting Python if its nodes need it.
pub fn load(
    path: &Path,
    python_env: Option<&Path>,
) -> Result<(Pipeline, Option<Python>), HostError> {
    if python_env.is_some() {
        // A wrong --python-env is an error even for a pipeline that needs no Python.
        select_env(python_env)?;
    }
    let doc = Pipeline::read_document(path)?;
    let (registry, python) = registry_for(&doc, || start(python_env), report)?;
    let mut pipeline = Pipeline::from_document(&doc, &path.display().to_string(), &registry)?;
    if let Some(python) = &python {
        pipeline = pipeline.with_python(python.backend());
    }
    Ok((pipeline, python))
}
