//! Python for the commands and the native module: the one place that chooses the interpreter
//! and its environment, and builds the registry a manifest's node types resolve against.
//!
//! A pipeline of built-in nodes never starts Python. One that names other types starts the
//! interpreter, asks it once for the plugins' node types and for a description of every
//! `"module:Class"` type the manifest names, so that validation knows every node's parameters
//! and whether it is a source before anything is constructed.

use std::future::Future;
use std::path::{Path, PathBuf};

use remotemedia_vm_sandbox::worker::{Launch, Policy};
use remotemedia_vm_sandbox::{Interpreter, InterpreterKind, PluginError, PythonEnv, SandboxError};
use serde_json::Value as Json;

use crate::error::HostError;
use crate::manifest::{Isolation, Location, Problem, node_refs, runtime_problems};
use crate::node::{NodeType, Registry, import_path};

/// Which Python environment the interpreter uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvChoice {
    /// The `remotemedia-host` binary's: `--python-env DIR` (given here), else `$VIRTUAL_ENV`,
    /// else the virtualenv the binary is installed in, else the interpreter's own.
    Select(Option<PathBuf>),
    /// The Python program the host runs inside (the native module): its `sys.path`, streams,
    /// signals and logging stay as the program set them.
    CurrentProgram,
}

/// Which interpreter runs Python nodes, and with which environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonChoice {
    /// The interpreter the command line forces (`--runtime`); `None` follows the manifest's
    /// `runtime.python`.
    pub python: Option<InterpreterKind>,
    /// Its environment.
    pub env: EnvChoice,
    /// The isolation the command line forces (`--isolation`); `None` follows the manifest's
    /// `runtime.isolation`.
    pub isolation: Option<Isolation>,
    /// How a worker process is started (DESIGN §10), for a pipeline isolated in one.
    pub worker: Launch,
}

impl PythonChoice {
    /// The binary's choice, from its `--python-env` flag: a worker is this binary's hidden
    /// `worker` command.
    pub fn for_binary(python_env: Option<&Path>) -> Self {
        PythonChoice {
            python: None,
            env: EnvChoice::Select(python_env.map(Path::to_owned)),
            isolation: None,
            worker: Launch {
                program: std::env::current_exe().unwrap_or_else(|_| "remotemedia-host".into()),
                args: vec!["worker".into()],
                env: Vec::new(),
                sandbox: None,
            },
        }
    }

    /// The native module's choice: the interpreter of the calling program; a worker is
    /// `launch` (that program's Python running the native module's worker).
    pub fn in_program(worker: Launch) -> Self {
        PythonChoice {
            python: None,
            env: EnvChoice::CurrentProgram,
            isolation: None,
            worker,
        }
    }

    /// The isolation a manifest document gets: the forced one, else a worker process for a
    /// sandboxed one (`runtime.sandbox`), else its `runtime.isolation`.
    pub fn isolation_of(&self, doc: &Json) -> Isolation {
        self.isolation.unwrap_or_else(|| {
            let asked = doc.pointer("/runtime/isolation").and_then(Json::as_str);
            if asked == Some("process") || doc.pointer("/runtime/sandbox").is_some() {
                Isolation::Process
            } else {
                Isolation::InProcess
            }
        })
    }

    /// The interpreter a manifest document gets: the forced one, else its `runtime.python`.
    pub fn kind_of(&self, doc: &Json) -> InterpreterKind {
        self.python.unwrap_or_else(
            || match doc.pointer("/runtime/python").and_then(Json::as_str) {
                Some("rustpython") => InterpreterKind::Rustpython,
                _ => InterpreterKind::Cpython,
            },
        )
    }

    /// Starts the interpreter a manifest document gets in this process ([`Self::kind_of`]).
    ///
    /// # Errors
    /// As [`PythonChoice::start`].
    pub fn start_for(&self, doc: &Json) -> Result<Interpreter, HostError> {
        self.start(self.kind_of(doc))
    }

    /// Starts a worker process for a pipeline (DESIGN §10), with this choice's environment,
    /// confined by `sandbox` if there is one.
    ///
    /// # Errors
    /// [`HostError::Sandbox`]: the environment cannot be used, or the worker did not start
    /// (or could not enter its sandbox).
    pub fn start_worker(&self, sandbox: Option<&Policy>) -> Result<Interpreter, HostError> {
        let mut launch = self.worker.clone();
        if let EnvChoice::Select(_) = self.env {
            if let Some(venv) = self.env()?.venv {
                launch.args.push("--python-env".into());
                launch.args.push(venv.into_os_string());
            }
            // The binary's worker lays out `sys.path` from `PYTHONPATH` as the host does; in a
            // sandbox it then leaves `os.environ` unless the policy names it.
            if sandbox.is_some()
                && let Some(path) = std::env::var_os("PYTHONPATH")
            {
                launch.env.push(("PYTHONPATH".into(), path));
            }
        }
        launch.sandbox = sandbox.cloned();
        Ok(Interpreter::start_worker(&launch)?)
    }

    /// The environment this choice selects.
    ///
    /// # Errors
    /// [`HostError::Sandbox`]: the directory is not a virtualenv, or one of another Python.
    pub fn env(&self) -> Result<PythonEnv, HostError> {
        match &self.env {
            EnvChoice::Select(explicit) => Ok(PythonEnv::select(
                explicit.as_deref(),
                InterpreterKind::Cpython.python_version(),
            )?),
            EnvChoice::CurrentProgram => Ok(PythonEnv::current_program()),
        }
    }

    /// Checks an explicit environment now: a wrong `--python-env` is an error even for a
    /// pipeline that needs no Python.
    ///
    /// # Errors
    /// As [`PythonChoice::env`].
    pub fn check_explicit(&self) -> Result<(), HostError> {
        if matches!(self.env, EnvChoice::Select(Some(_))) {
            self.env()?;
        }
        Ok(())
    }

    /// Starts an interpreter of `kind` (CPython: or joins the one running; RustPython: a new
    /// VM).
    ///
    /// # Errors
    /// [`HostError::Sandbox`]: the environment cannot be used, or the SDK is not importable.
    pub fn start(&self, kind: InterpreterKind) -> Result<Interpreter, HostError> {
        Ok(Interpreter::start(kind, &self.env()?)?)
    }
}

/// The registry for a manifest document, and the interpreter if its nodes need one: built-in
/// node types, then (only when the document names another type or asks for Python) the
/// plugins' types and the descriptions of its `"module:Class"` types. Plugins that failed to
/// load are passed to `report`. `known` names types described already (the native module's
/// live nodes, described from their objects). If Python cannot start, the registry records
/// why, and validation reports the manifest's unknown types with that reason.
///
/// # Errors
/// Discovery itself failed, or the interpreter stopped.
pub fn registry_for(
    doc: &Json,
    choice: &PythonChoice,
    known: &[(String, NodeType)],
    report: impl Fn(&PluginError),
) -> Result<(Registry, Option<Interpreter>), HostError> {
    let mut registry = Registry::builtin();
    let refs = node_refs(doc);
    let needs_python = refs.iter().any(|r| {
        r.node_type
            .is_some_and(|name| registry.needs_python(name, r.hint))
    });
    if !needs_python {
        return Ok((registry, None));
    }
    let started = match (choice.isolation_of(doc), sandbox_of(doc, "<manifest>")) {
        (Isolation::InProcess, _) => choice.start_for(doc),
        (Isolation::Process, Ok(None)) => choice.start_worker(None),
        // A sandboxed pipeline's nodes are imported only inside its sandbox: one that cannot
        // be entered is the run's error, not a reason its node types are unknown.
        (Isolation::Process, Ok(Some(policy))) => Ok(choice.start_worker(Some(&policy))?),
        (Isolation::Process, Err(e)) => Err(e),
    };
    let interpreter = match started {
        Ok(interpreter) => interpreter,
        Err(e) => {
            registry.python_unavailable(e.to_string());
            return Ok((registry, None));
        }
    };
    registry_in(doc, interpreter, known, report).map(|(r, i)| (r, Some(i)))
}

/// The sandbox a manifest document asks for (`runtime.sandbox`), if any. `source_name` names
/// the document in an error.
///
/// # Errors
/// [`HostError::Manifest`]: the document's `runtime` section has problems, which are listed;
/// no worker may start for it, sandboxed or not, and nothing of the pipeline is imported.
pub fn sandbox_of(doc: &Json, source_name: &str) -> Result<Option<Policy>, HostError> {
    let Some(section) = doc.pointer("/runtime/sandbox") else {
        return Ok(None);
    };
    let problems = runtime_problems(doc);
    if !problems.is_empty() {
        return Err(HostError::Manifest {
            source_name: source_name.to_owned(),
            problems,
        });
    }
    serde_json::from_value(section.clone())
        .map(Some)
        .map_err(|e| HostError::Manifest {
            source_name: source_name.to_owned(),
            problems: vec![Problem::new(
                Location::root().key("runtime").key("sandbox"),
                e.to_string(),
            )],
        })
}

/// [`registry_for`] with an interpreter started already (a pipeline's kept worker).
///
/// # Errors
/// Discovery itself failed, or the interpreter stopped.
pub fn registry_in(
    doc: &Json,
    interpreter: Interpreter,
    known: &[(String, NodeType)],
    report: impl Fn(&PluginError),
) -> Result<(Registry, Interpreter), HostError> {
    let mut registry = Registry::builtin();
    let refs = node_refs(doc);
    let backend = interpreter.backend();
    add_plugins(&mut registry, &interpreter, &report)?;
    for (name, described) in known {
        registry.add_import(name, Ok(described.clone()));
    }
    let paths: Vec<&str> = refs
        .iter()
        .filter_map(|r| {
            r.node_type
                .filter(|n| registry.needs_description(n, r.hint))
        })
        .collect();
    for path in paths {
        let Some((module, qualname)) = import_path(path) else {
            continue;
        };
        let described = match wait(backend.describe(module, qualname))? {
            // Built from the path the manifest names, whatever the class says of itself.
            Ok(info) => Ok(NodeType::python(&remotemedia_vm_sandbox::NodeTypeInfo {
                module: module.to_owned(),
                qualname: qualname.to_owned(),
                ..info
            })),
            // The class was found but cannot be a node type (not a Node; a bad source).
            Err(SandboxError::Raised(f)) if f.error_type == "TypeError" => Err(f.message),
            Err(SandboxError::Raised(f)) => Err(format!(
                "cannot import \"{path}\": {}: {}",
                f.error_type, f.message
            )),
            Err(other) => return Err(other.into()),
        };
        registry.add_import(path, described);
    }
    Ok((registry, interpreter))
}

/// The registry of every node type: built-in, and the plugins' when an environment with the
/// SDK is there. Without one, the reason comes back beside the built-in registry.
///
/// # Errors
/// A wrong explicit environment; discovery itself failed.
pub fn registry_with_plugins(
    choice: &PythonChoice,
    report: impl Fn(&PluginError),
) -> Result<(Registry, Result<Interpreter, HostError>), HostError> {
    choice.check_explicit()?;
    let mut registry = Registry::builtin();
    let interpreter = choice.start(InterpreterKind::Cpython);
    if let Ok(interpreter) = &interpreter {
        add_plugins(&mut registry, interpreter, &report)?;
    }
    Ok((registry, interpreter))
}

/// Adds the plugins' node types to `registry`, reporting the plugins that failed to load.
fn add_plugins(
    registry: &mut Registry,
    interpreter: &Interpreter,
    report: &impl Fn(&PluginError),
) -> Result<(), HostError> {
    let discovery = wait(interpreter.backend().discover())?.map_err(plugin_discovery)?;
    discovery.errors.iter().for_each(report);
    registry.add_python(&discovery);
    Ok(())
}

fn plugin_discovery(error: SandboxError) -> HostError {
    match error {
        SandboxError::Raised(f) => HostError::Runtime(format!(
            "plugin discovery failed: {}: {}\n{}",
            f.error_type, f.message, f.traceback
        )),
        other => other.into(),
    }
}

/// Waits for a backend answer from synchronous code (validation happens before any run),
/// on a small runtime of its own; on a thread of its own when called inside a runtime, which
/// cannot block.
fn wait<T: Send>(work: impl Future<Output = T> + Send) -> Result<T, HostError> {
    let block = move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map(|runtime| runtime.block_on(work))
            .map_err(|e| HostError::Runtime(format!("cannot start a runtime: {e}")))
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return block();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(block)
            .join()
            .unwrap_or_else(|_| Err(HostError::Runtime("a Python call panicked".into())))
    })
}
