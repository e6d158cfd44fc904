//! seccomp: the system calls Landlock does not cover. A denied call fails with `EPERM` (the
//! node sees a `PermissionError` or a failed status, and may carry on); nothing is killed for
//! trying. The filter is a list of what is denied, the rest is allowed: CPython, numpy and the
//! C libraries under them make calls that no allow-list written here would keep up with.
//!
//! Denied:
//! - new processes: `fork`, `vfork`, `clone` without `CLONE_THREAD`, `execve`, `execveat`
//!   (`clone3` answers "not implemented", so that the C library starts threads with `clone`,
//!   whose flags a filter can read);
//! - sockets, unless `network`: `socket` (a `socketpair`, which reaches nothing outside the
//!   process, stays allowed: asyncio's event loop makes one), and `io_uring`, whose operations
//!   would bypass this filter;
//! - other processes: `ptrace`, `process_vm_readv`/`writev`, `process_madvise`, `kcmp`,
//!   `pidfd_getfd`, and limits, priorities and affinities set on any process but this one;
//! - the kernel's and the system's configuration: mounts and namespaces, modules, `bpf`,
//!   `perf_event_open`, keyrings, `userfaultfd`, clocks, reboot, swap, `open_by_handle_at`,
//!   raising limits (`setrlimit`, `prlimit64` with a new limit), and the terminal injection
//!   `ioctl`s (`TIOCSTI`, `TIOCLINUX`).
//!
//! A call made through another architecture's entry (`int 0x80` on x86-64) ends the process:
//! seccompiler's architecture check, which no legitimate code meets.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::start;
use crate::error::SandboxError;

/// Calls newer than the `libc` crate's tables (one number on every architecture since 5.1).
const SYS_FCHMODAT2: libc::c_long = 452;
const SYS_SETXATTRAT: libc::c_long = 463;
const SYS_REMOVEXATTRAT: libc::c_long = 466;

/// The filesystem `ioctl`s that change an inode (`linux/fs.h`, `linux/fscrypt.h`,
/// `linux/fsverity.h`), which the `libc` crate does not name.
const FS_IOC_SETFLAGS: u64 = 0x4008_6602;
const FS_IOC32_SETFLAGS: u64 = 0x4004_6602;
const FS_IOC_SETVERSION: u64 = 0x4008_7602;
const FS_IOC32_SETVERSION: u64 = 0x4004_7602;
const FS_IOC_FSSETXATTR: u64 = 0x401c_5820;
const FS_IOC_SET_ENCRYPTION_POLICY: u64 = 0x800c_6613;
const FS_IOC_ENABLE_VERITY: u64 = 0x4080_6685;

/// Denied whatever their arguments.
const DENIED: &[libc::c_long] = &[
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_process_madvise,
    libc::SYS_kcmp,
    libc::SYS_pidfd_getfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fsconfig,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_open_by_handle_at,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_syslog,
    libc::SYS_setrlimit,
    // File metadata: Landlock does not see it, and a worker of a host run as root owns every
    // root-owned file, so it could make one setuid or world-writable without a capability.
    libc::SYS_fchmod,
    libc::SYS_fchmodat,
    SYS_FCHMODAT2,
    libc::SYS_fchown,
    libc::SYS_fchownat,
    libc::SYS_setxattr,
    libc::SYS_lsetxattr,
    libc::SYS_fsetxattr,
    SYS_SETXATTRAT,
    libc::SYS_removexattr,
    libc::SYS_lremovexattr,
    libc::SYS_fremovexattr,
    SYS_REMOVEXATTRAT,
    libc::SYS_utimensat,
    libc::SYS_name_to_handle_at,
    // Memory RLIMIT_DATA does not count (shared mappings of a memory file, System V shared
    // memory), and System V and POSIX message queues, which reach other processes.
    libc::SYS_memfd_create,
    libc::SYS_memfd_secret,
    libc::SYS_shmget,
    libc::SYS_shmat,
    libc::SYS_shmctl,
    libc::SYS_semget,
    libc::SYS_semop,
    libc::SYS_semtimedop,
    libc::SYS_semctl,
    libc::SYS_msgget,
    libc::SYS_msgsnd,
    libc::SYS_msgrcv,
    libc::SYS_msgctl,
    libc::SYS_mq_open,
    libc::SYS_mq_unlink,
    libc::SYS_mq_timedsend,
    libc::SYS_mq_timedreceive,
    libc::SYS_mq_notify,
    libc::SYS_mq_getsetattr,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_chmod,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_chown,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_lchown,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_utime,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_utimes,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_futimesat,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_fork,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_vfork,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
];

/// Installs the filters on every thread of the process (there is one: see [`super::enter`]).
pub fn restrict(network: bool) -> Result<(), SandboxError> {
    let arch =
        TargetArch::try_from(std::env::consts::ARCH).map_err(|e| start(format!("seccomp: {e}")))?;
    let denied = build(denied_rules(network)?, libc::EPERM, arch)?;
    let clone3 = build(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        libc::ENOSYS,
        arch,
    )?;
    for program in [&clone3, &denied] {
        seccompiler::apply_filter_all_threads(program).map_err(|e| {
            start(format!(
                "this kernel lacks seccomp filters, which the sandbox requires: {e}"
            ))
        })?;
    }
    Ok(())
}

/// The rules of the `EPERM` filter, by system call number (an empty list denies the call
/// whatever its arguments).
fn denied_rules(network: bool) -> Result<BTreeMap<i64, Vec<SeccompRule>>, SandboxError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|&nr| (nr, Vec::new())).collect();
    if !network {
        rules.insert(libc::SYS_socket, Vec::new());
    }
    let thread = u64::try_from(libc::CLONE_THREAD).map_err(|e| start(e.to_string()))?;
    // A clone without CLONE_THREAD makes a process; threads keep the flag.
    rules.insert(
        libc::SYS_clone,
        vec![rule(&[(0, SeccompCmpOp::MaskedEq(thread), 0)])?],
    );
    // On another process (a pid other than 0, this one), or a new limit.
    rules.insert(
        libc::SYS_prlimit64,
        vec![
            rule(&[(0, SeccompCmpOp::Ne, 0)])?,
            rule(&[(2, SeccompCmpOp::Ne, 0)])?,
        ],
    );
    // Priorities: of this process only (`PRIO_PROCESS` 0 / `IOPRIO_WHO_PROCESS` 1, who 0);
    // a user's or a group's would reach every process of the host's uid.
    rules.insert(
        libc::SYS_setpriority,
        vec![
            rule(&[(0, SeccompCmpOp::Ne, 0)])?,
            rule(&[(1, SeccompCmpOp::Ne, 0)])?,
        ],
    );
    rules.insert(
        libc::SYS_ioprio_set,
        vec![
            rule(&[(0, SeccompCmpOp::Ne, 1)])?,
            rule(&[(1, SeccompCmpOp::Ne, 0)])?,
        ],
    );
    // A socket pair of a kind other than a stream: a datagram socket can be addressed to
    // any Unix socket on the machine (`sendto` a path), which Landlock does not govern.
    let kind = |k: i32| u64::try_from(k).map_err(|e| start(e.to_string()));
    rules.insert(
        libc::SYS_socketpair,
        [
            libc::SOCK_DGRAM,
            libc::SOCK_RAW,
            libc::SOCK_RDM,
            libc::SOCK_SEQPACKET,
        ]
        .into_iter()
        .map(|k| rule(&[(1, SeccompCmpOp::MaskedEq(0xf), kind(k)?)]))
        .collect::<Result<_, _>>()?,
    );
    memory_rules(&mut rules)?;
    for (nr, arg) in [
        (libc::SYS_sched_setaffinity, 0),
        (libc::SYS_sched_setscheduler, 0),
        (libc::SYS_sched_setparam, 0),
        (libc::SYS_sched_setattr, 0),
    ] {
        rules.insert(nr, vec![rule(&[(arg, SeccompCmpOp::Ne, 0)])?]);
    }
    // The kernel reads an ioctl's request as 32 bits: so does the comparison, or high bits
    // set by the caller would slip past it.
    // Besides the terminal's injections, the inode flags and attributes a file's owner may set
    // on a descriptor opened only to read (`chattr`: Landlock governs device ioctls only).
    rules.insert(
        libc::SYS_ioctl,
        [
            libc::TIOCSTI,
            libc::TIOCLINUX,
            FS_IOC_SETFLAGS,
            FS_IOC32_SETFLAGS,
            FS_IOC_SETVERSION,
            FS_IOC32_SETVERSION,
            FS_IOC_FSSETXATTR,
            FS_IOC_SET_ENCRYPTION_POLICY,
            FS_IOC_ENABLE_VERITY,
        ]
        .into_iter()
        .map(|request| dword_rule(&[(1, request)]))
        .collect::<Result<_, _>>()?,
    );
    Ok(rules)
}

/// The rules on memory no rlimit counts, and on holding files others write.
fn memory_rules(rules: &mut BTreeMap<i64, Vec<SeccompRule>>) -> Result<(), SandboxError> {
    // Anonymous shared memory, which RLIMIT_DATA does not count (`MAP_SHARED` 1 or
    // `MAP_SHARED_VALIDATE` 3, with `MAP_ANONYMOUS`); a mapping of a file stays allowed.
    let anonymous = u64::try_from(libc::MAP_ANONYMOUS).map_err(|e| start(e.to_string()))?;
    // And `MAP_GROWSDOWN`, which the kernel counts as stack, not data, whatever its size.
    let grows_down = u64::try_from(libc::MAP_GROWSDOWN).map_err(|e| start(e.to_string()))?;
    let mut mmap: Vec<SeccompRule> = [1, 3]
        .into_iter()
        .map(|shared| rule(&[(3, SeccompCmpOp::MaskedEq(anonymous | 3), anonymous | shared)]))
        .collect::<Result<_, _>>()?;
    mmap.push(rule(&[(
        3,
        SeccompCmpOp::MaskedEq(grows_down),
        grows_down,
    )])?);
    rules.insert(libc::SYS_mmap, mmap);
    // Socket buffers past the default (`SO_SNDBUF`, `SO_RCVBUF` and their forced forms at
    // `SOL_SOCKET`): kernel memory no rlimit counts, which a stream pair could hoard.
    rules.insert(
        libc::SYS_setsockopt,
        [
            libc::SO_SNDBUF,
            libc::SO_RCVBUF,
            libc::SO_SNDBUFFORCE,
            libc::SO_RCVBUFFORCE,
        ]
        .into_iter()
        .map(|option| {
            let option = u64::try_from(option).map_err(|e| start(e.to_string()))?;
            dword_rule(&[(1, 1), (2, option)])
        })
        .collect::<Result<_, _>>()?,
    );
    // Leases on a file it may only read would hold back every writer outside the sandbox.
    rules.insert(
        libc::SYS_fcntl,
        vec![dword_rule(&[(
            1,
            u64::try_from(libc::F_SETLEASE).map_err(|e| start(e.to_string()))?,
        )])?],
    );
    Ok(())
}

/// A rule matching when every `(argument, value)` is equal on the low 32 bits, as the kernel
/// reads `int` arguments (an `ioctl` request, an `fcntl` command, a socket option).
fn dword_rule(conditions: &[(u8, u64)]) -> Result<SeccompRule, SandboxError> {
    let conditions = conditions
        .iter()
        .map(|(arg, value)| {
            SeccompCondition::new(*arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, *value)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| start(format!("seccomp: {e}")))?;
    SeccompRule::new(conditions).map_err(|e| start(format!("seccomp: {e}")))
}

/// A rule matching when every `(argument, comparison, value)` holds, on full 64-bit
/// arguments (a pid's high bits set count as another pid: denied).
fn rule(conditions: &[(u8, SeccompCmpOp, u64)]) -> Result<SeccompRule, SandboxError> {
    let conditions = conditions
        .iter()
        .map(|(arg, op, value)| {
            SeccompCondition::new(*arg, SeccompCmpArgLen::Qword, op.clone(), *value)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| start(format!("seccomp: {e}")))?;
    SeccompRule::new(conditions).map_err(|e| start(format!("seccomp: {e}")))
}

/// A filter answering `errno` to the calls `rules` match, and allowing the rest.
fn build(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    errno: i32,
    arch: TargetArch,
) -> Result<BpfProgram, SandboxError> {
    let errno = u32::try_from(errno).map_err(|e| start(e.to_string()))?;
    SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno),
        arch,
    )
    .and_then(TryInto::try_into)
    .map_err(|e| start(format!("seccomp: {e}")))
}

/// Refuses a kernel where a filter keyed on system call numbers can be gone around: x86-64
/// kernels that accept x32 calls (the same calls under other numbers).
pub fn check_kernel() -> Result<(), SandboxError> {
    #[cfg(target_arch = "x86_64")]
    {
        const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;
        // SAFETY: `getpid` takes no argument and touches no memory; under the x32 bit a kernel
        // without x32 support answers ENOSYS.
        #[allow(unsafe_code)] // the probe has no safe wrapper: it is a raw system call number
        let answer = unsafe { libc::syscall(libc::SYS_getpid | X32_SYSCALL_BIT) };
        if answer != -1 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS) {
            return Err(start(
                "this kernel accepts x32 system calls, which the sandbox's seccomp filter does not cover (boot with syscall.x32=n)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_compile_for_this_machine_within_the_kernels_size() {
        let arch = TargetArch::try_from(std::env::consts::ARCH).unwrap();
        for network in [false, true] {
            let rules = denied_rules(network).unwrap();
            assert_eq!(rules.contains_key(&libc::SYS_socket), !network);
            let program = build(rules, libc::EPERM, arch).unwrap();
            // BPF_MAXINSNS: a longer filter would be refused when it is installed.
            assert!(program.len() < 4096, "{} instructions", program.len());
        }
    }
}
