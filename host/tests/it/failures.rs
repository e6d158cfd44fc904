//! A failing node stops the whole pipeline promptly, names itself, and every initialized node
//! is cleaned up.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use remotemedia_host::{HostError, run_collect};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{Lifecycle, ints, pipeline, run};

/// A hang guard: generous, never a speed assertion.
const NO_HANG: Duration = Duration::from_mins(1);

fn node_failure(result: Result<impl std::fmt::Debug, HostError>) -> remotemedia_host::NodeFailure {
    match result {
        Err(HostError::Node(f)) => f,
        other => panic!("expected a node failure, got {other:?}"),
    }
}

#[tokio::test]
async fn failing_node_stops_the_run_and_names_itself() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": 1_000_000_000_i64}},
        {"id": "boom", "node_type": "Fail", "params": {"at": 1000}},
        {"id": "sink", "node_type": "PassThrough"}]});
    let result = tokio::time::timeout(NO_HANG, run(&doc, None))
        .await
        .expect("the run must end, not hang");
    let failure = node_failure(result);
    assert_eq!(
        (failure.node_id.as_str(), failure.node_type.as_str()),
        ("boom", "Fail")
    );
    assert_eq!(failure.error.error_type, "ValueError");
    assert_eq!(failure.error.message, "refused 999");
}

#[tokio::test]
async fn failure_in_one_branch_stops_the_other_branches() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": 1_000_000_000_i64}},
        {"id": "boom", "node_type": "Fail", "params": {"at": 50}},
        {"id": "endless", "node_type": "PassThrough"}],
        "connections": [{"from": "src", "to": "boom"}, {"from": "src", "to": "endless"}]});
    let result = tokio::time::timeout(NO_HANG, run(&doc, None))
        .await
        .expect("the run must end, not hang");
    assert_eq!(node_failure(result).node_id, "boom");
}

#[tokio::test]
async fn builtin_node_error_carries_the_python_style_error_type() {
    let doc = json!({"version": "v1", "nodes": [{"id": "m", "node_type": "Multiply", "params": {"factor": 2}}]});
    let failure = node_failure(run(&doc, Some(vec![1.into(), "two".into()])).await);
    assert_eq!(
        failure.to_string(),
        "node \"m\" (Multiply) failed: TypeError: Multiply expects a number, got string \"two\""
    );
}

#[tokio::test]
async fn every_initialized_node_is_cleaned_up_after_a_failure() {
    let lifecycle = Arc::new(Lifecycle::default());
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": 100_000}},
        {"id": "t1", "node_type": "Tracked"},
        {"id": "boom", "node_type": "Fail", "params": {"at": 10}},
        {"id": "t2", "node_type": "Tracked"}],
        "connections": [{"from": "src", "to": "t1"}, {"from": "t1", "to": "boom"}, {"from": "src", "to": "t2"}]});
    let p = pipeline(&doc, &lifecycle);
    let result = tokio::time::timeout(NO_HANG, run_collect(p, None, CancellationToken::new()))
        .await
        .unwrap();
    assert_eq!(node_failure(result).node_id, "boom");
    // t2 may or may not have started before the failure; whatever started was cleaned up.
    let initialized = lifecycle.initialized.load(Ordering::SeqCst);
    assert!(initialized >= 1, "t1 passed items, so it was initialized");
    assert_eq!(lifecycle.cleaned_up.load(Ordering::SeqCst), initialized);
}

#[tokio::test]
async fn failed_initialize_cleans_up_only_what_was_initialized() {
    let lifecycle = Arc::new(Lifecycle::default());
    let doc = json!({"version": "v1", "nodes": [
        {"id": "ok", "node_type": "Tracked"},
        {"id": "broken", "node_type": "Tracked", "params": {"fail_init": true}}]});
    let p = pipeline(&doc, &lifecycle);
    let failure = node_failure(run_collect(p, Some(ints(0..10)), CancellationToken::new()).await);
    assert_eq!(
        (failure.node_id.as_str(), failure.error.message.as_str()),
        ("broken", "no device")
    );
    assert_eq!(lifecycle.initialized.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.cleaned_up.load(Ordering::SeqCst), 1);
    assert_eq!(
        lifecycle.finished.load(Ordering::SeqCst),
        0,
        "finish is for runs that end normally"
    );
}

#[tokio::test]
async fn normal_end_finishes_then_cleans_up_every_node() {
    let lifecycle = Arc::new(Lifecycle::default());
    let doc = json!({"version": "v1", "nodes": [{"id": "a", "node_type": "Tracked"}, {"id": "b", "node_type": "Tracked"}]});
    let (out, _) = run_collect(
        pipeline(&doc, &lifecycle),
        Some(ints(0..5)),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(out.len(), 5);
    for counter in [
        &lifecycle.initialized,
        &lifecycle.finished,
        &lifecycle.cleaned_up,
    ] {
        assert_eq!(counter.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn inputs_for_a_pipeline_of_sources_only_are_a_usage_error() {
    let doc = json!({"version": "v1", "nodes": [{"id": "r", "node_type": "Range", "params": {"stop": 3}}]});
    match run(&doc, Some(ints(0..1))).await {
        Err(HostError::Usage(message)) => {
            assert!(message.contains("no node would receive them"), "{message}");
        }
        other => panic!("expected a usage error, got {other:?}"),
    }
}
