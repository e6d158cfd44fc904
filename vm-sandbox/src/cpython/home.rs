//! Starting CPython with its own home, when the host owns the process.
//!
//! Left to itself, an embedded CPython finds its home (where the standard library is) by
//! looking for `python3` on `PATH`: with another Python of the same version first there
//! (Debian's `/usr/bin/python3` under cron or systemd), it loads that one's standard library
//! into the libpython the host linked, and fails. So the binary starts CPython with the home
//! of the interpreter it was built against, through CPython's own configuration API: no
//! `PYTHONHOME` in the environment, which node code's subprocesses would inherit.

use pyo3::ffi;

/// `sys.base_prefix` of the Python this crate was built against ("" if it could not be read,
/// which leaves CPython to find its home as it would).
const LINKED_HOME: &str = env!("REMOTEMEDIA_PYTHON_HOME");

/// Initializes CPython with the linked interpreter's home unless it runs already, then
/// releases the interpreter lock (as `Python::initialize` does). Honours `PYTHONPATH` and the
/// other `PYTHON*` variables; installs no signal handlers (the host owns signals); imports no
/// `site` (the environment's paths are laid out afterwards, for the selected environment).
///
/// # Errors
/// CPython's initialization failed; the message says why.
pub fn initialize_with_home() -> Result<(), String> {
    if LINKED_HOME.is_empty() {
        pyo3::Python::initialize();
        return Ok(());
    }
    let home = std::ffi::CString::new(LINKED_HOME).map_err(|e| e.to_string())?;
    // SAFETY: CPython's documented initialization sequence (PEP 587), run once per process on
    // the interpreter thread before any other Python call (`Py_IsInitialized` guards a second
    // start after a shutdown, as `Python::initialize` does); the config is initialized before
    // use and cleared after; `home` outlives the call that copies it.
    #[allow(unsafe_code)] // the one place the host configures CPython itself; see SAFETY
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return Ok(());
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        // `site` runs later, for the selected environment (`prepare_path`): a virtualenv's
        // own python never runs the base interpreter's `.pth` files.
        config.site_import = 0;
        let home_field = std::ptr::addr_of_mut!(config.home);
        let status = ffi::PyConfig_SetBytesString(&raw mut config, home_field, home.as_ptr());
        let status = if ffi::PyStatus_Exception(status) == 0 {
            ffi::Py_InitializeFromConfig(&raw const config)
        } else {
            status
        };
        ffi::PyConfig_Clear(&raw mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            let message = if status.err_msg.is_null() {
                "unknown error".to_owned()
            } else {
                std::ffi::CStr::from_ptr(status.err_msg)
                    .to_string_lossy()
                    .into_owned()
            };
            return Err(format!(
                "cannot initialize Python with home {LINKED_HOME}: {message}"
            ));
        }
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

/// Raises `class` in the Python thread `thread` at its next instruction
/// (`PyThreadState_SetAsyncExc`): how a busy pure-Python loop is stopped from another thread.
/// Code blocked in a C call (`time.sleep`) sees it when that call returns.
pub fn interrupt_thread(thread: u64, class: &pyo3::Bound<'_, pyo3::PyAny>) {
    // CPython declares the id as a C long; the thread ident's bits, as `_thread` gave them.
    let id = std::ffi::c_long::from_ne_bytes(thread.to_ne_bytes());
    // SAFETY: called with the interpreter lock held (`class` is a bound object); the API takes
    // a thread id and a borrowed exception class, and only sets a flag that thread checks.
    #[allow(unsafe_code)] // CPython's documented way to interrupt another thread
    unsafe {
        ffi::PyThreadState_SetAsyncExc(id, class.as_ptr());
    }
}
