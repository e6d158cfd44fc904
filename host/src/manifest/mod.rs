//! Manifest v1 (DESIGN §3): the types, loading from JSON or TOML, and validation.
//!
//! # Layout
//! - `load`: text (JSON or TOML) to a JSON document, with parse errors as [`Problem`]s.
//! - `schema`: structure, checked against the committed `manifest.schema.json`.
//! - `validate`: the rules a schema cannot state (unique ids, known nodes, parameters, cycles,
//!   features not built yet), then the typed [`Manifest`].
//! - `problem`: [`Problem`] and [`Location`], and the "did you mean" helper.

mod load;
mod problem;
pub mod schema;
mod validate;

use serde::{Deserialize, Serialize};

pub use load::{Format, parse_text};
pub use problem::{Location, Problem, closest, did_you_mean};
pub use validate::validate;

/// A manifest that passed validation: every node type is known, every parameter is well typed,
/// every connection names existing nodes and the graph has no cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// `metadata.name`, or `"pipeline"`.
    pub name: String,
    /// `metadata.description`.
    pub description: Option<String>,
    /// The `runtime` section, with defaults filled in.
    pub runtime: RuntimeConfig,
    /// The nodes, in manifest order.
    pub nodes: Vec<NodeSpec>,
    /// The edges. Without a `connections` key, the chain of nodes in list order.
    pub connections: Vec<Connection>,
}

/// One node of a manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// Unique id.
    pub id: String,
    /// The type name as written in the manifest.
    pub node_type: String,
    /// Constructor parameters.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Where the node should run.
    pub runtime_hint: RuntimeHint,
}

/// One edge, with its queue length resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Upstream node id.
    pub from: String,
    /// Downstream node id.
    pub to: String,
    /// Queue length in items, where the edge has a queue.
    pub capacity: usize,
}

/// The `runtime` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Interpreter for Python nodes.
    pub python: PythonRuntime,
    /// How pipelines are isolated from each other.
    pub isolation: Isolation,
    /// Default queue length of every edge.
    pub channel_capacity: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            python: PythonRuntime::Cpython,
            isolation: Isolation::InProcess,
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
        }
    }
}

/// Queue length of an edge when neither the edge nor `runtime.channel_capacity` sets one.
/// Small, because items can be large media frames and a deep queue is latency under overload;
/// large enough that a morsel amortises the wake-up that crossing a queue costs (about 2 us
/// here: a 5M-item fan-out takes 1.6 s at 16, 0.5 s at 64, 0.2 s at 256).
pub const DEFAULT_CHANNEL_CAPACITY: usize = 64;

/// `runtime.python`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PythonRuntime {
    /// Embedded CPython.
    Cpython,
    /// A RustPython VM per pipeline.
    Rustpython,
}

/// `runtime.isolation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Nodes run inside the host process.
    InProcess,
    /// A worker process per pipeline.
    Process,
}

/// A node's `runtime_hint`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeHint {
    /// Built-in Rust node if there is one, else Python.
    #[default]
    Auto,
    /// Must be a built-in Rust node.
    Rust,
    /// Must be a Python node.
    Python,
}
