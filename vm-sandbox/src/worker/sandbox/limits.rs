//! Resource limits and capabilities: `memory_mb` as `RLIMIT_DATA` (the heap and private
//! writable mappings, not the shared libraries mapped at start, so numpy and `OpenBLAS` still
//! load; an allocation past it fails, and Python raises `MemoryError`), `cpu_s` as
//! `RLIMIT_CPU` (`SIGXCPU` at the limit, `SIGKILL` a second later), no core files, and no
//! capabilities left (a worker of a host run as root keeps uid 0, but not its powers).

use rustix::process::{Resource, Rlimit, setrlimit};
use rustix::thread::{CapabilitySet, CapabilitySets, set_capabilities};

use super::{Policy, start};
use crate::error::SandboxError;

/// How many descriptors a sandboxed worker may hold.
const OPEN_FILES: u64 = 1024;

/// Sets the limits of `policy` (soft and hard, so node code cannot raise them) and drops every
/// capability of this thread, before it starts any other.
pub fn apply(policy: &Policy) -> Result<(), SandboxError> {
    // Descriptors as a shell's default: each socket pair holds kernel buffers no rlimit
    // counts, so their number bounds that memory.
    let mut limits = vec![
        (Resource::Core, "core files", Some(0), Some(0)),
        (
            Resource::Nofile,
            "open files",
            Some(OPEN_FILES),
            Some(OPEN_FILES),
        ),
    ];
    if let Some(mb) = policy.memory_mb {
        let bytes = mb.saturating_mul(1 << 20);
        limits.push((Resource::Data, "memory_mb", Some(bytes), Some(bytes)));
    }
    if let Some(seconds) = policy.cpu_s {
        limits.push((Resource::Cpu, "cpu_s", Some(seconds), Some(seconds + 1)));
    }
    for (resource, name, current, maximum) in limits {
        setrlimit(resource, Rlimit { current, maximum })
            .map_err(|e| start(format!("cannot set the limit of {name}: {e}")))?;
    }
    let none = CapabilitySet::empty();
    set_capabilities(
        None,
        CapabilitySets {
            effective: none,
            permitted: none,
            inheritable: none,
        },
    )
    .map_err(|e| start(format!("cannot drop the worker's capabilities: {e}")))
}
