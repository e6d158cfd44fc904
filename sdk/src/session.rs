//! A streaming run: `Pipeline.process(stream)` on the Rust engine. Input items are pushed as
//! they come, outputs pulled as the sinks emit them; every blocking call releases the
//! interpreter lock.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use remotemedia_host::executor::{InputSender, OutputReceiver};
use remotemedia_host::{HostError, Run, Value};
use remotemedia_vm_sandbox::cpython::convert::{from_py, to_py};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::errors::{internal, to_pyerr};
use crate::run::{build, document, runtime};
use crate::worker::WorkerHandle;

/// Python input items as items; one that cannot be is a `UsageError`.
fn input_items(py: Python<'_>, items: &Bound<'_, PyList>) -> PyResult<Vec<Value>> {
    items
        .iter()
        .map(|item| {
            from_py(&item).map_err(|e| to_pyerr(py, &HostError::Usage(format!("input item: {e}"))))
        })
        .collect()
}

/// A running pipeline fed item by item.
#[pyclass(module = "remotemedia_runtime._native", frozen)]
pub struct Session {
    inputs: Mutex<Option<InputSender>>,
    outputs: Mutex<OutputReceiver>,
    finished: Mutex<Option<JoinHandle<Result<(), HostError>>>>,
    cancel: CancellationToken,
}

impl Session {
    /// Runs `f` on the input sender (`None` once the input has ended) under its lock, taken,
    /// held and let go with the interpreter lock released: a push that held it while waiting
    /// for the interpreter lock, against a `close` that held the interpreter lock while
    /// waiting for it, deadlocked.
    fn with_inputs<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Option<InputSender>) -> T + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            self.inputs
                .lock()
                .map(|mut inputs| f(&mut inputs))
                .map_err(|_| ())
        })
        .map_err(|()| internal("session poisoned"))
    }
}

impl Drop for Session {
    /// A session dropped without `wait` (its `process()` iterator was dropped, not closed)
    /// is abandoned: the run is cancelled, so every node is still cleaned up.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[pymethods]
impl Session {
    /// Starts the run; `with_inputs` says whether items will be pushed.
    #[new]
    #[pyo3(signature = (manifest, live_nodes=None, with_inputs=true, worker=None))]
    fn new(
        py: Python<'_>,
        manifest: &Bound<'_, PyAny>,
        live_nodes: Option<&Bound<'_, PyDict>>,
        with_inputs: bool,
        worker: Option<&Bound<'_, WorkerHandle>>,
    ) -> PyResult<Self> {
        let doc = document(py, manifest)?;
        let runtime = runtime()?;
        let cancel = CancellationToken::new();
        let live = crate::run::live_node_map(py, &doc, live_nodes)?;
        let choice = crate::worker::choice(py)?;
        let worker = worker.map(Bound::get);
        let started = py.detach(|| {
            let pipeline = build(&doc, live, &choice, worker)?;
            let _guard = runtime.enter();
            let mut run = Run::start(pipeline, with_inputs, cancel.clone())?;
            let inputs = run.take_inputs();
            let outputs = run
                .take_outputs()
                .ok_or_else(|| HostError::Runtime("no output queue".into()))?;
            let finished = runtime.spawn(run.wait());
            Ok::<_, HostError>((inputs, outputs, finished))
        });
        let (inputs, outputs, finished) = started.map_err(|e| to_pyerr(py, &e))?;
        Ok(Session {
            inputs: Mutex::new(inputs),
            outputs: Mutex::new(outputs),
            finished: Mutex::new(Some(finished)),
            cancel,
        })
    }

    /// Feeds items, waiting while the pipeline is full. Returns `False` once no node takes input.
    fn push(&self, py: Python<'_>, items: &Bound<'_, PyList>) -> PyResult<bool> {
        let items = input_items(py, items)?;
        self.with_inputs(py, |inputs| {
            inputs
                .as_mut()
                .is_some_and(|sender| sender.blocking_send(items).is_ok())
        })
    }

    /// Feeds items only if the pipeline takes them at once: `None` when it would wait
    /// (nothing was fed; push them with `push` on another thread), `False` once no node takes
    /// input. Lets an event loop feed without a thread hand-off per item.
    fn try_push(&self, py: Python<'_>, items: &Bound<'_, PyList>) -> PyResult<Option<bool>> {
        let items = input_items(py, items)?;
        self.with_inputs(py, |inputs| match inputs.as_mut() {
            None => Some(false),
            Some(sender) => match sender.try_send(items) {
                Ok(true) => Some(true),
                Ok(false) => None,
                Err(_) => Some(false),
            },
        })
    }

    /// Ends the input.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.with_inputs(py, |inputs| drop(inputs.take()))
    }

    /// The next outputs, waiting for them; `None` at the end. Raises the run's error.
    fn pull(&self, py: Python<'_>) -> PyResult<Option<Py<PyList>>> {
        let received = py
            .detach(|| {
                let mut outputs = self
                    .outputs
                    .lock()
                    .map_err(|_| "session poisoned".to_owned())?;
                let receiver: &mut OutputReceiver = &mut outputs;
                Ok::<_, String>(receiver.blocking_recv())
            })
            .map_err(internal)?;
        if let Ok(Some((_, items))) = received {
            let list = PyList::empty(py);
            for item in &items {
                list.append(to_py(py, item)?)?;
            }
            return Ok(Some(list.unbind()));
        }
        self.wait(py)?;
        Ok(None)
    }

    /// Stops the run; every node is cleaned up.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the run to end (after `cancel`, or the last output) and raises its error.
    fn wait(&self, py: Python<'_>) -> PyResult<()> {
        let handle = self
            .finished
            .lock()
            .map_err(|_| internal("session poisoned"))?
            .take();
        let Some(handle) = handle else { return Ok(()) };
        let runtime = runtime()?;
        match py.detach(|| runtime.block_on(handle)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(to_pyerr(py, &error)),
            Err(join) => Err(internal(format!("the run failed: {join}"))),
        }
    }
}
