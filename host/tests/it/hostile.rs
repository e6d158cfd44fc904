//! Hostile input through the CLI, as a table: each row's input, the exit status it must give
//! and the start of its stderr. No row may panic, hang, or change data silently.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// One row: a name, a manifest, the input lines, the exit status, how stderr starts.
struct Row {
    name: &'static str,
    manifest: &'static str,
    input: Vec<u8>,
    code: i32,
    stderr: &'static str,
}

const CHAIN: &str = r#"{"version": "v1", "nodes": [{"id": "p", "node_type": "PassThrough"}]}"#;
const TIMES_1E308: &str = r#"{"version": "v1", "nodes": [{"id": "m", "node_type": "Multiply", "params": {"factor": 1e308}}]}"#;

fn rows() -> Vec<Row> {
    let many_keys = format!(
        "{{{}}}\n",
        (0..100_000)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut huge_line = vec![b'"'];
    huge_line.extend(std::iter::repeat_n(b'x', 65 << 20));
    huge_line.extend(b"\"\n");
    vec![
        Row {
            name: "an integer beyond 64 bits",
            manifest: CHAIN,
            input: b"18446744073709551616\n".to_vec(),
            code: 2,
            stderr: "error: input line 1: integer 18446744073709551616 is out of range",
        },
        Row {
            name: "a negative integer beyond 64 bits, nested",
            manifest: CHAIN,
            input: b"[1, {\"a\": -99999999999999999999}]\n".to_vec(),
            code: 2,
            stderr: "error: input line 1: integer -99999999999999999999 is out of range",
        },
        Row {
            name: "an infinite output",
            manifest: TIMES_1E308,
            input: b"10\n".to_vec(),
            code: 1,
            stderr: "error: node \"m\" (Multiply) failed: ValueError: an output holds the float inf",
        },
        Row {
            name: "an input float beyond the float range",
            manifest: CHAIN,
            input: b"1e400\n".to_vec(),
            code: 2,
            stderr: "error: input line 1: not valid JSON",
        },
        Row {
            name: "a line of 100k map keys",
            manifest: CHAIN,
            input: many_keys.into_bytes(),
            code: 0,
            stderr: "",
        },
        Row {
            name: "a line longer than 64 MiB",
            manifest: CHAIN,
            input: huge_line,
            code: 2,
            stderr: "error: input line 1: longer than 64 MiB",
        },
        Row {
            name: "control characters in an input string",
            manifest: CHAIN,
            input: b"\"a\\u001b[2J\\n\"\n".to_vec(),
            code: 0,
            stderr: "",
        },
        Row {
            name: "nesting deeper than the parser allows",
            manifest: CHAIN,
            input: format!("{}1{}\n", "[".repeat(200), "]".repeat(200)).into_bytes(),
            code: 2,
            stderr: "error: input line 1: not valid JSON: recursion limit exceeded",
        },
    ]
}

#[test]
fn hostile_input_gives_the_exit_status_and_message_of_its_row() {
    let dir = std::env::temp_dir().join(format!("remotemedia-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, row) in rows().into_iter().enumerate() {
        let manifest = dir.join(format!("m{i}.json"));
        std::fs::write(&manifest, row.manifest).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
            .args(["run", manifest.to_str().unwrap(), "--input", "-"])
            .env_remove("VIRTUAL_ENV")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = row.input;
        // The host may stop reading at an input error: a failed write is part of the row.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(row.code),
            "{}: {stderr}",
            row.name
        );
        assert!(stderr.starts_with(row.stderr), "{}: {stderr}", row.name);
        if row.code == 0 {
            assert!(!output.stdout.is_empty(), "{}: nothing came out", row.name);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
