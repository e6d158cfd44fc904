//! How the host starts a worker process: [`Launch`], and the command it becomes.

use std::ffi::OsString;
use std::io::PipeWriter;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// How to start a worker: a program that serves the wire on its standard input (the host's
/// binary with its hidden `worker` command, or Python running `remotemedia_runtime._worker`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Environment variables to set for it.
    pub env: Vec<(OsString, OsString)>,
    /// The sandbox it enters before it imports node code, if any (DESIGN §10): it then starts
    /// with only the environment variables the policy names, and `env`.
    pub sandbox: Option<crate::worker::Policy>,
}

impl Launch {
    /// The command that starts this worker: its standard input is `socket` (the worker's end
    /// of the host's), its stdout and stderr are `output` (a pipe the host copies to its own
    /// stderr: the worker holds no descriptor of the host's streams, a terminal it could
    /// resize or a log file it could truncate, and stdout stays the host's data channel); it
    /// runs in its own process group, and a sandboxed one starts with only the environment
    /// variables its policy names.
    pub(super) fn command(
        &self,
        socket: UnixStream,
        output: PipeWriter,
    ) -> std::io::Result<Command> {
        let mut command = Command::new(&self.program);
        if let Some(policy) = &self.sandbox {
            command.env_clear().envs(policy.environment());
        }
        keep_only_stdio(&mut command);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::from(OwnedFd::from(socket)))
            .stdout(Stdio::from(output.try_clone()?))
            .stderr(Stdio::from(output))
            // Its own group: the terminal's Ctrl-C reaches the host, which passes it on.
            .process_group(0);
        Ok(command)
    }
}

/// Makes the worker start with no descriptor but its standard input, output and error: the
/// host's other descriptors (a terminal's, a caller's pipes, whatever was inherited without
/// close-on-exec) would otherwise reach node code, past a sandbox's rules, which bind paths
/// when they are opened.
fn keep_only_stdio(command: &mut Command) {
    // SAFETY: the hook runs in the child between fork and exec, after its standard streams
    // are in place; it makes one system call (async-signal-safe), touching no memory and
    // taking no lock. Marked close-on-exec, not closed: the exec closes them, and a failure
    // (a kernel before 5.11) leaves the worker as it was.
    #[allow(unsafe_code)] // std has no safe way to run code between fork and exec
    unsafe {
        command.pre_exec(|| {
            libc::syscall(
                libc::SYS_close_range,
                3_u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
}

/// Where this process's plugin-discovery cache lives, by the rules of
/// `remotemedia.discovery_cache.default_dir` (kept alike): a sandboxed worker, whose
/// environment holds none of these variables, is told, so that it can read its file there.
pub(super) fn discovery_cache_dir() -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = set("REMOTEMEDIA_CACHE_DIR") {
        return Some(dir.into());
    }
    if let Some(xdg) = set("XDG_CACHE_HOME") {
        return Some(PathBuf::from(xdg).join("remotemedia"));
    }
    set("HOME").map(|home| PathBuf::from(home).join(".cache").join("remotemedia"))
}
