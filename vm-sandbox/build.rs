//! Test binaries of this crate embed libpython: point them at the library they were linked
//! against (an rpath), or the loader may pick the system's libpython instead. Record that
//! Python's version and its home (`sys.base_prefix`): an embedded CPython left to find its home
//! itself looks for `python3` on `PATH`, and with another Python of the same version first on
//! `PATH` (Debian's `/usr/bin/python3`) it would load that one's standard library.

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
        let home = config
            .executable()
            .and_then(|python| {
                std::process::Command::new(python)
                    .args(["-c", "import sys; print(sys.base_prefix, end='')"])
                    .output()
                    .ok()
            })
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .unwrap_or_default();
        println!("cargo:rustc-env=REMOTEMEDIA_PYTHON_HOME={home}");
        println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    }
}
