//! The sandbox of a worker process (DESIGN §3 `runtime.sandbox`, §10): what a pipeline's
//! nodes may do, enforced by the kernel, deny by default.
//!
//! The worker enters it once, on its main thread, before any other thread exists and before
//! any node code is imported: Landlock's restrictions bind the thread that asks and the threads
//! it starts later, not those already running, so the worker checks that it runs alone first.
//! Every mechanism is required: where the kernel lacks one, the worker does not start, and the
//! error names what is missing. There is no downgrade.
//!
//! - `files`: Landlock. Reads beneath the Python environment's paths, the system's libraries,
//!   `read` and `write`; writes beneath `write`; no signal to a process outside the sandbox; no
//!   TCP unless `network`.
//! - `syscalls`: seccomp. No new process, no socket unless `network`, nothing that reaches
//!   another process's memory or the kernel's configuration. A denied call fails with `EPERM`.
//! - `limits`: rlimits (`memory_mb`, `cpu_s`, no core files) and no capabilities.
//! - `python`: [`confine`], entering it from the worker's Python, whose `sys.path` it reads.
//!
//! The environment is scrubbed by the host when it starts the worker
//! ([`crate::worker::Worker::start`]); what the worker's own start needed is removed from
//! `os.environ` here, after Python has read it.

mod files;
mod limits;
#[cfg(feature = "cpython")]
mod python;
mod syscalls;

#[cfg(feature = "cpython")]
pub use python::{Confined, confine};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SandboxError;

/// `runtime.sandbox`: what a sandboxed pipeline's nodes may do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Paths readable (with everything beneath them).
    pub read: Vec<PathBuf>,
    /// Paths readable and writable (with everything beneath them).
    pub write: Vec<PathBuf>,
    /// Whether sockets may be made (TCP, UDP, Unix): no network at all when false.
    pub network: bool,
    /// The worker's data segment limit in MiB (`RLIMIT_DATA`), if any.
    pub memory_mb: Option<u64>,
    /// The worker's CPU time limit in seconds (`RLIMIT_CPU`), over its whole life.
    pub cpu_s: Option<u64>,
    /// Names of the host's environment variables the worker sees; no other.
    pub env: Vec<String>,
}

impl Policy {
    /// The names of the environment variables a worker under this policy starts with: those
    /// of `env` the host has, with their values.
    pub fn environment(&self) -> Vec<(String, std::ffi::OsString)> {
        self.env
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|value| (name.clone(), value)))
            .collect()
    }
}

/// The system's shared-library directories and the loader's cache: extension modules load
/// their libraries from there (`libgomp`, `libstdc++`). Those that exist are readable.
const SYSTEM_LIBRARIES: &[&str] = &[
    "/lib",
    "/lib32",
    "/lib64",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/local/lib",
    "/etc/ld.so.cache",
];

/// What the machine's processors are, as libraries that pick their code paths and thread
/// counts read it (onnxruntime's cpuinfo, OpenBLAS): no secret, and without it they guess.
const HARDWARE: &[&str] = &["/proc/cpuinfo", "/sys/devices/system/cpu"];

/// What name resolution and TLS read, readable when `network` is true: without them a
/// pipeline allowed the network could reach no host by name and verify no certificate.
const NETWORK_FILES: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/usr/share/ca-certificates",
];

/// Devices every program may expect: `/dev/null` (readable and writable, as `os.devnull`) and
/// the kernel's random source.
const DEVICES: &[(&str, bool)] = &[
    ("/dev/null", true),
    ("/dev/urandom", false),
    ("/dev/random", false),
];

/// Enters the sandbox `policy` describes, for good: `python_paths` are the paths the worker's
/// Python reads its modules from (`sys.path`, with the `.pth` and editable entries). Must be
/// called while the calling thread is the process's only one.
///
/// # Errors
/// [`SandboxError::Start`], naming what is missing or wrong: another thread runs, the kernel
/// lacks Landlock (or its ABI 6), seccomp or x32-free system calls, or a `read` or `write`
/// path cannot be opened.
pub fn enter(policy: &Policy, python_paths: &[PathBuf]) -> Result<(), SandboxError> {
    let threads = running_threads()?;
    if threads != 1 {
        return Err(start(format!(
            "the sandbox must be entered before the worker starts threads, and {threads} run"
        )));
    }
    syscalls::check_kernel()?;
    let is_root = |p: &PathBuf| p.canonicalize().is_ok_and(|c| c.parent().is_none());
    if python_paths.iter().any(is_root) {
        return Err(start(
            "sys.path holds the root directory \"/\" (an empty PYTHONPATH entry, with / as the working directory?), which would make every file readable: remove it",
        ));
    }
    let mut readable: Vec<(String, PathBuf)> = python_paths
        .iter()
        .filter(|p| p.exists())
        .map(|p| ("the Python environment".to_owned(), p.clone()))
        .collect();
    readable.extend(
        SYSTEM_LIBRARIES
            .iter()
            .chain(HARDWARE)
            .chain(NETWORK_FILES.iter().filter(|_| policy.network))
            .chain(DEVICES.iter().filter(|(_, w)| !w).map(|(p, _)| p))
            .map(Path::new)
            .filter(|p| p.exists())
            .map(|p| ("the system".to_owned(), p.to_owned())),
    );
    readable.extend(named("runtime.sandbox.read", &policy.read));
    let mut writable = named("runtime.sandbox.write", &policy.write);
    writable.extend(
        DEVICES
            .iter()
            .filter(|(_, w)| *w)
            .map(|(p, _)| ("the system".to_owned(), PathBuf::from(p))),
    );
    limits::apply(policy)?;
    files::restrict(&readable, &writable, policy.network)?;
    syscalls::restrict(policy.network)
}

/// Each path with the place it comes from (`runtime.sandbox.read[2]`).
fn named(field: &str, paths: &[PathBuf]) -> Vec<(String, PathBuf)> {
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("{field}[{i}]"), p.clone()))
        .collect()
}

/// How many threads this process runs.
fn running_threads() -> Result<usize, SandboxError> {
    std::fs::read_dir("/proc/self/task")
        .map(Iterator::count)
        .map_err(|e| start(format!("cannot count the worker's threads: {e}")))
}

fn start(message: impl std::fmt::Display) -> SandboxError {
    SandboxError::Start(format!("cannot enter the sandbox: {message}"))
}

#[cfg(test)]
mod tests;
