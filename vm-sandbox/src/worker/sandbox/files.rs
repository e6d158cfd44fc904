//! Landlock: which paths the sandboxed worker may read and write, and that it may neither
//! signal a process outside its sandbox nor reach an abstract Unix socket made outside it, nor
//! (without `network`) bind or connect TCP ports.
//!
//! ABI 6 (Linux 6.12) is the least this asks for, as a hard requirement: every filesystem right
//! of ABI 5 handled (truncation and device `ioctl` included), TCP of ABI 4, and the scopes of
//! ABI 6. Execution is handled and granted nowhere (seccomp denies `execve` too).

use std::path::PathBuf;

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};

use super::start;
use crate::error::SandboxError;

/// The Landlock ABI whose rights the sandbox handles.
const ABI_NEEDED: ABI = ABI::V6;

/// Restricts this thread, and the threads it starts, to reading beneath `readable` and
/// `writable` and writing beneath `writable`; each path comes with where it was named, for
/// the error when it cannot be opened.
pub fn restrict(
    readable: &[(String, PathBuf)],
    writable: &[(String, PathBuf)],
    network: bool,
) -> Result<(), SandboxError> {
    let missing = |e: landlock::RulesetError| {
        start(format!(
            "this kernel lacks Landlock ABI 6 (Linux 6.12: paths, TCP and signal scoping), which the sandbox requires: {e}"
        ))
    };
    let all = AccessFs::from_all(ABI_NEEDED);
    let read = AccessFs::from_read(ABI_NEEDED) & !AccessFs::Execute;
    let write = all & !AccessFs::Execute;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(missing)?
        .scope(Scope::from_all(ABI_NEEDED))
        .map_err(missing)?;
    if !network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI_NEEDED))
            .map_err(missing)?;
    }
    let mut created = ruleset.create().map_err(missing)?;
    for (rights, paths) in [(read, readable), (write, writable)] {
        for (named, path) in paths {
            let fd = PathFd::new(path).map_err(|e| {
                start(format!(
                    "{named}: cannot open \"{}\": {}",
                    path.display(),
                    std::error::Error::source(&e)
                        .map_or_else(|| e.to_string(), ToString::to_string)
                ))
            })?;
            created = created
                .add_rule(PathBeneath::new(fd, fit(rights, path)))
                .map_err(|e| start(format!("{named}: \"{}\": {e}", path.display())))?;
        }
    }
    let status = created
        .no_new_privs(true)
        .restrict_self()
        .map_err(missing)?;
    if status.ruleset == RulesetStatus::FullyEnforced && status.no_new_privs {
        Ok(())
    } else {
        Err(start(format!(
            "Landlock was not fully enforced ({:?}, no_new_privs {})",
            status.ruleset, status.no_new_privs
        )))
    }
}

/// `rights` as a rule on `path` may hold them: a file takes only the rights that apply to
/// files (a directory's, such as making entries in it, would be refused).
fn fit(rights: BitFlags<AccessFs>, path: &std::path::Path) -> BitFlags<AccessFs> {
    if path.is_dir() {
        rights
    } else {
        rights & AccessFs::from_file(ABI_NEEDED)
    }
}
