//! The mailbox between host threads and one Python thread of an in-process backend (CPython,
//! a RustPython VM): the host's half.
//!
//! Host threads never run Python: they queue a request in the mailbox of the thread that
//! serves it (a service thread, or a stage's own thread) and write one byte to a socket that
//! thread's driver (`remotemedia.driver`) watches (a blocking read, or its asyncio loop). On
//! that thread, the driver takes the requests ([`Shared::drain`]) and answers each
//! ([`Shared::answer`]) through the backend's own Python object; the conversions between items
//! and Python objects happen there.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::backend::{NodeSpec, PyFailure};
use crate::value::Value;

/// What the host asks of a Python thread: the wire form of [`crate::Backend`]'s operations.
/// The service thread takes `Discover`, `Describe` and `Shutdown`; a stage's thread takes the
/// others and `Shutdown`.
#[derive(Debug)]
pub enum Request {
    /// The node types the environment's plugins provide (a discovery document).
    Discover,
    /// Import `module` and describe its class `qualname` (a node type document).
    Describe {
        /// The module.
        module: String,
        /// The class's qualified name.
        qualname: String,
    },
    /// Construct the nodes of a new stage, with its buffer bound in items.
    Create {
        /// The nodes, upstream first.
        nodes: Vec<NodeSpec>,
        /// Buffer bound in items.
        limits: crate::backend::Limits,
        /// The stage's id (its slot on a crash-attribution board is derived from it).
        stage: u64,
    },
    /// Run every node's `initialize()` and start the stage.
    Init,
    /// Input items: answered `Ack` while the stage has room, `End` once it takes no more.
    Push(Vec<Value>),
    /// The stage's input has ended.
    Close,
    /// Outputs: `Items` as soon as there are some, `End` when the stage has finished,
    /// `Failed` if a node raised.
    Pull,
    /// Stop the stage and call every initialized node's `cleanup()`; answered with `Counts`.
    Cleanup,
    /// Stop the thread.
    Shutdown,
}

/// A Python thread's answer.
#[derive(Debug)]
pub enum Reply {
    /// Done.
    Ack,
    /// Output items, in order.
    Items(Vec<Value>),
    /// The stream (or the stage's appetite for input) has ended.
    End,
    /// A JSON document (discovery, a description).
    Json(String),
    /// Items in and out of each node of a stage.
    Counts(Vec<(u64, u64)>),
    /// Python code raised.
    Failed(PyFailure),
}

struct Pending {
    token: u64,
    request: Request,
    posted: std::time::Instant,
}

impl Request {
    /// Its name in the driver's protocol.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Discover => "discover",
            Request::Describe { .. } => "describe",
            Request::Create { .. } => "create",
            Request::Init => "init",
            Request::Push(_) => "push",
            Request::Close => "close",
            Request::Pull => "pull",
            Request::Cleanup => "cleanup",
            Request::Shutdown => "shutdown",
        }
    }
}

/// The host's half: queue, pending replies, wake-up socket.
pub struct Shared {
    queue: Mutex<VecDeque<Pending>>,
    replies: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    wake: UnixStream,
    next_token: AtomicU64,
    /// Set (under the `replies` lock) once the thread has ended: later requests fail at once
    /// instead of waiting forever.
    stopped: AtomicBool,
    /// The thread's Python thread id (`_thread.get_ident()`): 0 before its driver starts and
    /// again, set with the interpreter lock held, once it has stopped serving (an ended
    /// thread's id may be given to a new thread).
    pub python_thread: AtomicU64,
    /// Whether node code may run on the thread now: around each request, and while a stage's
    /// asyncio loop runs its tasks; not while the driver takes requests and answers them.
    pub running: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// A mailbox whose wake-ups go to `wake` (the driver watches the other end).
    fn new(wake: UnixStream) -> Self {
        Shared {
            queue: Mutex::default(),
            replies: Mutex::default(),
            wake,
            next_token: AtomicU64::new(1),
            stopped: AtomicBool::new(false),
            python_thread: AtomicU64::new(0),
            running: AtomicBool::new(false),
        }
    }

    /// A mailbox and the end of its wake-up socket that the thread's driver watches.
    ///
    /// # Errors
    /// The socket pair cannot be made (out of file descriptors).
    pub fn pair() -> std::io::Result<(Arc<Shared>, UnixStream)> {
        let (host_end, thread_end) = UnixStream::pair()?;
        host_end.set_nonblocking(true)?;
        Ok((Arc::new(Shared::new(host_end)), thread_end))
    }

    /// Queues `request` and wakes the thread; the receiver resolves with the reply, or errors
    /// if the thread stops first.
    pub fn post(&self, request: Request) -> oneshot::Receiver<Reply> {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut replies = lock(&self.replies);
            if self.stopped.load(Ordering::Acquire) {
                return rx; // its sender is dropped: the caller learns that Python stopped
            }
            replies.insert(token, tx);
        }
        lock(&self.queue).push_back(Pending {
            token,
            request,
            posted: std::time::Instant::now(),
        });
        // One byte is enough: the driver drains the socket and then the whole queue. A full
        // socket buffer means a wake-up is already pending.
        let _ = (&self.wake).write(&[1]);
        rx
    }

    /// Drops every pending reply, so waiting callers learn that the thread stopped, and
    /// refuses every later request.
    pub fn abandon(&self) {
        let mut replies = lock(&self.replies);
        self.stopped.store(true, Ordering::Release);
        replies.clear();
        drop(replies);
        lock(&self.queue).clear();
    }

    /// Whether the thread has left a request untaken for `patience`: it is busy (an idle
    /// thread takes a request within microseconds of its wake-up byte).
    pub fn stalled(&self, patience: std::time::Duration) -> bool {
        lock(&self.queue)
            .front()
            .is_some_and(|oldest| oldest.posted.elapsed() >= patience)
    }

    /// Whether the thread has ended.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Every queued request, with its token, for the thread to answer.
    pub fn drain(&self) -> Vec<(u64, Request)> {
        lock(&self.queue)
            .drain(..)
            .map(|p| (p.token, p.request))
            .collect()
    }

    /// Answers request `token` (nothing happens if its caller gave up, a cancelled run).
    pub fn answer(&self, token: u64, reply: Reply) {
        if let Some(tx) = lock(&self.replies).remove(&token) {
            let _ = tx.send(reply);
        }
    }
}

/// Logs a Python log record through the host's log, tagged with the node that logged.
pub fn log(level: u32, logger: &str, node_id: Option<&str>, message: &str) {
    let node = node_id.unwrap_or("-");
    // A log that cannot be written must not fail the node that logged, nor, as a panic
    // crossing into Python, end the thread.
    let _ = std::panic::catch_unwind(|| match level {
        0..=10 => tracing::debug!(target: "python", node, logger, "{message}"),
        11..=20 => tracing::info!(target: "python", node, logger, "{message}"),
        21..=30 => tracing::warn!(target: "python", node, logger, "{message}"),
        _ => tracing::error!(target: "python", node, logger, "{message}"),
    });
}
