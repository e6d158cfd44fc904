//! `remotemedia_runtime`: the remotemedia host's executor, in-process from Python.
//!
//! The one `#[pymodule]` of the project. Every call releases the interpreter lock while Rust
//! works; Python nodes run on the host's interpreter thread inside this same interpreter.
//!
//! # Layout
//! - `run`: the functions that run pipelines.
//! - `session`: `Session`, a streaming run (`Pipeline.process`) on the host's threads.
//! - `caller`: the live path of `Pipeline.process`, a chain its caller drives.
//! - `worker`: worker processes: a pipeline's kept worker, and the worker's own main.
//! - `errors`: the one mapping from host errors to `remotemedia.errors` exceptions.

mod caller;
mod errors;
mod run;
mod session;
mod worker;

use pyo3::prelude::*;

/// The compiled module, `remotemedia_runtime._native`; the package `remotemedia_runtime`
/// re-exports it.
#[pymodule]
mod _native {
    #[pymodule_export]
    use super::caller::{_caller_chain, RustNodes};
    #[pymodule_export]
    use super::run::{
        _execute, CancelHandle, execute_pipeline, execute_pipeline_with_input, node_types,
        shutdown, validate,
    };
    #[pymodule_export]
    use super::session::Session;
    #[pymodule_export]
    use super::worker::{_serve_worker, WorkerHandle};

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        // threading must first be imported here, on the importing (main) thread: imported
        // first on the host's interpreter thread, it takes that thread for the main one and
        // Python waits for it forever at exit.
        m.py().import("threading")?;
        // The host's Python threads (service and stages) must be stopped and joined while
        // Python can still take them down: a stage thread that wakes after finalization has
        // begun is ended by pthread_exit, whose unwind through Rust frames aborts the process.
        // Registered here, so a direct `remotemedia_runtime` user is covered too.
        m.py()
            .import("atexit")?
            .call_method1("register", (m.getattr("shutdown")?,))?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
