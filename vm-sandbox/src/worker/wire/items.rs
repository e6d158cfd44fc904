//! Items in binary form: what `Push` and `Items` frames carry (the format is in
//! `docs/architecture.md`, "The worker wire").

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use super::{SEGMENT_MIN, invalid};
use crate::media::{Array, AudioFrame, Buffer, DType};
use crate::value::Value;
use crate::worker::shm::{Segment, SegmentMap};

/// Nesting of lists and maps the decoder follows (items may nest 1000 levels, DESIGN §4).
const MAX_DEPTH: usize = 1100;

/// The items of a body from `at`, their large payloads in `segment`.
///
/// # Errors
/// The body or its segment is malformed.
pub(super) fn read(body: &[u8], at: usize, segment: Option<SegmentMap>) -> io::Result<Vec<Value>> {
    let mut reader = ItemReader { body, at, segment };
    let count = reader.u32()? as usize;
    let mut items = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        items.push(reader.value()?);
    }
    if reader.at != body.len() {
        return Err(invalid("trailing bytes after the items"));
    }
    Ok(items)
}

/// Kinds of values on the wire.
mod kind {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const INT: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const STR: u8 = 5;
    pub const LIST: u8 = 6;
    pub const MAP: u8 = 7;
    pub const BYTES: u8 = 8;
    pub const ARRAY: u8 = 9;
    pub const AUDIO: u8 = 10;
    /// A payload inside the frame: `u64 len`, the bytes.
    pub const INLINE: u8 = 0;
    /// A payload in the frame's segment: `u64 offset`, `u64 len`.
    pub const IN_SEGMENT: u8 = 1;
}

/// The body of an `Items` frame, or of a `Push` after `prefix` (the stage id), and the segment
/// its media go in when they are [`SEGMENT_MIN`] bytes or more.
///
/// # Errors
/// The segment cannot be made.
pub fn items_body(prefix: &[u8], items: &[Value]) -> io::Result<(Vec<u8>, Option<OwnedFd>)> {
    items_body_from(prefix, items, SEGMENT_MIN)
}

/// [`items_body`] with media in a segment from `segment_min` bytes on (`usize::MAX`: never,
/// as a sandboxed worker answers, which may make no memory file).
///
/// # Errors
/// The segment cannot be made.
pub fn items_body_from(
    prefix: &[u8],
    items: &[Value],
    segment_min: usize,
) -> io::Result<(Vec<u8>, Option<OwnedFd>)> {
    let media: usize = items.iter().map(Value::payload_bytes).sum();
    let mut writer = ItemWriter {
        body: Vec::with_capacity(prefix.len() + 16 + items.len() * 16),
        segment: (media >= segment_min).then(Vec::new),
        offset: 0,
    };
    writer.body.extend_from_slice(prefix);
    if writer.segment.is_some() {
        writer.body.extend_from_slice(&(media as u64).to_le_bytes());
    }
    let count = u32::try_from(items.len()).map_err(|_| invalid("too many items in one frame"))?;
    writer.body.extend_from_slice(&count.to_le_bytes());
    for item in items {
        writer.value(item);
    }
    let fd = match writer.segment {
        Some(parts) => Some(Segment::write(media, parts.into_iter())?),
        None => None,
    };
    Ok((writer.body, fd))
}

struct ItemWriter<'a> {
    body: Vec<u8>,
    /// The payloads bound for the segment, in order.
    segment: Option<Vec<&'a [u8]>>,
    offset: usize,
}

impl<'a> ItemWriter<'a> {
    fn value(&mut self, value: &'a Value) {
        let body = &mut self.body;
        match value {
            Value::Null => body.push(kind::NULL),
            Value::Bool(false) => body.push(kind::FALSE),
            Value::Bool(true) => body.push(kind::TRUE),
            Value::Int(i) => {
                body.push(kind::INT);
                body.extend_from_slice(&i.to_le_bytes());
            }
            Value::Float(f) => {
                body.push(kind::FLOAT);
                body.extend_from_slice(&f.to_le_bytes());
            }
            Value::Str(s) => {
                body.push(kind::STR);
                self.text(s);
            }
            Value::List(items) => {
                body.push(kind::LIST);
                body.extend_from_slice(&(items.len() as u64).to_le_bytes());
                for item in items.iter() {
                    self.value(item);
                }
            }
            Value::Map(entries) => {
                body.push(kind::MAP);
                body.extend_from_slice(&(entries.len() as u64).to_le_bytes());
                for (key, item) in entries.iter() {
                    self.text(key);
                    self.value(item);
                }
            }
            Value::Bytes(bytes) => {
                body.push(kind::BYTES);
                self.payload(bytes);
            }
            Value::Array(array) => {
                body.push(kind::ARRAY);
                self.array(array);
            }
            Value::Audio(frame) => {
                body.push(kind::AUDIO);
                body.extend_from_slice(&frame.sample_rate().to_le_bytes());
                body.extend_from_slice(&frame.timestamp().to_le_bytes());
                self.array(frame.samples());
            }
        }
    }

    fn text(&mut self, text: &str) {
        self.body
            .extend_from_slice(&(text.len() as u64).to_le_bytes());
        self.body.extend_from_slice(text.as_bytes());
    }

    fn array(&mut self, array: &'a Array) {
        self.body.push(array.dtype() as u8);
        // At most MAX_DIMS (a few) dimensions: one byte counts them.
        self.body
            .push(u8::try_from(array.shape().len()).unwrap_or(u8::MAX));
        for dim in array.shape() {
            self.body.extend_from_slice(&(*dim as u64).to_le_bytes());
        }
        self.payload(array.data());
    }

    fn payload(&mut self, buffer: &'a Buffer) {
        let bytes = buffer.bytes();
        if let Some(parts) = &mut self.segment {
            self.body.push(kind::IN_SEGMENT);
            self.body
                .extend_from_slice(&(self.offset as u64).to_le_bytes());
            self.body
                .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            self.offset += bytes.len();
            parts.push(bytes);
        } else {
            self.body.push(kind::INLINE);
            self.body
                .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            self.body.extend_from_slice(bytes);
        }
    }
}

pub(super) fn read_u64(body: &[u8], at: &mut usize) -> Result<u64, String> {
    let bytes = body
        .get(*at..*at + 8)
        .ok_or_else(|| "a frame ends early".to_owned())?;
    *at += 8;
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    Ok(u64::from_le_bytes(word))
}

/// A list or map being read: what it holds so far, how many it will hold, and (a map) the
/// key of the value being read.
enum Open {
    List(Vec<Value>, usize),
    Map(Vec<(Arc<str>, Value)>, usize, Option<Arc<str>>),
}

struct ItemReader<'a> {
    body: &'a [u8],
    at: usize,
    segment: Option<SegmentMap>,
}

impl ItemReader<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.body.len());
        let end = end.ok_or_else(|| invalid("a frame ends early"))?;
        let bytes = &self.body[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> io::Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> io::Result<u64> {
        read_u64(self.body, &mut self.at).map_err(invalid)
    }

    fn len(&mut self) -> io::Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| invalid("a length out of range"))
    }

    fn text(&mut self) -> io::Result<Arc<str>> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(Arc::from)
            .map_err(|_| invalid("a string that is not UTF-8"))
    }

    /// One value, read without recursion (a list nested 1000 deep must not need 1000 stack
    /// frames on a runtime's worker thread).
    fn value(&mut self) -> io::Result<Value> {
        let mut open: Vec<Open> = Vec::new();
        loop {
            if let Some(Open::Map(_, _, key @ None)) = open.last_mut() {
                *key = Some(self.text()?);
            }
            let kind = self.byte()?;
            let mut done = match kind {
                kind::LIST | kind::MAP => {
                    let n = self.len()?;
                    if n == 0 {
                        if kind == kind::LIST {
                            Value::List(Vec::new().into())
                        } else {
                            Value::Map(Vec::new().into())
                        }
                    } else {
                        if open.len() >= MAX_DEPTH {
                            return Err(invalid("items nested too deeply"));
                        }
                        // Each element takes at least one byte: a count beyond the frame is a lie.
                        let room = n.min(self.body.len() - self.at);
                        open.push(if kind == kind::LIST {
                            Open::List(Vec::with_capacity(room), n)
                        } else {
                            Open::Map(Vec::with_capacity(room), n, None)
                        });
                        continue;
                    }
                }
                other => self.scalar(other)?,
            };
            // Hand the value to the containers it completes, innermost first.
            loop {
                match open.last_mut() {
                    None => return Ok(done),
                    Some(Open::List(items, n)) => {
                        items.push(done);
                        if items.len() < *n {
                            break;
                        }
                        let Some(Open::List(items, _)) = open.pop() else {
                            unreachable!()
                        };
                        done = Value::List(items.into());
                    }
                    Some(Open::Map(entries, n, key)) => {
                        let key = key
                            .take()
                            .ok_or_else(|| invalid("a map value without its key"))?;
                        entries.push((key, done));
                        if entries.len() < *n {
                            break;
                        }
                        let Some(Open::Map(entries, ..)) = open.pop() else {
                            unreachable!()
                        };
                        done = Value::Map(entries.into());
                    }
                }
            }
        }
    }

    /// A value that holds no other values.
    fn scalar(&mut self, kind: u8) -> io::Result<Value> {
        Ok(match kind {
            kind::NULL => Value::Null,
            kind::FALSE => Value::Bool(false),
            kind::TRUE => Value::Bool(true),
            kind::INT => Value::Int(i64::from_le_bytes(self.word()?)),
            kind::FLOAT => Value::Float(f64::from_le_bytes(self.word()?)),
            kind::STR => Value::Str(self.text()?),
            kind::BYTES => Value::Bytes(self.payload()?),
            kind::ARRAY => Value::Array(Arc::new(self.array()?)),
            kind::AUDIO => {
                let rate = self.u32()?;
                let timestamp = f64::from_le_bytes(self.word()?);
                let samples = self.array()?;
                Value::Audio(Arc::new(
                    AudioFrame::new(samples, rate, timestamp).map_err(invalid)?,
                ))
            }
            other => return Err(invalid(format!("unknown value kind {other}"))),
        })
    }

    fn word(&mut self) -> io::Result<[u8; 8]> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(word)
    }

    fn array(&mut self) -> io::Result<Array> {
        let code = self.byte()?;
        let dtype = DType::ALL
            .into_iter()
            .find(|d| *d as u8 == code)
            .ok_or_else(|| invalid(format!("unknown dtype {code}")))?;
        let dims = self.byte()? as usize;
        let mut shape = Vec::with_capacity(dims);
        for _ in 0..dims {
            shape.push(self.len()?);
        }
        let data = self.payload()?;
        Array::new(dtype, shape, data).map_err(invalid)
    }

    fn payload(&mut self) -> io::Result<Buffer> {
        match self.byte()? {
            kind::INLINE => {
                let n = self.len()?;
                Ok(Buffer::from(self.take(n)?.to_vec()))
            }
            kind::IN_SEGMENT => {
                let offset = self.len()?;
                let n = self.len()?;
                let segment = self
                    .segment
                    .as_ref()
                    .ok_or_else(|| invalid("a payload in a segment that was not sent"))?;
                let shared = segment
                    .slice(offset, n)
                    .ok_or_else(|| invalid("a payload outside its segment"))?;
                Ok(Buffer::new(shared))
            }
            other => Err(invalid(format!("unknown payload kind {other}"))),
        }
    }
}
