//! The seam between the executor and an interpreter: typed operations on stages, and what a
//! backend can do.
//!
//! Every backend (embedded CPython today; a RustPython VM per pipeline and a worker process per
//! pipeline later) implements [`Backend`], and must pass the contract suite in
//! `vm-sandbox/tests/contract.rs`.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value as Json};

use crate::discovery::{Discovery, NodeTypeInfo};
use crate::error::SandboxError;
use crate::value::Value;

/// A boxed future, as returned by the [`Backend`] operations.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A node object that already exists in the interpreter (a caller's own instance, handed in by
/// the native module), opaque to everything but the backend that made it.
#[derive(Clone)]
pub struct LiveNode(pub(crate) std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for LiveNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveNode")
    }
}

impl PartialEq for LiveNode {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One node of a stage: its id, where its class is, and its constructor parameters; or the
/// live object to use instead of constructing one.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// Node id from the manifest (passed to the constructor as `name`).
    pub id: String,
    /// The module that defines the class.
    pub module: String,
    /// The class's qualified name in that module.
    pub qualname: String,
    /// Keyword arguments of the constructor.
    pub params: Map<String, Json>,
    /// An existing node object to use as is (no import, no constructor). Only a backend whose
    /// [`Capabilities::live_nodes`] is true accepts one.
    pub live: Option<LiveNode>,
    /// How often a failed `process` call of one item is tried again (manifest `retry`).
    pub retry: Option<RetryPolicy>,
    /// The longest one item's call may take, in milliseconds (manifest `timeout_ms`).
    pub timeout_ms: Option<u64>,
}

/// A node's `retry` (DESIGN §3): a failed `process` call of an item is made again, on the same
/// node instance, after `backoff_ms`, until `max_attempts` calls in all have failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetryPolicy {
    /// Calls in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The pause before each new attempt, in milliseconds.
    pub backoff_ms: u64,
}

/// What a stage may hold on its input and on its output: items, and media payload bytes
/// (DESIGN §7). Full when either is reached; one item larger than `bytes` still goes alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Items.
    pub items: usize,
    /// Payload bytes (`Value::payload_bytes`).
    pub bytes: usize,
}

impl From<usize> for Limits {
    /// A bound in items only.
    fn from(items: usize) -> Self {
        Limits {
            items,
            bytes: usize::MAX,
        }
    }
}

/// A stage of one backend: the handle its operations take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StageId(pub u64);

/// What a backend can do, for the host to refuse what it cannot before a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The backend's name in messages ("cpython").
    pub name: &'static str,
    /// Whether it runs node objects the caller made ([`NodeSpec::live`]): only a backend that
    /// shares the caller's interpreter can.
    pub live_nodes: bool,
    /// Whether it can stop running node code: [`Backend::interrupt`] works, and so does
    /// [`NodeSpec::timeout_ms`]. A stage of a backend that cannot is abandoned, not waited
    /// for, when it is busy past a cancel.
    pub interrupts: bool,
}

/// The answer to a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fed {
    /// Taken; the stage takes more.
    Accepted,
    /// The stage takes no more input (a streaming node stopped reading); the items of this
    /// push may not have been processed.
    Closed,
}

/// Items in and out of one node of a stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Items that reached the node.
    pub seen: u64,
    /// Items the node emitted.
    pub made: u64,
}

/// A Python exception, with the node that raised it where one did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyFailure {
    /// The node whose code raised, if the exception came from node code.
    pub node_id: Option<String>,
    /// The exception's type name (`ValueError`).
    pub error_type: String,
    /// `str(exception)`.
    pub message: String,
    /// The formatted traceback.
    pub traceback: String,
}

impl PyFailure {
    /// A failure of the host's own making (say, an output Python cannot hand over).
    pub fn host(node_id: Option<String>, error_type: &str, message: String) -> Self {
        PyFailure {
            node_id,
            error_type: error_type.to_owned(),
            message,
            traceback: String::new(),
        }
    }
}

/// An interpreter the executor runs stages in. A *stage* is a run of consecutive Python nodes
/// driven as one chain inside the interpreter.
///
/// Operations on one stage are answered in the order the stage's protocol allows (a pull may
/// wait while pushes go through); operations on different stages proceed independently. Every
/// operation fails with [`SandboxError::Stopped`] once the interpreter has stopped.
pub trait Backend: Send + Sync {
    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// The node types the environment's plugins register (DESIGN §6), and the plugins that
    /// failed to load. A cache may answer, but never one that hides an installed, removed or
    /// edited plugin.
    fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>>;

    /// Imports `module` and describes its class `qualname` (parameters, source or not).
    ///
    /// # Errors
    /// [`SandboxError::Raised`] when the import fails, the name is missing, or it is not a
    /// subclass of `remotemedia.Node` (a `TypeError`); nothing of it is called.
    fn describe(
        &self,
        module: &str,
        qualname: &str,
    ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>>;

    /// Constructs the nodes of a new stage (`cls(name=id, **params)`), upstream first. `limits`
    /// bounds, in items and in payload bytes, what the stage buffers on its input and on its
    /// output.
    ///
    /// # Errors
    /// An import or a constructor raised ([`SandboxError::Raised`] naming the node).
    fn create_stage(
        &self,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>>;

    /// Runs every node's `initialize()`, upstream first, and starts the stage.
    fn initialize(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>>;

    /// Input items for the stage. Posted at once (so several pushes can be in flight); the
    /// answer is delayed while the stage holds its limits' worth, which bounds what is in
    /// flight.
    fn push(
        &self,
        stage: StageId,
        items: Vec<Value>,
    ) -> BoxFuture<'static, Result<Fed, SandboxError>>;

    /// The stage's input has ended.
    fn close(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>>;

    /// The next outputs, in order, as soon as there are some; `None` once the stage has
    /// finished. While outputs are not pulled the stage stops at its limits' worth of them.
    ///
    /// # Errors
    /// A node raised ([`SandboxError::Raised`]); outputs made before it were answered first.
    fn pull(&self, stage: StageId) -> BoxFuture<'static, Result<Option<Vec<Value>>, SandboxError>>;

    /// Interrupts node code of `stage` that is busy right now (a pure-Python loop), so that a
    /// cancelled stage can be stopped and cleaned up; code blocked in a C call stops when the
    /// call returns. Never touches another stage's code; does nothing if none of `stage`'s
    /// code runs. Best effort, and safe to call again.
    fn interrupt(&self, stage: StageId) {
        let _ = stage;
    }

    /// Stops the stage if it still runs, calls `cleanup()` of every initialized node (also
    /// after an error or a cancel) and forgets the stage. Returns each node's counts.
    fn cleanup(&self, stage: StageId) -> BoxFuture<'static, Result<Vec<NodeCounts>, SandboxError>>;
}
