//! A running pipeline: its tasks, the handles that feed it and drain it, and its report.

use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use super::plan::{EdgeRow, NodeRow, plan};
use super::queues::EdgeQueue;
use super::spawn::{ErrorSlot, TaskSet};
use super::stats::{EdgeReport, NodeStats, RunReport};
use crate::channel::{Cancelled, Receiver, SendError, Sender};
use crate::error::HostError;
use crate::pipeline::Pipeline;
use crate::value::Value;

/// A pipeline whose node tasks are running.
pub struct Run {
    tasks: TaskSet,
    inputs: Option<InputSender>,
    outputs: Option<OutputReceiver>,
    reporter: Reporter,
}

impl Run {
    /// Starts every node task of `pipeline` on the current tokio runtime. With `with_inputs`,
    /// [`Run::take_inputs`] gives the handle that feeds the root nodes. Read the outputs from
    /// [`Run::take_outputs`] while the run goes on: a full output queue holds the sinks back.
    ///
    /// # Errors
    /// [`HostError::Usage`] when there are inputs but no node would receive them.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(
        pipeline: Pipeline,
        with_inputs: bool,
        cancel: CancellationToken,
    ) -> Result<Run, HostError> {
        let plan = plan(pipeline, with_inputs, &cancel)?;
        let mut tasks = TaskSet::new(cancel);
        let handle = Handle::current();
        let errors = tasks.error_slot();
        let inputs = with_inputs.then(|| InputSender {
            roots: plan.inputs,
            errors,
            handle: handle.clone(),
        });
        let outputs = OutputReceiver {
            rx: plan.outputs,
            sinks: plan.sinks,
            handle,
        };
        let edges = plan
            .edges
            .into_iter()
            .map(
                |EdgeRow {
                     from,
                     to,
                     capacity,
                     queue,
                 }| {
                    let report = EdgeReport {
                        from: from.to_string(),
                        to: to.to_string(),
                        capacity,
                        queued: false,
                        max_depth: 0,
                    };
                    (report, queue)
                },
            )
            .collect();
        for task in plan.tasks {
            tasks.spawn(format!("node {}", task.head()), task.run());
        }
        Ok(Run {
            tasks,
            inputs,
            outputs: Some(outputs),
            reporter: Reporter {
                name: plan.name,
                nodes: Arc::new(plan.nodes),
                stats: plan.stats,
                edges: Arc::new(edges),
                started: Instant::now(),
            },
        })
    }

    /// The handle that feeds input items to every root transform (once; `None` without inputs).
    pub fn take_inputs(&mut self) -> Option<InputSender> {
        self.inputs.take()
    }

    /// The handle that yields the sinks' outputs (once).
    pub fn take_outputs(&mut self) -> Option<OutputReceiver> {
        self.outputs.take()
    }

    /// Reads the run's figures, during or after the run.
    pub fn reporter(&self) -> Reporter {
        self.reporter.clone()
    }

    /// Adds a task to the run (an output writer, say): the run is not over until it ends, and
    /// its error fails the run.
    pub fn spawn_blocking(
        &mut self,
        name: &str,
        task: impl FnOnce() -> Result<(), HostError> + Send + 'static,
    ) {
        self.tasks.spawn_blocking(name.to_owned(), task);
    }

    /// Waits for every task.
    ///
    /// # Errors
    /// The first node error, an input error, or `Cancelled`.
    pub async fn wait(mut self) -> Result<(), HostError> {
        drop(self.inputs.take());
        drop(self.outputs.take());
        self.tasks.join().await
    }
}

/// Feeds input items to every root transform.
pub struct InputSender {
    roots: Vec<Sender<Value>>,
    errors: ErrorSlot,
    handle: Handle,
}

impl InputSender {
    /// Sends `items` to every root, waiting while their queues are full.
    ///
    /// # Errors
    /// `Closed` once no root reads any more, `Cancelled` when the run was cancelled.
    pub async fn send(&mut self, items: Vec<Value>) -> Result<(), SendError> {
        let mut i = 0;
        let mut items = Some(items);
        while i < self.roots.len() {
            let batch = if i + 1 == self.roots.len() {
                items.take().unwrap_or_default()
            } else {
                items.clone().unwrap_or_default()
            };
            match self.roots[i].send(batch).await {
                Ok(_) => i += 1,
                Err(SendError::Closed) => {
                    self.roots.remove(i);
                }
                Err(SendError::Cancelled) => return Err(SendError::Cancelled),
            }
        }
        if self.roots.is_empty() {
            Err(SendError::Closed)
        } else {
            Ok(())
        }
    }

    /// Sends `items` only if every root takes them all at once; `Ok(false)` when one would
    /// have to wait (nothing was sent). Never blocks: a caller on an event loop feeds with it
    /// and falls back to [`InputSender::blocking_send`] on another thread.
    ///
    /// # Errors
    /// As `send`.
    pub fn try_send(&mut self, items: Vec<Value>) -> Result<bool, SendError> {
        let bytes = items.iter().map(Value::payload_bytes).sum();
        let mut i = 0;
        while i < self.roots.len() {
            match self.roots[i].has_room(items.len(), bytes) {
                Ok(true) => i += 1,
                Ok(false) => return Ok(false),
                Err(SendError::Closed) => {
                    self.roots.remove(i);
                }
                Err(SendError::Cancelled) => return Err(SendError::Cancelled),
            }
        }
        if self.roots.is_empty() {
            return Err(SendError::Closed);
        }
        // Room only grows while we are the only sender of these slots: this cannot wait.
        let handle = self.handle.clone();
        handle.block_on(self.send(items)).map(|()| true)
    }

    /// [`InputSender::send`] from a thread outside the runtime.
    ///
    /// # Errors
    /// As `send`.
    pub fn blocking_send(&mut self, items: Vec<Value>) -> Result<(), SendError> {
        let handle = self.handle.clone();
        handle.block_on(self.send(items))
    }

    /// Fails the run with `error` (say, an input line that is not JSON) and stops feeding it.
    pub fn fail(self, error: HostError) {
        self.errors.report(error);
        // Ended as failed, so no node takes the items so far for the whole stream.
        self.roots.into_iter().for_each(Sender::abort);
    }
}

/// One morsel of output: the id of the sink that emitted it, and the items.
pub type Output = (Arc<str>, Vec<Value>);

/// Yields what the sinks emit, a morsel at a time, in arrival order.
pub struct OutputReceiver {
    rx: Receiver<Value>,
    sinks: Vec<Arc<str>>,
    handle: Handle,
}

impl OutputReceiver {
    /// The next morsel and the id of the sink that emitted it; `None` after the last one.
    /// When the run stops early (a failure, a cancel), what the sinks had already emitted is
    /// still delivered first: nothing a sink produced is lost.
    ///
    /// # Errors
    /// The run was cancelled and nothing emitted is left.
    pub async fn recv(&mut self) -> Result<Option<Output>, Cancelled> {
        let morsel = match self.rx.recv().await {
            Ok(morsel) => morsel,
            // Stopping: every sink still delivers what it emits until it ends.
            Err(Cancelled) => Some(self.rx.recv_until_closed().await.ok_or(Cancelled)?),
        };
        Ok(morsel.map(|m| (Arc::clone(&self.sinks[m.slot]), m.items)))
    }

    /// [`OutputReceiver::recv`] from a thread outside the runtime.
    ///
    /// # Errors
    /// As `recv`.
    pub fn blocking_recv(&mut self) -> Result<Option<Output>, Cancelled> {
        let handle = self.handle.clone();
        handle.block_on(self.recv())
    }

    /// Whether no output is waiting right now.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

/// Reads a run's counters.
#[derive(Clone)]
pub struct Reporter {
    name: String,
    nodes: Arc<Vec<NodeRow>>,
    stats: Vec<Arc<NodeStats>>,
    edges: Arc<Vec<(EdgeReport, EdgeQueue)>>,
    started: Instant,
}

impl Reporter {
    /// The figures as they are now.
    pub fn report(&self) -> RunReport {
        let edges = self
            .edges
            .iter()
            .map(|(edge, queue)| match queue {
                EdgeQueue::Inline => edge.clone(),
                EdgeQueue::Queued(probe, slot) => {
                    let max_depth = probe.stats().get(*slot).map_or(0, |s| s.max_depth);
                    EdgeReport {
                        queued: true,
                        max_depth,
                        ..edge.clone()
                    }
                }
            })
            .collect();
        RunReport {
            pipeline: self.name.clone(),
            elapsed_ms: self.started.elapsed().as_secs_f64() * 1e3,
            peak_rss_mib: super::stats::peak_rss_mib(),
            nodes: RunReport::node_reports(
                self.stats.iter().map(AsRef::as_ref),
                self.nodes
                    .iter()
                    .map(|n| (n.id.as_str(), n.node_type.as_str())),
            ),
            edges,
        }
    }
}
