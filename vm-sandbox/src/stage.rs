//! The executor's handle on one Python stage.

use std::future::Future;
use std::sync::Arc;

use crate::backend::{Backend, Fed, Limits, NodeCounts, NodeSpec, StageId};
use crate::error::SandboxError;
use crate::value::Value;

/// A run of consecutive Python nodes inside an interpreter, fed with [`Stage::push`] and
/// drained with [`Stage::pull`], which may run concurrently.
pub struct Stage {
    backend: Arc<dyn Backend>,
    id: StageId,
}

impl Stage {
    /// Constructs the nodes (`cls(name=id, **params)`) in the interpreter.
    ///
    /// # Errors
    /// A live node given to a backend that cannot take one ([`SandboxError::Unsupported`]);
    /// a constructor or import raised ([`SandboxError::Raised`] naming the node).
    pub async fn create(
        backend: Arc<dyn Backend>,
        nodes: Vec<NodeSpec>,
        limits: impl Into<Limits>,
    ) -> Result<Stage, SandboxError> {
        let capabilities = backend.capabilities();
        if let Some(node) = nodes.iter().find(|n| n.live.is_some())
            && !capabilities.live_nodes
        {
            return Err(SandboxError::Unsupported(format!(
                "node \"{}\" is an object of the caller's program, which the {} backend cannot run",
                node.id, capabilities.name
            )));
        }
        let id = backend.create_stage(nodes, limits.into()).await?;
        Ok(Stage { backend, id })
    }

    /// Runs every node's `initialize()` in order and starts the stage.
    ///
    /// # Errors
    /// An `initialize()` raised.
    pub async fn initialize(&self) -> Result<(), SandboxError> {
        self.backend.initialize(self.id).await
    }

    /// Posts input items now and returns the answer to come, so that a caller can keep
    /// several pushes in flight (the interpreter then takes several morsels per wake-up). The
    /// answer resolves `true` while the stage takes input, `false` once it takes no more; the
    /// stage delays its answers while it is full, which bounds what is in flight.
    pub fn push_now(
        &self,
        items: Vec<Value>,
    ) -> impl Future<Output = Result<bool, SandboxError>> + Send + 'static {
        let answer = self.backend.push(self.id, items);
        async move { Ok(answer.await? == Fed::Accepted) }
    }

    /// Ends the stage's input.
    ///
    /// # Errors
    /// The interpreter stopped.
    pub async fn close(&self) -> Result<(), SandboxError> {
        self.backend.close(self.id).await
    }

    /// The next outputs, as soon as there are some; `None` once the stage has finished.
    ///
    /// # Errors
    /// A node raised ([`SandboxError::Raised`]).
    pub async fn pull(&self) -> Result<Option<Vec<Value>>, SandboxError> {
        self.backend.pull(self.id).await
    }

    /// Interrupts this stage's node code if it is busy right now (see [`Backend::interrupt`]).
    pub fn interrupt(&self) {
        self.backend.interrupt(self.id);
    }

    /// Stops the stage and runs every initialized node's `cleanup()`. Returns the items in
    /// and out of each node.
    ///
    /// # Errors
    /// A `cleanup()` raised, or the interpreter stopped.
    pub async fn cleanup(&self) -> Result<Vec<NodeCounts>, SandboxError> {
        self.backend.cleanup(self.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{BoxFuture, Capabilities, Fed, StageId};
    use crate::discovery::{Discovery, NodeTypeInfo};

    /// A backend that takes no live nodes and must not be asked to create a stage.
    struct NoLive;

    fn never<T: Send + 'static>() -> BoxFuture<'static, Result<T, SandboxError>> {
        Box::pin(async { Err(SandboxError::Protocol("must not be called".into())) })
    }

    impl Backend for NoLive {
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                name: "nolive",
                live_nodes: false,
                interrupts: true,
            }
        }
        fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>> {
            never()
        }
        fn describe(
            &self,
            _: &str,
            _: &str,
        ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>> {
            never()
        }
        fn create_stage(
            &self,
            _: Vec<NodeSpec>,
            _: Limits,
        ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
            never()
        }
        fn initialize(&self, _: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
            never()
        }
        fn push(&self, _: StageId, _: Vec<Value>) -> BoxFuture<'static, Result<Fed, SandboxError>> {
            never()
        }
        fn close(&self, _: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
            never()
        }
        fn pull(&self, _: StageId) -> BoxFuture<'static, Result<Option<Vec<Value>>, SandboxError>> {
            never()
        }
        fn cleanup(&self, _: StageId) -> BoxFuture<'static, Result<Vec<NodeCounts>, SandboxError>> {
            never()
        }
    }

    #[tokio::test]
    async fn a_live_node_is_refused_by_a_backend_that_cannot_take_one() {
        let node = NodeSpec {
            id: "mine".into(),
            module: "m".into(),
            qualname: "C".into(),
            params: serde_json::Map::new(),
            live: Some(crate::LiveNode(Arc::new(()))),
            retry: None,
            timeout_ms: None,
        };
        let Err(error) = Stage::create(Arc::new(NoLive), vec![node], 4).await else {
            panic!("a live node was accepted");
        };
        assert!(matches!(&error, SandboxError::Unsupported(_)), "{error:?}");
        assert_eq!(
            error.to_string(),
            "node \"mine\" is an object of the caller's program, which the nolive backend cannot run"
        );
    }
}
