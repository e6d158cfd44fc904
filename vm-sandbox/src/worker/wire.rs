//! The wire between the host and a worker process, version [`PROTOCOL`]: frames on a Unix
//! stream socket, and the binary form of items in them. `docs/architecture.md` ("The worker
//! wire") describes it for other implementations; this module is the reference.
//!
//! A frame is a 16-byte header, then `len` body bytes:
//! `len: u32 | tag: u8 | fds: u8 | 0u16 | call: u64`, little-endian. `call` pairs an answer
//! with its request (0 for the hello and for events). `fds` (0 or 1) says whether the frame
//! carries a descriptor (`SCM_RIGHTS`, sent with the frame's first byte): the board with the
//! hello, a sealed media segment with items.

use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use super::shm::{Segment, SegmentMap};
use crate::media::{Array, AudioFrame, Buffer, DType};
use crate::value::Value;

/// The wire's version, checked by both sides in the hello.
pub const PROTOCOL: u32 = 1;

/// Below this many media payload bytes in one message, payloads travel inside the frame
/// (copied through the socket, which for a few small frames costs less than making and
/// mapping a memory file); from it on, in a sealed segment (one copy).
pub const SEGMENT_MIN: usize = 64 << 10;

/// Nesting of lists and maps the decoder follows (items may nest 1000 levels, DESIGN §4).
const MAX_DEPTH: usize = 1100;

/// Frame kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Tag {
    // Requests, host to worker.
    /// JSON `{"protocol": n}`, with the board's descriptor. Answered by `HelloBack`.
    Hello = 1,
    /// Answered by `Json` (a `Discovery`).
    Discover = 2,
    /// JSON `{"module", "qualname"}`; answered by `Json` (a `NodeTypeInfo`).
    Describe = 3,
    /// JSON `{"stage", "nodes": [{"id", "module", "qualname", "params", "retry",
    /// "timeout_ms"}], "limits": {"items", "bytes"}}`; answered by `Ack`.
    Create = 4,
    /// Stage id (u64); answered by `Ack`.
    Init = 5,
    /// Stage id, then items; answered by `Accepted` or `Closed`.
    Push = 6,
    /// Stage id; answered by `Ack`.
    Close = 7,
    /// Stage id; answered by `Items` or `End`.
    Pull = 8,
    /// Stage id; not answered.
    Interrupt = 9,
    /// Stage id; answered by `Counts`.
    Cleanup = 10,
    /// Not answered: the worker stops its stages and exits.
    Shutdown = 11,
    // Answers, worker to host.
    /// JSON `{"protocol", "pid", "python"}`.
    HelloBack = 64,
    /// Done.
    Ack = 65,
    /// A JSON document.
    Json = 66,
    /// The push was taken.
    Accepted = 68,
    /// The stage takes no more input.
    Closed = 69,
    /// Items.
    Items = 70,
    /// The stage has finished.
    End = 71,
    /// JSON `[[seen, made], ...]`, one pair per node.
    Counts = 72,
    /// JSON `{"node_id", "error_type", "message", "traceback"}`: Python raised.
    Raised = 73,
    /// JSON `{"kind", "message"}`: another failure (`kind`: "stopped", "unsupported",
    /// "protocol", "start", "env").
    Failed = 74,
    // Events, worker to host (call 0).
    /// JSON `{"node_id", "message"}`: a timed-out call did not stop when interrupted; the
    /// worker exits after sending this.
    Stuck = 96,
}

impl Tag {
    fn from_u8(byte: u8) -> Option<Tag> {
        const ALL: [Tag; 22] = [
            Tag::Hello,
            Tag::Discover,
            Tag::Describe,
            Tag::Create,
            Tag::Init,
            Tag::Push,
            Tag::Close,
            Tag::Pull,
            Tag::Interrupt,
            Tag::Cleanup,
            Tag::Shutdown,
            Tag::HelloBack,
            Tag::Ack,
            Tag::Json,
            Tag::Accepted,
            Tag::Closed,
            Tag::Items,
            Tag::End,
            Tag::Counts,
            Tag::Raised,
            Tag::Failed,
            Tag::Stuck,
        ];
        ALL.into_iter().find(|t| *t as u8 == byte)
    }
}

/// One frame, as received.
pub struct Frame {
    /// Its kind.
    pub tag: Tag,
    /// The request it answers, or the request's own number.
    pub call: u64,
    /// Its body.
    pub body: Vec<u8>,
    /// The descriptor it carried.
    pub fd: Option<OwnedFd>,
}

impl Frame {
    /// The stage id a stage request starts with.
    ///
    /// # Errors
    /// The body is too short.
    pub fn stage(&self) -> io::Result<u64> {
        read_u64(&self.body, &mut 0).map_err(invalid)
    }

    /// The body as JSON of type `T`.
    ///
    /// # Errors
    /// The body is not that JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> io::Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| invalid(format!("bad {:?} frame: {e}", self.tag)))
    }

    /// The items of an `Items` or `Push` frame (after the stage id for `Push`).
    ///
    /// # Errors
    /// The body or its segment is malformed.
    pub fn items(&self) -> io::Result<Vec<Value>> {
        let mut at = if self.tag == Tag::Push { 8 } else { 0 };
        let segment = match &self.fd {
            Some(fd) => {
                let len = read_u64(&self.body, &mut at).map_err(invalid)?;
                let len = usize::try_from(len).map_err(|_| invalid("segment too large"))?;
                Some(Segment::map(fd, len)?)
            }
            None => None,
        };
        let mut reader = ItemReader {
            body: &self.body,
            at,
            segment,
        };
        let count = reader.u32()? as usize;
        let mut items = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            items.push(reader.value()?);
        }
        if reader.at != self.body.len() {
            return Err(invalid("trailing bytes after the items"));
        }
        Ok(items)
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Writes one frame; `fd` travels with its first byte. Callers serialize frames on a socket.
///
/// # Errors
/// The socket failed (the other side has gone).
pub fn send(
    socket: &UnixStream,
    tag: Tag,
    call: u64,
    body: &[u8],
    fd: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| invalid("a frame over 4 GiB"))?;
    let mut header = [0u8; 16];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4] = tag as u8;
    header[5] = u8::from(fd.is_some());
    header[8..].copy_from_slice(&call.to_le_bytes());
    let total = header.len() + body.len();
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds;
    if let Some(fd) = fd {
        fds = [fd];
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::Error::other("no room for a descriptor"));
        }
    }
    let mut sent = loop {
        match rustix::net::sendmsg(
            socket,
            &[IoSlice::new(&header), IoSlice::new(body)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(n) => break n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    };
    while sent < total {
        let rest: [IoSlice<'_>; 2] = if sent < header.len() {
            [IoSlice::new(&header[sent..]), IoSlice::new(body)]
        } else {
            [
                IoSlice::new(&body[sent - header.len()..]),
                IoSlice::new(&[]),
            ]
        };
        match rustix::net::sendmsg(
            socket,
            &rest,
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        ) {
            Ok(n) => sent += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The sending half of a socket: frames written whole, one at a time.
pub struct Writer {
    socket: UnixStream,
    lock: std::sync::Mutex<()>,
}

impl Writer {
    /// Writes frames to `socket`.
    pub fn new(socket: UnixStream) -> Self {
        Writer {
            socket,
            lock: std::sync::Mutex::new(()),
        }
    }

    /// Writes one frame (see [`send`]).
    ///
    /// # Errors
    /// The socket failed.
    pub fn send(
        &self,
        tag: Tag,
        call: u64,
        body: &[u8],
        fd: Option<BorrowedFd<'_>>,
    ) -> io::Result<()> {
        let _writing = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        send(&self.socket, tag, call, body, fd)
    }

    /// Shuts the socket down (`how`), which the other side sees as its end.
    pub fn shutdown(&self, how: std::net::Shutdown) {
        drop(self.socket.shutdown(how));
    }
}

/// Reads frames from a socket, with the descriptors they carry.
pub struct FrameReader {
    socket: UnixStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    fds: VecDeque<OwnedFd>,
}

impl FrameReader {
    /// Reads from `socket`.
    pub fn new(socket: UnixStream) -> Self {
        FrameReader {
            socket,
            buf: vec![0; 64 << 10],
            start: 0,
            end: 0,
            fds: VecDeque::new(),
        }
    }

    /// Bounds how long [`FrameReader::read_frame`] waits (`None`: no bound).
    ///
    /// # Errors
    /// The socket refused the setting.
    pub fn set_timeout(&self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        self.socket.set_read_timeout(timeout)
    }

    /// The next frame; `None` when the other side closed the socket between frames.
    ///
    /// # Errors
    /// The socket failed, closed inside a frame, or sent something that is not a frame.
    pub fn read_frame(&mut self) -> io::Result<Option<Frame>> {
        if !self.fill(16)? {
            return Ok(None);
        }
        let h = &self.buf[self.start..self.start + 16];
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let tag =
            Tag::from_u8(h[4]).ok_or_else(|| invalid(format!("unknown frame kind {}", h[4])))?;
        let with_fd = h[5] != 0;
        let mut call = [0u8; 8];
        call.copy_from_slice(&h[8..16]);
        let call = u64::from_le_bytes(call);
        self.start += 16;
        let mut body = Vec::with_capacity(len);
        let buffered = (self.end - self.start).min(len);
        body.extend_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        while body.len() < len {
            // A large body is read straight into place.
            let at = body.len();
            body.resize(len, 0);
            let n = recv_some(&self.socket, &mut body[at..], &mut self.fds)?;
            body.truncate(at + n);
            if n == 0 {
                return Err(closed_inside());
            }
        }
        let fd = if with_fd {
            Some(
                self.fds
                    .pop_front()
                    .ok_or_else(|| invalid("a frame without its descriptor"))?,
            )
        } else {
            None
        };
        Ok(Some(Frame {
            tag,
            call,
            body,
            fd,
        }))
    }

    /// Buffers at least `n` bytes; `false` at a clean end of stream (nothing buffered).
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            let got = recv_some(&self.socket, &mut self.buf[self.end..], &mut self.fds)?;
            if got == 0 {
                if self.end == self.start {
                    return Ok(false);
                }
                return Err(closed_inside());
            }
            self.end += got;
        }
        Ok(true)
    }
}

fn closed_inside() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the socket closed inside a frame",
    )
}

/// One `recvmsg` into `into`, keeping the descriptors that came with it.
fn recv_some(
    socket: &UnixStream,
    into: &mut [u8],
    fds: &mut VecDeque<OwnedFd>,
) -> io::Result<usize> {
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(4))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let n = loop {
        match rustix::net::recvmsg(
            socket,
            &mut [IoSliceMut::new(into)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Ok(msg) => break msg.bytes,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    };
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    Ok(n)
}

// ---- items ----

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
    let media: usize = items.iter().map(Value::payload_bytes).sum();
    let mut writer = ItemWriter {
        body: Vec::with_capacity(prefix.len() + 16 + items.len() * 16),
        segment: (media >= SEGMENT_MIN).then(Vec::new),
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

fn read_u64(body: &[u8], at: &mut usize) -> Result<u64, String> {
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
