//! Test binaries of this crate embed libpython: point them at the library they were linked
//! against (an rpath), or the loader may pick the system's libpython instead.

fn main() {
    #[cfg(feature = "cpython")]
    {
        pyo3_build_config::add_libpython_rpath_link_args();
        let config = pyo3_build_config::get();
        let version = config.version();
        println!(
            "cargo:rustc-env=REMOTEMEDIA_PYTHON_VERSION={}.{}",
            version.major, version.minor
        );
    }
}
