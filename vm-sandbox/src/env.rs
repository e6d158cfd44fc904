//! Which Python environment Python nodes see: the selected virtualenv's packages (plugins
//! included), whatever `python3` on `PATH` happens to be.

use std::path::{Path, PathBuf};

use crate::error::SandboxError;

/// A selected environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonEnv {
    /// The virtualenv, if one was selected.
    pub venv: Option<PathBuf>,
    /// Its `site-packages`, put at the front of `sys.path` (with its `.pth` files processed).
    pub site_packages: Option<PathBuf>,
    /// Whether the base interpreter's own site-packages stay visible (`pyvenv.cfg`'s
    /// `include-system-site-packages`, or no virtualenv at all).
    pub system_site_packages: bool,
    /// Whether the host owns the process (the `remotemedia-host` binary): then the interpreter
    /// is set up for it (`sys.path`, stdout to stderr, SIGINT left to the host). `false` when
    /// the host runs inside a Python program (the native module), whose process state is left
    /// as the program set it.
    pub owns_process: bool,
}

impl PythonEnv {
    /// The environment of the interpreter itself, without a virtualenv.
    pub fn base() -> Self {
        PythonEnv {
            venv: None,
            site_packages: None,
            system_site_packages: true,
            owns_process: true,
        }
    }

    /// The interpreter of the Python program the host runs inside (the native module): its
    /// `sys.path`, streams and signal handlers stay as they are.
    pub fn current_program() -> Self {
        PythonEnv {
            venv: None,
            site_packages: None,
            system_site_packages: true,
            owns_process: false,
        }
    }

    /// Picks the environment: `explicit` (`--python-env`), else the active virtualenv
    /// (`$VIRTUAL_ENV`), else the virtualenv the running program is installed in (a host in
    /// `.venv/bin` uses `.venv`), else the interpreter's own. `linked` is the `major.minor`
    /// of the Python the host embeds; a virtualenv of another version is refused.
    ///
    /// # Errors
    /// The directory is not a virtualenv, or is one of another Python version.
    pub fn select(explicit: Option<&Path>, linked: &str) -> Result<Self, SandboxError> {
        if let Some(dir) = explicit {
            return Self::venv(dir, linked, "--python-env");
        }
        if let Some(dir) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
            return Self::venv(Path::new(&dir), linked, "$VIRTUAL_ENV");
        }
        let home = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.to_owned()));
        match home {
            Some(dir) if dir.join("pyvenv.cfg").is_file() => {
                Self::venv(&dir, linked, "the virtualenv of this program")
            }
            _ => Ok(Self::base()),
        }
    }

    fn venv(dir: &Path, linked: &str, source: &str) -> Result<Self, SandboxError> {
        let cfg_path = dir.join("pyvenv.cfg");
        let cfg = std::fs::read_to_string(&cfg_path).map_err(|e| {
            SandboxError::Env(format!(
                "{source}: {} is not a virtualenv ({}: {e})",
                dir.display(),
                cfg_path.display()
            ))
        })?;
        let setting = |key: &str| {
            cfg.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_owned())
        };
        let version = setting("version")
            .or_else(|| setting("version_info"))
            .unwrap_or_default();
        let major_minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
        if major_minor != linked {
            return Err(SandboxError::Env(format!(
                "{source}: the virtualenv {} is for Python {version}, but this host embeds Python {linked}; \
                 create it with python{linked} -m venv, or build the host against that Python (PYO3_PYTHON)",
                dir.display()
            )));
        }
        let site_packages = dir
            .join("lib")
            .join(format!("python{linked}"))
            .join("site-packages");
        if !site_packages.is_dir() {
            return Err(SandboxError::Env(format!(
                "{source}: {} has no {}",
                dir.display(),
                site_packages.display()
            )));
        }
        Ok(PythonEnv {
            venv: Some(dir.to_owned()),
            site_packages: Some(site_packages),
            system_site_packages: setting("include-system-site-packages")
                .is_some_and(|v| v == "true"),
            owns_process: true,
        })
    }
}

#[cfg(feature = "rustpython")]
impl PythonEnv {
    /// The directories a RustPython VM for this environment puts on `sys.path`: those the
    /// environment's CPython would see, without CPython's standard library (the VM has its
    /// own, frozen into the binary). For the host's own process: `PYTHONPATH`, the
    /// virtualenv's site-packages, and the base interpreter's when the virtualenv includes
    /// them; inside a Python program (the native module): that program's `sys.path`.
    pub fn rustpython_paths(&self) -> crate::rustpython::Paths {
        let mut entries: Vec<String> = Vec::new();
        if self.owns_process {
            if let Some(path) = std::env::var_os("PYTHONPATH") {
                entries.extend(
                    std::env::split_paths(&path)
                        .filter(|p| !p.as_os_str().is_empty())
                        .map(|p| p.display().to_string()),
                );
            }
            entries.extend(self.site_packages.iter().map(|p| p.display().to_string()));
            #[cfg(feature = "cpython")]
            if self.system_site_packages {
                entries.push(crate::cpython::base_site_packages());
            }
        } else {
            #[cfg(feature = "cpython")]
            entries.extend(crate::cpython::program_path());
        }
        crate::rustpython::Paths {
            entries,
            owns_process: self.owns_process,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_venv(name: &str, version: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rm-venv-{}-{name}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib/python3.11/site-packages")).unwrap();
        std::fs::write(
            dir.join("pyvenv.cfg"),
            format!("home = /usr/bin\nversion = {version}\ninclude-system-site-packages = false\n"),
        )
        .unwrap();
        dir
    }

    #[test]
    fn a_virtualenv_of_the_linked_version_is_selected() {
        let dir = fake_venv("ok", "3.11.7");
        let env = PythonEnv::select(Some(&dir), "3.11").unwrap();
        assert_eq!(
            env.site_packages,
            Some(dir.join("lib/python3.11/site-packages"))
        );
        assert!(!env.system_site_packages);
    }

    #[test]
    fn a_virtualenv_of_another_version_is_refused_clearly() {
        let dir = fake_venv("other", "3.12.1");
        let err = PythonEnv::select(Some(&dir), "3.11")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is for Python 3.12.1, but this host embeds Python 3.11"),
            "{err}"
        );
    }

    #[test]
    fn a_directory_without_pyvenv_cfg_is_not_a_virtualenv() {
        let err = PythonEnv::select(Some(Path::new("/nonexistent/venv")), "3.11")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--python-env: /nonexistent/venv is not a virtualenv"),
            "{err}"
        );
    }
}
