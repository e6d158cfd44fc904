//! RustPython: a VM of its own per pipeline, inside the host process (DESIGN §10).
//!
//! Each [`RustPython`] backend is one VM: its `sys.modules`, module globals and monkeypatches
//! are its own, so one pipeline's module state cannot reach another's (CPython in-process
//! pipelines share one interpreter and its modules). The VM runs the SDK's own driver
//! (`remotemedia.driver`), as CPython does: a thread of the VM per stage, each serving its
//! [`crate::mailbox`] with `StageDriver`, so every node shape (sync, generator, `async def`,
//! streaming, sources) runs as it does on CPython. RustPython has no interpreter lock: a
//! pipeline's branches run Python at the same time.
//!
//! Plugins are found on the host's side: one discovery VM per environment (kept for the
//! process) answers discovery (through the discovery cache, so pluggy is imported only when
//! the cache is stale) and descriptions of classes. A pipeline's VM imports only the SDK's
//! driver and its nodes' modules: no pluggy, no `importlib.metadata`.
//!
//! What it cannot do: load C extensions (numpy, onnxruntime: an import of one is an error that
//! names it), run the caller's own node objects (they live in the caller's CPython), or
//! interrupt running Python code (RustPython has no asynchronous exceptions), so `timeout_ms`
//! is refused by validation and a cancelled stage that is busy in a loop ends when the loop
//! does.
//!
//! # Layout
//! - `vm`: one VM and the thread that owns it.
//! - `host`: the host's objects inside a VM (a thread's mailbox, exported media memory).
//! - `convert`: items to VM objects and back.

mod convert;
mod host;
mod vm;

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rustpython_vm::{PyObjectRef, PyPayload, PyResult, VirtualMachine};

use self::host::Mailbox;
pub use self::vm::Paths;
use self::vm::VmThread;
use crate::backend::{Backend, BoxFuture, Capabilities, Limits, NodeSpec, PyFailure, StageId};
use crate::discovery::{Discovery, NodeTypeInfo};
use crate::error::SandboxError;
use crate::mailbox::{Request, Shared};
use crate::stages::{self, STACK_SIZE, StageThreads, socket_error};

/// A pipeline's VM and the threads of its stages.
pub struct RustPython {
    vm: VmThread,
    stages: StageThreads,
    next_stage: AtomicU64,
    /// Answers discovery and descriptions for this environment.
    discovery: Arc<Discoverer>,
    owns_process: bool,
}

/// VMs started, for their threads' names.
static STARTED: AtomicU64 = AtomicU64::new(1);

impl RustPython {
    /// Starts a new VM with `paths` (and the environment's discovery VM, unless it runs
    /// already). Blocks until the SDK's driver is imported in both.
    ///
    /// # Errors
    /// [`SandboxError::Start`]: the SDK cannot be imported there.
    pub fn start(paths: &Paths) -> Result<Arc<RustPython>, SandboxError> {
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        // The two start side by side: each builds a VM and imports the driver.
        let (discovery, vm) = std::thread::scope(|scope| {
            let discovery = scope.spawn(|| Discoverer::get(paths));
            // Every stage passes its log records on.
            let vm = VmThread::start(
                &format!("rustpython-{n}"),
                paths,
                &["remotemedia.driver.logs"],
            );
            (discovery.join(), vm)
        });
        let discovery = discovery.unwrap_or_else(|_| {
            Err(SandboxError::Start(
                "the RustPython discovery start panicked".into(),
            ))
        })?;
        let vm = vm?;
        Ok(Arc::new(RustPython {
            vm,
            stages: StageThreads::default(),
            next_stage: AtomicU64::new(1),
            discovery,
            owns_process: paths.owns_process,
        }))
    }

    /// Stops every stage thread (stages still running get no more answers), then the VM. A
    /// stage busy in node code cannot be interrupted: its thread is not waited for, and ends
    /// when that code returns (or with the process).
    pub fn shutdown(&self) {
        self.stages.stop_all(false);
        self.vm.stop();
    }

    /// Stops every discovery VM (the native module calls this at exit, through
    /// [`crate::Interpreter::stop_all`]); a later start makes a new one.
    pub fn stop_discovery() {
        let running =
            std::mem::take(&mut *DISCOVERERS.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, discoverer) in running {
            discoverer.stop();
        }
    }
}

impl Drop for RustPython {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Backend for RustPython {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "rustpython",
            live_nodes: false,
            interrupts: false,
        }
    }

    fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>> {
        stages::document(&self.discovery.service, Request::Discover)
    }

    fn describe(
        &self,
        module: &str,
        qualname: &str,
    ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>> {
        stages::describe(&self.discovery.service, module, qualname)
    }

    fn create_stage(
        &self,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let id = StageId(self.next_stage.fetch_add(1, Ordering::Relaxed));
        if let Some(node) = nodes.iter().find(|n| n.timeout_ms.is_some()) {
            let failure = PyFailure::host(
                Some(node.id.clone()),
                "ValueError",
                "timeout_ms is not supported by the RustPython runtime, which cannot interrupt running Python code (use runtime.python \"cpython\")".into(),
            );
            return Box::pin(async move { Err(SandboxError::Raised(failure)) });
        }
        let owns_process = self.owns_process;
        let spawned = self.vm.new_thread().and_then(|thread| {
            self.stages.spawn(id.0, move |shared, thread_end| {
                thread.run(|vm| {
                    let served = serve(vm, "StageDriver", shared, &thread_end, Some(owns_process));
                    shared.python_thread.store(0, Ordering::Release);
                    if let Err(text) = served
                        && !text.contains("StageInterrupted")
                    {
                        tracing::error!("the thread of RustPython stage {} failed: {text}", id.0);
                    }
                });
            })
        });
        StageThreads::create(spawned, id, nodes, limits)
    }

    crate::stages::stage_operations!();
}

/// Runs the driver's `class` (`Driver` or `StageDriver`) on this thread of a VM, serving
/// `shared`, until it is told to stop. `owns_process` is given for a stage: whether the host
/// owns the process (else log records go to the Python program it runs inside).
fn serve(
    vm: &VirtualMachine,
    class: &'static str,
    shared: &Arc<Shared>,
    thread_end: &UnixStream,
    owns_process: Option<bool>,
) -> Result<(), String> {
    let run = || -> PyResult<()> {
        let to_program = owns_process == Some(false);
        let mailbox = Mailbox::new(Arc::clone(shared), to_program);
        let mailbox: PyObjectRef = mailbox.into_ref(&vm.ctx).into();
        let fd: PyObjectRef = vm.ctx.new_int(thread_end.as_raw_fd()).into();
        let mut args = vec![mailbox, fd];
        // A stage's logging: the VM's own `logging` always gets the handler that passes
        // records on, to the host's log or to the program the host runs inside.
        if owns_process.is_some() {
            args.push(vm.ctx.new_bool(true).into());
        }
        let driver = vm::import_attr(vm, "remotemedia.driver", class)?.call(args, vm)?;
        vm.call_method(&driver, "run", ())?;
        Ok(())
    };
    run().map_err(|e| vm::describe(vm, &e))
}

/// The discovery VM of one environment: a VM whose one thread serves discovery and
/// descriptions with the driver's `Driver`.
struct Discoverer {
    vm: VmThread,
    service: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// The discovery VMs started, by the paths they were started with.
static DISCOVERERS: Mutex<Vec<(Paths, Arc<Discoverer>)>> = Mutex::new(Vec::new());

impl Discoverer {
    /// The discovery VM for `paths`, started unless one runs.
    fn get(paths: &Paths) -> Result<Arc<Discoverer>, SandboxError> {
        let mut running = DISCOVERERS.lock().unwrap_or_else(PoisonError::into_inner);
        // One whose service thread ended (a plugin that killed it, say) is replaced.
        running.retain(|(_, d)| !d.service.is_stopped());
        if let Some((_, discoverer)) = running.iter().find(|(p, _)| p == paths) {
            return Ok(Arc::clone(discoverer));
        }
        let vm = VmThread::start("rustpython-discovery", paths, &["remotemedia.discovery"])?;
        let thread = vm.new_thread()?;
        let (service, thread_end) = Shared::pair().map_err(|e| socket_error(&e))?;
        let served = Arc::clone(&service);
        let handle = std::thread::Builder::new()
            .name("rustpython-discovery-service".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                thread.run(|vm| {
                    if let Err(text) = serve(vm, "Driver", &served, &thread_end, None) {
                        tracing::error!("the RustPython discovery thread failed: {text}");
                    }
                });
                served.abandon();
            })
            .map_err(|e| SandboxError::Start(format!("cannot start a RustPython thread: {e}")))?;
        let discoverer = Arc::new(Discoverer {
            vm,
            service,
            thread: Mutex::new(Some(handle)),
        });
        running.push((paths.clone(), Arc::clone(&discoverer)));
        Ok(discoverer)
    }

    fn stop(&self) {
        if let Some(thread) = stages::take_thread(&self.thread) {
            drop(self.service.post(Request::Shutdown));
            let _ = thread.join();
        }
        self.vm.stop();
    }
}
