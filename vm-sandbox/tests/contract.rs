//! The contract every interpreter backend must pass: discovery and description, every node
//! shape of DESIGN §5 in one stage, errors attributed to their node, retries and timeouts,
//! cleanup after success and after failure, and backpressure both ways. Each test runs on every backend [`backends`]
//! lists; a new backend (RustPython, a worker process) joins by adding itself there.
//!
//! The nodes are the SDK's `remotemedia.testing` classes; Python comes from the repository's
//! `.venv` (made by `make setup`), where the SDK is installed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use remotemedia_vm_sandbox::{
    Backend, Interpreter, InterpreterKind, NodeSpec, PythonEnv, RetryPolicy, SandboxError, Stage,
    Value,
};
use serde_json::{Value as Json, json};

/// Every backend this build has, by name.
fn backends() -> Vec<(&'static str, Arc<dyn Backend>)> {
    vec![
        ("cpython", start(InterpreterKind::Cpython)),
        ("worker", start_worker()),
        ("rustpython", start(InterpreterKind::Rustpython)),
    ]
}

fn venv() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv");
    assert!(
        venv.join("pyvenv.cfg").is_file(),
        "no virtualenv at {}: run `make setup` first",
        venv.display()
    );
    venv
}

/// A worker process: the virtualenv's Python serving with the native module `make setup`
/// installed there (this crate's worker side, built from the same sources).
fn start_worker() -> Arc<dyn Backend> {
    let launch = remotemedia_vm_sandbox::worker::Launch {
        program: venv().join("bin/python"),
        args: vec!["-m".into(), "remotemedia_runtime._worker".into()],
        env: Vec::new(),
        sandbox: None,
    };
    Interpreter::start_worker(&launch)
        .unwrap_or_else(|e| panic!("{e}"))
        .backend()
}

fn start(kind: InterpreterKind) -> Arc<dyn Backend> {
    let venv = venv();
    let env =
        PythonEnv::select(Some(&venv), kind.python_version()).unwrap_or_else(|e| panic!("{e}"));
    Interpreter::start(kind, &env)
        .unwrap_or_else(|e| panic!("{e}"))
        .backend()
}

fn spec(id: &str, class: &str, params: &Json) -> NodeSpec {
    NodeSpec {
        id: id.to_owned(),
        module: "remotemedia.testing".to_owned(),
        qualname: class.to_owned(),
        params: params.as_object().cloned().unwrap_or_default(),
        live: None,
        retry: None,
        timeout_ms: None,
    }
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().copied().map(Value::Int).collect()
}

/// Feeds `inputs` (one push per item) and closes, while pulling every output to the end.
async fn run_stage(stage: &Stage, inputs: Vec<Value>) -> Result<Vec<Value>, SandboxError> {
    let feed = async {
        for item in inputs {
            if !stage.push_now(vec![item]).await? {
                break;
            }
        }
        stage.close().await
    };
    let drain = async {
        let mut out = Vec::new();
        while let Some(items) = stage.pull().await? {
            out.extend(items);
        }
        Ok(out)
    };
    let (input_closed, outputs) = tokio::join!(feed, drain);
    input_closed.and(outputs)
}

/// Creates, initializes and runs a stage of `nodes`, then cleans it up whatever happened.
async fn through(
    backend: &Arc<dyn Backend>,
    nodes: Vec<NodeSpec>,
    inputs: Vec<Value>,
) -> Result<Vec<Value>, SandboxError> {
    let stage = Stage::create(Arc::clone(backend), nodes, 16).await?;
    let result = match stage.initialize().await {
        Ok(()) => run_stage(&stage, inputs).await,
        Err(e) => Err(e),
    };
    stage.cleanup().await?;
    result
}

fn raised(result: Result<Vec<Value>, SandboxError>) -> remotemedia_vm_sandbox::PyFailure {
    match result {
        Err(SandboxError::Raised(failure)) => failure,
        other => panic!("expected a Python exception, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_lists_the_sdk_types_with_their_metadata() {
    for (name, backend) in backends() {
        let discovery = backend.discover().await.unwrap();
        let range = discovery
            .types
            .iter()
            .find(|t| t.node_type == "Range" && t.provider.as_deref() == Some("remotemedia"))
            .unwrap_or_else(|| panic!("{name}: no Range in {discovery:?}"));
        assert!(range.source, "{name}");
        let names: Vec<&str> = range.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["stop", "start", "step"], "{name}");
        assert_eq!(discovery.plugins[0], "remotemedia", "{name}");
    }
}

#[tokio::test]
async fn describe_gives_params_and_refuses_what_is_not_a_node() {
    for (name, backend) in backends() {
        let repeat = backend
            .describe("remotemedia.testing", "Repeat")
            .await
            .unwrap();
        assert_eq!(repeat.params[0].name, "times", "{name}");
        assert_eq!(repeat.params[0].default, Some(json!(2)), "{name}");
        let count = backend
            .describe("remotemedia.testing", "Count")
            .await
            .unwrap();
        assert!(count.source, "{name}");
        let not_node = backend.describe("os", "makedirs").await.unwrap_err();
        assert!(
            matches!(&not_node, SandboxError::Raised(f) if f.error_type == "TypeError"
                && f.message.contains("is not a remotemedia.Node subclass")),
            "{name}: {not_node:?}"
        );
        let missing = backend.describe("no_such_module_x", "X").await.unwrap_err();
        assert!(
            matches!(&missing, SandboxError::Raised(f) if f.error_type == "ModuleNotFoundError"),
            "{name}: {missing:?}"
        );
    }
}

#[tokio::test]
async fn every_node_shape_runs_in_one_stage_in_order() {
    for (name, backend) in backends() {
        let nodes = vec![
            spec("drop", "DropOdd", &json!({})),
            spec("double", "Double", &json!({})),
            spec("repeat", "Repeat", &json!({"times": 2})),
            spec("add", "AsyncAdd", &json!({"addend": 1})),
            spec("sum", "RunningSum", &json!({})),
        ];
        let out = through(&backend, nodes, ints(&[1, 2, 3, 4])).await.unwrap();
        // 2 and 4 pass; doubled 4, 8; repeated 4, 4, 8, 8; plus one 5, 5, 9, 9; summed.
        assert_eq!(out, ints(&[5, 10, 19, 28]), "{name}");
    }
}

#[tokio::test]
async fn a_source_stage_emits_on_an_empty_input() {
    for (name, backend) in backends() {
        let nodes = vec![
            spec("count", "Count", &json!({"n": 4})),
            spec("double", "Double", &json!({})),
        ];
        let out = through(&backend, nodes, Vec::new()).await.unwrap();
        assert_eq!(out, ints(&[0, 2, 4, 6]), "{name}");
    }
}

#[tokio::test]
async fn a_raising_node_is_named_with_type_message_and_traceback() {
    for (name, backend) in backends() {
        let nodes = vec![
            spec("double", "Double", &json!({})),
            spec("fail", "FailOn", &json!({"value": 4})),
        ];
        let failure = raised(through(&backend, nodes, ints(&[1, 2, 3])).await);
        assert_eq!(failure.node_id.as_deref(), Some("fail"), "{name}");
        assert_eq!(failure.error_type, "ValueError", "{name}");
        assert_eq!(failure.message, "failing on 4, as asked", "{name}");
        assert!(
            failure.traceback.contains("failing on"),
            "{name}: {failure:?}"
        );
    }
}

#[tokio::test]
async fn constructor_and_initialize_errors_name_their_node() {
    for (name, backend) in backends() {
        for (where_, stage_of_failure) in [("construct", "create"), ("initialize", "initialize")] {
            let nodes = vec![
                spec("ok", "Double", &json!({})),
                spec("bad", "FailOn", &json!({"where": where_})),
            ];
            let failure = raised(through(&backend, nodes, ints(&[1])).await);
            assert_eq!(
                failure.node_id.as_deref(),
                Some("bad"),
                "{name} {stage_of_failure}"
            );
            assert_eq!(
                failure.error_type, "ValueError",
                "{name} {stage_of_failure}"
            );
        }
    }
}

#[tokio::test]
async fn retry_and_timeout_govern_each_items_call() {
    let retry = |max_attempts| {
        Some(RetryPolicy {
            max_attempts,
            backoff_ms: 1,
        })
    };
    for (name, backend) in backends() {
        // Fails twice per item: the third attempt succeeds, and order is kept.
        let flaky = || spec("flaky", "Flaky", &json!({"failures": 2}));
        let nodes = vec![NodeSpec {
            retry: retry(3),
            ..flaky()
        }];
        let out = through(&backend, nodes, ints(&[1, 2, 3])).await.unwrap();
        assert_eq!(out, ints(&[13, 23, 33]), "{name}");
        let nodes = vec![NodeSpec {
            retry: retry(2),
            ..flaky()
        }];
        let failure = raised(through(&backend, nodes, ints(&[1])).await);
        assert_eq!(
            failure.message, "item 1 failed on attempt 2, as asked (after 2 attempts)",
            "{name}"
        );
        // A busy pure-Python loop past its timeout is interrupted; a backend that cannot
        // interrupt node code refuses the timeout before any node is constructed.
        let started = journal_path(&format!("{name}-timeout"));
        let never = started.with_extension("never");
        let spin = spec("spin", "Spin", &json!({"started": started, "until": never}));
        let nodes = vec![NodeSpec {
            timeout_ms: Some(100),
            ..spin
        }];
        let failure = raised(through(&backend, nodes, ints(&[1])).await);
        assert_eq!(failure.node_id.as_deref(), Some("spin"), "{name}");
        if backend.capabilities().interrupts {
            assert_eq!(failure.error_type, "TimeoutError", "{name}");
            assert_eq!(
                failure.message, "process() did not finish within timeout_ms=100",
                "{name}"
            );
        } else {
            assert!(
                failure.message.starts_with("timeout_ms is not supported"),
                "{name}: {failure:?}"
            );
            assert!(!started.exists(), "{name}: the node ran");
        }
    }
}

#[tokio::test]
async fn cleanup_runs_after_success_and_after_failure() {
    for (name, backend) in backends() {
        for (inputs, fails) in [(vec![1, 2], false), (vec![1, 7, 2], true)] {
            let journal = journal_path(&format!("{name}-{fails}"));
            let nodes = vec![
                spec("journal", "Journal", &json!({"path": journal})),
                spec("fail", "FailOn", &json!({"value": 7})),
            ];
            let result = through(&backend, nodes, ints(&inputs)).await;
            assert_eq!(result.is_err(), fails, "{name}: {result:?}");
            let text = std::fs::read_to_string(&journal).unwrap();
            assert_eq!(
                text, "journal initialize\njournal cleanup\n",
                "{name}, failing: {fails}"
            );
        }
    }
}

fn journal_path(tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "remotemedia-contract-{}-{tag}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test]
async fn cleanup_reports_each_nodes_counts() {
    for (name, backend) in backends() {
        let nodes = vec![
            spec("drop", "DropOdd", &json!({})),
            spec("repeat", "Repeat", &json!({"times": 3})),
        ];
        let stage = Stage::create(Arc::clone(&backend), nodes, 16)
            .await
            .unwrap();
        stage.initialize().await.unwrap();
        let out = run_stage(&stage, ints(&[1, 2, 3, 4])).await.unwrap();
        assert_eq!(out.len(), 6, "{name}");
        let counts = stage.cleanup().await.unwrap();
        let pairs: Vec<(u64, u64)> = counts.iter().map(|c| (c.seen, c.made)).collect();
        assert_eq!(pairs, [(4, 2), (2, 6)], "{name}");
    }
}

/// A margin for "still waiting": long against an answer that is due, never a speed bound.
const STILL_WAITING: Duration = Duration::from_millis(300);

#[tokio::test]
async fn a_full_stage_holds_its_pushes_until_outputs_are_pulled() {
    for (name, backend) in backends() {
        let limit = 2;
        let nodes = vec![spec("double", "Double", &json!({}))];
        let stage = Stage::create(Arc::clone(&backend), nodes, limit)
            .await
            .unwrap();
        stage.initialize().await.unwrap();
        // Nobody pulls: once `limit` outputs wait, pushes are no longer answered, which is
        // what stops a feeder.
        let mut answers: Vec<_> = (0..6)
            .map(|i| Box::pin(stage.push_now(ints(&[i]))))
            .collect();
        assert!((&mut answers[0]).await.unwrap(), "{name}");
        let waited = tokio::time::timeout(STILL_WAITING, &mut answers[5]).await;
        assert!(
            waited.is_err(),
            "{name}: a push into a full stage was answered at once"
        );
        // Pulling makes room: the waiting pushes are answered, every item comes out in order.
        let mut out = Vec::new();
        while out.len() < 6 {
            out.extend(stage.pull().await.unwrap().unwrap());
        }
        for answer in answers.drain(1..) {
            assert!(answer.await.unwrap(), "{name}");
        }
        assert_eq!(out, ints(&[0, 2, 4, 6, 8, 10]), "{name}");
        stage.cleanup().await.unwrap();
    }
}

#[tokio::test]
async fn an_endless_source_is_resumed_only_while_outputs_are_pulled() {
    for (name, backend) in backends() {
        let limit = 4;
        let nodes = vec![spec("n", "Naturals", &json!({}))];
        let stage = Stage::create(Arc::clone(&backend), nodes, limit)
            .await
            .unwrap();
        stage.initialize().await.unwrap();
        stage.close().await.unwrap();
        let mut pulled = 0;
        for _ in 0..3 {
            pulled += stage.pull().await.unwrap().unwrap().len();
        }
        tokio::time::sleep(STILL_WAITING).await;
        let counts = stage.cleanup().await.unwrap();
        let made = usize::try_from(counts[0].made).unwrap();
        assert!(
            made <= pulled + 2 * limit,
            "{name}: the source made {made} items while {pulled} were pulled (limit {limit})"
        );
    }
}

/// A node object the caller made runs as it is, on a backend that can take one.
#[cfg(feature = "cpython")]
#[tokio::test]
async fn a_callers_live_node_runs_where_the_backend_takes_one() {
    use pyo3::prelude::*;
    for (name, backend) in backends() {
        if !backend.capabilities().live_nodes {
            continue;
        }
        let object = Python::attach(|py| -> PyResult<Py<PyAny>> {
            let class = py.import("remotemedia.testing")?.getattr("Repeat")?;
            let kwargs = pyo3::types::PyDict::new(py);
            kwargs.set_item("times", 3)?;
            kwargs.set_item("name", "mine")?;
            Ok(class.call((), Some(&kwargs))?.unbind())
        })
        .unwrap();
        let mut node = spec("mine", "Repeat", &json!({"times": 1}));
        node.live = Some(remotemedia_vm_sandbox::cpython::live_node(object));
        let out = through(&backend, vec![node], ints(&[5])).await.unwrap();
        // The caller's instance (times=3) ran, not a new one from the params (times=1).
        assert_eq!(out, ints(&[5, 5, 5]), "{name}");
    }
}

#[tokio::test]
async fn an_endless_generator_node_is_resumed_only_while_outputs_are_pulled() {
    for (name, backend) in backends() {
        let limit = 4;
        let nodes = vec![
            spec("endless", "Endless", &json!({})),
            spec("double", "Double", &json!({})),
        ];
        let stage = Stage::create(Arc::clone(&backend), nodes, limit)
            .await
            .unwrap();
        stage.initialize().await.unwrap();
        let pushed = stage.push_now(ints(&[10]));
        let mut out = Vec::new();
        for _ in 0..3 {
            let items = stage.pull().await.unwrap().unwrap();
            assert!(
                items.len() <= limit,
                "{name}: {} items in one answer",
                items.len()
            );
            out.extend(items);
        }
        // The first outputs travelled while the generator was still running, in order.
        let expected: Vec<Value> = (0..i64::try_from(out.len()).unwrap())
            .map(|k| Value::Int(2 * (10 + k)))
            .collect();
        assert_eq!(out, expected, "{name}");
        tokio::time::sleep(STILL_WAITING).await;
        let counts = stage.cleanup().await.unwrap();
        let made = usize::try_from(counts[0].made).unwrap();
        assert!(
            made <= out.len() + 2 * limit,
            "{name}: the generator made {made} items while {} were pulled (limit {limit})",
            out.len()
        );
        drop(pushed);
    }
}

#[tokio::test]
async fn a_pull_answer_never_holds_more_than_the_limit() {
    for (name, backend) in backends() {
        let limit = 3;
        let nodes = vec![spec("repeat", "Repeat", &json!({"times": 5}))];
        let stage = Stage::create(Arc::clone(&backend), nodes, limit)
            .await
            .unwrap();
        stage.initialize().await.unwrap();
        let input: Vec<i64> = (0..20).collect();
        let feed = async {
            assert!(stage.push_now(ints(&input)).await.unwrap());
            stage.close().await.unwrap();
        };
        let drain = async {
            let mut total = 0;
            while let Some(items) = stage.pull().await.unwrap() {
                assert!(
                    items.len() <= limit,
                    "{name}: {} items in one answer",
                    items.len()
                );
                total += items.len();
            }
            total
        };
        let ((), total) = tokio::join!(feed, drain);
        assert_eq!(total, 100, "{name}");
        stage.cleanup().await.unwrap();
    }
}

/// When a `Nap` node slept, as `(start, end)` in its own clock, from its one output.
fn slept(outputs: &[Value]) -> (f64, f64) {
    let [output] = outputs else {
        panic!("one output expected, got {outputs:?}");
    };
    let output = serde_json::to_value(output).expect("an item is JSON");
    let at = |key: &str| output[key].as_f64().unwrap_or_else(|| panic!("{output}"));
    (at("start"), at("end"))
}

/// Python work is not serialized on one thread (DESIGN §7): stages whose nodes release the
/// interpreter lock (`time.sleep`) run at the same time. The evidence is the nodes' own
/// record of when they slept, never the test's clock.
#[tokio::test]
async fn stages_whose_nodes_sleep_overlap_in_time() {
    for (name, backend) in backends() {
        let mut stages = Vec::new();
        for id in ["a", "b"] {
            let nodes = vec![spec(id, "Nap", &json!({"seconds": 0.5}))];
            let stage = Stage::create(Arc::clone(&backend), nodes, 4).await.unwrap();
            stage.initialize().await.unwrap();
            stages.push(stage);
        }
        let (a, b) = tokio::join!(
            run_stage(&stages[0], ints(&[1])),
            run_stage(&stages[1], ints(&[2]))
        );
        for stage in &stages {
            stage.cleanup().await.unwrap();
        }
        let (a, b) = (slept(&a.unwrap()), slept(&b.unwrap()));
        // Each started before the other ended.
        assert!(
            b.0 < a.1 && a.0 < b.1,
            "{name}: a slept over {a:?}, b over {b:?}"
        );
    }
}

/// Waits until `path` exists; a guard against a hang, never a speed bound.
/// An empty directory of this test process's own, named by `tag`.
fn scratch_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("remotemedia-contract-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

async fn wait_for_file(path: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `interrupt` stops the busy code of its stage only: another stage, busy on its own at the
/// same moment, runs on to its normal end.
#[tokio::test]
async fn interrupting_a_busy_stage_leaves_another_busy_stage_alone() {
    // RustPython cannot interrupt running code: what it does instead (a cancelled run leaves
    // the busy stage behind) is the executor's, tested with the host.
    for (name, backend) in backends()
        .into_iter()
        .filter(|(_, b)| b.capabilities().interrupts)
    {
        let dir = scratch_dir(&format!("spin-{name}"));
        let file = |f: &str| dir.join(f).display().to_string();
        let spin = |id: &str, until: &str| {
            let params = json!({"started": file(&format!("{id}-started")), "until": file(until)});
            vec![spec(id, "Spin", &params)]
        };
        let a = Stage::create(Arc::clone(&backend), spin("a", "never"), 4)
            .await
            .unwrap();
        let b = Stage::create(Arc::clone(&backend), spin("b", "b-release"), 4)
            .await
            .unwrap();
        a.initialize().await.unwrap();
        b.initialize().await.unwrap();
        let a_pushed = a.push_now(ints(&[1]));
        let b_pushed = b.push_now(ints(&[2]));
        // Both are busy at once.
        wait_for_file(&dir.join("a-started")).await;
        wait_for_file(&dir.join("b-started")).await;
        // As the executor does for a cancelled stage: interrupt until the cleanup answers.
        let cleanup = a.cleanup();
        tokio::pin!(cleanup);
        let counts = loop {
            a.interrupt();
            tokio::select! {
                counts = &mut cleanup => break counts.unwrap(),
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        };
        assert_eq!((counts[0].seen, counts[0].made), (1, 0), "{name}");
        assert!(
            !matches!(a_pushed.await, Ok(true)),
            "{name}: the interrupted stage took more input"
        );
        // `b` is still busy; released now, it ends normally: it was never interrupted.
        std::fs::write(dir.join("b-release"), "").unwrap();
        assert!(b_pushed.await.unwrap(), "{name}");
        b.close().await.unwrap();
        let mut out = Vec::new();
        while let Some(items) = b.pull().await.unwrap() {
            out.extend(items);
        }
        assert_eq!(out, ints(&[2]), "{name}");
        b.cleanup().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Requests taken in one batch with the cleanup belong to a stream the host abandoned (a
/// cancel, another branch's failure): their node code does not run. Were it to, nothing could
/// stop it, as no request would wait untaken to show the host that the thread is busy (a
/// retry's minute-long backoff held a failed run that long). In-process only: there the
/// requests are posted when they are made, so both surely wait when the first item ends; a
/// worker posts them from its own threads as they arrive, so the test could not know that
/// they wait together (the worker runs the same driver).
#[tokio::test]
async fn a_push_taken_with_the_cleanup_does_not_run() {
    for (name, backend) in [("cpython", start(InterpreterKind::Cpython))] {
        let dir = scratch_dir(&format!("batch-{name}"));
        let file = |f: &str| dir.join(f).display().to_string();
        let params = json!({"started": file("started"), "until": file("release")});
        let stage = Stage::create(Arc::clone(&backend), vec![spec("s", "Spin", &params)], 4)
            .await
            .unwrap();
        stage.initialize().await.unwrap();
        let first = stage.push_now(ints(&[1]));
        wait_for_file(&dir.join("started")).await;
        // The thread is busy with the first item: these two wait, and are taken together.
        let second = stage.push_now(ints(&[2]));
        let cleanup = stage.cleanup();
        std::fs::write(dir.join("release"), "").unwrap();
        let counts = cleanup.await.unwrap();
        assert_eq!(counts[0].seen, 1, "{name}: the abandoned push ran");
        assert!(first.await.unwrap(), "{name}");
        assert!(!matches!(second.await, Ok(true)), "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
