//! `remotemedia-host`: runs pipeline manifests as streaming DAGs with backpressure on every edge.
//!
//! A manifest (DESIGN §3) names nodes and the connections between them. The host validates it
//! (every problem at once, each with its location) into a resolved pipeline, builds the nodes
//! from it, cuts the graph into tasks (chains of Rust nodes run inline, stages of Python nodes)
//! with bounded queues between them, and streams items through.
//!
//! # Layout
//! - [`manifest`]: manifest v1 loading (JSON, TOML), schema and semantic validation, and the
//!   [`manifest::ResolvedPipeline`] it produces.
//! - [`graph`]: the DAG, topological order, cycles.
//! - [`node`]: the node traits, the registry of node types and their metadata, the built-in
//!   nodes.
//! - [`pipeline`]: a resolved manifest with its nodes built.
//! - [`python`]: the one place the interpreter and its environment are chosen, and the
//!   registry a manifest resolves against.
//! - [`channel`]: the bounded, item-counted queue between tasks.
//! - [`executor`]: chain and stage tasks, runs, reports.
//! - [`value`]: the items that flow.
//! - [`cli`]: the `remotemedia-host` commands.
//! - [`error`]: [`HostError`] and its exit codes.

pub mod channel;
pub mod cli;
pub mod error;
pub mod executor;
pub mod graph;
pub mod manifest;
pub mod node;
pub mod pipeline;
pub mod python;
pub use remotemedia_vm_sandbox::value;

pub use error::{HostError, NodeError, NodeFailure};
pub use executor::{Run, RunReport, run_collect};
pub use node::Registry;
pub use pipeline::Pipeline;
pub use value::Value;
