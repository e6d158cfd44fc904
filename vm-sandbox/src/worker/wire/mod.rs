//! The wire between the host and a worker process, version [`PROTOCOL`]: frames on a Unix
//! stream socket, and the binary form of items in them. `docs/architecture.md` ("The worker
//! wire") describes it for other implementations; this module is the reference.
//!
//! A frame is a 16-byte header, then `len` body bytes:
//! `len: u32 | tag: u8 | fds: u8 | 0u16 | call: u64`, little-endian. `call` pairs an answer
//! with its request (0 for the hello and for events). `fds` (0 or 1) says whether the frame
//! carries a descriptor (`SCM_RIGHTS`, sent with the frame's first byte): the board with the
//! hello, a sealed media segment with items.

use std::io;
use std::os::fd::OwnedFd;

use super::shm::Segment;
use crate::value::Value;

mod items;
mod socket;

use items::read_u64;
pub use items::{items_body, items_body_from};
pub use socket::{FrameReader, Writer, send};

/// The wire's version, checked by both sides in the hello.
pub const PROTOCOL: u32 = 1;

/// Below this many media payload bytes in one message, payloads travel inside the frame
/// (copied through the socket, which for a few small frames costs less than making and
/// mapping a memory file); from it on, in a sealed segment (one copy).
pub const SEGMENT_MIN: usize = 64 << 10;

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
        items::read(&self.body, at, segment)
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}
