//! A segment of Python nodes: one stage in the interpreter, fed and drained concurrently.
//!
//! Items are pushed into the stage as their morsels arrive and pulled out as the stage yields
//! them, so a streaming node's outputs travel while it is still running and a Python source
//! (a streaming node with no upstream) emits as it goes. The stage acknowledges a push only
//! while it has room, and stops producing while its outputs are not collected: backpressure
//! crosses into Python both ways.

use std::collections::VecDeque;
use std::sync::Arc;

use remotemedia_vm_sandbox::{Backend, NodeSpec, SandboxError, Stage};

use super::segment::Segment;
use crate::error::{HostError, NodeError, NodeFailure};
use crate::node::NodeImpl;

/// Pushes a Python stage may have unanswered at once.
const PUSHES_IN_FLIGHT: usize = 4;

impl Segment {
    /// Runs the segment's Python nodes as one stage: create and initialize them, stream,
    /// then clean up (also after an error or a cancel) and record each node's counts.
    pub(super) async fn run_python(
        mut self,
        backend: Arc<dyn Backend>,
        limit: usize,
    ) -> Result<(), HostError> {
        if self.cancel.is_cancelled() {
            return Err(HostError::Cancelled);
        }
        let specs: Vec<NodeSpec> = self
            .steps
            .iter()
            .filter_map(|step| match &step.node {
                NodeImpl::Python(node) => Some(NodeSpec {
                    id: step.id.clone(),
                    module: node.module.clone(),
                    qualname: node.qualname.clone(),
                    params: node.params.clone(),
                    live: node.live.clone(),
                }),
                _ => None,
            })
            .collect();
        let names: Vec<(String, String)> = self
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.node_type.clone()))
            .collect();
        let stage = Stage::create(backend, specs, limit)
            .await
            .map_err(|e| python_error(&names, e))?;
        let cancel = self.cancel.clone();
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => Err(HostError::Cancelled),
            result = self.stream_python(&stage, &names) => result,
        };
        self.input = None;
        self.outputs.clear();
        match stage.cleanup().await {
            Ok(counts) => {
                for (step, (seen, made)) in self.steps.iter().zip(counts) {
                    step.stats.record(
                        usize::try_from(seen).unwrap_or(usize::MAX),
                        usize::try_from(made).unwrap_or(usize::MAX),
                        std::time::Duration::ZERO,
                    );
                }
            }
            Err(error) => tracing::warn!(
                "cleanup of Python stage {} failed: {error}",
                self.steps[0].id
            ),
        }
        result
    }

    async fn stream_python(
        &mut self,
        stage: &Stage,
        names: &[(String, String)],
    ) -> Result<(), HostError> {
        stage
            .initialize()
            .await
            .map_err(|e| python_error(names, e))?;
        let mut input = self.input.take();
        let feed = async {
            // Up to PUSHES_IN_FLIGHT pushes travel at once: each crossing costs a wake-up of the
            // interpreter thread, and waiting for every answer before the next push made that
            // wake-up the per-morsel cost.
            let mut in_flight = VecDeque::new();
            if let Some(input) = &mut input {
                while let Some(morsel) = input.recv().await.map_err(|_| HostError::Cancelled)? {
                    in_flight.push_back(stage.push_now(morsel.items));
                    if in_flight.len() >= PUSHES_IN_FLIGHT
                        && let Some(oldest) = in_flight.pop_front()
                        && !oldest.await.map_err(|e| python_error(names, e))?
                    {
                        break; // the stage reads no more input
                    }
                }
            }
            for answer in in_flight {
                answer.await.map_err(|e| python_error(names, e))?;
            }
            stage.close().await.map_err(|e| python_error(names, e))
        };
        tokio::pin!(feed);
        let mut feed_done = false;
        // One pull is outstanding at a time and is never dropped half-way: the interpreter
        // answers it with items that would otherwise be lost.
        let mut pull = Box::pin(stage.pull());
        loop {
            tokio::select! {
                result = &mut feed, if !feed_done => {
                    result?;
                    feed_done = true;
                }
                pulled = &mut pull => match pulled.map_err(|e| python_error(names, e))? {
                    Some(items) => {
                        if !self.send(items).await? {
                            return Ok(()); // nobody downstream listens any more
                        }
                        pull.set(stage.pull());
                    }
                    None => return Ok(()),
                },
            }
        }
    }
}

/// A sandbox error as a host error, attributed to the node that raised (`names` holds the
/// stage's `(id, node_type)` pairs; an error from no node in particular goes to the last).
fn python_error(names: &[(String, String)], error: SandboxError) -> HostError {
    match error {
        SandboxError::Raised(failure) => {
            let (id, node_type) = failure
                .node_id
                .as_deref()
                .and_then(|id| names.iter().find(|(n, _)| n == id))
                .unwrap_or(&names[names.len() - 1]);
            let traceback = (!failure.traceback.is_empty()).then_some(failure.traceback);
            HostError::Node(NodeFailure {
                node_id: id.clone(),
                node_type: node_type.clone(),
                error: NodeError {
                    error_type: failure.error_type,
                    message: failure.message,
                    traceback,
                },
            })
        }
        other => HostError::Runtime(other.to_string()),
    }
}
