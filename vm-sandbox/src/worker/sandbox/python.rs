//! Entering the sandbox from a worker's Python: the readable paths come from `sys.path`,
//! which exists only once CPython has started (on the worker's main thread, still alone).

use std::path::PathBuf;

use pyo3::prelude::*;

use super::Policy;
use crate::env::PythonEnv;
use crate::error::SandboxError;

/// What a worker entered: a sandbox, and the discovery cache file it may read there.
pub struct Confined {
    /// The host's discovery cache file for this environment, if the host has a cache.
    pub cache_file: Option<PathBuf>,
}

/// Starts Python on this thread, the process's only one, and enters the sandbox if the host
/// asked for one: the paths Python reads its modules from are readable in it, and
/// `os.environ` keeps only the variables the policy names (the host started the worker with
/// those and what Python's start needed). The host's discovery cache file for this
/// environment, in `cache_dir`, is readable too (never writable): the sandboxed worker's
/// discovery reads it when it is current instead of importing every plugin. Returns what was
/// entered, if anything.
///
/// # Errors
/// [`SandboxError::Start`]: Python did not start, or the sandbox cannot be entered.
pub fn confine(
    env: &PythonEnv,
    sandbox: Option<&Policy>,
    cache_dir: Option<&str>,
) -> Result<Option<Confined>, SandboxError> {
    crate::cpython::prepare(env).map_err(SandboxError::Start)?;
    let Some(policy) = sandbox else {
        return Ok(None);
    };
    let (python_paths, cache) = Python::attach(|py| -> PyResult<(Vec<PathBuf>, Option<PathBuf>)> {
        let paths = py.import("sys")?.getattr("path")?.extract()?;
        let cache = match cache_dir {
            Some(dir) => {
                let dir = py.import("pathlib")?.getattr("Path")?.call1((dir,))?;
                let file = py
                    .import("remotemedia.discovery_cache")?
                    .getattr("cache_file")?
                    .call1((dir,))?;
                Some(file.str()?.extract::<String>()?.into())
            }
            None => None,
        };
        Ok((paths, cache))
    })
    .map_err(|e| SandboxError::Start(format!("cannot read the worker's sys.path: {e}")))?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut readable: Vec<PathBuf> = python_paths.iter().map(|p| cwd.join(p)).collect();
    readable.extend(cache.iter().cloned());
    super::enter(policy, &readable)?;
    Python::attach(|py| -> PyResult<()> {
        let environ = py.import("os")?.getattr("environ")?;
        let names: Vec<String> = environ
            .call_method0("keys")?
            .try_iter()?
            .map(|k| k?.extract())
            .collect::<PyResult<_>>()?;
        for name in names.iter().filter(|n| !policy.env.contains(n)) {
            environ.del_item(name)?;
        }
        Ok(())
    })
    .map_err(|e| SandboxError::Start(format!("cannot scrub the worker's environment: {e}")))?;
    Ok(Some(Confined { cache_file: cache }))
}
