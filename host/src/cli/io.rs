//! JSON lines in and out of a run.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use std::collections::HashMap;

use crate::error::{HostError, NodeError, NodeFailure};
use crate::executor::{InputSender, OutputReceiver};
use crate::value::Value;

/// Most items sent to the roots in one morsel.
const INPUT_MORSEL: usize = 256;

/// The longest input line, in bytes (DESIGN §8: at least 16 MiB). A longer one is an input
/// error, found without reading more of it than this.
pub const MAX_LINE: usize = 64 << 20;

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
        match (&mut reader)
            .take(u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1)
            .read_line(&mut line)
        {
            Ok(0) => break,
            Ok(n) if n > MAX_LINE => {
                return feeder.fail(HostError::Input {
                    line: number,
                    message: format!("longer than {} MiB", MAX_LINE >> 20),
                });
            }
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
                let (message, at_line, column) = Value::json_error_parts(&e);
                // Line 0: valid JSON that no item can hold (an integer beyond 64 bits).
                let message = if at_line == 0 {
                    message
                } else if e.is_data() {
                    // Valid JSON that is no item: a malformed `{"$array": ...}`, say.
                    format!("not a valid item: {message} (column {column})")
                } else {
                    format!("not valid JSON: {message} (column {column})")
                };
                return feeder.fail(HostError::Input {
                    line: number,
                    message,
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
/// A closed stdout ends the run quietly (`| head` is not an error). `node_types` names each
/// sink's type, for errors.
///
/// # Errors
/// An output with an infinite or NaN float, which JSON cannot hold (a node error of its sink,
/// DESIGN §4: never a silent `null`); any other write failure.
pub fn write_json_lines(
    mut outputs: OutputReceiver,
    tagged: bool,
    written: &Arc<AtomicU64>,
    node_types: &HashMap<String, String>,
) -> Result<(), HostError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(
        64 * 1024,
        Counted {
            inner: stdout.lock(),
            bytes: 0,
        },
    );
    while let Ok(Some((sink, items))) = outputs.blocking_recv() {
        for value in &items {
            if let Some(x) = non_finite(value) {
                let _ = out.flush();
                return Err(HostError::Node(NodeFailure {
                    node_id: sink.to_string(),
                    node_type: node_types.get(&*sink).cloned().unwrap_or_default(),
                    error: NodeError::new(
                        "ValueError",
                        format!("an output holds the float {x}, which JSON cannot hold"),
                    ),
                }));
            }
            let written_item = if tagged {
                serde_json::to_writer(&mut out, &Tagged { node: &sink, value })
            } else {
                serde_json::to_writer(&mut out, value)
            };
            if let Err(e) = written_item
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
            {
                return write_failed(&e, out.get_ref().bytes);
            }
        }
        written.fetch_add(items.len() as u64, Ordering::Relaxed);
        if outputs.is_empty()
            && let Err(e) = out.flush()
        {
            return write_failed(&e, out.get_ref().bytes);
        }
    }
    match out.flush() {
        Ok(()) => Ok(()),
        Err(e) => write_failed(&e, out.get_ref().bytes),
    }
}

/// The end of a run whose output could not be written, after `delivered` bytes reached the
/// reader. A reader that closes the pipe after reading (`| head`) ends the run quietly; one
/// that closed it before any output reached it (`| true`) lost everything: that is an error.
fn write_failed(e: &std::io::Error, delivered: u64) -> Result<(), HostError> {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe if delivered > 0 => Ok(()),
        std::io::ErrorKind::BrokenPipe => Err(HostError::Runtime(
            "cannot write output: the reader closed it before reading any".into(),
        )),
        _ => Err(HostError::Runtime(format!("cannot write output: {e}"))),
    }
}

/// A writer that counts the bytes its inner writer took: output has reached the reader once
/// any did.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The first infinite or NaN float `value` holds, if any.
fn non_finite(value: &Value) -> Option<f64> {
    match value {
        Value::Float(x) if !x.is_finite() => Some(*x),
        Value::List(items) => items.iter().find_map(non_finite),
        Value::Map(entries) => entries.iter().find_map(|(_, v)| non_finite(v)),
        _ => None,
    }
}
