//! The queues of a run, made before its tasks: one in front of every task head that takes
//! items (a slot per incoming edge, plus one for the run's inputs on a root), and the output
//! queue (a slot per sink).

use tokio_util::sync::CancellationToken;

use super::plan::Kind;
use crate::channel::{Probe, Receiver, Sender, channel};
use crate::graph::Graph;
use crate::manifest::ResolvedPipeline;
use crate::value::Value;

/// Capacity, in items, of the run's input and output queues: the ones between the pipeline
/// and its caller's threads (the CLI's reader and writer, a Python caller). A caller on another
/// thread pays a wake-up per morsel; at 16 items a morsel that made the CLI 26 times slower
/// (5M items: 3.45 s against 0.13 s). These queues are not manifest edges, so the manifest's
/// capacities do not apply to them; the run's byte bound does, as everywhere.
pub const IO_QUEUE_CAPACITY: usize = 1024;

/// Where an edge's items wait.
pub enum EdgeQueue {
    /// The two nodes run inline; no queue.
    Inline,
    /// In the downstream head's queue, in this slot.
    Queued(Probe, usize),
}

/// Every queue of a run, before they are handed to the tasks.
pub(super) struct Queues {
    /// The queue in front of each chain's head (`None` for a head that takes no items), by
    /// chain.
    pub(super) heads: Vec<Option<Receiver<Value>>>,
    /// The sending end of each edge that crosses between chains, by edge.
    pub(super) edge_senders: Vec<Option<Sender<Value>>>,
    /// How each edge is carried, by edge.
    pub(super) carriers: Vec<EdgeQueue>,
    /// The run's input senders, one per root that takes input items.
    pub(super) inputs: Vec<Sender<Value>>,
    /// Nodes without downstream, in manifest order.
    pub(super) sink_nodes: Vec<usize>,
    /// Their senders into the output queue, by sink.
    pub(super) sink_senders: Vec<Option<Sender<Value>>>,
    /// The output queue.
    pub(super) outputs: Receiver<Value>,
}

impl Queues {
    /// A queue in front of every head that is not a source, with one slot per incoming edge
    /// plus one for the run's inputs on a root transform; and the output queue, one slot per sink.
    pub(super) fn make(
        resolved: &ResolvedPipeline,
        graph: &Graph,
        kinds: &[Kind],
        chains: &[Vec<usize>],
        with_inputs: bool,
        cancel: &CancellationToken,
    ) -> Queues {
        let n_edges = graph.edges().len();
        let bytes = resolved.runtime.channel_bytes;
        let mut edge_senders: Vec<Option<Sender<Value>>> = (0..n_edges).map(|_| None).collect();
        let mut carriers: Vec<EdgeQueue> = (0..n_edges).map(|_| EdgeQueue::Inline).collect();
        let mut heads = Vec::with_capacity(chains.len());
        let mut inputs = Vec::new();
        for chain in chains {
            let head = chain[0];
            if kinds[head].is_source() {
                heads.push(None);
                continue;
            }
            let ups = graph.upstream_edges(head);
            let mut capacities: Vec<usize> =
                ups.iter().map(|&e| resolved.edges[e].capacity).collect();
            if with_inputs && ups.is_empty() {
                capacities.push(IO_QUEUE_CAPACITY);
            }
            let (senders, receiver) = channel(&capacities, bytes, cancel.clone());
            for (slot, sender) in senders.into_iter().enumerate() {
                if let Some(&e) = ups.get(slot) {
                    carriers[e] = EdgeQueue::Queued(receiver.probe(), slot);
                    edge_senders[e] = Some(sender);
                } else {
                    inputs.push(sender);
                }
            }
            heads.push(Some(receiver));
        }
        let sink_nodes: Vec<usize> = (0..graph.len())
            .filter(|&v| graph.downstream_edges(v).is_empty())
            .collect();
        let (sink_senders, outputs) = channel(
            &vec![IO_QUEUE_CAPACITY; sink_nodes.len()],
            bytes,
            cancel.clone(),
        );
        Queues {
            heads,
            edge_senders,
            carriers,
            inputs,
            sink_nodes,
            sink_senders: sink_senders.into_iter().map(Some).collect(),
            outputs,
        }
    }
}
