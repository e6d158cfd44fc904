//! A stage task: consecutive Python nodes as one stage in the interpreter, fed and drained
//! concurrently.
//!
//! Items are pushed into the stage as their morsels arrive and pulled out as the stage yields
//! them, so a streaming node's outputs travel while it is still running and a Python source
//! (a streaming node with no upstream) emits as it goes. The stage acknowledges a push only
//! while it has room, and stops producing while its outputs are not collected: backpressure
//! crosses into Python both ways.

use std::collections::VecDeque;
use std::sync::Arc;

use remotemedia_vm_sandbox::{Backend, NodeSpec, SandboxError, Stage};
use tokio_util::sync::CancellationToken;

use super::outputs::Outputs;
use super::stats::NodeStats;
use crate::channel::Receiver;
use crate::error::{HostError, NodeError, NodeFailure};
use crate::manifest::NodeId;
use crate::node::python::PythonNode;
use crate::value::Value;

/// How long a cancelled stage of a backend that cannot interrupt node code (RustPython) is
/// waited for before it is left to end on its own.
const ABANDON_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// How often a cancelled stage's busy code is interrupted until its cleanup answers.
const INTERRUPT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// Pushes a Python stage may have unanswered at once.
const PUSHES_IN_FLIGHT: usize = 4;

/// One node of a stage.
pub struct StageNode {
    /// Node id.
    pub id: NodeId,
    /// Node type, for errors.
    pub node_type: String,
    /// What to construct in the interpreter.
    pub node: PythonNode,
    /// Its counters.
    pub stats: Arc<NodeStats>,
}

/// Consecutive Python nodes driven as one stage, and its queues.
pub struct StageTask {
    /// The nodes, upstream first.
    pub nodes: Vec<StageNode>,
    /// The interpreter the stage runs in.
    pub backend: Arc<dyn Backend>,
    /// What the stage buffers, in items and bytes, on its input and on its output.
    pub limits: remotemedia_vm_sandbox::Limits,
    /// The head's queue; `None` when the head takes no input (a source, or a root of a run
    /// without input items).
    pub input: Option<Receiver<Value>>,
    /// Where the tail's outputs go.
    pub outputs: Outputs,
    /// The run's cancellation.
    pub cancel: CancellationToken,
}

impl StageTask {
    /// Runs the stage: create and initialize its nodes, stream, then clean up (also after an
    /// error or a cancel) and record each node's counts.
    ///
    /// # Errors
    /// The first node error, or `Cancelled`.
    pub async fn run(mut self) -> Result<(), HostError> {
        if self.cancel.is_cancelled() {
            return Err(HostError::Cancelled);
        }
        let specs: Vec<NodeSpec> = self
            .nodes
            .iter()
            .map(|n| NodeSpec {
                id: n.id.to_string(),
                module: n.node.module.clone(),
                qualname: n.node.qualname.clone(),
                params: n.node.params.clone(),
                live: n.node.live.clone(),
                retry: n.node.retry,
                timeout_ms: n.node.timeout_ms,
            })
            .collect();
        let names: Vec<(String, String)> = self
            .nodes
            .iter()
            .map(|n| (n.id.to_string(), n.node_type.clone()))
            .collect();
        let stage = Stage::create(Arc::clone(&self.backend), specs, self.limits)
            .await
            .map_err(|e| python_error(&names, e))?;
        let cancel = self.cancel.clone();
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => Err(HostError::Cancelled),
            result = self.stream(&stage, &names) => result,
        };
        self.input = None;
        self.outputs.end(&result);
        let cleanup = stage.cleanup();
        tokio::pin!(cleanup);
        // A cancel may come while the cleanup runs, too (a busy `cleanup()`).
        let finished = if self.cancel.is_cancelled() {
            None
        } else {
            tokio::select! {
                counts = &mut cleanup => Some(counts),
                () = self.cancel.cancelled() => None,
            }
        };
        // A run whose stream ended but whose cleanup a cancel cut short was cancelled.
        let result = if finished.is_none() {
            result.and(Err(HostError::Cancelled))
        } else {
            result
        };
        let counts = if let Some(counts) = finished {
            counts
        } else if !self.backend.capabilities().interrupts {
            // Busy node code cannot be stopped here (RustPython): the stage is waited for a
            // while, then left to end on its own, so that the cancel still ends the run.
            if let Ok(counts) = tokio::time::timeout(ABANDON_AFTER, &mut cleanup).await {
                counts
            } else {
                tracing::warn!(
                    "node code of Python stage {} is still busy {} s after the cancel, and the {} runtime cannot interrupt it: the stage is left to end on its own",
                    self.nodes[0].id,
                    ABANDON_AFTER.as_secs(),
                    self.backend.capabilities().name
                );
                return result;
            }
        } else {
            // Busy node code of this stage would hold the stage's thread and the cleanup
            // behind it: interrupt it, again until the cleanup answers (code that was blocked
            // in a C call, or that swallowed the first, is caught by a later one).
            loop {
                stage.interrupt();
                tokio::select! {
                    counts = &mut cleanup => break counts,
                    () = tokio::time::sleep(INTERRUPT_EVERY) => {}
                }
            }
        };
        match counts {
            Ok(counts) => {
                for (node, counts) in self.nodes.iter().zip(counts) {
                    node.stats.record_untimed(
                        usize::try_from(counts.seen).unwrap_or(usize::MAX),
                        usize::try_from(counts.made).unwrap_or(usize::MAX),
                    );
                }
            }
            Err(error) => tracing::warn!(
                "cleanup of Python stage {} failed: {error}",
                self.nodes[0].id
            ),
        }
        result
    }

    async fn stream(&mut self, stage: &Stage, names: &[(String, String)]) -> Result<(), HostError> {
        stage
            .initialize()
            .await
            .map_err(|e| python_error(names, e))?;
        let mut input = self.input.take();
        let feed = async {
            // Up to PUSHES_IN_FLIGHT pushes travel at once: each crossing costs a wake-up of the
            // stage's thread, and waiting for every answer before the next push made that
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
                        if !self.outputs.send(items).await? {
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
        // Another stage of the worker reports the failure that ended it.
        SandboxError::Aborted => HostError::Cancelled,
        other => HostError::Sandbox(other),
    }
}
