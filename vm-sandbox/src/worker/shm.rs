//! Shared memory between the host and a worker process.
//!
//! - [`Segment`]: the media payloads of one message, in a memory file (`memfd`) its writer
//!   fills, unmaps and seals against writing and resizing before it sends the descriptor. The
//!   reader maps it read-only ([`Segment::map`]) and its buffers point into that mapping
//!   ([`Shared`]), which lives as long as one of them does. So a payload is copied once, into
//!   the segment, and read where it lies on the other side.
//! - [`Board`]: one page both processes map writable, where the worker's driver notes which
//!   node of each stage runs, for the host to read after the worker died.
//!
//! # Safety
//! The worker module's one exception to `unsafe_code = "deny"`: mapping and unmapping memory,
//! and reading it. A segment's reader checks that the file is sealed against writing and
//! shrinking before it maps it, so the bytes behind a [`Shared`] cannot change or vanish while
//! the mapping lives; the board is only read and written as whole `u64` words, with volatile
//! accesses, since the other process writes it.
#![allow(unsafe_code)]

use std::any::Any;
use std::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};

use crate::media::Storage;

/// A mapping of a memory file, unmapped when dropped.
struct Mapping {
    ptr: NonNull<c_void>,
    len: usize,
}

// SAFETY: a mapping is plain memory; `Mapping` hands out shared reads only (a segment's is
// sealed read-only) or volatile word accesses (the board).
unsafe impl Send for Mapping {}
// SAFETY: as for Send.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(fd: &OwnedFd, len: usize, writable: bool) -> io::Result<Mapping> {
        let prot = if writable {
            ProtFlags::READ | ProtFlags::WRITE
        } else {
            ProtFlags::READ
        };
        // SAFETY: a fresh mapping at an address the kernel picks aliases no Rust object.
        let ptr =
            unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, prot, MapFlags::SHARED, fd, 0)? };
        NonNull::new(ptr)
            .map(|ptr| Mapping { ptr, len })
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is mapped while `self` lives; a segment's file is sealed
        // against writing (checked in `Segment::map`), so the bytes do not change.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `Mapping::new` with this length, and no reference
        // into it outlives `self` (`Shared` holds the `Arc` it borrows from).
        if let Err(error) = unsafe { rustix::mm::munmap(self.ptr.as_ptr(), self.len) } {
            tracing::warn!("cannot unmap shared memory: {error}");
        }
    }
}

/// The media payloads of one message.
pub struct Segment;

/// Seals that make a segment immutable for its readers.
const SEALED: SealFlags = SealFlags::WRITE
    .union(SealFlags::SHRINK)
    .union(SealFlags::GROW)
    .union(SealFlags::SEAL);

impl Segment {
    /// A sealed memory file holding `parts` one after the other; returns it for sending.
    ///
    /// # Errors
    /// The memory file cannot be made, sized, mapped or sealed (no memory, a limit).
    pub fn write<'a>(total: usize, parts: impl Iterator<Item = &'a [u8]>) -> io::Result<OwnedFd> {
        let fd = rustix::fs::memfd_create(
            "remotemedia-media",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        rustix::fs::ftruncate(&fd, total as u64)?;
        if total > 0 {
            let map = Mapping::new(&fd, total, true)?;
            let mut at = 0;
            for part in parts {
                let end = at + part.len();
                if end > total {
                    return Err(io::Error::other("segment parts exceed its size"));
                }
                // SAFETY: `at..end` lies inside the writable mapping (checked above), which
                // nothing else references yet.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        part.as_ptr(),
                        map.ptr.as_ptr().cast::<u8>().add(at),
                        part.len(),
                    );
                }
                at = end;
            }
            drop(map); // no writable mapping may exist when the write seal is added
        }
        rustix::fs::fcntl_add_seals(&fd, SEALED)?;
        Ok(fd)
    }

    /// Maps a received segment read-only, after checking that it is sealed and `len` long.
    ///
    /// # Errors
    /// The file is not sealed against writing and resizing, has another size, or cannot be
    /// mapped.
    pub fn map(fd: &OwnedFd, len: usize) -> io::Result<SegmentMap> {
        let seals = rustix::fs::fcntl_get_seals(fd)?;
        if !seals.contains(SealFlags::WRITE | SealFlags::SHRINK) {
            return Err(io::Error::other("a media segment that is not sealed"));
        }
        let size = rustix::fs::fstat(fd)?.st_size;
        if u64::try_from(size).ok() != Some(len as u64) {
            return Err(io::Error::other(format!(
                "a media segment of {size} bytes where {len} were announced"
            )));
        }
        if len == 0 {
            return Ok(SegmentMap(None));
        }
        Ok(SegmentMap(Some(Arc::new(Mapping::new(fd, len, false)?))))
    }
}

/// A received segment, mapped.
#[derive(Clone)]
pub struct SegmentMap(Option<Arc<Mapping>>);

impl SegmentMap {
    /// The bytes `offset..offset + len` as a buffer's storage, or `None` if out of bounds.
    pub fn slice(&self, offset: usize, len: usize) -> Option<Shared> {
        let end = offset.checked_add(len)?;
        match &self.0 {
            Some(map) if end <= map.len => Some(Shared {
                map: Arc::clone(map),
                offset,
                len,
            }),
            None if end == 0 => Some(Shared {
                map: Arc::new(Mapping {
                    ptr: NonNull::dangling(),
                    len: 0,
                }),
                offset: 0,
                len: 0,
            }),
            _ => None,
        }
    }
}

/// A payload in a mapped segment: the storage of a [`crate::Buffer`].
pub struct Shared {
    map: Arc<Mapping>,
    offset: usize,
    len: usize,
}

impl Storage for Shared {
    fn bytes(&self) -> &[u8] {
        &self.map.bytes()[self.offset..self.offset + self.len]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Words per board: a slot per stage (stage id modulo this).
pub const BOARD_SLOTS: usize = 512;

/// The page where a worker's driver notes, per stage, which node's code runs (index + 1, or
/// 0 when none does).
pub struct Board {
    fd: OwnedFd,
    map: Mapping,
}

impl Board {
    /// A new board, all zeros.
    ///
    /// # Errors
    /// The memory file cannot be made or mapped.
    pub fn create() -> io::Result<Board> {
        let fd = rustix::fs::memfd_create(
            "remotemedia-board",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        let len = BOARD_SLOTS * 8;
        rustix::fs::ftruncate(&fd, len as u64)?;
        // Sealed at its size before anyone maps it: node code holding the worker's copy of
        // the descriptor must not shrink it under the host's mapping (a SIGBUS in the host).
        rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)?;
        let map = Mapping::new(&fd, len, true)?;
        Ok(Board { fd, map })
    }

    /// The memory file, to send to the worker.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// What the slot of `stage` says: the index + 1 of the node whose code runs, or 0.
    pub fn read(&self, stage: u64) -> u64 {
        let slot = usize::try_from(stage).unwrap_or(0) % BOARD_SLOTS;
        // SAFETY: the slot is a whole aligned word inside the mapping (page-aligned start,
        // BOARD_SLOTS words); the worker writes it concurrently, hence the volatile read.
        unsafe {
            self.map
                .ptr
                .as_ptr()
                .cast::<u64>()
                .add(slot)
                .read_volatile()
        }
    }
}
