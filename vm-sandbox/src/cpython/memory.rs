//! Media memory shared with Python, both ways, without copying (DESIGN §4).
//!
//! - Python to Rust: [`lend`] keeps a read-only `memoryview` of the object (a numpy array, a
//!   `bytes`) as the [`Storage`] of a [`Buffer`]; the view holds the object's buffer export,
//!   so the memory can neither be freed nor resized while Rust uses it. Dropping the view
//!   needs no interpreter lock (PyO3 defers the decref).
//! - Rust to Python: [`SharedBuffer`] exposes a [`Buffer`] through the buffer protocol,
//!   read-only, so `numpy.frombuffer` makes an array over the very same memory.
//!
//! # Safety
//! This is the crate's one exception to `unsafe_code = "deny"` besides `home.rs`, scoped to
//! three things: reading a lent buffer's bytes as a slice, declaring that lent memory may be
//! shared across threads, and filling a `Py_buffer` for Python. The invariant behind all three:
//! a [`Buffer`]'s bytes are immutable and live as long as its storage. For Rust-owned memory
//! the type system gives that. For lent memory, the held view keeps it alive; that nobody
//! writes it is the one contract a caller accepts with zero copy: an array handed to a
//! pipeline must not be written while the pipeline may still read it (the nodes themselves
//! receive read-only arrays).
#![allow(unsafe_code)]

use std::any::Any;
use std::ffi::c_int;

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyMemoryView;

use crate::media::{Buffer, Storage};

/// Memory a Python object lends: its read-only view, and where the bytes are.
pub struct Lent {
    view: Py<PyMemoryView>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: the bytes behind `ptr` are immutable and kept alive by `view` (see the module's
// safety note); `Py<PyMemoryView>` itself is Send + Sync, and dropping it off the interpreter
// lock is deferred by PyO3.
unsafe impl Send for Lent {}
// SAFETY: as for Send: shared access only ever reads.
unsafe impl Sync for Lent {}

impl Storage for Lent {
    fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr..ptr + len` is the view's buffer, alive and unchanged while `view` is
        // held (module safety note).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Lent {
    /// The object whose memory this is (the `bytes` or the array the view was taken of).
    pub fn object<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.view.bind(py).getattr("obj").ok()
    }
}

/// What [`lend`] found out about the object's memory.
pub struct Layout {
    /// The element format, as the buffer protocol gives it (`"f"`, `">h"`, `"B"`).
    pub format: String,
    /// Bytes per element.
    pub item_size: usize,
    /// Length of each dimension.
    pub shape: Vec<usize>,
}

/// Borrows the memory of `obj` (any C-contiguous buffer exporter) into a [`Buffer`], with its
/// layout. Returns `None` when the memory is not C-contiguous (the caller copies it once).
pub fn lend(obj: &Bound<'_, PyAny>) -> PyResult<Option<(Buffer, Layout)>> {
    let py = obj.py();
    let view = PyMemoryView::from(obj)?;
    let buffer = PyUntypedBuffer::get(view.as_any())?;
    if !buffer.is_c_contiguous() {
        buffer.release(py);
        return Ok(None);
    }
    let layout = Layout {
        format: buffer.format().to_string_lossy().into_owned(),
        item_size: buffer.item_size(),
        shape: buffer.shape().to_vec(),
    };
    let (ptr, len) = (
        buffer.buf_ptr().cast::<u8>().cast_const(),
        buffer.len_bytes(),
    );
    // The view's own export of `obj` stays; this second one was only for reading the layout.
    buffer.release(py);
    let lent = Lent {
        view: view.unbind(),
        ptr,
        len,
    };
    Ok(Some((Buffer::new(lent), layout)))
}

/// A [`Buffer`] as a Python object with the buffer protocol: read-only bytes, 1-d.
#[pyclass(module = "remotemedia_runtime", frozen)]
pub struct SharedBuffer(Buffer);

impl SharedBuffer {
    /// Wraps `buffer` for Python.
    pub fn new(buffer: Buffer) -> Self {
        SharedBuffer(buffer)
    }
}

#[pymethods]
impl SharedBuffer {
    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// SAFETY: called by Python with a `view` to fill; `PyBuffer_FillInfo` fills it with the
    /// buffer's pointer and length, read-only, and takes a reference to `slf`, which keeps the
    /// memory alive until the view is released.
    #[allow(clippy::needless_pass_by_value)] // the slot's signature
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
            return Err(PyBufferError::new_err(
                "media memory shared between nodes is read-only",
            ));
        }
        let bytes = slf.get().0.bytes();
        let len = ffi::Py_ssize_t::try_from(bytes.len())
            .map_err(|_| PyBufferError::new_err("buffer too large"))?;
        // SAFETY: `view` is a valid `Py_buffer` to fill (the protocol's contract); the pointer
        // is valid for `len` bytes while `slf`, referenced by the view, lives; readonly = 1.
        let status = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                bytes.as_ptr().cast_mut().cast(),
                len,
                1,
                flags,
            )
        };
        if status == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }
}
