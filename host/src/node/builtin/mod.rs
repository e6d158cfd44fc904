//! The built-in Rust nodes, one per file. Each file has a `node_types()` that describes it to the
//! [`Registry`](super::Registry); [`all`] lists them.

mod add;
mod arith;
mod audio;
mod multiply;
mod pass_through;
mod range;

use super::NodeType;

/// The provider of the built-in node types.
pub const PROVIDER: &str = "builtin";

/// Every built-in node type, aliases included.
pub fn all() -> Vec<NodeType> {
    [
        pass_through::node_types(),
        multiply::node_types(),
        add::node_types(),
        range::node_types(),
        audio::node_types(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
