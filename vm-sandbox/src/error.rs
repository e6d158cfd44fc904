//! The crate's one error type.

use crate::backend::PyFailure;

/// What can go wrong between the host and an interpreter.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The selected Python environment cannot be used.
    #[error("{0}")]
    Env(String),
    /// The interpreter could not be started.
    #[error("cannot start Python: {0}")]
    Start(String),
    /// Python code raised.
    #[error("{}: {}", .0.error_type, .0.message)]
    Raised(PyFailure),
    /// The interpreter, or the thread of the stage asked (after its cleanup), has stopped;
    /// nothing more can run there.
    #[error("the Python interpreter has stopped")]
    Stopped,
    /// The backend cannot do what was asked (say, run a caller's live node in another VM).
    #[error("{0}")]
    Unsupported(String),
    /// The stage's worker process ended for a failure another stage of it reports (the run
    /// fails with that one's error).
    #[error("the worker process ended for another stage's failure")]
    Aborted,
    /// The interpreter answered something the protocol does not allow.
    #[error("internal error: unexpected answer from Python: {0}")]
    Protocol(String),
}
