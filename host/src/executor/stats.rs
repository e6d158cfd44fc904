//! Per-node counters, updated once per morsel, and the report a run ends with.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Live counters of one node. Relaxed atomics: they are figures, not synchronisation.
#[derive(Debug, Default)]
pub struct NodeStats {
    items_in: AtomicU64,
    items_out: AtomicU64,
    busy_ns: AtomicU64,
    blocked_ns: AtomicU64,
    /// Counted without timing (a Python stage's nodes): its busy time is unknown, not 0.
    untimed: AtomicBool,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl NodeStats {
    /// Counts one morsel through the node.
    pub fn record(&self, items_in: usize, items_out: usize, busy: Duration) {
        self.items_in.fetch_add(items_in as u64, Ordering::Relaxed);
        self.items_out
            .fetch_add(items_out as u64, Ordering::Relaxed);
        self.busy_ns.fetch_add(nanos(busy), Ordering::Relaxed);
    }

    /// Counts items of a node whose own time is not measured (a Python stage reports counts
    /// only): the report gives its busy time as unknown.
    pub fn record_untimed(&self, items_in: usize, items_out: usize) {
        self.record(items_in, items_out, Duration::ZERO);
        self.untimed.store(true, Ordering::Relaxed);
    }

    /// Adds time spent waiting for room in a downstream queue.
    pub fn record_blocked(&self, blocked: Duration) {
        if !blocked.is_zero() {
            self.blocked_ns.fetch_add(nanos(blocked), Ordering::Relaxed);
        }
    }

    fn report(&self, id: &str, node_type: &str) -> NodeReport {
        NodeReport {
            id: id.to_owned(),
            node_type: node_type.to_owned(),
            items_in: self.items_in.load(Ordering::Relaxed),
            items_out: self.items_out.load(Ordering::Relaxed),
            busy_ms: (!self.untimed.load(Ordering::Relaxed))
                .then(|| ms(self.busy_ns.load(Ordering::Relaxed))),
            blocked_ms: ms(self.blocked_ns.load(Ordering::Relaxed)),
        }
    }
}

#[allow(clippy::cast_precision_loss)] // milliseconds for people to read
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// What one node did during a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeReport {
    /// Node id.
    pub id: String,
    /// Node type.
    pub node_type: String,
    /// Items it received.
    pub items_in: u64,
    /// Items it emitted.
    pub items_out: u64,
    /// Time spent inside the node's own code; `None` where it is not measured (Python nodes).
    pub busy_ms: Option<f64>,
    /// Time spent waiting for room in full downstream queues.
    pub blocked_ms: f64,
}

/// What one edge did during a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EdgeReport {
    /// Upstream node id.
    pub from: String,
    /// Downstream node id.
    pub to: String,
    /// Its queue's capacity in items.
    pub capacity: usize,
    /// `false` where the two nodes ran inline in one task, with no queue between them.
    pub queued: bool,
    /// The most items its queue held at once (0 when not queued).
    pub max_depth: usize,
}

/// Figures of a whole run, for `--metrics`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    /// `metadata.name`.
    pub pipeline: String,
    /// Wall time from start to the last task's end.
    pub elapsed_ms: f64,
    /// The host process's peak resident memory so far, in MiB (Linux; `null` elsewhere).
    pub peak_rss_mib: Option<f64>,
    /// One entry per node, in manifest order.
    pub nodes: Vec<NodeReport>,
    /// One entry per edge, in manifest order.
    pub edges: Vec<EdgeReport>,
}

impl RunReport {
    /// Builds the node part of a report from live counters.
    pub fn node_reports<'a>(
        stats: impl IntoIterator<Item = &'a NodeStats>,
        ids: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<NodeReport> {
        ids.into_iter()
            .zip(stats)
            .map(|((id, ty), s)| s.report(id, ty))
            .collect()
    }

    /// The report as an aligned text table, for `--metrics -`.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let width = self
            .nodes
            .iter()
            .map(|n| n.id.len() + n.node_type.len() + 3)
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "{:<width$}  {:>12}  {:>12}  {:>10}  {:>10}\n",
            "node", "items in", "items out", "busy ms", "blocked ms"
        );
        for n in &self.nodes {
            let name = format!("{} ({})", n.id, n.node_type);
            let busy = n
                .busy_ms
                .map_or_else(|| "-".to_owned(), |b| format!("{b:.2}"));
            let _ = writeln!(
                out,
                "{name:<width$}  {:>12}  {:>12}  {busy:>10}  {:>10.2}",
                n.items_in, n.items_out, n.blocked_ms
            );
        }
        let _ = write!(out, "elapsed: {:.2} ms", self.elapsed_ms);
        if let Some(rss) = self.peak_rss_mib {
            let _ = write!(out, ", peak memory: {rss:.1} MiB");
        }
        out.push('\n');
        out
    }
}

/// Peak resident set size of this process (`VmHWM`), in MiB; `None` where `/proc` has no such
/// line.
#[allow(clippy::cast_precision_loss)] // MiB for people to read
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib as f64 / 1024.0)
}
