//! The `remotemedia-host` commands (DESIGN §8). `main.rs` parses the arguments and maps the
//! result to an exit status; everything else lives here so it can be tested as a library.
//!
//! # Layout
//! - `args`: the clap definitions.
//! - `run`: `run`, with `io` (JSON lines in and out) and `progress` (the terminal indicator).
//! - `render`: `validate`, `nodes`, `graph` and their text forms.
//! - `python`: starting the interpreter when a command needs it.

mod args;
mod io;
mod progress;
mod python;
mod render;
mod run;

pub use args::{Cli, Command, GraphFormat, IsolationArg, RunArgs, RuntimeArg};
pub use render::render_graph;

use crate::error::HostError;

/// Runs one parsed command.
///
/// # Errors
/// Whatever the command failed with; [`HostError::exit_code`] gives the exit status.
pub fn execute(cli: Cli) -> Result<(), HostError> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Validate {
            manifest,
            python_env,
        } => render::validate(&manifest, python_env.as_deref()),
        Command::Nodes { json, python_env } => render::nodes(json, python_env.as_deref()),
        Command::Worker { python_env } => python::serve_worker(python_env.as_deref()),
        Command::Graph {
            manifest,
            format,
            python_env,
        } => render::graph(&manifest, format, python_env.as_deref()),
    }
}

/// Writes `text` to stderr. A stderr that cannot be written (a full disk, a closed pipe) loses
/// the text rather than panicking as `eprint!` would: the exit status still tells.
pub fn to_stderr(text: &str) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Writes `text` to stdout; a closed stdout (`| head`) is not an error.
fn print(text: &str) -> Result<(), HostError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(HostError::Runtime(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
