//! The streaming executor (DESIGN §7).
//!
//! A pipeline is cut into tasks of two kinds: *chain tasks*, Rust nodes that run inline in one
//! task, a morsel at a time, so an item does not cross a thread or a queue at every node; and
//! *stage tasks*, consecutive Python nodes driven as one stage in the interpreter. Between
//! tasks every edge is a bounded queue counted in items ([`crate::channel`]), so a slow
//! consumer blocks its producers and memory stays bounded whatever the number of items.
//! Fan-out points, fan-in points and asynchronous nodes start new tasks, so independent
//! branches run concurrently.
//!
//! # Layout
//! - `plan`: tasks from a [`Pipeline`], with named rows for the report.
//! - `queues`: the run's queues, made before its tasks.
//! - `chain`: the chain task.
//! - `stage`: the stage task.
//! - `outputs`: where a task's outputs go.
//! - `spawn`: the one place tasks are spawned; first error cancels the rest.
//! - `run`: [`Run`], and the handles that feed and drain it.
//! - `stats`: per-node counters and the [`RunReport`].

mod chain;
mod outputs;
mod plan;
mod queues;
mod run;
mod spawn;
mod stage;
mod stats;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use run::{InputSender, OutputReceiver, Reporter, Run};
pub use spawn::ErrorSlot;
pub use stats::{EdgeReport, NodeReport, RunReport};

use crate::error::HostError;
use crate::pipeline::Pipeline;
use crate::value::Value;

/// Everything a run emitted, as `(sink id, item)` in arrival order, with its report.
pub type Collected = (Vec<(Arc<str>, Value)>, RunReport);

/// Runs `pipeline` to the end with the given input items (or none: sources only) and collects
/// every output. For tests, and callers whose inputs fit in memory.
///
/// # Errors
/// As [`Run::wait`]; also [`HostError::Usage`] when inputs were given but no node takes them.
pub async fn run_collect(
    pipeline: Pipeline,
    inputs: Option<Vec<Value>>,
    cancel: CancellationToken,
) -> Result<Collected, HostError> {
    let mut run = Run::start(pipeline, inputs.is_some(), cancel)?;
    let reporter = run.reporter();
    let feeder = run.take_inputs();
    let mut outputs = run.take_outputs();
    let feed = async move {
        if let (Some(mut feeder), Some(items)) = (feeder, inputs) {
            // Closed or cancelled: the run's own result says why.
            let _ = feeder.send(items).await;
        }
    };
    let collect = async move {
        let mut collected = Vec::new();
        if let Some(outputs) = &mut outputs {
            while let Ok(Some((sink, items))) = outputs.recv().await {
                collected.extend(items.into_iter().map(|v| (Arc::clone(&sink), v)));
            }
        }
        collected
    };
    let ((), collected, result) = tokio::join!(feed, collect, run.wait());
    result.map(|()| (collected, reporter.report()))
}
