//! `remotemedia-host run`.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use remotemedia_vm_sandbox::InterpreterKind;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::args::{IsolationArg, RunArgs, RuntimeArg};
use super::io::{read_json_lines, write_json_lines};
use super::progress::Progress;
use super::python;
use crate::error::HostError;
use crate::executor::{Run, RunReport};
use crate::manifest::Isolation;

/// Runs a manifest: validate, start, stream input and output, report.
pub fn run(args: &RunArgs) -> Result<(), HostError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("remotemedia-worker")
        .build()
        .map_err(|e| HostError::Runtime(format!("cannot start the async runtime: {e}")))?;
    // Watched before loading (starting Python and discovery take tens of milliseconds): a
    // stop signal then cancels the run as it starts, exit 130, instead of killing the process.
    let mut signals = {
        let _entered = runtime.enter();
        StopSignals::install()
    };
    let isolation = args.isolation.map(|i| match i {
        IsolationArg::InProcess => Isolation::InProcess,
        IsolationArg::Process => Isolation::Process,
    });
    let python = args.runtime.map(|r| match r {
        RuntimeArg::Cpython => InterpreterKind::Cpython,
        RuntimeArg::Rustpython => InterpreterKind::Rustpython,
    });
    let (pipeline, interpreter) = python::load(
        &args.manifest,
        args.python_env.as_deref(),
        python::Overrides { python, isolation },
        python::Forced::ByUser,
    )?;
    let input = args.input.as_deref().map(open_input).transpose()?;
    let result = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let mut run = Run::start(pipeline, input.is_some(), cancel.clone())?;
        let reporter = run.reporter();
        if let (Some(feeder), Some(input)) = (run.take_inputs(), input) {
            // A plain thread, not a runtime task: a read blocked on a terminal cannot be
            // interrupted, and the run must be able to end without it.
            std::thread::Builder::new()
                .name("remotemedia-input".into())
                .spawn(move || read_json_lines(input, feeder))
                .map_err(|e| HostError::Runtime(format!("cannot start the input reader: {e}")))?;
        }
        let written = Arc::new(AtomicU64::new(0));
        if let Some(outputs) = run.take_outputs() {
            let (tagged, written) = (args.tagged, Arc::clone(&written));
            let node_types = reporter
                .report()
                .nodes
                .into_iter()
                .map(|n| (n.id, n.node_type))
                .collect();
            run.spawn_blocking("output writer", move || {
                write_json_lines(outputs, tagged, &written, &node_types)
            });
        }
        let progress = Progress::start(written);
        let wait = run.wait();
        tokio::pin!(wait);
        let result = tokio::select! {
            result = &mut wait => result,
            signal = signals.next() => {
                tracing::info!("{signal}; cancelling the pipeline");
                cancel.cancel();
                finish_or_force(&mut wait, &mut signals).await
            }
        };
        progress.stop();
        if let Some(target) = &args.metrics {
            write_metrics(&reporter.report(), target)?;
        }
        result
    });
    // Stop the interpreter (every stage's cleanup ran above) before the runtime.
    if let Some(interpreter) = interpreter {
        interpreter.shutdown();
    }
    result
}

/// How long a cancelled run may wait for busy node code before the user is told how to
/// stop at once.
const CLEANUP_NOTICE: std::time::Duration = std::time::Duration::from_secs(2);

/// Waits for a cancelled run's cleanup. Node code blocked in a C call (`time.sleep(1000)`)
/// cannot be interrupted until the call returns: after [`CLEANUP_NOTICE`] the user is told
/// so, and a second stop signal ends the process at once, exit 130, without that cleanup.
async fn finish_or_force(
    wait: &mut std::pin::Pin<&mut impl Future<Output = Result<(), HostError>>>,
    signals: &mut StopSignals,
) -> Result<(), HostError> {
    let notice = tokio::time::sleep(CLEANUP_NOTICE);
    tokio::pin!(notice);
    let mut noticed = false;
    loop {
        tokio::select! {
            result = wait.as_mut() => return result,
            () = &mut notice, if !noticed => {
                noticed = true;
                crate::cli::to_stderr(
                    "remotemedia-host: waiting for busy node code to return before cleaning up (stop again to quit at once)\n",
                );
            }
            signal = signals.next() => {
                crate::cli::to_stderr(&format!(
                    "error: pipeline cancelled ({signal}, a second time): quit without cleaning up busy nodes\n"
                ));
                std::process::exit(130);
            }
        }
    }
}

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP, watched from before the run starts (a signal that
/// came before its watch was set would end the process at once): each cancels the run and
/// cleans up the same way (DESIGN §8).
struct StopSignals {
    watched: Vec<(Option<Signal>, &'static str)>,
}

impl StopSignals {
    /// Starts watching; a signal that cannot be watched keeps its default action.
    fn install() -> Self {
        let watch = |kind: SignalKind, name| (signal(kind).ok(), name);
        StopSignals {
            watched: vec![
                watch(SignalKind::interrupt(), "interrupted"),
                watch(SignalKind::terminate(), "terminated (SIGTERM)"),
                watch(SignalKind::hangup(), "hung up (SIGHUP)"),
            ],
        }
    }

    /// The name of the first signal that arrives.
    async fn next(&mut self) -> &'static str {
        let [(int, int_name), (term, term_name), (hup, hup_name)] = &mut self.watched[..] else {
            return std::future::pending().await;
        };
        tokio::select! {
            () = received(int.as_mut()) => int_name,
            () = received(term.as_mut()) => term_name,
            () = received(hup.as_mut()) => hup_name,
        }
    }
}

/// Resolves when `stream` delivers a signal; never, without a stream.
async fn received(stream: Option<&mut Signal>) {
    match stream {
        Some(stream) => {
            stream.recv().await;
        }
        None => std::future::pending().await,
    }
}

fn open_input(path: &Path) -> Result<Box<dyn Read + Send>, HostError> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin()));
    }
    File::open(path)
        .map(|f| Box::new(f) as Box<dyn Read + Send>)
        .map_err(|e| HostError::Usage(format!("cannot read input {}: {e}", path.display())))
}

fn write_metrics(report: &RunReport, target: &Path) -> Result<(), HostError> {
    if target == Path::new("-") {
        super::to_stderr(&report.table());
        return Ok(());
    }
    let mut text = serde_json::to_string_pretty(report)
        .map_err(|e| HostError::Runtime(format!("cannot encode metrics: {e}")))?;
    text.push('\n');
    std::fs::write(target, text).map_err(|source| HostError::Io {
        path: target.to_owned(),
        source,
    })
}
