//! `PassThrough` (alias `PassThroughNode`): emits every item unchanged.

use crate::node::{Node, NodeError, NodeImpl, NodeType, Role};
use crate::value::Value;

/// The node's type name.
pub const NAME: &str = "PassThrough";
/// The name the Python SDK's pass-through node uses; the built-in answers to it too.
pub const ALIAS: &str = "PassThroughNode";

/// Emits every item unchanged.
pub struct PassThrough;

impl Node for PassThrough {
    fn process(&mut self, _items: &mut Vec<Value>) -> Result<(), NodeError> {
        Ok(())
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    [
        (NAME, "Emits every item unchanged."),
        (ALIAS, "Alias of PassThrough."),
    ]
    .into_iter()
    .map(|(name, doc)| {
        NodeType::rust(
            name,
            super::PROVIDER,
            doc,
            Role::Transform,
            Vec::new(),
            std::sync::Arc::new(|_| NodeImpl::sync(PassThrough)),
        )
    })
    .collect()
}
