//! From a pipeline to tasks: fuse nodes into chain tasks (Rust) and stage tasks (Python), put
//! a bounded queue on every edge between tasks, and wire inputs and outputs.
//!
//! Fusion rule: node `v` runs inline after `u` when `u -> v` is the only edge out of `u` and
//! the only edge into `v`, and both are synchronous Rust nodes (a source may head a chain), or
//! both are Python nodes (they form one stage in the interpreter). Everything else gets its own
//! task with a queue in front: fan-out and fan-in points, so branches run concurrently, and
//! asynchronous nodes, so their waiting never stalls a neighbour.

use std::sync::Arc;

use remotemedia_vm_sandbox::Backend;
use tokio_util::sync::CancellationToken;

use super::chain::{ChainTask, Step};
use super::outputs::Outputs;
use super::queues::EdgeQueue;
use super::queues::Queues;
use super::stage::{StageNode, StageTask};
use super::stats::NodeStats;
use crate::channel::{Receiver, Sender};
use crate::error::HostError;
use crate::graph::Graph;
use crate::manifest::{NodeId, ResolvedPipeline};
use crate::node::NodeImpl;
use crate::pipeline::{Constructed, Pipeline};
use crate::value::Value;

/// A node of the plan.
pub struct NodeRow {
    /// Its id.
    pub id: NodeId,
    /// Its type as the manifest names it.
    pub node_type: String,
}

/// An edge of the plan.
pub struct EdgeRow {
    /// Upstream node id.
    pub from: NodeId,
    /// Downstream node id.
    pub to: NodeId,
    /// Its capacity in items.
    pub capacity: usize,
    /// Where its items wait.
    pub queue: EdgeQueue,
}

/// One task of a run.
pub enum Task {
    /// Rust nodes run inline.
    Chain(ChainTask),
    /// Python nodes run as one stage in the interpreter.
    Stage(StageTask),
}

impl Task {
    /// The id of its first node, to name the task.
    pub fn head(&self) -> &NodeId {
        match self {
            Task::Chain(chain) => &chain.steps[0].id,
            Task::Stage(stage) => &stage.nodes[0].id,
        }
    }

    /// Runs the task to its end.
    ///
    /// # Errors
    /// The first node error, or `Cancelled`.
    pub async fn run(self) -> Result<(), HostError> {
        match self {
            Task::Chain(chain) => chain.run().await,
            Task::Stage(stage) => stage.run().await,
        }
    }
}

/// A pipeline cut into tasks, with its queues made.
pub struct Plan {
    /// The pipeline's name.
    pub name: String,
    /// Each node, in manifest order.
    pub nodes: Vec<NodeRow>,
    /// Each edge, in manifest order.
    pub edges: Vec<EdgeRow>,
    /// Counters of each node, in manifest order.
    pub stats: Vec<Arc<NodeStats>>,
    /// The tasks, in topological order of their heads.
    pub tasks: Vec<Task>,
    /// One sender per root that takes the run's input items, when the run has inputs.
    pub inputs: Vec<Sender<Value>>,
    /// The sinks' outputs, one slot per sink.
    pub outputs: Receiver<Value>,
    /// Sink ids, by output slot.
    pub sinks: Vec<Arc<str>>,
}

/// What the planner needs to know of a node.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Sync,
    Async,
    Source,
    Python { source: bool },
}

impl Kind {
    /// Whether the node takes no input items.
    pub(super) fn is_source(self) -> bool {
        matches!(self, Kind::Source | Kind::Python { source: true })
    }

    fn is_python(self) -> bool {
        matches!(self, Kind::Python { .. })
    }
}

/// Cuts `pipeline` into tasks and makes its queues.
///
/// # Errors
/// [`HostError::Usage`] when the run has inputs but every node without upstream is a source.
pub fn plan(
    pipeline: Pipeline,
    with_inputs: bool,
    cancel: &CancellationToken,
) -> Result<Plan, HostError> {
    let (resolved, graph, nodes, python) = pipeline.into_parts();
    let kinds: Vec<Kind> = nodes
        .iter()
        .zip(&resolved.nodes)
        .map(|(n, r)| match n {
            Constructed::Rust(NodeImpl::Sync(_)) => Kind::Sync,
            Constructed::Rust(NodeImpl::Async(_)) => Kind::Async,
            Constructed::Rust(NodeImpl::Source(_)) => Kind::Source,
            Constructed::Python(_) => Kind::Python {
                source: r.resolved.is_source(),
            },
        })
        .collect();
    check_roots(&resolved, &graph, &kinds, with_inputs)?;
    let chains = fuse(&graph, &kinds)?;
    let mut queues = Queues::make(&resolved, &graph, &kinds, &chains, with_inputs, cancel);

    let stats: Vec<Arc<NodeStats>> = (0..graph.len()).map(|_| Arc::default()).collect();
    let mut nodes: Vec<Option<Constructed>> = nodes.into_iter().map(Some).collect();
    let mut tasks = Vec::with_capacity(chains.len());
    for (chain, input) in chains.iter().zip(std::mem::take(&mut queues.heads)) {
        let tail = chain[chain.len() - 1];
        let senders: Vec<Sender<Value>> = if graph.downstream_edges(tail).is_empty() {
            let slot = queues.sink_nodes.iter().position(|&v| v == tail);
            slot.and_then(|s| queues.sink_senders[s].take())
                .into_iter()
                .collect()
        } else {
            graph
                .downstream_edges(tail)
                .iter()
                .filter_map(|&e| queues.edge_senders[e].take())
                .collect()
        };
        let outputs = Outputs::new(senders, Arc::clone(&stats[tail]));
        let members = chain.iter().filter_map(|&v| Some((v, nodes[v].take()?)));
        let task = if kinds[chain[0]].is_python() {
            let backend = python.clone().ok_or_else(|| {
                HostError::Runtime(
                    "internal error: Python nodes but no interpreter given to the pipeline".into(),
                )
            })?;
            stage_task(&resolved, members, &stats, backend, input, outputs, cancel)
        } else {
            Task::Chain(ChainTask {
                steps: members
                    .filter_map(|(v, node)| match node {
                        Constructed::Rust(node) => Some(Step {
                            id: resolved.nodes[v].id.clone(),
                            node_type: resolved.nodes[v].node_type.clone(),
                            node,
                            stats: Arc::clone(&stats[v]),
                        }),
                        Constructed::Python(_) => None,
                    })
                    .collect(),
                input,
                outputs,
                cancel: cancel.clone(),
            })
        };
        tasks.push(task);
    }

    let id_of = |v: usize| resolved.nodes[v].id.clone();
    let edges = resolved
        .edges
        .iter()
        .zip(queues.carriers)
        .map(|(e, queue)| EdgeRow {
            from: id_of(e.from),
            to: id_of(e.to),
            capacity: e.capacity,
            queue,
        })
        .collect();
    Ok(Plan {
        nodes: resolved
            .nodes
            .iter()
            .map(|n| NodeRow {
                id: n.id.clone(),
                node_type: n.node_type.clone(),
            })
            .collect(),
        edges,
        stats,
        tasks,
        inputs: queues.inputs,
        outputs: queues.outputs,
        sinks: queues
            .sink_nodes
            .iter()
            .map(|&v| id_of(v).shared())
            .collect(),
        name: resolved.name,
    })
}

/// The stage task of a fused run of Python nodes.
fn stage_task(
    resolved: &ResolvedPipeline,
    members: impl Iterator<Item = (usize, Constructed)>,
    stats: &[Arc<NodeStats>],
    backend: Arc<dyn Backend>,
    input: Option<Receiver<Value>>,
    outputs: Outputs,
    cancel: &CancellationToken,
) -> Task {
    Task::Stage(StageTask {
        nodes: members
            .filter_map(|(v, node)| match node {
                Constructed::Python(node) => Some(StageNode {
                    id: resolved.nodes[v].id.clone(),
                    node_type: resolved.nodes[v].node_type.clone(),
                    node,
                    stats: Arc::clone(&stats[v]),
                }),
                Constructed::Rust(_) => None,
            })
            .collect(),
        backend,
        limits: remotemedia_vm_sandbox::Limits {
            items: resolved.runtime.channel_capacity,
            bytes: resolved.runtime.channel_bytes,
        },
        input,
        outputs,
        cancel: cancel.clone(),
    })
}

/// Input items need a root that takes them; a root transform without them gets nothing.
fn check_roots(
    resolved: &ResolvedPipeline,
    graph: &Graph,
    kinds: &[Kind],
    with_inputs: bool,
) -> Result<(), HostError> {
    let roots: Vec<usize> = (0..graph.len())
        .filter(|&v| graph.upstream_edges(v).is_empty())
        .collect();
    if with_inputs && roots.iter().all(|&v| kinds[v].is_source()) {
        let sources: Vec<String> = roots
            .iter()
            .map(|&v| format!("{} ({})", resolved.nodes[v].id, resolved.nodes[v].node_type))
            .collect();
        return Err(HostError::Usage(format!(
            "input items were given, but no node would receive them: every node without upstream is a source: {}",
            sources.join(", ")
        )));
    }
    for &v in &roots {
        if !with_inputs && kinds[v] == Kind::Sync {
            tracing::warn!(
                node = %resolved.nodes[v].id,
                "node has no upstream and the run has no input items, so it receives nothing (give input with --input)"
            );
        }
    }
    Ok(())
}

/// The chains of nodes that run inline, heads in topological order.
fn fuse(graph: &Graph, kinds: &[Kind]) -> Result<Vec<Vec<usize>>, HostError> {
    let order = graph
        .topo_order()
        .map_err(|_| HostError::Runtime("internal error: cycle after validation".into()))?;
    let mut chain_of = vec![usize::MAX; graph.len()];
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for &v in &order {
        let ups = graph.upstream_edges(v);
        // Rust chains fuse (a source may head one); Python chains fuse into one stage.
        let fuses = |u: usize| match kinds[v] {
            Kind::Sync => matches!(kinds[u], Kind::Sync | Kind::Source),
            Kind::Python { .. } => kinds[u].is_python(),
            Kind::Async | Kind::Source => false,
        };
        let fuse_after = (ups.len() == 1)
            .then(|| graph.edge(ups[0]).0)
            .filter(|&u| graph.downstream_edges(u).len() == 1 && fuses(u));
        if let Some(u) = fuse_after {
            chain_of[v] = chain_of[u];
            chains[chain_of[u]].push(v);
        } else {
            chain_of[v] = chains.len();
            chains.push(vec![v]);
        }
    }
    Ok(chains)
}
