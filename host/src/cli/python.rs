//! The interpreter for the commands that need it: the choice from the flags, plugin problems
//! on stderr.

use std::path::Path;

use remotemedia_vm_sandbox::{Interpreter, PluginError};

use crate::error::HostError;
use crate::manifest::escape;
use crate::pipeline::Pipeline;
use crate::python::{PythonChoice, registry_for};

/// Reports a plugin that failed to load.
pub fn report(e: &PluginError) {
    super::to_stderr(&format!(
        "warning: plugin \"{}\" ({}) failed to load: {}\n",
        escape(&e.entry_point),
        escape(&e.provider),
        escape(&e.error)
    ));
}

/// Reads, validates and builds a manifest, starting Python if its nodes need it.
pub fn load(
    path: &Path,
    python_env: Option<&Path>,
) -> Result<(Pipeline, Option<Interpreter>), HostError> {
    let choice = PythonChoice::for_binary(python_env);
    choice.check_explicit()?;
    let doc = Pipeline::read_document(path)?;
    let (registry, interpreter) = registry_for(&doc, &choice, &[], report)?;
    let built = Pipeline::from_document(&doc, &path.display().to_string(), &registry);
    let pipeline = match built {
        Ok(pipeline) => pipeline,
        Err(e) => {
            interpreter.iter().for_each(Interpreter::shutdown);
            return Err(e);
        }
    };
    Ok(match &interpreter {
        Some(interpreter) => (
            pipeline.with_python(interpreter.backend()),
            Some(interpreter.clone()),
        ),
        None => (pipeline, None),
    })
}
