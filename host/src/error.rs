//! The host's one error type, and how each kind maps to an exit status.

use std::fmt;
use std::path::PathBuf;

use remotemedia_vm_sandbox::SandboxError;

use crate::manifest::Problem;

/// Everything that can go wrong between reading a manifest and the last output item.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The manifest could not be read or parsed, or it breaks the v1 contract. Holds every
    /// problem found, not only the first.
    #[error("invalid manifest {source_name}: {}", problem_count(.problems))]
    Manifest {
        /// The file (or `<memory>`) the manifest came from.
        source_name: String,
        /// Each problem with its location.
        problems: Vec<Problem>,
    },

    /// The command was asked for something that cannot work (for example input items that no
    /// node would receive).
    #[error("{0}")]
    Usage(String),

    /// An input item could not be read.
    #[error("input line {line}: {message}")]
    Input {
        /// 1-based line number in the input stream.
        line: u64,
        /// What was wrong with it.
        message: String,
    },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A node failed while processing; the pipeline was stopped.
    #[error("{0}")]
    Node(#[from] NodeFailure),

    /// The interpreter, or its environment, failed the host (keeps the sandbox's kind up to
    /// Python's `remotemedia.errors.SandboxError`).
    #[error("{0}")]
    Sandbox(#[from] SandboxError),

    /// The run was cancelled (Ctrl-C, or the caller dropped it).
    #[error("pipeline cancelled")]
    Cancelled,

    /// A failure of the host itself (a task that panicked, an output that could not be written).
    #[error("{0}")]
    Runtime(String),
}

fn problem_count(problems: &[Problem]) -> String {
    match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}

impl HostError {
    /// The process exit status for this error: 2 for usage and manifest errors (an unusable
    /// Python environment included), 1 for failures while running, 130 for cancellation (the
    /// shell's convention for Ctrl-C).
    pub fn exit_code(&self) -> u8 {
        match self {
            HostError::Manifest { .. } | HostError::Usage(_) | HostError::Input { .. } => 2,
            HostError::Sandbox(e) => match e {
                SandboxError::Env(_) | SandboxError::Start(_) | SandboxError::Unsupported(_) => 2,
                SandboxError::Raised(_)
                | SandboxError::Stopped
                | SandboxError::Aborted
                | SandboxError::Protocol(_) => 1,
            },
            HostError::Io { .. } | HostError::Node(_) | HostError::Runtime(_) => 1,
            HostError::Cancelled => 130,
        }
    }

    /// Lines that follow the `error: <summary>` line: the manifest problems, or a node's
    /// traceback.
    pub fn details(&self) -> Vec<String> {
        match self {
            HostError::Manifest { problems, .. } => problems.iter().map(Problem::render).collect(),
            HostError::Node(failure) => failure
                .error
                .traceback
                .as_deref()
                .map(|tb| tb.lines().map(|l| format!("  {l}")).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// What a node reports when it cannot process an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeError {
    /// The kind of error, named as Python would name it (`TypeError`, `OverflowError`, ...), so
    /// Rust and Python nodes report alike.
    pub error_type: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The Python traceback, where the node is written in Python.
    pub traceback: Option<String>,
}

impl NodeError {
    /// A node error without traceback.
    pub fn new(error_type: &str, message: impl Into<String>) -> Self {
        NodeError {
            error_type: error_type.to_owned(),
            message: message.into(),
            traceback: None,
        }
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

/// A [`NodeError`] with the node it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("node \"{node_id}\" ({node_type}) failed: {error}")]
pub struct NodeFailure {
    /// The node's id in the manifest.
    pub node_id: String,
    /// The node's type.
    pub node_type: String,
    /// What it reported.
    pub error: NodeError,
}

/// Shorthand for results in this crate.
pub type Result<T, E = HostError> = std::result::Result<T, E>;
