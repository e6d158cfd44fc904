//! The binary with Python nodes from a fixture module (`tests/fixtures/python`, put on
//! `PYTHONPATH`) in the repository's `.venv` (made by `make setup`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// A run that has not ended by then is hung; the guard kills it so CI cannot hang with it.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python")
}

/// Runs `remotemedia-host run MANIFEST` with the fixture module importable; returns stdout.
fn run_python(manifest: &str) -> String {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv");
    assert!(
        venv.join("pyvenv.cfg").is_file(),
        "no virtualenv at {}: run `make setup` first",
        venv.display()
    );
    let cache =
        std::env::temp_dir().join(format!("remotemedia-host-it-{}-cache", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .arg("run")
        .arg(fixtures().join(manifest))
        .arg("--python-env")
        .arg(&venv)
        .env_remove("VIRTUAL_ENV")
        .env("PYTHONPATH", fixtures())
        .env("REMOTEMEDIA_CACHE_DIR", &cache)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    let deadline = Instant::now() + HANG_GUARD;
    while child
        .try_wait()
        .expect("the host can be waited for")
        .is_none()
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("remotemedia-host run {manifest} did not finish within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child
        .wait_with_output()
        .expect("the host's output is readable");
    let mut stderr = String::new();
    let _ = output.stderr.as_slice().read_to_string(&mut stderr);
    assert!(
        output.status.success(),
        "{:?}\nstderr: {stderr}",
        output.status
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// Python work is not serialized on one thread (DESIGN §7): the two branches of a fan-out,
/// each a Python node that sleeps (releasing the interpreter lock), sleep at the same time.
/// The evidence is when the nodes themselves say they slept.
#[test]
fn fan_out_branches_of_sleeping_python_nodes_overlap_in_time() {
    let out = run_python("fan-out-naps.json");
    let naps: Vec<Json> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(naps.len(), 4, "{out}");
    let slept = |node: &str, item: i64| {
        let nap = naps
            .iter()
            .find(|n| n["node"] == node && n["item"] == item)
            .unwrap_or_else(|| panic!("no nap of {node} on {item} in {out}"));
        (nap["start"].as_f64().unwrap(), nap["end"].as_f64().unwrap())
    };
    let (a, b) = (slept("a", 0), slept("b", 0));
    // Each branch started its first item before the other had finished it.
    assert!(b.0 < a.1 && a.0 < b.1, "a slept over {a:?}, b over {b:?}");
}

/// Node code blocked in a C call (`time.sleep(1000)`) cannot be interrupted, so a stop
/// signal waits for it; a second one ends the process at once, still with exit 130 and an
/// error line, instead of leaving only SIGKILL.
#[test]
fn a_second_stop_signal_quits_a_run_whose_node_is_blocked() {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv");
    let child = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .arg("run")
        .arg(fixtures().join("stuck-nap.json"))
        .arg("--python-env")
        .arg(&venv)
        .env_remove("VIRTUAL_ENV")
        .env("PYTHONPATH", fixtures())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    // Time for the node to start sleeping; were it not yet, the first signal alone would end
    // the run, and the exit is the same.
    std::thread::sleep(Duration::from_secs(1));
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    };
    signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    signal("INT");
    let started = Instant::now();
    let mut child = child;
    while child.try_wait().expect("waitable").is_none() {
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("a second signal did not end the run within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output readable");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("error: pipeline cancelled"), "{stderr}");
}
