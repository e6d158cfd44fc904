//! One RustPython VM and the thread that owns it.
//!
//! An `Interpreter` is not `Send`: it lives on a thread of its own (its *main* thread), which
//! builds it, lays out `sys.path`, imports the SDK's driver, and then waits for commands. The
//! only command that touches the VM is a new thread of it (`vm.new_thread()`, which must be
//! made where the VM is entered): each stage's thread, and a service thread, runs on one.
//! RustPython has no interpreter lock, so the VM's threads run Python at the same time.

use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use rustpython::InterpreterBuilderExt;
use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::vm::thread::ThreadedVirtualMachine;
use rustpython_vm::{AsObject, Interpreter, PyResult, Settings, VirtualMachine};

use super::host;
use crate::error::SandboxError;
use crate::stages::STACK_SIZE;

/// Where a VM's modules come from: the directories put on its `sys.path`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Paths {
    /// Entries, in order; a `site-packages` (or `dist-packages`) one also has its `.pth` files
    /// processed, as `site` does for the environment's own Python.
    pub entries: Vec<String>,
    /// Whether the host owns the process: a node's `print()` then goes to stderr (stdout is
    /// the host's data channel).
    pub owns_process: bool,
}

/// What the main thread is asked.
enum Command {
    /// A new thread of the VM, for a stage or a service.
    NewThread(mpsc::Sender<ThreadedVirtualMachine>),
}

/// A running VM: its main thread and the way to ask it for threads.
pub struct VmThread {
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Lays out `sys.path` (the standard library is frozen into the binary: only the
/// environment's directories are added), keeps C extensions from being mistaken for missing
/// modules, and imports the driver, which is what every thread of the VM runs.
const PREPARE: &str = "
import sys
if owns_process:
    sys.stdout = sys.stderr
import site
for entry in entries:
    if entry not in sys.path:
        sys.path.append(entry)
for entry in entries:
    if entry.endswith(('site-packages', 'dist-packages')):
        site.addsitedir(entry)
from remotemedia import _vm
_vm.install_c_extension_guard()
_vm.when_imported('ctypes', _vm.without_pythonapi)
import remotemedia.driver
import importlib
for module in preload:
    importlib.import_module(module)
";

impl VmThread {
    /// Starts a VM named `name` with `paths` and waits until its driver and the `preload`
    /// modules are imported (what its threads will need first: imported while another VM
    /// starts, they cost less start-up time).
    ///
    /// # Errors
    /// [`SandboxError::Start`]: no thread could be made, or the SDK cannot be imported there.
    pub fn start(
        name: &str,
        paths: &Paths,
        preload: &'static [&'static str],
    ) -> Result<VmThread, SandboxError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let (commands, inbox) = mpsc::channel::<Command>();
        let paths = paths.clone();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let interpreter = build();
                let prepared = interpreter.enter(|vm| prepare(vm, &paths, preload));
                let ok = prepared.is_ok();
                let _ = ready_tx.send(prepared);
                if ok {
                    serve(&interpreter, &inbox);
                }
            })
            .map_err(|e| SandboxError::Start(format!("cannot start a RustPython thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(VmThread {
                commands: Mutex::new(Some(commands)),
                thread: Mutex::new(Some(thread)),
            }),
            Ok(Err(text)) => {
                let _ = thread.join();
                Err(SandboxError::Start(
                    if text.contains("No module named 'remotemedia") {
                        format!(
                            "RustPython: {text}: the remotemedia SDK is not installed in the selected Python environment (pip install remotemedia there, or pick the environment with --python-env)"
                        )
                    } else {
                        format!("RustPython: {text}")
                    },
                ))
            }
            Err(_) => Err(SandboxError::Start(
                "the RustPython thread ended during start-up".into(),
            )),
        }
    }

    /// A new thread of the VM, to run on an OS thread of the caller's making.
    ///
    /// # Errors
    /// [`SandboxError::Stopped`]: the VM has stopped.
    pub fn new_thread(&self) -> Result<ThreadedVirtualMachine, SandboxError> {
        let (tx, rx) = mpsc::channel();
        let commands = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(SandboxError::Stopped)?;
        commands
            .send(Command::NewThread(tx))
            .map_err(|_| SandboxError::Stopped)?;
        rx.recv().map_err(|_| SandboxError::Stopped)
    }

    /// Stops the main thread (the VM's other threads must have ended) and joins it.
    pub fn stop(&self) {
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = crate::stages::take_thread(&self.thread) {
            let _ = thread.join();
        }
    }
}

impl Drop for VmThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A VM with the frozen standard library, and neither the host's signal
/// handlers nor `site`'s start-up (the paths are laid out by [`PREPARE`]).
fn build() -> Interpreter {
    let mut settings = Settings::default();
    settings.install_signal_handlers = false;
    settings.import_site = false;
    settings.ignore_environment = true;
    settings.user_site_directory = false;
    settings.safe_path = true;
    settings.write_bytecode = false;
    Interpreter::builder(settings).init_stdlib().build()
}

fn prepare(vm: &VirtualMachine, paths: &Paths, preload: &[&str]) -> Result<(), String> {
    host::init_types();
    let scope = vm.new_scope_with_builtins();
    let entries: Vec<_> = paths
        .entries
        .iter()
        .map(|e| vm.ctx.new_str(e.as_str()).into())
        .collect();
    let set = |name: &str, value| {
        scope
            .globals
            .set_item(name, value, vm)
            .map_err(|e| describe(vm, &e))
    };
    set("entries", vm.ctx.new_list(entries).into())?;
    set("owns_process", vm.ctx.new_bool(paths.owns_process).into())?;
    let preload = preload.iter().map(|m| vm.ctx.new_str(*m).into()).collect();
    set("preload", vm.ctx.new_list(preload).into())?;
    vm.run_string(scope, PREPARE, "<remotemedia-host>")
        .map(drop)
        .map_err(|e| describe(vm, &e))
}

/// Answers commands until every sender is gone.
fn serve(interpreter: &Interpreter, inbox: &mpsc::Receiver<Command>) {
    while let Ok(command) = inbox.recv() {
        match command {
            Command::NewThread(reply) => {
                let thread = interpreter.enter(VirtualMachine::new_thread);
                let _ = reply.send(thread);
            }
        }
    }
}

/// An exception as `Type: message` and its traceback.
pub fn describe(vm: &VirtualMachine, error: &PyBaseExceptionRef) -> String {
    let mut text = String::new();
    if vm.write_exception(&mut text, error).is_err() || text.is_empty() {
        return error.class().name().to_string();
    }
    text.trim_end().to_owned()
}

/// `from module import name`.
pub fn import_attr(vm: &VirtualMachine, module: &'static str, name: &'static str) -> PyResult {
    let from_list = vm.ctx.new_tuple(vec![vm.ctx.new_str(name).into()]);
    vm.import_from(module, from_list, 0)?.get_attr(name, vm)
}
