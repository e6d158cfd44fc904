//! The host binary embeds libpython: give it (and the test binaries) an rpath to the library
//! it was linked against, or the loader may silently pick the system's libpython; and record
//! which Pythons the build embeds, for `--version`.

fn main() {
    let mut embedded: Vec<String> = Vec::new();
    #[cfg(feature = "cpython")]
    {
        pyo3_build_config::add_libpython_rpath_link_args();
        let config = pyo3_build_config::get();
        let version = config.version();
        let lib = config
            .lib_dir()
            .map(|d| format!(" from {d}"))
            .unwrap_or_default();
        embedded.push(format!("CPython {}.{}{lib}", version.major, version.minor));
    }
    #[cfg(feature = "rustpython")]
    embedded.push("RustPython 0.6 (--runtime rustpython)".into());
    let embedded = if embedded.is_empty() {
        "no Python: built without the cpython and rustpython features".to_owned()
    } else {
        embedded.join(" and ")
    };
    println!("cargo:rustc-env=REMOTEMEDIA_EMBEDDED_PYTHON={embedded}");
}
