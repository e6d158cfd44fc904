//! Python nodes as the executor sees them: declarations that the planner groups into stages.

use remotemedia_vm_sandbox::LiveNode;
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
}

impl PythonNode {
    /// A declaration of `module:qualname(**params)`.
    pub fn new(module: &str, qualname: &str, params: Map<String, Json>) -> Self {
        PythonNode {
            module: module.to_owned(),
            qualname: qualname.to_owned(),
            params,
            live: None,
        }
    }
}
