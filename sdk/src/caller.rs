//! The live path of `Pipeline.process()`: a chain of Rust and Python nodes driven by the
//! caller, item by item, on the caller's own thread (DESIGN §7).
//!
//! The thread-and-queue path (`session`) crosses three threads and the interpreter lock twice
//! per item; for one 20 ms frame in flight that is hundreds of microseconds of hand-offs
//! around microseconds of node work. When the pipeline is one chain of synchronous Rust
//! nodes and Python nodes (`Pipeline::into_caller_chain`), the SDK instead calls each Python
//! node itself, where it already holds the lock, and each run of consecutive Rust nodes
//! through one [`RustNodes`] call: an item that is ready goes through the whole chain at once,
//! and nothing waits for a batch.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use remotemedia_host::pipeline::CallerStep;
use remotemedia_host::{HostError, NodeError, Value};
use remotemedia_vm_sandbox::cpython::convert::{from_py, list_to_py, params_to_py};
use remotemedia_vm_sandbox::cpython::live_object;

use crate::errors::to_pyerr;
use crate::run::{build, document, live_node_map};

/// Consecutive synchronous Rust nodes of a caller-driven chain.
#[pyclass(module = "remotemedia_runtime._native", frozen)]
pub struct RustNodes {
    nodes: Mutex<Vec<RustStep>>,
}

struct RustStep {
    id: String,
    node_type: String,
    node: Box<dyn remotemedia_host::node::Node>,
    initialized: bool,
}

impl RustStep {
    fn fail(&self, error: NodeError) -> HostError {
        HostError::Node(remotemedia_host::error::NodeFailure {
            node_id: self.id.clone(),
            node_type: self.node_type.clone(),
            error,
        })
    }
}

impl RustNodes {
    fn lock(&self) -> MutexGuard<'_, Vec<RustStep>> {
        // A node that panicked has failed the run already; its state is not read again.
        self.nodes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `items` through the nodes, then the outputs to Python.
    fn through<'py>(
        py: Python<'py>,
        steps: &mut [RustStep],
        mut items: Vec<Value>,
    ) -> PyResult<Bound<'py, PyList>> {
        for step in steps {
            if items.is_empty() {
                break;
            }
            step.node
                .process(&mut items)
                .map_err(|e| to_pyerr(py, &step.fail(e)))?;
        }
        list_to_py(py, &items)
    }
}

#[pymethods]
impl RustNodes {
    /// The nodes' ids, in chain order.
    fn ids(&self) -> Vec<String> {
        self.lock().iter().map(|s| s.id.clone()).collect()
    }

    /// Runs every node's `initialize()`, in order.
    fn initialize(&self, py: Python<'_>) -> PyResult<()> {
        for step in self.lock().iter_mut() {
            step.node
                .initialize()
                .map_err(|e| to_pyerr(py, &step.fail(e)))?;
            step.initialized = true;
        }
        Ok(())
    }

    /// The outputs of `items` through every node. An item that cannot be an item is a
    /// `TypeError` (the caller names the node that made it).
    fn process<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyList>> {
        let values = items
            .iter()
            .map(|item| from_py(&item).map_err(PyTypeError::new_err))
            .collect::<PyResult<Vec<Value>>>()?;
        Self::through(py, &mut self.lock(), values)
    }

    /// The end of the input: each node's trailing outputs, through the nodes after it.
    fn finish<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut carried: Vec<Value> = Vec::new();
        for step in self.lock().iter_mut() {
            if !carried.is_empty() {
                step.node
                    .process(&mut carried)
                    .map_err(|e| to_pyerr(py, &step.fail(e)))?;
            }
            step.node
                .finish(&mut carried)
                .map_err(|e| to_pyerr(py, &step.fail(e)))?;
        }
        list_to_py(py, &carried)
    }

    /// Runs `cleanup()` of every initialized node; safe to call again.
    fn cleanup(&self) {
        for step in self.lock().iter_mut() {
            if std::mem::take(&mut step.initialized) {
                step.node.cleanup();
            }
        }
    }
}

/// `(module, qualname, params)` for the caller to construct a Python node: parameters in
/// their item form (a `{"$bytes": ...}` parameter arrives as `bytes`).
fn constructor_args<'py>(
    py: Python<'py>,
    id: &str,
    node: &remotemedia_host::node::python::PythonNode,
) -> PyResult<Bound<'py, PyAny>> {
    let params = params_to_py(py, &node.params).map_err(|e| {
        to_pyerr(
            py,
            &HostError::Usage(format!("node \"{id}\": {}", e.value(py))),
        )
    })?;
    Ok(PyTuple::new(
        py,
        [
            node.module.as_str().into_pyobject(py)?.into_any(),
            node.qualname.as_str().into_pyobject(py)?.into_any(),
            params.into_any(),
        ],
    )?
    .into_any())
}

/// The steps of `manifest` for its caller to drive, or `None` when its shape needs the
/// thread-and-queue path. Each step is `("rust", RustNodes)` or
/// `("python", node_id, node_type, node)`, where `node` is the caller's own object for a live
/// node, else a tuple `(module, qualname, params)` for the caller to construct.
#[pyfunction]
#[pyo3(signature = (manifest, live_nodes=None))]
pub fn _caller_chain<'py>(
    py: Python<'py>,
    manifest: &Bound<'py, PyAny>,
    live_nodes: Option<&Bound<'py, PyDict>>,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let doc = document(py, manifest)?;
    let choice = crate::worker::choice(py)?;
    if choice.isolation_of(&doc) == remotemedia_host::manifest::Isolation::Process {
        return Ok(None); // its Python nodes run in a worker, which the caller cannot drive
    }
    let live = live_node_map(py, &doc, live_nodes)?;
    let pipeline = py
        .detach(|| build(&doc, live, &choice, None))
        .map_err(|e| to_pyerr(py, &e))?;
    let Ok(chain) = pipeline.into_caller_chain() else {
        return Ok(None);
    };
    let steps = PyList::empty(py);
    let mut rust: Vec<RustStep> = Vec::new();
    let flush = |rust: &mut Vec<RustStep>, steps: &Bound<'py, PyList>| -> PyResult<()> {
        if !rust.is_empty() {
            let nodes = RustNodes {
                nodes: Mutex::new(std::mem::take(rust)),
            };
            steps.append(("rust", Bound::new(py, nodes)?))?;
        }
        Ok(())
    };
    for step in chain {
        match step {
            CallerStep::Rust {
                id,
                node_type,
                node,
            } => rust.push(RustStep {
                id,
                node_type,
                node,
                initialized: false,
            }),
            CallerStep::Python {
                id,
                node_type,
                node,
            } => {
                if steps.is_empty() && rust.is_empty() {
                    // A chain that starts in Python still takes its inputs through the host's
                    // conversion: the same items are accepted as on every other path, and
                    // arrays reach the node read-only, over the caller's memory.
                    steps.append((
                        "rust",
                        Bound::new(
                            py,
                            RustNodes {
                                nodes: Mutex::new(Vec::new()),
                            },
                        )?,
                    ))?;
                }
                flush(&mut rust, &steps)?;
                let live = node.live.as_ref().and_then(|l| live_object(py, l));
                let made = if let Some(object) = live {
                    object
                } else {
                    constructor_args(py, &id, &node)?
                };
                steps.append(("python", id, node_type, made))?;
            }
        }
    }
    flush(&mut rust, &steps)?;
    Ok(Some(steps))
}
