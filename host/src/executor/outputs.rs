//! Where a task's outputs go: one sender per downstream edge, or the run's output queue when
//! the task's tail is a sink.

use std::sync::Arc;

use super::stats::NodeStats;
use crate::channel::{SendError, Sender};
use crate::error::HostError;
use crate::value::Value;

/// The senders of a task's tail, and its counters (for the time it waits for room).
pub struct Outputs {
    senders: Vec<Sender<Value>>,
    tail: Arc<NodeStats>,
}

impl Outputs {
    /// Outputs through `senders`, charging waits to `tail`.
    pub fn new(senders: Vec<Sender<Value>>, tail: Arc<NodeStats>) -> Self {
        Outputs { senders, tail }
    }

    /// Sends `items` to every output (fan-out shares the buffers); `false` once no
    /// downstream is listening. A downstream that stopped reading is dropped; the others
    /// still get every item.
    ///
    /// # Errors
    /// `Cancelled` when the run was cancelled while waiting for room.
    pub async fn send(&mut self, mut items: Vec<Value>) -> Result<bool, HostError> {
        if items.is_empty() {
            return Ok(!self.senders.is_empty());
        }
        let mut i = 0;
        while i < self.senders.len() {
            let last = i + 1 == self.senders.len();
            let batch = if last {
                std::mem::take(&mut items)
            } else {
                items.clone()
            };
            match self.senders[i].send(batch).await {
                Ok(blocked) => {
                    self.tail.record_blocked(blocked);
                    i += 1;
                }
                Err(SendError::Closed) => {
                    self.senders.remove(i);
                }
                Err(SendError::Cancelled) => return Err(HostError::Cancelled),
            }
        }
        Ok(!self.senders.is_empty())
    }

    /// Closes every output, so downstream can finish while this task cleans up.
    pub fn close(&mut self) {
        self.senders.clear();
    }

    /// Ends every output as failed (see [`Sender::abort`]): downstream gets what was sent,
    /// then stops without finishing.
    pub fn abort(&mut self) {
        self.senders.drain(..).for_each(Sender::abort);
    }

    /// [`Outputs::close`] after a task that succeeded, [`Outputs::abort`] after one that did
    /// not.
    pub fn end<T, E>(&mut self, result: &Result<T, E>) {
        if result.is_ok() {
            self.close();
        } else {
            self.abort();
        }
    }
}

impl Drop for Outputs {
    /// A task that ends without closing its outputs (an early return, a panic) ended badly:
    /// downstream must not take that for the end of its stream.
    fn drop(&mut self) {
        self.abort();
    }
}
