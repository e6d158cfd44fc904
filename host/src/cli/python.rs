//! Starting the interpreter for the commands that need it, and the registry it completes.

use std::path::Path;
use std::sync::Arc;

use remotemedia_vm_sandbox::{Backend, PythonEnv, Reply, Request};
use serde_json::Value as Json;

use crate::error::HostError;
use crate::node::Registry;
use crate::node::python::Discovery;
use crate::pipeline::Pipeline;

/// The running interpreter, shut down cleanly when dropped.
pub struct Python {
    #[cfg(feature = "cpython")]
    inner: Arc<remotemedia_vm_sandbox::cpython::CPython>,
}

impl Python {
    /// Selects the environment (`--python-env`, the active virtualenv, the one this program is
    /// installed in) and starts the interpreter there.
    pub fn start(python_env: Option<&Path>) -> Result<Python, HostError> {
        #[cfg(feature = "cpython")]
        {
            use remotemedia_vm_sandbox::cpython::CPython;
            let env = select_env(python_env)?;
            tracing::debug!(?env, "starting Python");
            let inner = CPython::start(&env).map_err(|e| HostError::Usage(e.to_string()))?;
            Ok(Python { inner })
        }
        #[cfg(not(feature = "cpython"))]
        {
            let _ = python_env;
            Err(HostError::Usage(
                "this build has no Python support (the cpython feature)".into(),
            ))
        }
    }

    /// The backend stages run in.
    pub fn backend(&self) -> Arc<dyn Backend> {
        #[cfg(feature = "cpython")]
        {
            Arc::clone(&self.inner) as Arc<dyn Backend>
        }
        #[cfg(not(feature = "cpython"))]
        unreachable!("no Python without the cpython feature")
    }

    /// The plugins' node types; plugins that failed to load are reported on stderr, and the
    /// others are still returned.
    pub fn discover(&self) -> Result<Discovery, HostError> {
        let reply = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| HostError::Runtime(format!("cannot start a runtime: {e}")))?
            .block_on(
                self.backend()
                    .call(0, Request::Discover { use_cache: true }),
            )
            .map_err(|e| HostError::Runtime(e.to_string()))?;
        let discovery = match reply {
            Reply::Json(text) => Discovery::from_json(&text).map_err(|e| {
                HostError::Runtime(format!("internal error: bad discovery document: {e}"))
            })?,
            Reply::Failed(f) => {
                return Err(HostError::Runtime(format!(
                    "plugin discovery failed: {}: {}\n{}",
                    f.error_type, f.message, f.traceback
                )));
            }
            other => {
                return Err(HostError::Runtime(format!(
                    "internal error: unexpected discovery answer {other:?}"
                )));
            }
        };
        for e in &discovery.errors {
            eprintln!(
                "warning: plugin \"{}\" ({}) failed to load: {}",
                e.entry_point, e.provider, e.error
            );
        }
        Ok(discovery)
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        #[cfg(feature = "cpython")]
        self.inner.shutdown();
    }
}

/// The registry for a manifest document, and the interpreter if its nodes need one: a
/// pipeline of built-in nodes never starts Python.
pub fn registry_for(
    doc: &Json,
    python_env: Option<&Path>,
) -> Result<(Registry, Option<Python>), HostError> {
    let mut registry = Registry::builtin();
    if !Pipeline::needs_python(doc, &registry) {
        return Ok((registry, None));
    }
    match Python::start(python_env) {
        Ok(python) => {
            let discovery = python.discover()?;
            registry.add_python(discovery.node_types(), discovery.plugins.clone());
            Ok((registry, Some(python)))
        }
        // Validation goes on: the manifest's problems are reported with this reason.
        Err(e) => {
            registry.python_unavailable(e.to_string());
            Ok((registry, None))
        }
    }
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
    let (registry, python) = registry_for(&doc, python_env)?;
    let mut pipeline = Pipeline::from_document(&doc, &path.display().to_string(), &registry)?;
    if let Some(python) = &python {
        pipeline = pipeline.with_python(python.backend());
    }
    Ok((pipeline, python))
}

/// The Python environment the flags and the process environment select.
pub fn select_env(python_env: Option<&Path>) -> Result<PythonEnv, HostError> {
    #[cfg(feature = "cpython")]
    let linked = remotemedia_vm_sandbox::cpython::LINKED_VERSION;
    #[cfg(not(feature = "cpython"))]
    let linked = "none";
    PythonEnv::select(python_env, linked).map_err(|e| HostError::Usage(e.to_string()))
}
