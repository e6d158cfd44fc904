//! What a node is to the executor, and where node types come from.
//!
//! A Rust node is one of three shapes ([`NodeImpl`]): a synchronous transform ([`Node`], every
//! built-in), an asynchronous transform ([`AsyncNode`], for nodes that wait on something else:
//! a device, a timer), or a [`Source`] that makes items from nothing. A Python node
//! ([`python::PythonNode`]) is a declaration: the node itself lives in the interpreter, in the
//! stage the planner puts it in.
//! All of them work a *morsel* at a time: the items that were ready together, never a batch
//! held back to fill up.
//!
//! # Layout
//! - `node_type`: one node type, its metadata (`source`, `params`) and how it is made.
//! - `registry`: the table of node types, and resolution.
//! - `params`: parameter specs, their checking, and typed access.
//! - `builtin`: the built-in Rust nodes, one per file.
//! - `python`: Python node declarations.

pub mod builtin;
mod node_type;
mod params;
pub mod python;
mod registry;

use std::future::Future;
use std::pin::Pin;

pub use node_type::{
    IMPORT_PATH_PROVIDER, Implementation, NodeFactory, NodeType, Role, ValueCheck,
};
pub use params::{ParamKind, ParamSpec, param_f64_or_i64, param_i64};
pub use registry::{Registry, import_path};

pub use crate::error::NodeError;
use crate::value::Value;

/// A boxed future, the return type of [`AsyncNode`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A synchronous transform. Runs on an executor thread, inline with its neighbours, so it must
/// never block.
pub trait Node: Send {
    /// Called once, before the first morsel, on the task that will run the node. An error here
    /// fails the pipeline before any item reaches this node.
    fn initialize(&mut self) -> Result<(), NodeError> {
        Ok(())
    }

    /// Transforms one morsel in place. On entry `items` holds the inputs in arrival order; on
    /// return it must hold the outputs, in order. Dropping an item filters it; pushing more
    /// than one output per input is allowed. An error stops the whole pipeline; on error,
    /// `items` should hold the outputs of the inputs before the failing one, which are
    /// delivered downstream before the pipeline stops (anything else in it is dropped).
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError>;

    /// Called once when every upstream has ended, before [`Node::cleanup`]; pushes any trailing
    /// outputs onto `out`. Not called when the run fails or is cancelled.
    fn finish(&mut self, _out: &mut Vec<Value>) -> Result<(), NodeError> {
        Ok(())
    }

    /// Called once at the end if [`Node::initialize`] succeeded: after `finish`, after an
    /// error anywhere in the pipeline, or on cancellation. Must not fail.
    fn cleanup(&mut self) {}
}

/// An asynchronous transform: the same contract as [`Node`], with each step awaited. The
/// executor gives each async node its own task, so its waiting never stalls its neighbours.
pub trait AsyncNode: Send {
    /// See [`Node::initialize`].
    fn initialize(&mut self) -> BoxFuture<'_, Result<(), NodeError>> {
        Box::pin(async { Ok(()) })
    }

    /// See [`Node::process`]. Cancellation drops the future at an await point.
    fn process<'a>(&'a mut self, items: &'a mut Vec<Value>)
    -> BoxFuture<'a, Result<(), NodeError>>;

    /// See [`Node::finish`].
    fn finish<'a>(&'a mut self, _out: &'a mut Vec<Value>) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async { Ok(()) })
    }

    /// See [`Node::cleanup`].
    fn cleanup(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A node without upstream that produces items (for example `Range`).
pub trait Source: Send {
    /// See [`Node::initialize`].
    fn initialize(&mut self) -> Result<(), NodeError> {
        Ok(())
    }

    /// Pushes at most `max` new items onto `out`. Returns `false` once the source is exhausted
    /// (the items pushed in that call still count). Must not block.
    fn fill(&mut self, out: &mut Vec<Value>, max: usize) -> Result<bool, NodeError>;

    /// See [`Node::cleanup`].
    fn cleanup(&mut self) {}
}

/// A constructed Rust node, in one of its three shapes.
pub enum NodeImpl {
    /// A synchronous transform.
    Sync(Box<dyn Node>),
    /// An asynchronous transform.
    Async(Box<dyn AsyncNode>),
    /// A source.
    Source(Box<dyn Source>),
}

impl NodeImpl {
    /// Wraps a synchronous transform.
    pub fn sync(node: impl Node + 'static) -> Self {
        NodeImpl::Sync(Box::new(node))
    }

    /// Wraps an asynchronous transform.
    pub fn asynchronous(node: impl AsyncNode + 'static) -> Self {
        NodeImpl::Async(Box::new(node))
    }

    /// Wraps a source.
    pub fn source(node: impl Source + 'static) -> Self {
        NodeImpl::Source(Box::new(node))
    }
}
