//! The backend's Python threads: the service thread, which starts the interpreter and answers
//! discovery and descriptions, and one thread per stage, which runs that stage's requests from
//! its creation to its cleanup.
//!
//! Every thread is attached to the one interpreter for its whole life and serves its own
//! [`Mailbox`]; the Python driver (`remotemedia.driver`) waits for requests with the
//! interpreter lock released, so threads whose node code releases it (`time.sleep`, numpy,
//! I/O) run at the same time.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::home;
use super::mailbox::Mailbox;
use crate::env::PythonEnv;
use crate::error::SandboxError;
use crate::mailbox::Shared;
use crate::stages::{STACK_SIZE, StageThreads, socket_error};

/// Starts the service thread: it starts CPython (with its home and `env`'s paths when the host
/// owns the process, or joins the caller's), imports the driver and serves discovery and
/// descriptions. Blocks until Python is ready.
///
/// # Errors
/// CPython cannot start, or the SDK cannot be imported.
pub fn start_service(env: PythonEnv) -> Result<(Arc<Shared>, JoinHandle<()>), SandboxError> {
    let (shared, thread_end) = Shared::pair().map_err(|e| socket_error(&e))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let thread_shared = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("remotemedia-python".into())
        .stack_size(STACK_SIZE)
        .spawn(move || {
            if let Err(text) = prepare(&env) {
                let _ = ready_tx.send(Err(text));
                thread_shared.abandon();
                return;
            }
            let outcome = Python::attach(|py| -> PyResult<()> {
                let driver = py.import("remotemedia.driver")?.getattr("Driver")?;
                let mailbox = Bound::new(py, Mailbox::new(Arc::clone(&thread_shared)))?;
                let driver = driver.call1((mailbox, thread_end.as_raw_fd()))?;
                let _ = ready_tx.send(Ok(()));
                driver.call_method0("run")?;
                Ok(())
            });
            if let Err(error) = outcome {
                let text = Python::attach(|py| describe_error(py, &error));
                if ready_tx.send(Err(text.clone())).is_err() {
                    tracing::error!("the Python service thread failed: {text}");
                }
            }
            thread_shared.abandon();
        })
        .map_err(|e| SandboxError::Start(format!("cannot start the interpreter thread: {e}")))?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok((shared, thread)),
        Ok(Err(text)) => {
            let _ = thread.join();
            Err(SandboxError::Start(
                if text.contains("No module named 'remotemedia") {
                    format!(
                        "{text}: the remotemedia SDK is not installed in the selected Python environment (pip install remotemedia there, or pick the environment with --python-env)"
                    )
                } else {
                    text
                },
            ))
        }
        Err(_) => Err(SandboxError::Start(
            "the interpreter thread ended during start-up".into(),
        )),
    }
}

/// Starts the thread of stage `id` in `stages`: attached to the interpreter for its whole
/// life, it serves the stage's mailbox with the driver's `StageDriver`.
///
/// # Errors
/// No thread or socket can be made (a limit of the system).
pub fn spawn_stage(
    stages: &StageThreads,
    id: u64,
    owns_process: bool,
) -> Result<Arc<Shared>, SandboxError> {
    stages.spawn(id, move |shared, thread_end| {
        Python::attach(|py| {
            let served = serve_stage(py, shared, &thread_end, owns_process);
            // With the interpreter lock held: no interrupt can be aimed at this thread any
            // more (its id may go to a new thread once it has ended).
            shared.python_thread.store(0, Ordering::Release);
            if let Err(error) = served
                && !is_stage_interrupted(py, &error)
            {
                let text = describe_error(py, &error);
                tracing::error!("the thread of Python stage {id} failed: {text}");
            }
        });
    })
}

/// Runs the stage driver on this thread until the stage is cleaned up (or its creation failed,
/// or the host shuts down).
fn serve_stage(
    py: Python<'_>,
    shared: &Arc<Shared>,
    thread_end: &UnixStream,
    owns_process: bool,
) -> PyResult<()> {
    let mailbox = Bound::new(py, Mailbox::new(Arc::clone(shared)))?;
    py.import("remotemedia.driver")?
        .getattr("StageDriver")?
        .call1((mailbox, thread_end.as_raw_fd(), owns_process))?
        .call_method0("run")?;
    Ok(())
}

/// Whether `error` is the host's interrupt, come too late for the node code it was meant for
/// (the stage had just ended): nothing went wrong.
fn is_stage_interrupted(py: Python<'_>, error: &PyErr) -> bool {
    error
        .get_type(py)
        .name()
        .is_ok_and(|name| name == "StageInterrupted")
}

/// Whether `prepare_path` has run in this process.
static PREPARED: AtomicBool = AtomicBool::new(false);

/// Starts CPython for `env` unless it runs already, on this thread (which becomes its main
/// thread, the one that may set signal handlers), and lays out its paths once per process.
/// The service thread does it, or a worker's main thread before it starts any other
/// (`worker::serve`, which reads `sys.path` to build its sandbox).
///
/// # Errors
/// CPython did not start, or laying out its paths failed: the message says why.
pub fn prepare(env: &PythonEnv) -> Result<(), String> {
    if env.owns_process {
        home::initialize_with_home()?;
    }
    Python::initialize();
    Python::attach(|py| {
        if env.owns_process && !PREPARED.swap(true, Ordering::AcqRel) {
            prepare_path(py, env).map_err(|e| describe_error(py, &e))?;
        }
        Ok(())
    })
}

/// Puts the environment's site-packages on `sys.path` as a virtualenv's own `python` would:
/// after `PYTHONPATH` and the standard library, `.pth` files processed, the base
/// interpreter's site-packages removed unless the virtualenv includes them. Also leaves
/// SIGINT to the host, sends `print()` to stderr, and makes this thread `threading`'s main one.
fn prepare_path(py: Python<'_>, env: &PythonEnv) -> PyResult<()> {
    let vars = PyDict::new(py);
    vars.set_item(
        "site_packages",
        env.site_packages.as_ref().map(|p| p.display().to_string()),
    )?;
    vars.set_item("system_site", env.system_site_packages)?;
    py.run(
        c"import signal, site, sys
# `threading` takes the thread that imports it first for the main one: imported first by a
# stage's thread (logging, asyncio), it would take that thread, which ends with its stage.
import threading
# Importing `signal` made Python take SIGINT if nobody had it yet, and it would raise
# KeyboardInterrupt in this thread, killing the loop before any cleanup: the host owns SIGINT.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
# stdout is the host's data channel: a node's print() goes to stderr with the logs.
sys.stdout = sys.stderr
if sys.flags.no_site:
    # Started without `site` (the host's own start): its paths are laid out here as the
    # environment's own python would, running no `.pth` file of the base interpreter's
    # site-packages unless the environment includes them.
    if site_packages is not None:
        site.addsitedir(site_packages)
    if system_site:
        site.main()
    else:
        site.setquit()
        site.setcopyright()
        site.sethelper()
        site.execsitecustomize()
else:
    if not system_site:
        base = set(site.getsitepackages()) | {site.getusersitepackages()}
        sys.path[:] = [p for p in sys.path if p not in base]
    if site_packages is not None:
        site.addsitedir(site_packages)
",
        Some(&vars),
        None,
    )
}

fn describe_error(py: Python<'_>, error: &PyErr) -> String {
    let tb = error
        .traceback(py)
        .and_then(|tb| tb.format().ok())
        .unwrap_or_default();
    let value = error.value(py).to_string();
    let ty = error
        .get_type(py)
        .name()
        .map_or_else(|_| "Exception".into(), |n| n.to_string());
    if tb.is_empty() {
        format!("{ty}: {value}")
    } else {
        format!("{ty}: {value}\n{tb}")
    }
}
