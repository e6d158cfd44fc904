//! Python nodes as the executor sees them: declarations that the planner groups into stages.

use remotemedia_vm_sandbox::{LiveNode, RetryPolicy};
use serde_json::{Map, Value as Json};

/// A Python node to construct: its class and its parameters. The node itself lives in the
/// interpreter, inside the stage the planner puts it in.
#[derive(Clone, Debug, PartialEq)]
pub struct PythonNode {
    /// The module that defines the class.
    pub module: String,
    /// The class's qualified name in the module.
    pub qualname: String,
    /// Constructor keyword arguments.
    pub params: Map<String, Json>,
    /// The caller's own node object, used instead of constructing one (the native module).
    pub live: Option<LiveNode>,
    /// The manifest's `retry`: one item's failed call is made again.
    pub retry: Option<RetryPolicy>,
    /// The manifest's `timeout_ms`: the longest one item's call may take.
    pub timeout_ms: Option<u64>,
}

impl PythonNode {
    /// A declaration of `module:qualname(**params)`.
    pub fn new(module: &str, qualname: &str, params: Map<String, Json>) -> Self {
        PythonNode {
            module: module.to_owned(),
            qualname: qualname.to_owned(),
            params,
            live: None,
            retry: None,
            timeout_ms: None,
        }
    }

    /// Whether the manifest asks for retries or a timeout of its calls: only the interpreter's
    /// stages apply them.
    pub fn has_call_options(&self) -> bool {
        self.retry.is_some() || self.timeout_ms.is_some()
    }
}
