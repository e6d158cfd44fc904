//! The host's objects inside a RustPython VM: a thread's [`Mailbox`] (the driver takes its
//! requests from it and answers through it) and [`HostBuffer`], the host's media memory
//! exported through the buffer protocol, which a read-only `memoryview` looks at without a
//! copy.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustpython_vm::builtins::PyListRef;
use rustpython_vm::class::PyClassImpl;
use rustpython_vm::protocol::{BufferDescriptor, BufferMethods, PyBuffer};
use rustpython_vm::types::AsBuffer;
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyResult, TryFromObject, VirtualMachine, pyclass,
};

use super::convert::{from_py, list_to_py, params_to_py};
use crate::backend::PyFailure;
use crate::mailbox::{Reply, Request, Shared};
use crate::media::{Buffer, DType};
use crate::value::Value;

/// Makes the classes' types (once per process; every VM shares them, as it shares the
/// built-in types).
pub fn init_types() {
    let _ = Mailbox::make_static_type();
    let _ = HostBuffer::make_static_type();
}

/// The Python half of one thread's mailbox ([`crate::mailbox`]).
#[pyclass(module = "remotemedia_host", name = "Mailbox")]
#[derive(PyPayload)]
pub struct Mailbox {
    shared: Arc<Shared>,
    /// Whether log records go to the Python program the host runs inside (the native
    /// module), rather than to the host's log.
    to_program: bool,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailbox")
    }
}

impl Mailbox {
    /// Wraps the shared state for Python; with `to_program`, log records go to the Python
    /// program the host runs inside.
    pub fn new(shared: Arc<Shared>, to_program: bool) -> Self {
        Mailbox { shared, to_program }
    }
}

/// A request as the driver takes it: `(op, payload)`.
fn request_to_py(vm: &VirtualMachine, request: Request) -> PyResult<(&'static str, PyObjectRef)> {
    let op = request.op();
    let none = vm.ctx.none();
    let payload = match request {
        Request::Push(items) => list_to_py(vm, &items)?.into(),
        Request::Pull | Request::Close | Request::Init | Request::Cleanup | Request::Shutdown => {
            none
        }
        // The payload is `use_cache`: the cache is checked against every plugin file.
        Request::Discover => vm.ctx.new_bool(true).into(),
        Request::Describe { module, qualname } => vm
            .ctx
            .new_tuple(vec![
                vm.ctx.new_str(module).into(),
                vm.ctx.new_str(qualname).into(),
            ])
            .into(),
        Request::Create {
            nodes,
            limits,
            stage,
        } => {
            let mut specs = Vec::with_capacity(nodes.len());
            for node in nodes {
                // Live nodes never reach a VM: the host refuses them first.
                let retry = node.retry.map_or_else(
                    || vm.ctx.none(),
                    |r| {
                        vm.ctx
                            .new_tuple(vec![
                                vm.ctx.new_int(r.max_attempts).into(),
                                vm.ctx.new_int(r.backoff_ms).into(),
                            ])
                            .into()
                    },
                );
                let timeout = node
                    .timeout_ms
                    .map_or_else(|| vm.ctx.none(), |t| vm.ctx.new_int(t).into());
                specs.push(
                    vm.ctx
                        .new_tuple(vec![
                            vm.ctx.new_str(node.id).into(),
                            vm.ctx.new_str(node.module).into(),
                            vm.ctx.new_str(node.qualname).into(),
                            params_to_py(vm, &node.params)?,
                            vm.ctx.none(),
                            retry,
                            timeout,
                        ])
                        .into(),
                );
            }
            vm.ctx
                .new_tuple(vec![
                    vm.ctx.new_list(specs).into(),
                    vm.ctx.new_int(limits.items).into(),
                    vm.ctx.new_int(limits.bytes).into(),
                    vm.ctx.new_int(stage).into(),
                ])
                .into()
        }
    };
    Ok((op, payload))
}

#[pyclass]
impl Mailbox {
    /// Every queued request as `(token, op, payload)`.
    #[pymethod]
    fn take(zelf: &Py<Self>, vm: &VirtualMachine) -> PyListRef {
        let mut out = Vec::new();
        for (token, request) in zelf.shared.drain() {
            // A request that cannot be put into Python is answered with its error here: it
            // must not end the thread.
            match request_to_py(vm, request) {
                Ok((op, payload)) => out.push(
                    vm.ctx
                        .new_tuple(vec![
                            vm.ctx.new_int(token).into(),
                            vm.ctx.new_str(op).into(),
                            payload,
                        ])
                        .into(),
                ),
                Err(error) => {
                    let message = error_text(vm, &error.into());
                    let failure = PyFailure::host(None, "ValueError", message);
                    zelf.shared.answer(token, Reply::Failed(failure));
                }
            }
        }
        vm.ctx.new_list(out)
    }

    /// Answers request `token`. `kind` is `ack`, `end`, `items` (a list), `json` (a str),
    /// `counts` (a list of pairs) or `error` (`(node_id, type, message, traceback)`).
    #[pymethod]
    #[allow(clippy::needless_pass_by_value)] // arguments from Python are owned
    fn reply(
        zelf: &Py<Self>,
        token: u64,
        kind: String,
        payload: PyObjectRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let reply = match kind.as_str() {
            "ack" => Reply::Ack,
            "end" => Reply::End,
            "json" => Reply::Json(String::try_from_object(vm, payload)?),
            "counts" => {
                let pairs = Vec::<PyObjectRef>::try_from_object(vm, payload)?;
                let mut counts = Vec::with_capacity(pairs.len());
                for pair in pairs {
                    let [seen, made] = fields::<2>(vm, pair)?;
                    counts.push((
                        u64::try_from_object(vm, seen)?,
                        u64::try_from_object(vm, made)?,
                    ));
                }
                Reply::Counts(counts)
            }
            "error" => {
                let [node_id, error_type, message, traceback] = fields::<4>(vm, payload)?;
                Reply::Failed(PyFailure {
                    node_id: Option::<String>::try_from_object(vm, node_id)?,
                    error_type: String::try_from_object(vm, error_type)?,
                    message: String::try_from_object(vm, message)?,
                    traceback: String::try_from_object(vm, traceback)?,
                })
            }
            "items" => {
                let items = PyListRef::try_from_object(vm, payload)?;
                let converted: Result<Vec<Value>, String> = items
                    .borrow_vec()
                    .iter()
                    .map(|item| from_py(vm, item))
                    .collect();
                match converted {
                    Ok(items) => Reply::Items(items),
                    Err(message) => Reply::Failed(PyFailure::host(None, "TypeError", message)),
                }
            }
            other => return Err(vm.new_value_error(format!("unknown reply kind {other:?}"))),
        };
        zelf.shared.answer(token, reply);
        Ok(())
    }

    /// The driver's thread id.
    #[pymethod]
    fn started(zelf: &Py<Self>, thread_ident: u64) {
        zelf.shared
            .python_thread
            .store(thread_ident, Ordering::Release);
    }

    /// Whether node code may run now (see [`Shared::running`]).
    #[pymethod]
    fn running(zelf: &Py<Self>, busy: bool) {
        zelf.shared.running.store(busy, Ordering::Release);
    }

    /// Logs a VM's log record, tagged with the node that logged: through the host's log, or
    /// inside a Python program (the native module) to that program's logger of the same name.
    #[pymethod]
    #[allow(clippy::needless_pass_by_value)] // arguments from Python are owned
    fn log(zelf: &Py<Self>, level: u32, logger: String, node_id: Option<String>, message: String) {
        #[cfg(feature = "cpython")]
        if zelf.to_program {
            crate::cpython::log_in_program(level, &logger, node_id.as_deref(), &message);
            return;
        }
        let _ = zelf.to_program;
        crate::mailbox::log(level, &logger, node_id.as_deref(), &message);
    }
}

/// The `N` items of a tuple (or another sequence) of exactly `N`.
fn fields<const N: usize>(vm: &VirtualMachine, obj: PyObjectRef) -> PyResult<[PyObjectRef; N]> {
    let items = Vec::<PyObjectRef>::try_from_object(vm, obj)?;
    let found = items.len();
    <[PyObjectRef; N]>::try_from(items)
        .map_err(|_| vm.new_type_error(format!("expected {N} fields, got {found}")))
}

/// An exception's `str()`, or its type's name when that fails.
pub fn error_text(vm: &VirtualMachine, error: &PyObjectRef) -> String {
    error.str(vm).map_or_else(
        |_| error.class().name().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// The memory of an array item, exported read-only with its dtype and shape: a `memoryview`
/// of it is the array, over the host's bytes.
#[pyclass(module = "remotemedia_host", name = "HostBuffer")]
#[derive(Debug, PyPayload)]
pub struct HostBuffer {
    data: Buffer,
    dtype: DType,
    shape: Box<[usize]>,
}

impl HostBuffer {
    /// Exports `data` as elements of `dtype` in C order with `shape`.
    pub fn new(data: Buffer, dtype: DType, shape: &[usize]) -> Self {
        HostBuffer {
            data,
            dtype,
            shape: shape.into(),
        }
    }

    /// The exported memory, its dtype and shape.
    pub fn parts(&self) -> (&Buffer, DType, &[usize]) {
        (&self.data, self.dtype, &self.shape)
    }

    fn descriptor(&self) -> BufferDescriptor {
        let itemsize = self.dtype.size();
        // C order: the last dimension's elements are adjacent.
        let mut stride = itemsize;
        let mut dims = vec![(0, 0, 0); self.shape.len()];
        for (i, &n) in self.shape.iter().enumerate().rev() {
            dims[i] = (n, isize::try_from(stride).unwrap_or(isize::MAX), 0);
            stride = stride.saturating_mul(n.max(1));
        }
        BufferDescriptor {
            len: self.data.len(),
            offset: 0,
            readonly: true,
            itemsize,
            format: Cow::Borrowed(self.dtype.format()),
            dim_desc: dims,
        }
    }
}

static BUFFER_METHODS: BufferMethods = BufferMethods {
    obj_bytes: |buffer| buffer.obj_as::<HostBuffer>().data.bytes().into(),
    // Never called: the buffer is exported read-only.
    obj_bytes_mut: |_| unreachable!("a HostBuffer is read-only"),
    release: |_| {},
    retain: |_| {},
};

#[pyclass(with(AsBuffer))]
impl HostBuffer {}

impl AsBuffer for HostBuffer {
    fn as_buffer(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<PyBuffer> {
        Ok(PyBuffer::new(
            zelf.to_owned().into(),
            zelf.descriptor(),
            &BUFFER_METHODS,
        ))
    }
}
