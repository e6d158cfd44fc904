//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// What `--version` prints after the program name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (embeds ",
    env!("REMOTEMEDIA_EMBEDDED_PYTHON"),
    ")"
);

/// Runs remotemedia pipeline manifests as streaming DAGs.
#[derive(Debug, Parser)]
#[command(name = "remotemedia-host", version = VERSION, about, propagate_version = false)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline: input items as JSON lines in, output items as JSON lines out.
    Run(RunArgs),
    /// Check a manifest and report every problem.
    Validate {
        /// Manifest file (.json or .toml).
        manifest: PathBuf,
        /// Python environment whose plugins provide node types.
        #[arg(long, value_name = "DIR")]
        python_env: Option<PathBuf>,
    },
    /// List every node type.
    Nodes {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Python environment whose plugins provide node types.
        #[arg(long, value_name = "DIR")]
        python_env: Option<PathBuf>,
    },
    /// Serve a host as its worker process (DESIGN §10): the wire on stdin. Started by the
    /// host itself, never by hand.
    #[command(hide = true)]
    Worker {
        /// Python environment whose packages the nodes use.
        #[arg(long, value_name = "DIR")]
        python_env: Option<PathBuf>,
    },
    /// Print a manifest's graph.
    Graph {
        /// Manifest file (.json or .toml).
        manifest: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Python environment whose plugins provide node types.
        #[arg(long, value_name = "DIR")]
        python_env: Option<PathBuf>,
    },
}

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Manifest file (.json or .toml).
    pub manifest: PathBuf,
    /// Input items, one JSON value per line; `-` for stdin. Without it the run has no input
    /// items (sources only) and stdin is not read.
    #[arg(long, value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// Interpreter for Python nodes (overrides the manifest's runtime.python).
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeArg>,
    /// Isolation of the pipeline (overrides the manifest's runtime.isolation).
    #[arg(long, value_enum)]
    pub isolation: Option<IsolationArg>,
    /// Python environment (virtualenv) whose packages Python nodes use.
    #[arg(long, value_name = "DIR")]
    pub python_env: Option<PathBuf>,
    /// Write each output as {"node": <sink id>, "value": <item>}.
    #[arg(long)]
    pub tagged: bool,
    /// Per-node figures: as JSON to FILE, or as a table on stderr with `-`.
    #[arg(long, value_name = "FILE|-")]
    pub metrics: Option<PathBuf>,
}

/// `--runtime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuntimeArg {
    /// Embedded CPython.
    Cpython,
    /// RustPython.
    Rustpython,
}

/// `--isolation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IsolationArg {
    /// Inside the host process.
    #[value(name = "in_process")]
    InProcess,
    /// A worker process per pipeline.
    Process,
}

/// `graph --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz dot.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}
