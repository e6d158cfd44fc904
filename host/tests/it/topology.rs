//! How items move through each graph shape: order along chains, every item to every branch,
//! interleaved merges, sources, filters and generators.

use std::collections::HashMap;

use remotemedia_host::Value;
use serde_json::json;

use crate::support::{from, ints, run, sorted};

#[tokio::test]
async fn linear_chain_multiplies_then_adds_in_input_order() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "mul", "node_type": "Multiply", "params": {"factor": 2}},
        {"id": "add", "node_type": "Add", "params": {"addend": 1}}]});
    let (out, report) = run(&doc, Some(ints(0..1000))).await.unwrap();
    assert_eq!(
        from(&out, "add"),
        ints(0..1000)
            .iter()
            .map(|v| if let Value::Int(i) = v {
                Value::Int(i * 2 + 1)
            } else {
                unreachable!()
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(out.len(), 1000);
    assert!(
        !report.edges[0].queued,
        "a one-in-one-out chain runs inline"
    );
}

#[tokio::test]
async fn branching_sends_every_item_to_every_branch_in_order() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "PassThrough"},
        {"id": "double", "node_type": "Multiply", "params": {"factor": 2}},
        {"id": "shift", "node_type": "Add", "params": {"addend": 100}}],
        "connections": [{"from": "src", "to": "double"}, {"from": "src", "to": "shift"}]});
    let (out, report) = run(&doc, Some(ints(0..500))).await.unwrap();
    assert_eq!(
        from(&out, "double"),
        (0..500).map(|i| Value::Int(i * 2)).collect::<Vec<_>>()
    );
    assert_eq!(
        from(&out, "shift"),
        (0..500).map(|i| Value::Int(i + 100)).collect::<Vec<_>>()
    );
    assert!(
        report.edges.iter().all(|e| e.queued),
        "branches get their own tasks"
    );
}

#[tokio::test]
async fn fan_out_shares_one_buffer_between_branches() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "PassThrough"},
        {"id": "a", "node_type": "PassThrough"},
        {"id": "b", "node_type": "PassThrough"}],
        "connections": [{"from": "src", "to": "a"}, {"from": "src", "to": "b"}]});
    let big = Value::from("frame".repeat(10_000).as_str());
    let (out, _) = run(&doc, Some(vec![big])).await.unwrap();
    let (Value::Str(a), Value::Str(b)) = (&from(&out, "a")[0], &from(&out, "b")[0]) else {
        panic!("{out:?}")
    };
    assert!(
        std::sync::Arc::ptr_eq(a, b),
        "each branch must see the same buffer, not a copy"
    );
}

#[tokio::test]
async fn merging_interleaves_upstreams_and_keeps_each_ones_order() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "low", "node_type": "Range", "params": {"stop": 3000}},
        {"id": "high", "node_type": "Range", "params": {"start": 10000, "stop": 13000}},
        {"id": "merge", "node_type": "PassThrough"}],
        "connections": [{"from": "low", "to": "merge"}, {"from": "high", "to": "merge"}]});
    let (out, _) = run(&doc, None).await.unwrap();
    let merged = from(&out, "merge");
    let expected: Vec<i64> = (0..3000).chain(10000..13000).collect();
    assert_eq!(sorted(&merged), expected);
    let ints: Vec<i64> = merged
        .iter()
        .map(|v| if let Value::Int(i) = v { *i } else { 0 })
        .collect();
    let lows: Vec<i64> = ints.iter().copied().filter(|&i| i < 10000).collect();
    let highs: Vec<i64> = ints.iter().copied().filter(|&i| i >= 10000).collect();
    assert!(
        lows.is_sorted() && highs.is_sorted(),
        "each upstream's order is kept"
    );
}

#[tokio::test]
async fn diamond_delivers_each_item_once_per_path() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "top", "node_type": "PassThrough"},
        {"id": "left", "node_type": "Multiply", "params": {"factor": 10}},
        {"id": "right", "node_type": "Add", "params": {"addend": 1}},
        {"id": "bottom", "node_type": "PassThrough"}],
        "connections": [{"from": "top", "to": "left"}, {"from": "top", "to": "right"},
                        {"from": "left", "to": "bottom"}, {"from": "right", "to": "bottom"}]});
    let (out, _) = run(&doc, Some(ints(1..201))).await.unwrap();
    let mut expected: Vec<i64> = (1..201)
        .map(|i| i * 10)
        .chain((1..201).map(|i| i + 1))
        .collect();
    expected.sort_unstable();
    assert_eq!(sorted(&from(&out, "bottom")), expected);
    assert_eq!(out.len(), 400, "the only sink is bottom");
}

#[tokio::test]
async fn multi_level_dag_feeds_every_sink() {
    // in -> a -> b -> d -> e ; a -> c -> d ; c -> f (a second sink)
    let doc = json!({"version": "v1", "nodes": [
        {"id": "a", "node_type": "PassThrough"},
        {"id": "b", "node_type": "Add", "params": {"addend": 1}},
        {"id": "c", "node_type": "Multiply", "params": {"factor": 3}},
        {"id": "d", "node_type": "PassThrough"},
        {"id": "e", "node_type": "Add", "params": {"addend": 1000}},
        {"id": "f", "node_type": "Twice"}],
        "connections": [{"from": "a", "to": "b"}, {"from": "a", "to": "c"}, {"from": "b", "to": "d"},
                        {"from": "c", "to": "d"}, {"from": "d", "to": "e"}, {"from": "c", "to": "f"}]});
    let (out, report) = run(&doc, Some(ints(0..100))).await.unwrap();
    let mut e: Vec<i64> = (0..100)
        .map(|i| i + 1 + 1000)
        .chain((0..100).map(|i| i * 3 + 1000))
        .collect();
    e.sort_unstable();
    assert_eq!(sorted(&from(&out, "e")), e);
    let f: Vec<Value> = (0..100)
        .flat_map(|i| [Value::Int(i * 3), Value::Int(i * 3)])
        .collect();
    assert_eq!(
        from(&out, "f"),
        f,
        "a chain after a fan-out keeps its order"
    );
    let counts: HashMap<&str, (u64, u64)> = report
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), (n.items_in, n.items_out)))
        .collect();
    assert_eq!(counts["d"], (200, 200));
    assert_eq!(counts["f"], (100, 200));
}

#[tokio::test]
async fn filter_drops_items_and_keeps_the_rest_in_order() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "even", "node_type": "KeepEven"},
        {"id": "half", "node_type": "Multiply", "params": {"factor": 0.5}}]});
    let (out, report) = run(&doc, Some(ints(0..50))).await.unwrap();
    assert_eq!(
        from(&out, "half"),
        (0..25)
            .map(|i| Value::Float(f64::from(i)))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        (report.nodes[0].items_in, report.nodes[0].items_out),
        (50, 25)
    );
}

#[tokio::test]
async fn generator_emits_several_outputs_per_input() {
    let doc = json!({"version": "v1", "nodes": [{"id": "twice", "node_type": "Twice"}, {"id": "n", "node_type": "Add", "params": {"addend": 0}}]});
    let (out, _) = run(&doc, Some(ints(0..3))).await.unwrap();
    assert_eq!(
        from(&out, "n"),
        ints(0..3)
            .into_iter()
            .flat_map(|v| [v.clone(), v])
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn source_pipeline_runs_without_input() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"start": 1, "stop": 10001}},
        {"id": "sq", "node_type": "Multiply", "params": {"factor": 2}},
        {"id": "count", "node_type": "Count"}]});
    let (out, _) = run(&doc, None).await.unwrap();
    assert_eq!(
        out,
        vec![("count".to_owned(), Value::Int(10000))],
        "finish() output comes last"
    );
}

#[tokio::test]
async fn inputs_reach_every_root_transform_and_sources_ignore_them() {
    let doc = json!({"version": "v1", "connections": [], "nodes": [
        {"id": "a", "node_type": "PassThrough"},
        {"id": "b", "node_type": "Add", "params": {"addend": 1}},
        {"id": "r", "node_type": "Range", "params": {"stop": 2}}]});
    let (out, _) = run(&doc, Some(ints(5..8))).await.unwrap();
    assert_eq!(from(&out, "a"), ints(5..8));
    assert_eq!(from(&out, "b"), ints(6..9));
    assert_eq!(from(&out, "r"), ints(0..2));
}

#[tokio::test]
async fn root_transform_without_inputs_receives_an_empty_stream() {
    let doc = json!({"version": "v1", "nodes": [{"id": "c", "node_type": "Count"}]});
    let (out, _) = run(&doc, None).await.unwrap();
    assert_eq!(out, vec![("c".to_owned(), Value::Int(0))]);
}
