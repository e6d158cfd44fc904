//! The interpreter for the commands that need it: the choice from the flags, plugin problems
//! on stderr.

use std::path::Path;

use remotemedia_vm_sandbox::{Interpreter, InterpreterKind, PluginError};

use crate::error::HostError;
use serde_json::Value as Json;

use crate::manifest::{Isolation, escape, runtime_problems};
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

/// How `load` is to treat the isolation it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forced {
    /// The user's `--isolation`: a sandboxed manifest cannot be run in-process.
    ByUser,
    /// `validate` and `graph`, which look at the pipeline in-process and run nothing.
    ToInspect,
}

/// The interpreter and isolation the command line forces (`--runtime`, `--isolation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--runtime`.
    pub python: Option<InterpreterKind>,
    /// `--isolation`.
    pub isolation: Option<Isolation>,
}

/// Reads, validates and builds a manifest, starting Python if its nodes need it (in a worker
/// process when `overrides`, else the manifest, asks for one; in a RustPython VM of its own
/// when either asks for RustPython).
pub fn load(
    path: &Path,
    python_env: Option<&Path>,
    overrides: Overrides,
    forced: Forced,
) -> Result<(Pipeline, Option<Interpreter>), HostError> {
    let Overrides { python, isolation } = overrides;
    let choice = PythonChoice {
        python,
        isolation,
        ..PythonChoice::for_binary(python_env)
    };
    choice.check_explicit()?;
    let mut doc = Pipeline::read_document(path)?;
    if forced == Forced::ByUser {
        if isolation == Some(Isolation::InProcess) && doc.pointer("/runtime/sandbox").is_some() {
            return Err(HostError::Usage(
                "--isolation in_process cannot run a sandboxed pipeline: runtime.sandbox confines a worker process".into(),
            ));
        }
        // The flags override the manifest's fields (DESIGN §8): from here on they are its
        // fields, so validation judges the pipeline that runs (`timeout_ms` under
        // `--runtime rustpython`, say).
        apply(&mut doc, overrides);
        // The problems of a pipeline bound for a worker (a sandbox's, RustPython's there) are
        // reported before a worker starts or anything is imported for it.
        if choice.isolation_of(&doc) == Isolation::Process {
            let problems = runtime_problems(&doc);
            if !problems.is_empty() {
                return Err(HostError::Manifest {
                    source_name: path.display().to_string(),
                    problems,
                });
            }
        }
    }
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

/// Writes the command line's choices into a manifest document's `runtime` section (a
/// document without an object there is left for validation to report).
fn apply(doc: &mut Json, overrides: Overrides) {
    let Some(fields) = doc.as_object_mut() else {
        return;
    };
    let runtime = fields
        .entry("runtime")
        .or_insert_with(|| Json::Object(serde_json::Map::new()));
    let Some(runtime) = runtime.as_object_mut() else {
        return;
    };
    if let Some(python) = overrides.python {
        runtime.insert("python".into(), python.name().into());
    }
    if let Some(isolation) = overrides.isolation {
        let name = match isolation {
            Isolation::InProcess => "in_process",
            Isolation::Process => "process",
        };
        runtime.insert("isolation".into(), name.into());
    }
}

/// The hidden `worker` command: serves the host that started this process (DESIGN §10).
pub fn serve_worker(python_env: Option<&Path>) -> Result<(), HostError> {
    let kind = remotemedia_vm_sandbox::InterpreterKind::Cpython;
    let env = remotemedia_vm_sandbox::PythonEnv::select(python_env, kind.python_version())?;
    remotemedia_vm_sandbox::worker::serve(&env)?;
    Ok(())
}
