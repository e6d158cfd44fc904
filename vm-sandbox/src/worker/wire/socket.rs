//! Frames on the socket: writing them whole, reading them with their descriptors.

use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use super::{Frame, Tag, invalid};

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

/// The most a large body grows by before one read.
const READ_CHUNK: usize = 1 << 20;

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
        // Memory follows the bytes that arrive, not the length a header announces.
        let mut body = Vec::with_capacity(len.min(READ_CHUNK));
        let buffered = (self.end - self.start).min(len);
        body.extend_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        while body.len() < len {
            // A large body is read straight into place, a chunk at a time: zeroing the whole
            // rest before every read made a large frame quadratic.
            let at = body.len();
            body.resize(at + (len - at).min(READ_CHUNK), 0);
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
