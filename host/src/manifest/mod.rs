//! Manifest v1 (DESIGN §3): the types, loading from JSON or TOML, and validation.
//!
//! # Layout
//! - `load`: text (JSON or TOML) to a JSON document, with parse errors as [`Problem`]s.
//! - `schema`: structure, checked against the committed `manifest.schema.json`.
//! - `validate`: the rules a schema cannot state (unique ids, known nodes, parameters, sources,
//!   cycles, `retry` and `timeout_ms` only where they apply, features not built yet), then the
//!   [`ResolvedPipeline`].
//! - `ids`: [`NodeId`].
//! - `problem`: [`Problem`] and [`Location`], and the "did you mean" helper.

mod ids;
mod load;
mod problem;
pub mod schema;
mod validate;

use remotemedia_vm_sandbox::RetryPolicy;
use remotemedia_vm_sandbox::worker::Policy;
use serde::{Deserialize, Serialize};

pub use ids::NodeId;
pub use load::{Format, parse_text};
pub use problem::{Location, Problem, closest, did_you_mean, escape};
pub use validate::{NodeRef, node_refs, runtime_problems, validate};

use crate::node::NodeType;

/// A manifest that passed validation, resolved once: every node's type is resolved (with its
/// parameters checked against it), every edge joins two nodes by index, and the graph has no
/// cycle. Building a pipeline only constructs from it.
#[derive(Clone, Debug)]
pub struct ResolvedPipeline {
    /// `metadata.name`, or `"pipeline"`.
    pub name: String,
    /// `metadata.description`.
    pub description: Option<String>,
    /// The `runtime` section, with defaults filled in.
    pub runtime: RuntimeConfig,
    /// The nodes, in manifest order.
    pub nodes: Vec<ResolvedNode>,
    /// The edges, in manifest order. Without a `connections` key, the chain of nodes in list
    /// order.
    pub edges: Vec<Edge>,
}

/// One node, resolved.
#[derive(Clone, Debug)]
pub struct ResolvedNode {
    /// Unique id.
    pub id: NodeId,
    /// The type name as written in the manifest.
    pub node_type: String,
    /// What that name resolved to (with the runtime hint applied).
    pub resolved: NodeType,
    /// Constructor parameters, checked against the type's.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// `retry`: how often one item's failed call is made again (Python nodes only).
    pub retry: Option<RetryPolicy>,
    /// `timeout_ms`: the longest one item's call may take (Python nodes only).
    pub timeout_ms: Option<u64>,
}

/// One edge between nodes, by index, with its queue length resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Upstream node index.
    pub from: usize,
    /// Downstream node index.
    pub to: usize,
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
    /// Bound of every queue in media payload bytes (DESIGN §7).
    pub channel_bytes: usize,
    /// The sandbox of the pipeline's worker process, if it asks for one (DESIGN §10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<Policy>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            python: PythonRuntime::Cpython,
            isolation: Isolation::InProcess,
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
            channel_bytes: DEFAULT_CHANNEL_BYTES,
            sandbox: None,
        }
    }
}

/// Queue length of an edge when neither the edge nor `runtime.channel_capacity` sets one.
/// Small, because items can be large media frames and a deep queue is latency under overload;
/// large enough that a morsel amortises the wake-up that crossing a queue costs (about 2 us
/// here: a 5M-item fan-out takes 1.6 s at 16, 0.5 s at 64, 0.2 s at 256).
pub const DEFAULT_CHANNEL_CAPACITY: usize = 64;

/// Media payload bytes a queue holds when `runtime.channel_bytes` sets no bound: eight 1 MiB
/// frames, 2700 frames of 20 ms of 48 kHz float32 audio.
pub const DEFAULT_CHANNEL_BYTES: usize = 8 << 20;

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
