//! [`Worker`] as a [`Backend`]: each operation a request on the wire, and its answer read.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::{Answer, Death, INTERRUPT_GRACE, Worker};
use crate::backend::{
    Backend, BoxFuture, Capabilities, Fed, Limits, NodeCounts, NodeSpec, PyFailure, StageId,
};
use crate::discovery::{Discovery, NodeTypeInfo};
use crate::error::SandboxError;
use crate::value::Value;
use crate::worker::wire::{self, Frame, Tag};

pub(super) fn failed(frame: &Frame) -> SandboxError {
    let said: serde_json::Value = frame.json().unwrap_or_default();
    let text = |k: &str| {
        said.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match frame.tag {
        Tag::Raised => SandboxError::Raised(PyFailure {
            node_id: said
                .get("node_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            error_type: text("error_type"),
            message: text("message"),
            traceback: text("traceback"),
        }),
        Tag::Failed => match text("kind").as_str() {
            "stopped" => SandboxError::Stopped,
            "unsupported" => SandboxError::Unsupported(text("message")),
            "start" => SandboxError::Start(text("message")),
            "env" => SandboxError::Env(text("message")),
            _ => SandboxError::Protocol(text("message")),
        },
        other => SandboxError::Protocol(format!("the worker answered {other:?}")),
    }
}

/// The answer as `T`, or the failure it reports.
fn expect<T>(answer: Answer, read: impl FnOnce(&Frame) -> Option<T>) -> Result<T, SandboxError> {
    let frame = answer?;
    if let Some(value) = read(&frame) {
        return Ok(value);
    }
    match frame.tag {
        Tag::Raised | Tag::Failed => Err(failed(&frame)),
        other => Err(SandboxError::Protocol(format!(
            "the worker answered {other:?}"
        ))),
    }
}

fn json_doc<T: serde::de::DeserializeOwned>(frame: &Frame) -> Option<Result<T, SandboxError>> {
    (frame.tag == Tag::Json).then(|| {
        frame
            .json()
            .map_err(|e| SandboxError::Protocol(e.to_string()))
    })
}

impl Worker {
    fn stage_call(
        &self,
        tag: Tag,
        stage: StageId,
    ) -> impl std::future::Future<Output = Answer> + Send + use<> {
        self.inner
            .call(tag, Some(stage.0), &stage.0.to_le_bytes(), None)
    }
}

impl Backend for Worker {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "worker process",
            live_nodes: false,
            interrupts: true,
        }
    }

    fn discover(&self) -> BoxFuture<'static, Result<Discovery, SandboxError>> {
        let answer = self.inner.call(Tag::Discover, None, &[], None);
        Box::pin(async move { expect(answer.await, json_doc)? })
    }

    fn describe(
        &self,
        module: &str,
        qualname: &str,
    ) -> BoxFuture<'static, Result<NodeTypeInfo, SandboxError>> {
        let body = json!({"module": module, "qualname": qualname}).to_string();
        let answer = self.inner.call(Tag::Describe, None, body.as_bytes(), None);
        Box::pin(async move { expect(answer.await, json_doc)? })
    }

    fn create_stage(
        &self,
        nodes: Vec<NodeSpec>,
        limits: Limits,
    ) -> BoxFuture<'static, Result<StageId, SandboxError>> {
        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let nodes: Vec<_> = nodes
            .iter()
            .map(|n| {
                json!({"id": n.id, "module": n.module, "qualname": n.qualname, "params": n.params,
                       "retry": n.retry, "timeout_ms": n.timeout_ms})
            })
            .collect();
        let body =
            json!({"nodes": nodes, "limits": {"items": limits.items, "bytes": limits.bytes}})
                .to_string();
        let answer = self.inner.call(Tag::Create, None, body.as_bytes(), None);
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let created: serde_json::Value = expect(answer.await, json_doc)??;
            let stage = created
                .get("stage")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| SandboxError::Protocol("a stage without an id".into()))?;
            inner.lock().stages.insert(stage, ids);
            Ok(StageId(stage))
        })
    }

    fn initialize(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        let answer = self.stage_call(Tag::Init, stage);
        Box::pin(async move { expect(answer.await, |f| (f.tag == Tag::Ack).then_some(())) })
    }

    fn push(
        &self,
        stage: StageId,
        items: Vec<Value>,
    ) -> BoxFuture<'static, Result<Fed, SandboxError>> {
        let answer = match wire::items_body(&stage.0.to_le_bytes(), &items) {
            Ok((body, fd)) => Ok(self
                .inner
                .call(Tag::Push, Some(stage.0), &body, fd.as_ref())),
            Err(e) => Err(SandboxError::Protocol(format!(
                "cannot pass items to the worker: {e}"
            ))),
        };
        Box::pin(async move {
            expect(answer?.await, |f| match f.tag {
                Tag::Accepted => Some(Fed::Accepted),
                Tag::Closed => Some(Fed::Closed),
                _ => None,
            })
        })
    }

    fn close(&self, stage: StageId) -> BoxFuture<'static, Result<(), SandboxError>> {
        let answer = self.stage_call(Tag::Close, stage);
        Box::pin(async move { expect(answer.await, |f| (f.tag == Tag::Ack).then_some(())) })
    }

    fn pull(&self, stage: StageId) -> BoxFuture<'static, Result<Option<Vec<Value>>, SandboxError>> {
        let answer = self.stage_call(Tag::Pull, stage);
        Box::pin(async move {
            expect(answer.await, |f| match f.tag {
                Tag::Items => Some(f.items().map(Some)),
                Tag::End => Some(Ok(None)),
                _ => None,
            })?
            .map_err(|e| SandboxError::Protocol(format!("bad items from the worker: {e}")))
        })
    }

    fn interrupt(&self, stage: StageId) {
        let overdue = {
            let mut state = self.inner.lock();
            let first = *state
                .interrupted
                .entry(stage.0)
                .or_insert_with(Instant::now);
            first.elapsed() > INTERRUPT_GRACE && state.death.is_none()
        };
        if overdue {
            // Code that ignores interrupts (blocked in a C call) cannot be stopped otherwise.
            tracing::warn!(
                "a cancelled stage of worker {} does not stop: killing the worker",
                self.inner.pid
            );
            self.inner.lock().death.get_or_insert_with(Death::by_host);
            self.inner.kill();
            return;
        }
        drop(
            self.inner
                .send(Tag::Interrupt, 0, &stage.0.to_le_bytes(), None),
        );
    }

    fn cleanup(&self, stage: StageId) -> BoxFuture<'static, Result<Vec<NodeCounts>, SandboxError>> {
        if !self.is_alive() {
            // Nothing is left to clean up, and the pipeline's error says why; the counts died
            // with the worker.
            self.inner.lock().stages.remove(&stage.0);
            return Box::pin(async { Ok(Vec::new()) });
        }
        let answer = self.stage_call(Tag::Cleanup, stage);
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let counts: Result<Vec<(u64, u64)>, SandboxError> = expect(answer.await, |f| {
                (f.tag == Tag::Counts)
                    .then(|| f.json().map_err(|e| SandboxError::Protocol(e.to_string())))
            })?;
            let mut state = inner.lock();
            state.stages.remove(&stage.0);
            state.interrupted.remove(&stage.0);
            drop(state);
            Ok(counts?
                .into_iter()
                .map(|(seen, made)| NodeCounts { seen, made })
                .collect())
        })
    }
}
