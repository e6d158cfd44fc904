//! Test-only node types and helpers shared by the executor tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use remotemedia_host::node::{
    AsyncNode, BoxFuture, Node, NodeImpl, NodeType, ParamKind, ParamSpec, Role, param_i64,
};
use remotemedia_host::{HostError, NodeError, Pipeline, Registry, Value, run_collect};
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

/// Counts lifecycle calls across every `Tracked` node of a run.
#[derive(Default)]
pub struct Lifecycle {
    pub initialized: AtomicUsize,
    pub cleaned_up: AtomicUsize,
    pub finished: AtomicUsize,
}

fn entry(
    name: &str,
    role: Role,
    params: Vec<ParamSpec>,
    factory: remotemedia_host::node::NodeFactory,
) -> NodeType {
    NodeType::rust(name, "tests", "", role, params, factory)
}

fn int_param(name: &'static str) -> ParamSpec {
    ParamSpec::optional(name, ParamKind::Integer, Json::from(1), "")
}

/// The built-in nodes plus the test nodes: `Slow {delay_ms}` (async, sleeps per morsel),
/// `Fail {at}` (fails on its `at`-th item, counting from 1), `KeepEven` (filter), `Twice` (two
/// outputs per input), `Count` (emits how many items it saw when its input ends), and
/// `Tracked {fail_init}` (a pass-through that reports its lifecycle to `lifecycle`).
pub fn registry(lifecycle: &Arc<Lifecycle>) -> Registry {
    let mut r = Registry::builtin();
    let tracked = Arc::clone(lifecycle);
    let types = [
        entry(
            "Slow",
            Role::Transform,
            vec![int_param("delay_ms")],
            Arc::new(|p| {
                let delay =
                    Duration::from_millis(u64::try_from(param_i64(p, "delay_ms", 1)).unwrap_or(1));
                NodeImpl::asynchronous(Slow { delay })
            }),
        ),
        entry(
            "Fail",
            Role::Transform,
            vec![int_param("at")],
            Arc::new(|p| {
                NodeImpl::sync(Fail {
                    left: param_i64(p, "at", 1),
                })
            }),
        ),
        entry(
            "KeepEven",
            Role::Transform,
            vec![],
            Arc::new(|_| NodeImpl::sync(KeepEven)),
        ),
        entry(
            "Twice",
            Role::Transform,
            vec![],
            Arc::new(|_| NodeImpl::sync(Twice)),
        ),
        entry(
            "Count",
            Role::Transform,
            vec![],
            Arc::new(|_| NodeImpl::sync(Count(0))),
        ),
        entry(
            "Tracked",
            Role::Transform,
            vec![ParamSpec::optional(
                "fail_init",
                ParamKind::Bool,
                Json::from(false),
                "",
            )],
            Arc::new(move |p| {
                let fail_init = p.get("fail_init").and_then(Json::as_bool).unwrap_or(false);
                NodeImpl::sync(Tracked {
                    lifecycle: Arc::clone(&tracked),
                    fail_init,
                })
            }),
        ),
    ];
    for t in types {
        r.register(t).unwrap();
    }
    r
}

struct Slow {
    delay: Duration,
}

impl AsyncNode for Slow {
    fn process<'a>(
        &'a mut self,
        _items: &'a mut Vec<Value>,
    ) -> BoxFuture<'a, Result<(), NodeError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Ok(())
        })
    }
}

struct Fail {
    left: i64,
}

impl Node for Fail {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        for i in 0..items.len() {
            self.left -= 1;
            if self.left == 0 {
                let error = NodeError::new("ValueError", format!("refused {}", items[i]));
                items.truncate(i); // the node contract: keep the outputs before the failing item
                return Err(error);
            }
        }
        Ok(())
    }
}

struct KeepEven;

impl Node for KeepEven {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        items.retain(|v| matches!(v, Value::Int(i) if i % 2 == 0));
        Ok(())
    }
}

struct Twice;

impl Node for Twice {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        *items = items.iter().flat_map(|v| [v.clone(), v.clone()]).collect();
        Ok(())
    }
}

struct Count(i64);

impl Node for Count {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        self.0 += i64::try_from(items.len()).unwrap();
        items.clear();
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        out.push(Value::Int(self.0));
        Ok(())
    }
}

struct Tracked {
    lifecycle: Arc<Lifecycle>,
    fail_init: bool,
}

impl Node for Tracked {
    fn initialize(&mut self) -> Result<(), NodeError> {
        if self.fail_init {
            return Err(NodeError::new("RuntimeError", "no device"));
        }
        self.lifecycle.initialized.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn process(&mut self, _items: &mut Vec<Value>) -> Result<(), NodeError> {
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<Value>) -> Result<(), NodeError> {
        self.lifecycle.finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn cleanup(&mut self) {
        self.lifecycle.cleaned_up.fetch_add(1, Ordering::SeqCst);
    }
}

/// Builds a pipeline from a manifest document with the test registry.
pub fn pipeline(doc: &Json, lifecycle: &Arc<Lifecycle>) -> Pipeline {
    Pipeline::from_document(doc, "<test>", &registry(lifecycle))
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.details()))
}

/// Runs `doc` to the end and returns the outputs as `(sink, item)`.
pub async fn run(
    doc: &Json,
    inputs: Option<Vec<Value>>,
) -> Result<(Vec<(String, Value)>, remotemedia_host::RunReport), HostError> {
    let p = pipeline(doc, &Arc::default());
    let (outputs, report) = run_collect(p, inputs, CancellationToken::new()).await?;
    Ok((
        outputs
            .into_iter()
            .map(|(s, v)| (s.to_string(), v))
            .collect(),
        report,
    ))
}

/// The items `sink` emitted, in order.
pub fn from(outputs: &[(String, Value)], sink: &str) -> Vec<Value> {
    outputs
        .iter()
        .filter(|(s, _)| s == sink)
        .map(|(_, v)| v.clone())
        .collect()
}

/// `0..n` as items.
pub fn ints(range: std::ops::Range<i64>) -> Vec<Value> {
    range.map(Value::Int).collect()
}

/// Sorted copy of integer items, for comparisons where order is not defined.
pub fn sorted(items: &[Value]) -> Vec<i64> {
    let mut v: Vec<i64> = items
        .iter()
        .map(|x| {
            if let Value::Int(i) = x {
                *i
            } else {
                panic!("not an int: {x}")
            }
        })
        .collect();
    v.sort_unstable();
    v
}
