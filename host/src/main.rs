//! `remotemedia-host`: parse the command line, set up logging, run the command, and turn its
//! result into an exit status (0 success, 1 node or runtime failure, 2 usage or manifest error,
//! 130 cancelled).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use remotemedia_host::cli::{Cli, execute, to_stderr};
use remotemedia_host::manifest::escape;
use tracing_subscriber::filter::LevelFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Control characters from a manifest or from node code are escaped: they must not
            // forge lines or drive the terminal.
            let mut text = format!("error: {}\n", escape(&error.to_string()));
            for detail in error.details() {
                // A detail may span lines of its own (a problem and its help): kept apart.
                for line in detail.lines() {
                    text.push_str(&escape(line));
                    text.push('\n');
                }
            }
            to_stderr(&text);
            ExitCode::from(error.exit_code())
        }
    }
}

/// Logs go to stderr; `RUST_LOG` sets the level (error, warn, info, debug, trace; default warn).
fn init_logging() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::WARN);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(|| QuietStderr)
        .with_target(false)
        .init();
}

/// stderr for logs, losing what cannot be written (a full disk): the fmt layer reports a failed
/// write with `eprintln!`, which panics, and a panic in a log call from node code (Python
/// `logging`) would end the interpreter thread.
struct QuietStderr;

impl std::io::Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
