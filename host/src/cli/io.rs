//! JSON lines in and out of a run.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::HostError;
use crate::executor::{InputSender, OutputReceiver};
use crate::value::Value;

/// Most items sent to the roots in one morsel.
const INPUT_MORSEL: usize = 256;

/// Reads one JSON value per line (blank lines skipped) and feeds the run. Items travel in
/// morsels of what is already buffered: a line that has arrived is never held back waiting for
/// the next. A line that is not JSON fails the run with its line number.
pub fn read_json_lines(input: Box<dyn Read + Send>, mut feeder: InputSender) {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut batch = Vec::new();
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        let more_ready = reader.buffer().contains(&b'\n');
        if !batch.is_empty()
            && (!more_ready || batch.len() >= INPUT_MORSEL)
            && feeder.blocking_send(std::mem::take(&mut batch)).is_err()
        {
            return; // the run ended or nobody reads: its own result says why
        }
        line.clear();
        number += 1;
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                return feeder.fail(HostError::Input {
                    line: number,
                    message: format!("cannot read: {e}"),
                });
            }
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match Value::from_json(text) {
            Ok(v) => batch.push(v),
            Err(e) => {
                let (message, _, column) = Value::json_error_parts(&e);
                return feeder.fail(HostError::Input {
                    line: number,
                    message: format!("not valid JSON: {message} (column {column})"),
                });
            }
        }
    }
    if !batch.is_empty() {
        let _ = feeder.blocking_send(batch); // as above
    }
}

#[derive(Serialize)]
struct Tagged<'a> {
    node: &'a str,
    value: &'a Value,
}

/// Writes every output as a JSON line on stdout, flushing whenever no more output is waiting.
/// A closed stdout ends the run quietly (`| head` is not an error).
///
/// # Errors
/// Any other write failure.
pub fn write_json_lines(
    mut outputs: OutputReceiver,
    tagged: bool,
    written: &Arc<AtomicU64>,
) -> Result<(), HostError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = (|| -> std::io::Result<()> {
        while let Ok(Some((sink, items))) = outputs.blocking_recv() {
            for value in &items {
                if tagged {
                    serde_json::to_writer(&mut out, &Tagged { node: &sink, value })?;
                } else {
                    serde_json::to_writer(&mut out, value)?;
                }
                out.write_all(b"\n")?;
            }
            written.fetch_add(items.len() as u64, Ordering::Relaxed);
            if outputs.is_empty() {
                out.flush()?;
            }
        }
        out.flush()
    })();
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(HostError::Runtime(format!("cannot write output: {e}")))
        }
        _ => Ok(()),
    }
}
