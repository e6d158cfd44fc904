//! Starting the interpreter for a pipeline that needs it, and the registry it completes. Shared
//! by the `remotemedia-host` binary and the native module.

use std::sync::Arc;

use remotemedia_vm_sandbox::{Backend, PythonEnv, Reply, Request};
use serde_json::Value as Json;

use crate::error::HostError;
use crate::node::Registry;
use crate::node::python::Discovery;
use crate::pipeline::Pipeline;

/// A running interpreter (one per process; starting it again returns the same one).
#[derive(Clone)]
pub struct Python {
    #[cfg(feature = "cpython")]
    inner: Arc<remotemedia_vm_sandbox::cpython::CPython>,
}

impl Python {
    /// Starts the interpreter in `env`, or returns the one already running.
    ///
    /// # Errors
    /// [`HostError::Usage`]: no Python support in this build, the SDK is not importable, or the
    /// interpreter runs already with another environment.
    pub fn start(env: &PythonEnv) -> Result<Python, HostError> {
        #[cfg(feature = "cpython")]
        {
            tracing::debug!(?env, "starting Python");
            let inner = remotemedia_vm_sandbox::cpython::CPython::start(env)
                .map_err(|e| HostError::Usage(e.to_string()))?;
            Ok(Python { inner })
        }
        #[cfg(not(feature = "cpython"))]
        {
            let _ = env;
            Err(HostError::Usage(
                "this build has no Python support (the cpython feature)".into(),
            ))
        }
    }

    /// `major.minor` of the Python this build embeds ("none" without the cpython feature).
    pub fn linked_version() -> &'static str {
        #[cfg(feature = "cpython")]
        {
            remotemedia_vm_sandbox::cpython::LINKED_VERSION
        }
        #[cfg(not(feature = "cpython"))]
        {
            "none"
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

    /// The plugins' node types, and the plugins that failed to load.
    ///
    /// # Errors
    /// Discovery itself failed.
    pub fn discover(&self) -> Result<Discovery, HostError> {
        let reply = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| HostError::Runtime(format!("cannot start a runtime: {e}")))?
            .block_on(
                self.backend()
                    .call(0, Request::Discover { use_cache: true }),
            )
            .map_err(|e| HostError::Runtime(e.to_string()))?;
        match reply {
            Reply::Json(text) => Discovery::from_json(&text).map_err(|e| {
                HostError::Runtime(format!("internal error: bad discovery document: {e}"))
            }),
            Reply::Failed(f) => Err(HostError::Runtime(format!(
                "plugin discovery failed: {}: {}\n{}",
                f.error_type, f.message, f.traceback
            ))),
            other => Err(HostError::Runtime(format!(
                "internal error: unexpected discovery answer {other:?}"
            ))),
        }
    }

    /// Stops the interpreter thread of the process if one runs; starts nothing.
    pub fn stop_running() {
        #[cfg(feature = "cpython")]
        remotemedia_vm_sandbox::cpython::CPython::stop_running();
    }

    /// Stops the interpreter thread (after every stage's cleanup).
    pub fn shutdown(&self) {
        #[cfg(feature = "cpython")]
        self.inner.shutdown();
    }
}

/// The registry for a manifest document, and the interpreter if its nodes need one (started
/// with `start`): a pipeline of built-in nodes never starts Python. Plugins that failed to load
/// are passed to `report`. If Python cannot start, the registry records why, and validation
/// reports the manifest's unknown types with that reason.
///
/// # Errors
/// Discovery failed.
pub fn registry_for(
    doc: &Json,
    start: impl FnOnce() -> Result<Python, HostError>,
    report: impl Fn(&crate::node::python::PluginError),
) -> Result<(Registry, Option<Python>), HostError> {
    let mut registry = Registry::builtin();
    if !Pipeline::needs_python(doc, &registry) {
        return Ok((registry, None));
    }
    match start() {
        Ok(python) => {
            let discovery = python.discover()?;
            discovery.errors.iter().for_each(report);
            registry.add_python(discovery.node_types(), discovery.plugins.clone());
            Ok((registry, Some(python)))
        }
        Err(e) => {
            registry.python_unavailable(e.to_string());
            Ok((registry, None))
        }
    }
}
