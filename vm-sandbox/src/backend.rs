//! The seam between the executor and an interpreter: requests addressed to a stage, replies.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value as Json};

use crate::error::SandboxError;
use crate::value::Value;

/// A boxed future, as returned by [`Backend::call`].
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
    /// An existing node object to use as is (no import, no constructor).
    pub live: Option<LiveNode>,
}

/// What the host asks of an interpreter.
#[derive(Debug)]
pub enum Request {
    /// The node types the environment's plugins provide (JSON), from the cache if allowed.
    Discover {
        /// Whether a valid discovery cache may be used.
        use_cache: bool,
    },
    /// Construct the nodes of a new stage. `limit` bounds, in items, what the stage buffers
    /// on its input and on its output.
    Create {
        /// The nodes, upstream first.
        nodes: Vec<NodeSpec>,
        /// Buffer bound in items.
        limit: usize,
    },
    /// Run every node's `initialize()` and start the stage.
    Init,
    /// Input items for the stage. Answered `Ack` while the stage has room, `End` once it
    /// takes no more input.
    Push(Vec<Value>),
    /// The stage's input has ended.
    Close,
    /// Outputs: answered with `Items` as soon as there are some, `End` when the stage has
    /// finished, `Failed` if a node raised.
    Pull,
    /// Stop the stage if it still runs and call every initialized node's `cleanup()`;
    /// answered with the per-node counts.
    Cleanup,
    /// Stop the interpreter thread.
    Shutdown,
}

/// An interpreter's answer.
#[derive(Debug)]
pub enum Reply {
    /// Done.
    Ack,
    /// Output items, in order.
    Items(Vec<Value>),
    /// The stream (or the stage's appetite for input) has ended.
    End,
    /// A JSON document (discovery).
    Json(String),
    /// Items in and out of each node of a stage.
    Counts(Vec<(u64, u64)>),
    /// Python code raised.
    Failed(PyFailure),
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

/// An interpreter the executor can run stages in.
pub trait Backend: Send + Sync {
    /// Sends `request` for `stage` (0 for requests that concern no stage) and resolves with
    /// the reply. Requests to one stage are answered in the order the stage's protocol says;
    /// requests to different stages proceed independently.
    fn call(&self, stage: u64, request: Request)
    -> BoxFuture<'static, Result<Reply, SandboxError>>;

    /// A new stage id, unique for this backend.
    fn new_stage_id(&self) -> u64;

    /// What runs the code, for `--version` and logs ("CPython 3.11.7 ...").
    fn describe(&self) -> String;
}
