//! Python nodes as the executor sees them: declarations that the planner groups into stages,
//! and the node types that discovery found in the Python environment.

use std::sync::Arc;

use remotemedia_vm_sandbox::LiveNode;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{NodeImpl, NodeType, Role};

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

/// What `remotemedia.discovery` reports about an environment.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Discovery {
    /// Node types registered through the `remotemedia_node_types` hook.
    pub types: Vec<DiscoveredType>,
    /// Plugins that failed to load.
    pub errors: Vec<PluginError>,
    /// Entry point names seen (the SDK's own plugin included).
    pub plugins: Vec<String>,
}

/// One node type registered by a plugin.
#[derive(Clone, Debug, Deserialize)]
pub struct DiscoveredType {
    /// Its type name.
    pub node_type: String,
    /// The distribution that registered it.
    pub provider: String,
    /// The first paragraph of its docstring.
    pub doc: String,
    /// Where its class is.
    pub module: String,
    /// The class's qualified name.
    pub qualname: String,
}

/// A plugin that failed to load; the others still did.
#[derive(Clone, Debug, Deserialize)]
pub struct PluginError {
    /// The entry point's name.
    pub entry_point: String,
    /// The distribution that declared it.
    pub provider: String,
    /// The error, as `Type: message`.
    pub error: String,
}

impl Discovery {
    /// Parses the discovery document.
    ///
    /// # Errors
    /// The document is not what `remotemedia.discovery` writes.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The discovered types as registry entries.
    pub fn node_types(&self) -> Vec<NodeType> {
        self.types
            .iter()
            .map(|t| {
                let (module, qualname) = (t.module.clone(), t.qualname.clone());
                NodeType {
                    name: t.node_type.clone(),
                    provider: t.provider.clone(),
                    runtime: "python",
                    doc: t.doc.clone(),
                    role: Role::Transform,
                    params: Vec::new(),
                    factory: Arc::new(move |params| {
                        Ok(NodeImpl::Python(PythonNode::new(
                            &module,
                            &qualname,
                            params.clone(),
                        )))
                    }),
                }
            })
            .collect()
    }
}
