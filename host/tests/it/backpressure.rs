//! Bounded queues: a slow consumer holds its producers back, and no queue ever holds more than
//! its capacity.

use serde_json::json;

use crate::support::run;

#[tokio::test(start_paused = true)]
async fn slow_sink_bounds_queue_depth() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": 5000}},
        {"id": "slow", "node_type": "Slow", "params": {"delay_ms": 5}}],
        "connections": [{"from": "src", "to": "slow", "capacity": 4}]});
    let (out, report) = run(&doc, None).await.unwrap();
    assert_eq!(
        out.len(),
        5000,
        "backpressure slows the source, it never drops"
    );
    let edge = &report.edges[0];
    assert!(edge.queued);
    assert_eq!(
        (edge.capacity, edge.max_depth),
        (4, 4),
        "the queue filled up to, and never past, its capacity"
    );
    assert!(
        report.nodes[0].blocked_ms > 0.0,
        "the source waited on the full queue"
    );
}

#[tokio::test(start_paused = true)]
async fn every_edge_of_a_merge_is_bounded_by_its_own_capacity() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "a", "node_type": "Range", "params": {"stop": 2000}},
        {"id": "b", "node_type": "Range", "params": {"stop": 2000}},
        {"id": "slow", "node_type": "Slow", "params": {"delay_ms": 1}}],
        "connections": [{"from": "a", "to": "slow", "capacity": 2}, {"from": "b", "to": "slow", "capacity": 7}]});
    let (out, report) = run(&doc, None).await.unwrap();
    assert_eq!(out.len(), 4000);
    let depths: Vec<(usize, usize)> = report
        .edges
        .iter()
        .map(|e| (e.capacity, e.max_depth))
        .collect();
    assert_eq!(depths, vec![(2, 2), (7, 7)]);
}

#[tokio::test(start_paused = true)]
async fn slow_branch_holds_back_its_fan_out_source_but_loses_nothing() {
    let doc = json!({"version": "v1", "runtime": {"channel_capacity": 3}, "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": 1000}},
        {"id": "fast", "node_type": "PassThrough"},
        {"id": "slow", "node_type": "Slow", "params": {"delay_ms": 2}}],
        "connections": [{"from": "src", "to": "fast"}, {"from": "src", "to": "slow"}]});
    let (out, report) = run(&doc, None).await.unwrap();
    assert_eq!(out.iter().filter(|(s, _)| s == "fast").count(), 1000);
    assert_eq!(out.iter().filter(|(s, _)| s == "slow").count(), 1000);
    assert!(report.edges.iter().all(|e| e.max_depth <= 3));
}
