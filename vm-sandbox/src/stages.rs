//! The stages of an in-process backend (CPython, a RustPython VM): a thread per stage, each
//! serving its own [`Shared`] mailbox, and the typed [`crate::Backend`] operations on them.
//!
//! A backend supplies what runs on a stage's thread (attached to its interpreter, running the
//! driver's `StageDriver`); the registry, the requests and the reading of their answers are the
//! same for every in-process backend.

use std::collections::HashMap;
use std::future::Future;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::backend::{BoxFuture, Fed, Limits, NodeCounts, NodeSpec, StageId};
use crate::error::SandboxError;
use crate::mailbox::{Reply, Request, Shared};
use crate::value::Value;

/// A Python thread's stack: node code, and converting items nested up to the 1000 levels
/// DESIGN allows, run on these threads.
pub const STACK_SIZE: usize = 8 << 20;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes a thread's handle out of its slot (once: a second call finds none).
pub fn take_thread(slot: &Mutex<Option<JoinHandle<()>>>) -> Option<JoinHandle<()>> {
    lock(slot).take()
}

/// The [`crate::Backend`] operations on a stage that already exists, for a backend whose
/// `stages` field is a [`StageThreads`]: they are the same for every in-process backend.
macro_rules! stage_operations {
    () => {
        fn initialize(
            &self,
            stage: $crate::backend::StageId,
        ) -> $crate::backend::BoxFuture<'static, Result<(), $crate::error::SandboxError>> {
            self.stages.initialize(stage)
        }

        fn push(
            &self,
            stage: $crate::backend::StageId,
            items: Vec<$crate::value::Value>,
        ) -> $crate::backend::BoxFuture<
            'static,
            Result<$crate::backend::Fed, $crate::error::SandboxError>,
        > {
            self.stages.push(stage, items)
        }

        fn close(
            &self,
            stage: $crate::backend::StageId,
        ) -> $crate::backend::BoxFuture<'static, Result<(), $crate::error::SandboxError>> {
            self.stages.close(stage)
        }

        fn pull(
            &self,
            stage: $crate::backend::StageId,
        ) -> $crate::backend::BoxFuture<
            'static,
            Result<Option<Vec<$crate::value::Value>>, $crate::error::SandboxError>,
        > {
            self.stages.pull(stage)
        }

        fn cleanup(
            &self,
            stage: $crate::backend::StageId,
        ) -> $crate::backend::BoxFuture<
            'static,
            Result<Vec<$crate::backend::NodeCounts>, $crate::error::SandboxError>,
        > {
            self.stages.cleanup(stage)
        }
    };
}
pub(crate) use stage_operations;

/// A wake-up socket that could not be made, as a start error.
pub fn socket_error(e: &std::io::Error) -> SandboxError {
    SandboxError::Start(format!("cannot create a wake-up socket: {e}"))
}

/// The threads of the stages that exist.
#[derive(Default)]
struct Registry {
    /// The mailbox of each stage whose thread serves; a thread removes its own when it ends.
    stages: HashMap<u64, Arc<Shared>>,
    /// Every stage thread not joined yet; finished ones are dropped when the next starts.
    threads: Vec<JoinHandle<()>>,
}

/// One thread per stage, made by [`StageThreads::spawn`] and ended by the stage's cleanup (or a
/// failed creation, or [`StageThreads::stop_all`]).
#[derive(Default)]
pub struct StageThreads(Arc<Mutex<Registry>>);

impl StageThreads {
    /// Starts the thread of stage `id`, running `serve` with the stage's mailbox and the end of
    /// its wake-up socket that the driver watches; returns the mailbox. Requests posted at once
    /// wait there until the thread's driver takes them.
    ///
    /// # Errors
    /// No thread or socket can be made (a limit of the system).
    pub fn spawn(
        &self,
        id: u64,
        serve: impl FnOnce(&Arc<Shared>, UnixStream) + Send + 'static,
    ) -> Result<Arc<Shared>, SandboxError> {
        let (shared, thread_end) = Shared::pair().map_err(|e| socket_error(&e))?;
        let registry = Arc::clone(&self.0);
        let thread_shared = Arc::clone(&shared);
        // Held while the thread starts, so that its ending (which removes its entry) comes
        // after its entry is made.
        let mut threads = lock(&self.0);
        threads.threads.retain(|thread| !thread.is_finished());
        let thread = std::thread::Builder::new()
            .name(format!("py-stage-{id}"))
            .stack_size(STACK_SIZE)
            .spawn(move || {
                // However the thread ends (a panic included): waiting callers learn it, and
                // the stage is forgotten.
                let _leaving = Leaving {
                    shared: Arc::clone(&thread_shared),
                    registry,
                    id,
                };
                serve(&thread_shared, thread_end);
            })
            .map_err(|e| {
                SandboxError::Start(format!("cannot start a thread for a Python stage: {e}"))
            })?;
        threads.stages.insert(id, Arc::clone(&shared));
        threads.threads.push(thread);
        Ok(shared)
    }

    /// The mailbox of stage `id`, while its thread serves.
    pub fn get(&self, id: u64) -> Option<Arc<Shared>> {
        lock(&self.0).stages.get(&id).cloned()
    }

    /// Asks every stage thread to stop (stages not cleaned up get no more answers), and with
    /// `wait`, waits until they all have ended.
    pub fn stop_all(&self, wait: bool) {
        let (stages, threads) = {
            let mut registry = lock(&self.0);
            let stages: Vec<Arc<Shared>> = registry.stages.values().cloned().collect();
            (stages, std::mem::take(&mut registry.threads))
        };
        for stage in stages {
            drop(stage.post(Request::Shutdown));
        }
        if wait {
            for thread in threads {
                let _ = thread.join();
            }
        }
    }

    /// Posts `request` to `stage`'s thread now; the answer resolves later. A stage whose
    /// thread has ended (after its cleanup) answers nothing more.
    fn call(
        &self,
        stage: StageId,
        request: Request,
    ) -> impl Future<Output = Result<Reply, SandboxError>> + Send + 'static {
        let reply = self.get(stage.0).map(|thread| thread.post(request));
        async move {
            let reply = reply.ok_or(SandboxError::Stopped)?;
            reply.await.map_err(|_| SandboxError::Stopped)
        }
    }

    /// Posts a request whose only good answer is `Ack`.
    fn ack(
        &self,
        stage: StageId,
        request: Request,
    ) -> BoxFuture<'static, Result<(), SandboxError>> {
        let reply = self.call(stage, request);
        Box::pin(async move {
            match reply.await? {
                Reply::Ack => Ok(()),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    /// [`crate::Backend::create_stage`], on a thread `spawned` already for stage `id`.
    pub fn create(
        spawned: Result<Arc<Shared>, SandboxError>,
        id: StageId,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let thread = match spawned {
            Ok(thread) => thread,
            Err(error) => return Box::pin(async move { Err(error) }),
        };
        let reply = thread.post(Request::Create {
            nodes,
            limits,
            stage: id.0,
        });
        // A stage whose creation failed ends its thread itself; one whose caller went away
        // before the answer is cleaned up, which ends it too.
        let unclaimed = Unclaimed(Some(thread));
        Box::pin(async move {
            let reply = reply.await;
            unclaimed.claim();
            match reply.map_err(|_| SandboxError::Stopped)? {
                Reply::Ack => Ok(id),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    /// [`crate::Backend::initialize`].
    pub fn initialize(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        self.ack(stage, Request::Init)
    }

    /// [`crate::Backend::push`].
    pub fn push(
        &self,
        stage: StageId,
        items: Vec<Value>,
    ) -> BoxFuture<'static, Result<Fed, SandboxError>> {
        let reply = self.call(stage, Request::Push(items));
        Box::pin(async move {
            match reply.await? {
                Reply::Ack => Ok(Fed::Accepted),
                Reply::End => Ok(Fed::Closed),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    /// [`crate::Backend::close`].
    pub fn close(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        self.ack(stage, Request::Close)
    }

    /// [`crate::Backend::pull`].
    pub fn pull(
        &self,
        stage: StageId,
    ) -> BoxFuture<'static, Result<Option<Vec<Value>>, SandboxError>> {
        let reply = self.call(stage, Request::Pull);
        Box::pin(async move {
            match reply.await? {
                Reply::Items(items) => Ok(Some(items)),
                Reply::End => Ok(None),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }

    /// [`crate::Backend::cleanup`].
    pub fn cleanup(
        &self,
        stage: StageId,
    ) -> BoxFuture<'static, Result<Vec<NodeCounts>, SandboxError>> {
        let reply = self.call(stage, Request::Cleanup);
        Box::pin(async move {
            match reply.await? {
                Reply::Counts(counts) => Ok(counts
                    .into_iter()
                    .map(|(seen, made)| NodeCounts { seen, made })
                    .collect()),
                other => Err(failed_or_unexpected(other)),
            }
        })
    }
}

/// Posts a request to a service thread, answered with a JSON document, and reads it as `T`.
pub fn document<T: serde::de::DeserializeOwned>(
    service: &Shared,
    request: Request,
) -> BoxFuture<'static, Result<T, SandboxError>> {
    let reply = service.post(request);
    Box::pin(async move {
        match reply.await.map_err(|_| SandboxError::Stopped)? {
            Reply::Json(text) => serde_json::from_str(&text)
                .map_err(|e| SandboxError::Protocol(format!("bad document from Python: {e}"))),
            other => Err(failed_or_unexpected(other)),
        }
    })
}

/// Asks a service thread to describe class `qualname` of `module` ([`crate::Backend::describe`]).
pub fn describe(
    service: &Shared,
    module: &str,
    qualname: &str,
) -> BoxFuture<'static, Result<crate::discovery::NodeTypeInfo, SandboxError>> {
    document(
        service,
        Request::Describe {
            module: module.to_owned(),
            qualname: qualname.to_owned(),
        },
    )
}

/// A `Failed` answer as the error it carries; anything else breaks the protocol.
fn failed_or_unexpected(reply: Reply) -> SandboxError {
    match reply {
        Reply::Failed(failure) => SandboxError::Raised(failure),
        other => SandboxError::Protocol(format!("{other:?}")),
    }
}

/// What a stage thread does as it ends.
struct Leaving {
    shared: Arc<Shared>,
    registry: Arc<Mutex<Registry>>,
    id: u64,
}

impl Drop for Leaving {
    fn drop(&mut self) {
        self.shared.abandon();
        lock(&self.registry).stages.remove(&self.id);
    }
}

/// A stage thread whose creation nobody waits for any more: asked to clean up, which ends it.
struct Unclaimed(Option<Arc<Shared>>);

impl Unclaimed {
    /// Its creation was answered: the stage is the caller's to clean up.
    fn claim(mut self) {
        self.0 = None;
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            drop(thread.post(Request::Cleanup));
        }
    }
}
