//! The executor's handle on one Python stage.

use std::future::Future;
use std::sync::Arc;

use crate::backend::{Backend, NodeSpec, PyFailure, Reply, Request};
use crate::error::SandboxError;
use crate::value::Value;

/// A run of consecutive Python nodes inside an interpreter, fed with [`Stage::push`] and
/// drained with [`Stage::pull`], which may run concurrently.
pub struct Stage {
    backend: Arc<dyn Backend>,
    id: u64,
}

impl Stage {
    /// Constructs the nodes (`cls(name=id, **params)`) in the interpreter.
    ///
    /// # Errors
    /// A constructor or import raised ([`SandboxError::Raised`] naming the node).
    pub async fn create(
        backend: Arc<dyn Backend>,
        nodes: Vec<NodeSpec>,
        limit: usize,
    ) -> Result<Stage, SandboxError> {
        let id = backend.new_stage_id();
        let stage = Stage { backend, id };
        stage.expect_ack(Request::Create { nodes, limit }).await?;
        Ok(stage)
    }

    /// Runs every node's `initialize()` in order and starts the stage.
    ///
    /// # Errors
    /// An `initialize()` raised.
    pub async fn initialize(&self) -> Result<(), SandboxError> {
        self.expect_ack(Request::Init).await
    }

    /// Feeds input items, waiting while the stage is full. Returns `false` once the stage
    /// takes no more input (a streaming node stopped reading).
    ///
    /// # Errors
    /// The interpreter stopped.
    pub async fn push(&self, items: Vec<Value>) -> Result<bool, SandboxError> {
        match self.backend.call(self.id, Request::Push(items)).await? {
            Reply::Ack => Ok(true),
            Reply::End => Ok(false),
            other => Err(unexpected(&other)),
        }
    }

    /// Posts input items now and returns the answer to come, so that a caller can keep
    /// several pushes in flight (the interpreter then takes several morsels per wake-up). The
    /// answer resolves `true` while the stage takes input, `false` once it takes no more; the
    /// stage delays its answers while it is full, which bounds what is in flight.
    pub fn push_now(
        &self,
        items: Vec<Value>,
    ) -> impl Future<Output = Result<bool, SandboxError>> + Send + 'static {
        let reply = self.backend.call(self.id, Request::Push(items));
        async move {
            match reply.await? {
                Reply::Ack => Ok(true),
                Reply::End => Ok(false),
                other => Err(unexpected(&other)),
            }
        }
    }

    /// Ends the stage's input.
    ///
    /// # Errors
    /// The interpreter stopped.
    pub async fn close(&self) -> Result<(), SandboxError> {
        self.expect_ack(Request::Close).await
    }

    /// The next outputs, as soon as there are some; `None` once the stage has finished.
    ///
    /// # Errors
    /// A node raised ([`SandboxError::Raised`]).
    pub async fn pull(&self) -> Result<Option<Vec<Value>>, SandboxError> {
        match self.backend.call(self.id, Request::Pull).await? {
            Reply::Items(items) => Ok(Some(items)),
            Reply::End => Ok(None),
            Reply::Failed(failure) => Err(SandboxError::Raised(failure)),
            other => Err(unexpected(&other)),
        }
    }

    /// Stops the stage and runs every initialized node's `cleanup()`. Returns the items in
    /// and out of each node.
    ///
    /// # Errors
    /// The interpreter stopped.
    pub async fn cleanup(&self) -> Result<Vec<(u64, u64)>, SandboxError> {
        match self.backend.call(self.id, Request::Cleanup).await? {
            Reply::Counts(counts) => Ok(counts),
            Reply::Failed(failure) => Err(SandboxError::Raised(failure)),
            other => Err(unexpected(&other)),
        }
    }

    async fn expect_ack(&self, request: Request) -> Result<(), SandboxError> {
        match self.backend.call(self.id, request).await? {
            Reply::Ack => Ok(()),
            Reply::Failed(failure) => Err(SandboxError::Raised(failure)),
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(reply: &Reply) -> SandboxError {
    SandboxError::Protocol(format!("{reply:?}"))
}

impl PyFailure {
    /// A failure of the host's own making (say, an output Python cannot hand over).
    pub fn host(node_id: Option<String>, error_type: &str, message: String) -> Self {
        PyFailure {
            node_id,
            error_type: error_type.to_owned(),
            message,
            traceback: String::new(),
        }
    }
}
