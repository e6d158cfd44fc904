//! A chain task: Rust nodes run inline in one task, a morsel at a time.
//!
//! Items enter through the head's queue (or come from the head itself when it is a source),
//! pass through every node of the chain without crossing a thread or a queue, and leave
//! through the tail's outputs: one per downstream edge, or the run's output queue when the
//! tail is a sink.

use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::outputs::Outputs;
use super::stats::NodeStats;
use crate::channel::Receiver;
use crate::error::{HostError, NodeError, NodeFailure};
use crate::manifest::NodeId;
use crate::node::NodeImpl;
use crate::value::Value;

/// How many items a source makes per morsel.
const SOURCE_MORSEL: usize = 256;

/// One node of a chain.
pub struct Step {
    /// Node id, for errors.
    pub id: NodeId,
    /// Node type, for errors.
    pub node_type: String,
    /// The node.
    pub node: NodeImpl,
    /// Its counters.
    pub stats: Arc<NodeStats>,
}

impl Step {
    fn fail(&self, error: NodeError) -> HostError {
        HostError::Node(NodeFailure {
            node_id: self.id.to_string(),
            node_type: self.node_type.clone(),
            error,
        })
    }

    async fn initialize(&mut self) -> Result<(), HostError> {
        let result = match &mut self.node {
            NodeImpl::Sync(n) => n.initialize(),
            NodeImpl::Async(n) => n.initialize().await,
            NodeImpl::Source(n) => n.initialize(),
        };
        result.map_err(|e| self.fail(e))
    }

    async fn process(&mut self, items: &mut Vec<Value>) -> Result<(), HostError> {
        let started = Instant::now();
        let items_in = items.len();
        let result = match &mut self.node {
            NodeImpl::Sync(n) => n.process(items),
            NodeImpl::Async(n) => n.process(items).await,
            NodeImpl::Source(_) => Err(NodeError::new(
                "RuntimeError",
                "internal error: a source was given items (the planner puts sources first)",
            )),
        };
        self.stats.record(items_in, items.len(), started.elapsed());
        result.map_err(|e| self.fail(e))
    }

    async fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), HostError> {
        let started = Instant::now();
        let result = match &mut self.node {
            NodeImpl::Sync(n) => n.finish(out),
            NodeImpl::Async(n) => n.finish(out).await,
            NodeImpl::Source(_) => Ok(()),
        };
        self.stats.record(0, out.len(), started.elapsed());
        result.map_err(|e| self.fail(e))
    }

    async fn cleanup(&mut self) {
        match &mut self.node {
            NodeImpl::Sync(n) => n.cleanup(),
            NodeImpl::Async(n) => n.cleanup().await,
            NodeImpl::Source(n) => n.cleanup(),
        }
    }
}

/// A chain of Rust nodes and its queues.
pub struct ChainTask {
    /// The nodes, head first.
    pub steps: Vec<Step>,
    /// The head's queue; `None` when the head is a source.
    pub input: Option<Receiver<Value>>,
    /// Where the tail's outputs go.
    pub outputs: Outputs,
    /// The run's cancellation: a node is not initialized once the run is over.
    pub cancel: CancellationToken,
}

impl ChainTask {
    /// Runs the chain to the end of its input: initialize every node, stream, finish, and
    /// clean up every initialized node whatever happened.
    ///
    /// # Errors
    /// The first node error, or `Cancelled`.
    pub async fn run(mut self) -> Result<(), HostError> {
        let mut initialized = 0;
        let mut result = Ok(());
        for step in &mut self.steps {
            if self.cancel.is_cancelled() {
                result = Err(HostError::Cancelled);
                break;
            }
            result = step.initialize().await;
            if result.is_err() {
                break;
            }
            initialized += 1;
        }
        if result.is_ok() {
            result = self.stream().await;
        }
        // Close the queues before cleanup so downstream can finish while this runs; after a
        // failure, so that it stops instead.
        self.input = None;
        self.outputs.end(&result);
        for step in &mut self.steps[..initialized] {
            step.cleanup().await;
        }
        result
    }

    async fn stream(&mut self) -> Result<(), HostError> {
        if let Some(mut input) = self.input.take() {
            while let Some(morsel) = input.recv().await.map_err(|_| HostError::Cancelled)? {
                if !self.pass_on(morsel.items, 0).await? {
                    return Ok(());
                }
            }
        } else {
            loop {
                let head = &mut self.steps[0];
                let NodeImpl::Source(source) = &mut head.node else {
                    break;
                };
                let mut items = Vec::with_capacity(SOURCE_MORSEL);
                let started = Instant::now();
                let more = source.fill(&mut items, SOURCE_MORSEL);
                head.stats.record(0, items.len(), started.elapsed());
                let more = more.map_err(|e| head.fail(e))?;
                if !self.pass_on(items, 1).await? || !more {
                    break;
                }
            }
        }
        // A stop that came with the end of the input (Ctrl-C on `producer | host` closes
        // stdin too) is a stop: no node finishes (writes out, renames into place) after it.
        if self.cancel.is_cancelled() {
            return Err(HostError::Cancelled);
        }
        for i in 0..self.steps.len() {
            let mut trailing = Vec::new();
            self.steps[i].finish(&mut trailing).await?;
            if !trailing.is_empty() && !self.pass_on(trailing, i + 1).await? {
                break;
            }
        }
        Ok(())
    }

    /// Runs `items` through the steps from `first` on and sends what comes out. Returns
    /// `false` once no downstream is listening any more. When a step fails, the outputs it
    /// made before the failing item still go through the rest of the chain and are sent, and
    /// then the (first) error is returned.
    async fn pass_on(&mut self, mut items: Vec<Value>, first: usize) -> Result<bool, HostError> {
        let mut failure = None;
        for step in &mut self.steps[first..] {
            if items.is_empty() {
                break;
            }
            if let Err(error) = step.process(&mut items).await {
                failure.get_or_insert(error);
            }
        }
        let listening = self.outputs.send(items).await?;
        failure.map_or(Ok(listening), Err)
    }
}
