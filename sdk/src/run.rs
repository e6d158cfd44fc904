//! Running pipelines from Python: manifest (JSON text or dict) and input items in, output
//! items out, the interpreter lock released while the host works.

use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use remotemedia_host::manifest::Isolation;
use remotemedia_host::node::NodeType;
use remotemedia_host::pipeline::SHORT_RUN_ITEMS;
use remotemedia_host::python::{PythonChoice, registry_for, registry_in};
use remotemedia_host::{HostError, Pipeline, Registry, Value, run_collect};
use remotemedia_vm_sandbox::cpython::convert::{from_py, to_py};
use remotemedia_vm_sandbox::cpython::live_node;
use remotemedia_vm_sandbox::{Interpreter, InterpreterKind, LiveNode, NodeTypeInfo};
use tokio_util::sync::CancellationToken;

use crate::errors::{internal, to_pyerr};
use crate::worker::{WorkerHandle, choice};

/// The runtime every call shares: made once, on first use.
pub fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("remotemedia-worker")
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| internal(format!("cannot start the async runtime: {e}")))
}

thread_local! {
    /// The calling thread's own runtime, for small runs.
    static LOCAL: std::io::Result<tokio::runtime::Runtime> =
        tokio::runtime::Builder::new_current_thread().enable_all().build();
}

/// Cancels a running `_execute` from another thread (asyncio's cancellation of `run()`).
#[pyclass(module = "remotemedia_runtime._native", frozen)]
pub struct CancelHandle(CancellationToken);

#[pymethods]
impl CancelHandle {
    #[new]
    fn new() -> Self {
        CancelHandle(CancellationToken::new())
    }

    /// Stops the run: every node stops and is cleaned up; the call raises `PipelineCancelled`.
    fn cancel(&self) {
        self.0.cancel();
    }
}

/// Runs a manifest (JSON text or dict) without input items and returns the outputs.
#[pyfunction]
pub fn execute_pipeline(py: Python<'_>, manifest: &Bound<'_, PyAny>) -> PyResult<Py<PyList>> {
    execute(py, manifest, None, Execute::default()).map(|out| out.unwrap_or_else(|| empty(py)))
}

/// Runs a manifest (JSON text or dict) on `inputs` and returns the outputs.
#[pyfunction]
pub fn execute_pipeline_with_input(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    inputs: &Bound<'_, PyAny>,
) -> PyResult<Py<PyList>> {
    execute(py, manifest, Some(inputs), Execute::default())
        .map(|out| out.unwrap_or_else(|| empty(py)))
}

/// An empty list (what a full run never returns as `None`).
fn empty(py: Python<'_>) -> Py<PyList> {
    PyList::empty(py).unbind()
}

/// What `Pipeline.run()` calls: `live_nodes` maps node ids to the caller's own node objects,
/// used instead of constructing those nodes; `cancel` can stop the run from another thread.
/// With `only_if_short`, the host decides: a run certain to be short (see
/// `Pipeline::is_short_run`) runs here, on the calling thread, and anything else returns
/// `None` at once without running, for the caller to run it on a worker thread.
#[pyfunction]
#[pyo3(signature = (manifest, inputs=None, live_nodes=None, cancel=None, only_if_short=false, worker=None))]
pub fn _execute(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    inputs: Option<&Bound<'_, PyAny>>,
    live_nodes: Option<&Bound<'_, PyDict>>,
    cancel: Option<&Bound<'_, CancelHandle>>,
    only_if_short: bool,
    worker: Option<&Bound<'_, WorkerHandle>>,
) -> PyResult<Option<Py<PyList>>> {
    let token = cancel.map(|c| c.get().0.clone());
    let run = Execute {
        live_nodes,
        cancel: token,
        only_if_short,
        worker: worker.map(Bound::get),
    };
    execute(py, manifest, inputs, run)
}

/// How `execute` runs: the caller's live nodes, its cancel, whether only a short run may run
/// here, the pipeline's kept worker.
#[derive(Default)]
struct Execute<'a, 'py> {
    live_nodes: Option<&'a Bound<'py, PyDict>>,
    cancel: Option<CancellationToken>,
    only_if_short: bool,
    worker: Option<&'a WorkerHandle>,
}

/// Stops the interpreter thread the runs use, if one runs (the SDK calls this at exit).
#[pyfunction]
pub fn shutdown(py: Python<'_>) {
    py.detach(Interpreter::stop_all);
}

/// The host's built-in node types, as `remotemedia-host nodes --json` lists them: the SDK's
/// one source for their names, parameters and roles.
#[pyfunction]
pub fn node_types(py: Python<'_>) -> PyResult<Py<PyList>> {
    let list = PyList::empty(py);
    for node_type in Registry::builtin().iter() {
        let entry = remotemedia_host::Value::from_json_value(&node_type.to_json())
            .map_err(|e| internal(e.to_string()))?;
        list.append(to_py(py, &entry)?)?;
    }
    Ok(list.unbind())
}

/// Validates a manifest (JSON text or dict) as the host would run it, plugin types included;
/// raises `ManifestError` with every problem.
#[pyfunction]
pub fn validate(py: Python<'_>, manifest: &Bound<'_, PyAny>) -> PyResult<()> {
    let doc = document(py, manifest)?;
    let choice = PythonChoice {
        isolation: Some(Isolation::InProcess),
        ..choice(py)?
    };
    py.detach(|| build(&doc, LiveNodes::default(), &choice, None).map(drop))
        .map_err(|e| to_pyerr(py, &e))
}

fn execute(
    py: Python<'_>,
    manifest: &Bound<'_, PyAny>,
    inputs: Option<&Bound<'_, PyAny>>,
    run: Execute<'_, '_>,
) -> PyResult<Option<Py<PyList>>> {
    let Execute {
        live_nodes,
        cancel,
        only_if_short,
        worker,
    } = run;
    if only_if_short {
        // Certainly not short: live nodes (Python), no inputs (sources), many inputs.
        let few = inputs
            .and_then(|i| i.len().ok())
            .is_some_and(|n| n <= SHORT_RUN_ITEMS);
        if !few || live_nodes.is_some_and(|l| !l.is_empty()) {
            return Ok(None);
        }
    }
    let doc = document(py, manifest)?;
    let inputs = match inputs {
        Some(obj) => Some(
            obj.try_iter()?
                .map(|item| {
                    from_py(&item?)
                        .map_err(|e| to_pyerr(py, &HostError::Usage(format!("input item: {e}"))))
                })
                .collect::<PyResult<Vec<Value>>>()?,
        ),
        None => None,
    };
    let live = live_node_map(py, &doc, live_nodes)?;
    let choice = choice(py)?;
    let cancel = cancel.unwrap_or_default();
    let runtime = runtime()?;
    let outcome = py.detach(|| {
        let pipeline = if only_if_short {
            // Against the built-in types only: a manifest they cannot resolve needs Python.
            match Pipeline::from_document(&doc, "<manifest>", &Registry::builtin()) {
                Ok(p) if p.is_short_run(inputs.as_ref().map(Vec::len)) => p,
                _ => return Ok(None),
            }
        } else {
            build(&doc, live, &choice, worker)?
        };
        // A short run of Rust nodes stays on this thread: waking the shared runtime's workers
        // would cost more than the run (5 items through 3 nodes: 126 us against ~40 us).
        // Asked above already when only a short run may run here.
        let small = only_if_short || pipeline.is_short_run(inputs.as_ref().map(Vec::len));
        let work = watch_signals(run_collect(pipeline, inputs, cancel.clone()), &cancel);
        let collected = if small {
            LOCAL.with(|local| match local {
                Ok(local) => local.block_on(work),
                Err(e) => Err(HostError::Runtime(format!("cannot start a runtime: {e}"))),
            })
        } else {
            runtime.block_on(work)
        };
        collected.map(Some)
    });
    match outcome {
        Ok(None) => Ok(None),
        Ok(Some((outputs, _report))) => {
            let list = PyList::empty(py);
            for (_, item) in &outputs {
                list.append(to_py(py, item)?)?;
            }
            Ok(Some(list.unbind()))
        }
        Err(error) => {
            // A Ctrl-C that cancelled the run is raised as itself.
            py.check_signals()?;
            Err(to_pyerr(py, &error))
        }
    }
}

/// Runs `work`, checking every 100 ms for a pending signal (Ctrl-C) while the lock is released;
/// one cancels the run.
async fn watch_signals<T>(work: impl Future<Output = T>, cancel: &CancellationToken) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            result = &mut work => return result,
            _ = tick.tick() => {
                // Only the main thread receives signals; elsewhere this is Ok at once.
                let interrupted = Python::attach(|py| py.check_signals().is_err());
                if interrupted {
                    cancel.cancel();
                }
            }
        }
    }
}

pub fn document(py: Python<'_>, manifest: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let invalid = |message: String| {
        to_pyerr(
            py,
            &HostError::Manifest {
                source_name: "<manifest>".into(),
                problems: vec![remotemedia_host::manifest::Problem::new(
                    remotemedia_host::manifest::Location::root(),
                    message,
                )],
            },
        )
    };
    if let Ok(text) = manifest.cast::<PyString>() {
        return remotemedia_host::manifest::parse_text(
            text.to_str()?,
            remotemedia_host::manifest::Format::Json,
        )
        .map_err(|p| invalid(p.message));
    }
    let value =
        from_py(manifest).map_err(|e| invalid(e.replace("between nodes", "in a manifest")))?;
    serde_json::to_value(&value).map_err(|e| invalid(e.to_string()))
}

/// The caller's own node objects, by node id, with the node type each stands for.
#[derive(Default)]
pub struct LiveNodes {
    nodes: Vec<(String, LiveNode)>,
    types: Vec<(String, NodeType)>,
}

/// The caller's own node objects, described from their classes: a class defined inside a
/// function (`module:f.<locals>.C`) cannot be imported by path, and need not be, since the
/// object exists. Their parameters are not checked (the object is used as it is); whether
/// one is a source is.
pub fn live_node_map(
    py: Python<'_>,
    doc: &serde_json::Value,
    nodes: Option<&Bound<'_, PyDict>>,
) -> PyResult<LiveNodes> {
    let mut live = LiveNodes {
        nodes: Vec::new(),
        types: Vec::new(),
    };
    let Some(nodes) = nodes.filter(|n| !n.is_empty()) else {
        return Ok(live);
    };
    let describe = py
        .import("remotemedia.discovery")?
        .getattr("describe_class")?;
    let listed = doc.get("nodes").and_then(serde_json::Value::as_array);
    for (id, object) in nodes.iter() {
        let id: String = id.extract()?;
        let node_type = listed
            .into_iter()
            .flatten()
            .find(|n| n.get("id").and_then(serde_json::Value::as_str) == Some(&id))
            .and_then(|n| n.get("node_type")?.as_str());
        if let Some(node_type) = node_type {
            let text: String = describe
                .call1((object.get_type(),))
                .and_then(|info| info.call_method0("to_json"))
                .and_then(|json| json.extract())
                .map_err(|e| to_pyerr(py, &HostError::Usage(format!("node \"{id}\": {e}"))))?;
            let info: NodeTypeInfo =
                serde_json::from_str(&text).map_err(|e| internal(e.to_string()))?;
            let mut described = NodeType::python(&info);
            described.params.clear();
            described.extra_params = true;
            live.types.push((node_type.to_owned(), described));
        }
        live.nodes.push((id, live_node(object.unbind())));
    }
    Ok(live)
}

/// Validates and builds a manifest document, starting Python if its nodes need it: in this
/// program's interpreter, or in a worker process when the manifest isolates the pipeline in
/// one (the handle's kept worker, else one for this run alone), with the caller's live nodes in
/// place. Call with the lock released.
pub fn build(
    doc: &serde_json::Value,
    live: LiveNodes,
    choice: &PythonChoice,
    worker: Option<&WorkerHandle>,
) -> Result<Pipeline, HostError> {
    let report = |e: &remotemedia_vm_sandbox::PluginError| {
        tracing::warn!(
            "plugin {} ({}) failed to load: {}",
            e.entry_point,
            e.provider,
            e.error
        );
    };
    let isolated = choice.isolation_of(doc) == Isolation::Process;
    let vm = choice.kind_of(doc) == InterpreterKind::Rustpython;
    if vm && isolated {
        // A RustPython VM runs in this process: its problems are the manifest's, reported
        // before anything starts.
        let problems = remotemedia_host::manifest::runtime_problems(doc);
        if !problems.is_empty() {
            return Err(HostError::Manifest {
                source_name: "<manifest>".into(),
                problems,
            });
        }
    }
    if let Some((id, _)) = live.nodes.first() {
        let into = if isolated {
            Some("a worker process (runtime.isolation \"process\")")
        } else if vm {
            Some("a RustPython VM (runtime.python \"rustpython\")")
        } else {
            None
        };
        if let Some(into) = into {
            return Err(HostError::Usage(format!(
                "node \"{id}\" is an object of this program, which cannot run in {into}: define its class in an importable module"
            )));
        }
    }
    let (registry, interpreter) = match worker {
        Some(handle) if isolated || vm => {
            // A sandbox with problems is reported before a worker starts for it.
            let sandbox = remotemedia_host::python::sandbox_of(doc, "<manifest>")?;
            let kind = choice.kind_of(doc);
            let kept = handle.get(choice, kind, sandbox.as_ref())?;
            let (registry, interpreter) = registry_in(doc, kept, &[], report)?;
            (registry, Some(interpreter))
        }
        _ => registry_for(doc, choice, &live.types, report)?,
    };
    let mut pipeline = Pipeline::from_document(doc, "<manifest>", &registry)?;
    for (id, object) in live.nodes {
        pipeline.set_live_node(&id, object)?;
    }
    if let Some(interpreter) = &interpreter {
        pipeline = pipeline.with_python(interpreter.backend());
    }
    Ok(pipeline)
}
