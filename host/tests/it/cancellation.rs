//! Cancelling a run stops every node and cleans up.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use remotemedia_host::{HostError, Run};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{Lifecycle, pipeline};

#[tokio::test(start_paused = true)]
async fn cancelling_a_running_pipeline_stops_every_node_and_cleans_up() {
    let lifecycle = Arc::new(Lifecycle::default());
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": i64::MAX}},
        {"id": "t", "node_type": "Tracked"},
        {"id": "slow", "node_type": "Slow", "params": {"delay_ms": 10}},
        {"id": "t2", "node_type": "Tracked"}]});
    let cancel = CancellationToken::new();
    let mut run = Run::start(pipeline(&doc, &lifecycle), false, cancel.clone()).unwrap();
    let mut outputs = run.take_outputs().unwrap();
    let first = outputs
        .recv()
        .await
        .unwrap()
        .expect("items flow before the cancel");
    assert_eq!(&*first.0, "t2");
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_mins(1), run.wait())
        .await
        .expect("cancel ends the run");
    assert!(matches!(result, Err(HostError::Cancelled)), "{result:?}");
    assert_eq!(lifecycle.initialized.load(Ordering::SeqCst), 2);
    assert_eq!(lifecycle.cleaned_up.load(Ordering::SeqCst), 2);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn dropping_the_output_receiver_ends_the_run_quietly() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "Range", "params": {"stop": i64::MAX}},
        {"id": "p", "node_type": "PassThrough"}]});
    let mut run = Run::start(
        pipeline(&doc, &Arc::default()),
        false,
        CancellationToken::new(),
    )
    .unwrap();
    let mut outputs = run.take_outputs().unwrap();
    assert!(outputs.recv().await.unwrap().is_some());
    drop(outputs);
    let result = tokio::time::timeout(Duration::from_mins(1), run.wait())
        .await
        .expect("no reader ends the run");
    assert!(result.is_ok(), "{result:?}");
}
