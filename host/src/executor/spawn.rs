//! The one place that spawns tasks. Every task of a run is tracked here; the first real error
//! cancels the rest, so a failing node stops the pipeline promptly instead of leaving its
//! neighbours blocked on queues that will never move.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::error::HostError;

/// Where a run's first error is kept. Cloneable, so code outside the task set (an input reader
/// on its own thread) can fail the run too.
#[derive(Clone)]
pub struct ErrorSlot {
    first: Arc<Mutex<Option<HostError>>>,
    cancel: CancellationToken,
}

impl ErrorSlot {
    fn new(cancel: CancellationToken) -> Self {
        ErrorSlot {
            first: Arc::default(),
            cancel,
        }
    }

    /// Records `error` (a real error replaces a mere `Cancelled`, never the other way round)
    /// and cancels the run.
    pub fn report(&self, error: HostError) {
        {
            let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
            if first.is_none() || matches!(*first, Some(HostError::Cancelled)) {
                *first = Some(error);
            }
        }
        self.cancel.cancel();
    }

    fn take(&self) -> Option<HostError> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The tasks of one run.
pub struct TaskSet {
    set: JoinSet<Result<(), HostError>>,
    names: HashMap<Id, String>,
    errors: ErrorSlot,
}

impl TaskSet {
    /// An empty set whose tasks stop when `cancel` fires.
    pub fn new(cancel: CancellationToken) -> Self {
        TaskSet {
            set: JoinSet::new(),
            names: HashMap::new(),
            errors: ErrorSlot::new(cancel),
        }
    }

    /// A handle for reporting errors from outside the set.
    pub fn error_slot(&self) -> ErrorSlot {
        self.errors.clone()
    }

    /// Runs `task` on the async runtime. `name` identifies it if it panics.
    pub fn spawn(
        &mut self,
        name: String,
        task: impl Future<Output = Result<(), HostError>> + Send + 'static,
    ) {
        let handle = self.set.spawn(task);
        self.names.insert(handle.id(), name);
    }

    /// Runs blocking `task` (file or terminal I/O) on the runtime's blocking pool.
    pub fn spawn_blocking(
        &mut self,
        name: String,
        task: impl FnOnce() -> Result<(), HostError> + Send + 'static,
    ) {
        let handle = self.set.spawn_blocking(task);
        self.names.insert(handle.id(), name);
    }

    /// Waits for every task. Returns the first real error if there was one, `Cancelled` if a
    /// task was stopped by the run's cancellation, else `Ok` (every task ended well).
    ///
    /// # Errors
    /// As above.
    pub async fn join(mut self) -> Result<(), HostError> {
        while let Some(joined) = self.set.join_next_with_id().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((_, Err(error))) => self.errors.report(error),
                Err(join_error) => {
                    let name = self
                        .names
                        .get(&join_error.id())
                        .cloned()
                        .unwrap_or_default();
                    self.errors.report(panic_error(&name, join_error));
                }
            }
        }
        // Every task ended well: the run is complete, even if a stop came once the work was
        // done (saying "cancelled" then would hide files already in place).
        self.errors.take().map_or(Ok(()), Err)
    }
}

fn panic_error(name: &str, error: JoinError) -> HostError {
    if error.is_cancelled() {
        return HostError::Cancelled;
    }
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    HostError::Runtime(format!("internal error: task {name} panicked: {message}"))
}
