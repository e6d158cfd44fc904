//! The worker's side: serves the wire on its standard input with the embedded CPython
//! backend, until the host asks it to stop or goes away.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use pyo3::prelude::*;
use serde_json::{Value as Json, json};

use super::sandbox::{self, Confined, Policy};
use super::wire::{self, Frame, FrameReader, PROTOCOL, Tag, Writer};
use crate::backend::{Backend, BoxFuture, Fed, Limits, NodeSpec, RetryPolicy, StageId};
use crate::cpython::CPython;
use crate::env::PythonEnv;
use crate::error::SandboxError;

/// What an answer is made of: its kind, body and descriptor.
type Reply = (Tag, Vec<u8>, Option<OwnedFd>);

/// Serves the host on this process's standard input (a Unix socket the host made) with
/// Python of `env`, until the host asks the worker to stop or closes the socket. Standard
/// input is then `/dev/null`, so node code cannot read the wire.
///
/// # Errors
/// Standard input is not the host's socket, the hello is wrong, or Python cannot start (the
/// host is told why first, where it can be).
pub fn serve(env: &PythonEnv) -> Result<(), SandboxError> {
    let protocol = |e: std::io::Error| SandboxError::Protocol(format!("worker: {e}"));
    let stdin = std::io::stdin();
    let fd = rustix::io::fcntl_dupfd_cloexec(&stdin, 3).map_err(|e| protocol(e.into()))?;
    let null = std::fs::File::open("/dev/null").map_err(protocol)?;
    rustix::stdio::dup2_stdin(&null).map_err(|e| protocol(e.into()))?;
    let socket = UnixStream::from(fd);
    let writer = Arc::new(Writer::new(socket.try_clone().map_err(protocol)?));
    let mut reader = FrameReader::new(socket);
    let hello = reader
        .read_frame()
        .map_err(protocol)?
        .ok_or_else(|| SandboxError::Protocol("worker: the host closed the socket".into()))?;
    let (board, sandbox, cache_dir) = check_hello(&hello)?;
    let started = sandbox::confine(env, sandbox.as_ref(), cache_dir.as_deref())
        .and_then(|confined| start_python(env, &board, &writer, confined.as_ref()));
    let python = match started {
        Ok(python) => python,
        Err(error) => {
            let message = match &error {
                SandboxError::Start(m) | SandboxError::Env(m) => m.clone(),
                other => other.to_string(),
            };
            let body = json!({"kind": "start", "message": message}).to_string();
            if writer.send(Tag::Failed, 0, body.as_bytes(), None).is_ok() {
                // The host has the reason and reports it: nothing to add on stderr.
                std::process::exit(2);
            }
            return Err(error);
        }
    };
    drop(board);
    let memory_mb = sandbox.as_ref().and_then(|p| p.memory_mb);
    // A sandbox may make no memory file (seccomp): its answers carry media inline.
    let segment_min = if sandbox.is_some() {
        usize::MAX
    } else {
        wire::SEGMENT_MIN
    };
    let body = json!({"protocol": PROTOCOL, "pid": std::process::id(), "python": crate::cpython::LINKED_VERSION});
    writer
        .send(Tag::HelloBack, 0, body.to_string().as_bytes(), None)
        .map_err(protocol)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("remotemedia-worker-io")
        .build()
        .map_err(|e| SandboxError::Start(format!("cannot start the worker's runtime: {e}")))?;
    loop {
        let frame = match reader.read_frame() {
            Ok(Some(frame)) if frame.tag == Tag::Shutdown => break,
            Ok(Some(frame)) => frame,
            Ok(None) => host_gone(),
            Err(error) => {
                tracing::error!("worker: bad frame from the host: {error}");
                host_gone();
            }
        };
        if frame.tag == Tag::Interrupt {
            if let Ok(stage) = frame.stage() {
                python.interrupt(StageId(stage));
            }
            continue;
        }
        let call = frame.call;
        let answered = start(&python, frame, segment_min);
        let writer = Arc::clone(&writer);
        runtime.spawn(async move {
            let (tag, body, fd) = answered.await.unwrap_or_else(|e| failure(&e, memory_mb));
            if let Err(error) =
                writer.send(tag, call, &body, fd.as_ref().map(std::os::fd::AsFd::as_fd))
            {
                tracing::debug!("worker: cannot answer the host: {error}");
            }
        });
    }
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    python.shutdown();
    Ok(())
}

/// The host has gone (its end of the socket closed without a `Shutdown`, or it sent
/// garbage): nobody is left to answer, and node code blocked in a C call must not keep the
/// process alive, so it ends now, without joining Python's threads.
fn host_gone() -> ! {
    std::process::exit(0)
}

/// The board the hello carries, the sandbox it asks for and the host's discovery cache
/// directory, after checking the protocol.
fn check_hello(hello: &Frame) -> Result<(OwnedFd, Option<Policy>, Option<String>), SandboxError> {
    let said: Json = hello
        .json()
        .map_err(|e| SandboxError::Protocol(e.to_string()))?;
    let protocol = said.get("protocol").and_then(Json::as_u64);
    if hello.tag != Tag::Hello || protocol != Some(u64::from(PROTOCOL)) {
        return Err(SandboxError::Protocol(format!(
            "worker: expected a hello of protocol {PROTOCOL}, got {:?} {protocol:?}",
            hello.tag
        )));
    }
    let sandbox = match said.get("sandbox") {
        None | Some(Json::Null) => None,
        Some(policy) => Some(
            serde_json::from_value::<Policy>(policy.clone())
                .map_err(|e| SandboxError::Protocol(format!("worker: a bad sandbox: {e}")))?,
        ),
    };
    let board = hello
        .fd
        .as_ref()
        .ok_or_else(|| SandboxError::Protocol("worker: a hello without its board".into()))
        .and_then(|fd| {
            fd.try_clone()
                .map_err(|e| SandboxError::Protocol(e.to_string()))
        })?;
    let cache_dir = said
        .get("cache_dir")
        .and_then(Json::as_str)
        .map(str::to_owned);
    Ok((board, sandbox, cache_dir))
}

/// Starts CPython and prepares the driver for life in a worker: the board, the report of a
/// stuck call, the fault handler's dump on a crash.
fn start_python(
    env: &PythonEnv,
    board: &OwnedFd,
    writer: &Arc<Writer>,
    confined: Option<&Confined>,
) -> Result<Arc<CPython>, SandboxError> {
    let python = CPython::start(env)?;
    let reporter = StuckReporter {
        writer: Arc::clone(writer),
    };
    Python::attach(|py| -> PyResult<()> {
        py.import("remotemedia.driver.worker")?
            .getattr("setup")?
            .call1((
                board.as_raw_fd(),
                reporter,
                confined.is_some(),
                confined.and_then(|c| c.cache_file.as_deref()),
            ))?;
        Ok(())
    })
    .map_err(|e| SandboxError::Start(format!("cannot prepare the worker's Python: {e}")))?;
    Ok(python)
}

/// What the driver's watchdog calls when a timed-out call does not stop: tells the host,
/// which kills the worker.
#[pyclass(module = "remotemedia_runtime._native", frozen)]
struct StuckReporter {
    writer: Arc<Writer>,
}

#[pymethods]
impl StuckReporter {
    fn __call__(&self, py: Python<'_>, node_id: &str, message: &str) {
        let body = json!({"node_id": node_id, "message": message}).to_string();
        py.detach(|| drop(self.writer.send(Tag::Stuck, 0, body.as_bytes(), None)));
    }
}

fn json_reply(value: &impl serde::Serialize) -> Result<Reply, SandboxError> {
    serde_json::to_vec(value)
        .map(|body| (Tag::Json, body, None))
        .map_err(|e| SandboxError::Protocol(e.to_string()))
}

fn ack() -> Reply {
    (Tag::Ack, Vec::new(), None)
}

/// Starts one request: a push or a pull is posted to its stage's thread here, on the reading
/// thread (a hop through the runtime before the post cost a thread wake-up per frame); the
/// answer to come is awaited on the runtime.
fn start(
    backend: &Arc<CPython>,
    frame: Frame,
    segment_min: usize,
) -> BoxFuture<'static, Result<Reply, SandboxError>> {
    let bad = |e: std::io::Error| SandboxError::Protocol(e.to_string());
    match frame.tag {
        Tag::Push => {
            let posted = frame
                .stage()
                .and_then(|stage| Ok((StageId(stage), frame.items()?)))
                .map(|(stage, items)| backend.push(stage, items));
            drop(frame);
            Box::pin(async move {
                Ok(match posted.map_err(bad)?.await? {
                    Fed::Accepted => (Tag::Accepted, Vec::new(), None),
                    Fed::Closed => (Tag::Closed, Vec::new(), None),
                })
            })
        }
        Tag::Pull => {
            let posted = frame.stage().map(|stage| backend.pull(StageId(stage)));
            Box::pin(async move {
                match posted.map_err(bad)?.await? {
                    Some(items) => {
                        let (body, fd) =
                            wire::items_body_from(&[], &items, segment_min).map_err(bad)?;
                        Ok((Tag::Items, body, fd))
                    }
                    None => Ok((Tag::End, Vec::new(), None)),
                }
            })
        }
        _ => {
            let backend = Arc::clone(backend);
            Box::pin(async move { answer(&backend, frame).await })
        }
    }
}

/// Runs one request on the backend.
async fn answer(backend: &CPython, frame: Frame) -> Result<Reply, SandboxError> {
    let bad = |e: std::io::Error| SandboxError::Protocol(e.to_string());
    match frame.tag {
        Tag::Discover => json_reply(&backend.discover().await?),
        Tag::Describe => {
            let said: Json = frame.json().map_err(bad)?;
            let text = |k: &str| {
                said.get(k)
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            json_reply(&backend.describe(&text("module"), &text("qualname")).await?)
        }
        Tag::Create => {
            let (nodes, limits) = stage_request(&frame.json().map_err(bad)?)?;
            let stage = backend.create_stage(nodes, limits).await?;
            json_reply(&json!({"stage": stage.0}))
        }
        Tag::Init => {
            backend
                .initialize(StageId(frame.stage().map_err(bad)?))
                .await?;
            Ok(ack())
        }
        Tag::Close => {
            backend.close(StageId(frame.stage().map_err(bad)?)).await?;
            Ok(ack())
        }
        Tag::Cleanup => {
            let counts = backend
                .cleanup(StageId(frame.stage().map_err(bad)?))
                .await?;
            let pairs: Vec<(u64, u64)> = counts.iter().map(|c| (c.seen, c.made)).collect();
            Ok((
                Tag::Counts,
                serde_json::to_vec(&pairs).map_err(|e| SandboxError::Protocol(e.to_string()))?,
                None,
            ))
        }
        other => Err(SandboxError::Protocol(format!(
            "a {other:?} frame is not a request"
        ))),
    }
}

/// The nodes and limits of a `Create` request.
fn stage_request(said: &Json) -> Result<(Vec<NodeSpec>, Limits), SandboxError> {
    let bad = |what: &str| SandboxError::Protocol(format!("a Create request with a bad {what}"));
    let nodes = said
        .get("nodes")
        .and_then(Json::as_array)
        .ok_or_else(|| bad("node list"))?
        .iter()
        .map(|node| {
            let text = |k: &str| {
                node.get(k)
                    .and_then(Json::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| bad(k))
            };
            Ok(NodeSpec {
                id: text("id")?,
                module: text("module")?,
                qualname: text("qualname")?,
                params: node
                    .get("params")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default(),
                live: None,
                retry: match node.get("retry") {
                    None | Some(Json::Null) => None,
                    Some(r) => Some(
                        serde_json::from_value::<RetryPolicy>(r.clone())
                            .map_err(|_| bad("retry"))?,
                    ),
                },
                timeout_ms: node.get("timeout_ms").and_then(Json::as_u64),
            })
        })
        .collect::<Result<Vec<_>, SandboxError>>()?;
    let limit = |k: &str| {
        said.get("limits")
            .and_then(|l| l.get(k))
            .and_then(Json::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("limits"))
    };
    Ok((
        nodes,
        Limits {
            items: limit("items")?,
            bytes: limit("bytes")?,
        },
    ))
}

/// A failure as the frame that reports it. A `MemoryError` under a sandbox's memory limit
/// (`memory_mb`) says so.
fn failure(error: &SandboxError, memory_mb: Option<u64>) -> Reply {
    let (tag, body) = match error {
        SandboxError::Raised(f) => {
            let mut message = f.message.clone();
            if let Some(mb) = memory_mb.filter(|_| f.error_type == "MemoryError") {
                let said = if message.is_empty() { "" } else { ": " };
                message = format!(
                    "an allocation failed under the sandbox's memory limit (runtime.sandbox.memory_mb is {mb} MiB){said}{message}"
                );
            }
            (
                Tag::Raised,
                json!({"node_id": f.node_id, "error_type": f.error_type, "message": message, "traceback": f.traceback}),
            )
        }
        other => {
            let kind = match other {
                SandboxError::Stopped => "stopped",
                SandboxError::Unsupported(_) => "unsupported",
                SandboxError::Start(_) => "start",
                SandboxError::Env(_) => "env",
                _ => "protocol",
            };
            (
                Tag::Failed,
                json!({"kind": kind, "message": other.to_string()}),
            )
        }
    };
    (tag, body.to_string().into_bytes(), None)
}
