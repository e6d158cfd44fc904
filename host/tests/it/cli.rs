//! The `remotemedia-host` binary against DESIGN §8: output lines, exit statuses, error lines.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value as Json, json};

/// A run that has not ended by then is hung; the guard kills it so CI cannot hang with it.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// Runs the host binary. `stdin: Some(text)` pipes `text` and closes stdin; `None` gives it a
/// pipe that is never written to nor closed while it runs, so a run that reads stdin without
/// being asked to hangs and is killed by the guard, failing the test.
fn host(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .args(args)
        // These tests are about the built-in nodes: no virtualenv's plugins may join in.
        .env_remove("VIRTUAL_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    // Held until the host has exited when there is no text to send, so stdin stays open.
    let mut silent_stdin = child.stdin.take();
    if let Some(text) = stdin {
        let mut pipe = silent_stdin.take().expect("stdin is piped");
        let text = text.to_owned();
        // Ignore write errors: a host that refuses the run exits without reading its input.
        thread::spawn(move || drop(pipe.write_all(text.as_bytes())));
    }
    let mut stdout_pipe = child.stdout.take().expect("stdout is piped");
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stderr_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        stderr_pipe
            .read_to_end(&mut buf)
            .expect("stderr is readable");
        buf
    });
    let child = Arc::new(Mutex::new(child));
    let (done, finished) = mpsc::channel::<()>();
    let guard = {
        let child = Arc::clone(&child);
        thread::spawn(move || {
            let hung = matches!(
                finished.recv_timeout(HANG_GUARD),
                Err(RecvTimeoutError::Timeout)
            );
            if hung {
                let _ = child.lock().expect("no holder panicked").kill();
            }
            hung
        })
    };
    let mut stdout = Vec::new();
    stdout_pipe
        .read_to_end(&mut stdout)
        .expect("stdout is readable");
    let stderr = stderr_reader.join().expect("the stderr reader ends");
    let status = child
        .lock()
        .expect("no holder panicked")
        .wait()
        .expect("the host can be waited for");
    let _ = done.send(()); // the guard may already have given up on it
    let hung = guard.join().expect("the guard ends");
    drop(silent_stdin);
    assert!(
        !hung,
        "remotemedia-host {args:?} did not finish within {HANG_GUARD:?} and was killed"
    );
    Output {
        status,
        stdout,
        stderr,
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A file under the temp dir, unique to this process and test, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn path(test: &str, name: &str) -> Self {
        let file = format!("remotemedia-host-it-{}-{test}-{name}", std::process::id());
        TempFile(std::env::temp_dir().join(file))
    }

    fn with_text(test: &str, name: &str, contents: &str) -> Self {
        let file = TempFile::path(test, name);
        std::fs::write(&file.0, contents).expect("the temp dir is writable");
        file
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn assert_success(out: &Output, expected_stdout: &str) {
    assert!(out.status.success(), "{out:?}\nstderr: {}", stderr(out));
    assert_eq!(stdout(out), expected_stdout);
}

#[test]
fn source_pipeline_prints_each_output_as_a_json_line() {
    let out = host(&["run", &fixture("valid-source-range.json")], None);
    assert_success(&out, "1\n3\n5\n7\n9\n");
}

#[test]
fn input_file_items_flow_through_the_chain() {
    let input = TempFile::with_text("input_file", "in.jsonl", "1\n2.5\n\n-3\n");
    let out = host(
        &[
            "run",
            &fixture("valid-linear-chain.json"),
            "--input",
            input.arg(),
        ],
        None,
    );
    assert_success(&out, "3\n6.0\n-5\n");
}

#[test]
fn input_dash_reads_items_from_stdin() {
    let manifest = fixture("valid-linear-chain.toml");
    let out = host(&["run", &manifest, "--input", "-"], Some("1\n2\n3\n"));
    assert_success(&out, "3\n5\n7\n");
}

#[test]
fn tagged_output_names_the_sink_of_each_item() {
    let manifest = fixture("valid-linear-chain.json");
    let out = host(
        &["run", &manifest, "--input", "-", "--tagged"],
        Some("1\n2\n"),
    );
    assert_success(
        &out,
        "{\"node\":\"add\",\"value\":3}\n{\"node\":\"add\",\"value\":5}\n",
    );
}

#[test]
fn without_input_stdin_is_never_read() {
    // `host` keeps stdin open and silent: reading it would hang until the guard kills the run.
    // A chain whose root is a transform: without input it gets an empty stream, not stdin.
    let out = host(&["run", &fixture("valid-linear-chain.json")], None);
    assert_success(&out, "");
}

#[test]
fn metrics_file_holds_per_node_counts() {
    let metrics = TempFile::path("metrics_file", "metrics.json");
    let manifest = fixture("valid-source-range.json");
    let out = host(&["run", &manifest, "--metrics", metrics.arg()], None);
    assert_success(&out, "1\n3\n5\n7\n9\n");
    let report: Json = serde_json::from_str(&std::fs::read_to_string(&metrics.0).unwrap()).unwrap();
    let nodes = report["nodes"].as_array().unwrap();
    let counts: Vec<(&str, u64, u64)> = nodes
        .iter()
        .map(|n| {
            for figure in ["busy_ms", "blocked_ms"] {
                assert!(n[figure].as_f64().unwrap() >= 0.0, "{figure} in {n}");
            }
            let count = |key: &str| n[key].as_u64().unwrap();
            (
                n["id"].as_str().unwrap(),
                count("items_in"),
                count("items_out"),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![("numbers", 0, 5), ("mul", 5, 5), ("add", 5, 5)]
    );
}

#[test]
fn metrics_dash_prints_a_table_on_stderr() {
    let manifest = fixture("valid-source-range.json");
    let out = host(&["run", &manifest, "--metrics", "-"], None);
    assert_success(&out, "1\n3\n5\n7\n9\n");
    let err = stderr(&out);
    let header = err.lines().next().unwrap();
    for column in ["node", "items in", "items out", "busy ms", "blocked ms"] {
        assert!(header.contains(column), "{column:?} missing from:\n{err}");
    }
    let rows: Vec<Vec<&str>> = err
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(4).collect())
        .filter(|row: &Vec<&str>| row.len() == 4 && row[1].starts_with('('))
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["numbers", "(Range)", "0", "5"],
            vec!["mul", "(Multiply)", "5", "5"],
            vec!["add", "(Add)", "5", "5"],
        ],
        "{err}"
    );
}

#[test]
fn invalid_manifest_exits_2_and_lists_every_problem() {
    let manifest = fixture("invalid-dangling-connection.json");
    for command in ["run", "validate", "graph"] {
        let out = host(&[command, &manifest], None);
        assert_eq!(out.status.code(), Some(2), "{command}: {out:?}");
        assert_eq!(stdout(&out), "", "{command}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: invalid manifest {manifest}: 2 problems\n\
                 \x20 - connections[0].to: unknown node \"mull\"\n\
                 \x20     help: did you mean \"mul\"?\n\
                 \x20 - connections[1].from: unknown node \"nowhere\"\n\
                 \x20     help: node ids: mul, src\n"
            ),
            "{command}"
        );
    }
}

#[test]
fn usage_errors_exit_2_with_an_error_line() {
    let missing = TempFile::path("usage_errors", "missing.jsonl");
    let chain = fixture("valid-linear-chain.json");
    let source = fixture("valid-source-range.json");
    let no_manifest = TempFile::path("usage_errors", "missing.json");
    // (arguments, stdin, texts the first stderr line must contain)
    let cases: &[(&[&str], Option<&str>, &[&str])] = &[
        (&["run", no_manifest.arg()], None, &["cannot read manifest"]),
        (
            &["validate", no_manifest.arg()],
            None,
            &["cannot read manifest"],
        ),
        (
            &["run", &chain, "--input", missing.arg()],
            None,
            &["cannot read input"],
        ),
        (
            &["run", &source, "--input", "-"],
            Some("1\n"),
            &["no node would receive them"],
        ),
        (
            &["run", &chain, "--input", "-"],
            Some("1\n{oops\n3\n"),
            &["input line 2: not valid JSON: key must be a string (column 2)"],
        ),
        (
            &[
                "run",
                &source,
                "--runtime",
                "rustpython",
                "--isolation",
                "process",
            ],
            None,
            // The flags are the manifest's fields: its problem line says which
            // (tests/test_rustpython.py checks it).
            &["invalid manifest"],
        ),
        (
            &["run", &source, "--python-env", "venv"],
            None,
            &["--python-env", "venv is not a virtualenv"],
        ),
        (
            &["run", &source, "--bogus"],
            None,
            &["unexpected argument '--bogus'"],
        ),
    ];
    let mut failures = Vec::new();
    for &(args, stdin, wanted) in cases {
        let out = host(args, stdin);
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or_default();
        let named = wanted.iter().all(|w| first.contains(w));
        if out.status.code() != Some(2) || !first.starts_with("error: ") || !named {
            failures.push(format!(
                "{args:?}: exit {:?}, stderr:\n{err}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn node_failure_exits_1_naming_node_and_error_type() {
    let manifest = fixture("valid-linear-chain.json");
    let out = host(&["run", &manifest, "--input", "-"], Some("\"a\"\n"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.starts_with("error: node \"mul\" (Multiply) failed: TypeError: "),
        "{err}"
    );
}

#[test]
fn outputs_before_a_failing_item_are_still_written() {
    let manifest = fixture("valid-linear-chain.json");
    let out = host(
        &["run", &manifest, "--input", "-"],
        Some("1\n2\n\"x\"\n4\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        stdout(&out),
        "3\n5\n",
        "items before the failure reach the output"
    );
}

/// Starts an endless source pipeline and waits for its first output line.
fn endless_run(
    test: &str,
) -> (
    TempFile,
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
) {
    use std::io::BufRead;
    let manifest = TempFile::with_text(
        test,
        "endless.json",
        r#"{"version": "v1", "nodes": [{"id": "n", "node_type": "Range", "params": {"stop": 9223372036854775807}}]}"#,
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .args(["run", manifest.arg()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut first = String::new();
    out.read_line(&mut first).expect("stdout is readable");
    assert_eq!(first, "0\n");
    (manifest, child, out)
}

/// Waits for `child`, killing it (and failing) if it outlives the hang guard.
fn wait_or_kill(mut child: std::process::Child) -> Output {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    while child
        .try_wait()
        .expect("the host can be waited for")
        .is_none()
    {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the host did not stop within {HANG_GUARD:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child
        .wait_with_output()
        .expect("the host's output is readable")
}

#[test]
fn interrupt_cancels_the_run_with_exit_130() {
    stop_signal_cancels_the_run("INT");
}

#[test]
fn sigterm_and_sighup_cancel_the_run_like_an_interrupt() {
    stop_signal_cancels_the_run("TERM");
    stop_signal_cancels_the_run("HUP");
}

fn stop_signal_cancels_the_run(signal: &str) {
    let (_manifest, child, out) = endless_run(&format!("signal-{signal}"));
    let signalled = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status();
    assert!(signalled.expect("kill runs").success());
    // Keep reading so the host is never blocked on a full pipe while it stops.
    let drain = thread::spawn(move || std::io::copy(&mut { out }, &mut std::io::sink()));
    let output = wait_or_kill(child);
    drain
        .join()
        .expect("the drain ends")
        .expect("stdout is readable");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert_eq!(stderr(&output), "error: pipeline cancelled\n");
}

#[test]
fn closed_stdout_ends_the_run_quietly() {
    let (_manifest, child, out) = endless_run("closed_stdout");
    drop(out); // what `| head -1` does
    let output = wait_or_kill(child);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stderr(&output), "");
}

#[test]
fn validate_reports_what_the_manifest_holds() {
    let manifest = fixture("valid-diamond.json");
    let out = host(&["validate", &manifest], None);
    assert_success(
        &out,
        &format!("ok: {manifest}: pipeline \"diamond\", 4 nodes, 4 connections\n"),
    );
}

const BUILTIN_TYPES: [&str; 11] = [
    "Add",
    "Multiply",
    "PassThrough",
    "PassThroughNode",
    "Range",
    "audio.Downmix",
    "audio.Gain",
    "audio.Rechunk",
    "audio.Resample",
    "audio.WavSink",
    "audio.WavSource",
];

#[test]
fn nodes_lists_every_builtin_type() {
    let out = host(&["nodes"], None);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    // One line per type; its parameters follow on indented lines.
    let listed: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, BUILTIN_TYPES.map(str::to_owned).into());
    assert!(
        text.contains("Takes no input.") && text.contains("    step (int, default 1)"),
        "{text}"
    );
}

#[test]
fn nodes_json_lists_each_type_with_source_and_params() {
    let out = host(&["nodes", "--json"], None);
    assert!(out.status.success(), "{out:?}");
    let entries: Vec<Json> = serde_json::from_str(&stdout(&out)).unwrap();
    let keys = BTreeSet::from([
        "doc",
        "node_type",
        "params",
        "provider",
        "runtime",
        "source",
    ]);
    for entry in &entries {
        let found: BTreeSet<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(found, keys, "{entry}");
        assert_eq!(entry["provider"], json!("builtin"), "{entry}");
        assert_eq!(entry["runtime"], json!("rust"), "{entry}");
        assert!(!entry["doc"].as_str().unwrap().is_empty(), "{entry}");
    }
    let types: BTreeSet<&str> = entries
        .iter()
        .map(|e| e["node_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(BUILTIN_TYPES));
    let range = entries.iter().find(|e| e["node_type"] == "Range").unwrap();
    assert_eq!(range["source"], json!(true));
    assert_eq!(
        range["params"],
        json!([
            {"name": "start", "kind": "int", "required": false, "default": 0},
            {"name": "stop", "kind": "int", "required": true},
            {"name": "step", "kind": "int", "required": false, "default": 1},
        ])
    );
    let multiply = entries
        .iter()
        .find(|e| e["node_type"] == "Multiply")
        .unwrap();
    assert_eq!(multiply["source"], json!(false));
    assert_eq!(
        multiply["params"],
        json!([{"name": "factor", "kind": "number", "required": true}])
    );
}

#[test]
fn graph_draws_nodes_and_edges_in_each_format() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "dot",
            "valid-capacities.json",
            &[
                "digraph \"pipeline\" {",
                "  \"src\" [label=\"src\\nPassThrough\"];",
                "  \"mul\" [label=\"mul\\nMultiply\"];",
                "  \"add\" [label=\"add\\nAdd\"];",
                "  \"src\" -> \"mul\" [label=\"1\"];",
                "  \"mul\" -> \"add\";",
            ],
        ),
        (
            "mermaid",
            "valid-source-range.json",
            &[
                "flowchart LR",
                "  n0[/\"numbers<br/>Range\"/]",
                "  n1[\"mul<br/>Multiply\"]",
                "  n2[\"add<br/>Add\"]",
                "  n0 --> n1",
                "  n1 --> n2",
            ],
        ),
    ];
    for &(format, name, wanted) in cases {
        let out = host(&["graph", &fixture(name), "--format", format], None);
        assert!(out.status.success(), "{format}: {out:?}");
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        for line in wanted {
            assert!(lines.contains(line), "{format}: no {line:?} in:\n{text}");
        }
    }
}

#[test]
fn version_names_the_release_and_the_embedded_python() {
    let out = host(&["--version"], None);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("remotemedia-host {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("Python"), "{text}");
}

#[test]
fn an_infinite_output_is_a_node_error_not_a_silent_null() {
    let manifest = TempFile::with_text(
        "inf",
        "m.json",
        r#"{"version": "v1", "nodes": [
            {"id": "m", "node_type": "Multiply", "params": {"factor": 1e308}}]}"#,
    );
    let out = host(&["run", manifest.arg(), "--input", "-"], Some("1\n10\n"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out), "1e+308\n");
    assert!(
        stderr(&out).starts_with(
            "error: node \"m\" (Multiply) failed: ValueError: an output holds the float inf"
        ),
        "{out:?}"
    );
}

#[test]
fn an_input_integer_beyond_64_bits_is_an_input_error() {
    let manifest = fixture("valid-linear-chain.json");
    let out = host(
        &["run", &manifest, "--input", "-"],
        Some("1\n18446744073709551616\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out)
            .starts_with("error: input line 2: integer 18446744073709551616 is out of range"),
        "{out:?}"
    );
}

#[test]
fn a_stderr_that_cannot_be_written_does_not_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let bad = TempFile::with_text("stderr_full", "bad.json", r#"{"version": "v2"}"#);
    let out = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .args(["validate", bad.arg()])
        .stderr(full)
        .output()
        .expect("the host starts");
    // The manifest's exit status, not a panic's 101.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn a_node_id_with_control_characters_is_escaped_in_errors() {
    let manifest = TempFile::with_text(
        "control_ids",
        "m.json",
        r#"{"version": "v1", "nodes": [{"id": "a\n  - fake: forged\u001b[2J", "node_type": "Multiply", "params": {"factor": 2}}]}"#,
    );
    let out = host(&["run", manifest.arg(), "--input", "-"], Some("\"x\"\n"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("  - fake")), "{err}");
    assert!(err.contains(r"a\n  - fake: forged\u{1b}[2J"), "{err}");
}

#[test]
fn a_reader_that_closed_before_reading_anything_is_an_output_error() {
    use std::io::Write as _;
    let manifest = fixture("valid-linear-chain.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .args(["run", &manifest, "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host binary starts");
    drop(child.stdout.take()); // as `| true` does: nothing is ever read
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Items only now: the first output meets a closed pipe. (The host may stop reading once
    // it failed; a write error here is part of that.)
    let _ = stdin.write_all(b"1\n2\n");
    drop(stdin);
    let output = wait_or_kill(child);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stderr(&output),
        "error: cannot write output: the reader closed it before reading any\n"
    );
}

/// Runs two `PassThrough`s on `input` (JSON lines on stdin).
fn through_passthrough(input: &str) -> Output {
    host(
        &[
            "run",
            &fixture("valid-passthrough-pair.json"),
            "--input",
            "-",
        ],
        Some(input),
    )
}

#[test]
fn media_values_travel_in_their_json_lines_form() {
    // Bytes, an array, an audio frame and a map holding one, each written back as it came
    // (DESIGN §4); a frame without a timestamp gets its default, 0.0.
    let lines = [
        r#"{"$bytes":"AAEC/w=="}"#,
        r#"{"$array":{"dtype":"int16","shape":[2,2],"data":"AQACAAMABAA="}}"#,
        r#"{"$array":{"dtype":"float64","shape":[],"data":"AAAAAAAA8D8="}}"#,
        r#"{"$audio":{"sample_rate":16000,"channels":2,"timestamp":1.5,"dtype":"float32","data":"AACAPwAAAMA="}}"#,
        r#"{"clip":{"$bytes":""},"n":[1,{"$bytes":"eA=="}]}"#,
    ];
    let input = lines.join("\n") + "\n";
    let out = through_passthrough(&input);
    assert_success(&out, &input);
    let out = through_passthrough(
        r#"{"$audio":{"sample_rate":8000,"channels":1,"dtype":"int16","data":"AQA="}}"#,
    );
    assert_success(
        &out,
        "{\"$audio\":{\"sample_rate\":8000,\"channels\":1,\"timestamp\":0.0,\"dtype\":\"int16\",\"data\":\"AQA=\"}}\n",
    );
}

#[test]
fn a_malformed_media_line_is_an_input_error_naming_line_and_key() {
    for (line, expected) in [
        (r#"{"$bytes":"not base64!"}"#, "input line 2: "),
        (
            r#"{"$array":{"dtype":"complex64","shape":[1],"data":"AAAAAAAAAAA="}}"#,
            "cannot pass an array of dtype complex64 between nodes",
        ),
        (
            r#"{"$array":{"dtype":"float32","shape":[3],"data":"AAAAAA=="}}"#,
            "needs 12 bytes of data, got 4",
        ),
        (
            r#"{"$audio":{"sample_rate":8000,"channels":0,"dtype":"int16","data":""}}"#,
            "\"$audio\": channels must be at least 1",
        ),
        (
            r#"{"$bytes":"","more":1}"#,
            "must be the only key of its object",
        ),
    ] {
        let input = format!("1\n{line}\n");
        let out = through_passthrough(&input);
        assert_eq!(out.status.code(), Some(2), "{line}: {out:?}");
        let err = stderr(&out);
        assert!(err.starts_with("error: input line 2: "), "{line}: {err}");
        assert!(err.contains(expected), "{line}: {err}");
    }
}

#[test]
fn arithmetic_on_an_array_is_a_node_error_naming_its_kind() {
    let out = host(
        &["run", &fixture("valid-linear-chain.json"), "--input", "-"],
        Some("{\"$bytes\":\"eA==\"}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("TypeError") && err.contains("bytes"), "{err}");
}
