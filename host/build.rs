//! The host binary embeds libpython: give it (and the test binaries) an rpath to the library
//! it was linked against, or the loader may silently pick the system's libpython; and record
//! which Python that is, for `--version`.

fn main() {
    #[cfg(feature = "cpython")]
    {
        pyo3_build_config::add_libpython_rpath_link_args();
        let config = pyo3_build_config::get();
        let version = config.version();
        let lib = config
            .lib_dir()
            .map(|d| format!(" from {d}"))
            .unwrap_or_default();
        println!(
            "cargo:rustc-env=REMOTEMEDIA_EMBEDDED_PYTHON=CPython {}.{}{lib}",
            version.major, version.minor
        );
    }
    #[cfg(not(feature = "cpython"))]
    println!(
        "cargo:rustc-env=REMOTEMEDIA_EMBEDDED_PYTHON=no Python: built without the cpython feature"
    );
}
