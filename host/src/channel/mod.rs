//! The bounded queue in front of every task that receives items.
//!
//! One [`Receiver`] takes from any number of [`Sender`]s, one per incoming edge (a *slot*).
//! Each slot has its own capacity, counted in items, so every edge is bounded by its own
//! `capacity` even where edges merge: a full slot blocks its sender (backpressure) and only its
//! sender. Items travel in morsels (a `Vec` of the items a sender had ready) and the receiver
//! takes morsels in arrival order across slots, which is the fan-in order DESIGN §7 asks for.
//! A morsel larger than its slot's capacity is split, so a sender never waits for more items.
//!
//! Each slot is also bounded in media payload bytes ([`Weighed`], DESIGN §7): it is full when
//! either bound is reached, and an item larger than the byte bound still travels, alone, into
//! an empty slot. So a stream of large frames runs in memory bounded by the queues.
//!
//! Every wait also watches the run's [`CancellationToken`]: a cancelled run unblocks every
//! sender and receiver at once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What an item weighs against a queue's byte bound: its media payload.
pub trait Weighed {
    /// Payload bytes.
    fn weight(&self) -> usize;
}

impl Weighed for crate::value::Value {
    fn weight(&self) -> usize {
        self.payload_bytes()
    }
}

/// Why a send did not go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The receiver is gone: downstream stopped. Not a failure by itself.
    Closed,
    /// The run was cancelled.
    Cancelled,
}

/// The run was cancelled while waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

/// Items that arrived together on one slot.
#[derive(Debug)]
pub struct Morsel<T> {
    /// The slot (incoming edge) they came through.
    pub slot: usize,
    /// The items, in the order they were sent.
    pub items: Vec<T>,
}

/// What a slot saw during the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotStats {
    /// Its capacity in items.
    pub capacity: usize,
    /// The most items it ever held at once.
    pub max_depth: usize,
}

struct Slot {
    capacity: usize,
    queued: usize,
    max_depth: usize,
    /// Payload bytes of the queued items.
    bytes: usize,
}

struct State<T> {
    /// Morsels with their payload bytes.
    queue: VecDeque<(Morsel<T>, usize)>,
    /// The byte bound of every slot.
    byte_limit: usize,
    slots: Vec<Slot>,
    open_senders: usize,
    /// A sender ended by [`Sender::abort`]: its upstream failed, so the stream has no proper
    /// end and the receiver must not take it for one.
    aborted: bool,
    receiver_alive: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes the receiver: a morsel arrived or the last sender left.
    data: Notify,
    /// One per slot; wakes that slot's sender: room was made or the receiver left.
    space: Vec<Notify>,
    cancel: CancellationToken,
}

impl<T> State<T> {
    /// Takes the oldest morsel off the queue, giving its slot back the room it held.
    fn pop(&mut self) -> Option<Morsel<T>> {
        let (morsel, bytes) = self.queue.pop_front()?;
        let slot = &mut self.slots[morsel.slot];
        slot.queued -= morsel.items.len();
        slot.bytes -= bytes;
        Some(morsel)
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock cannot leave the queue inconsistent (every update is
        // a single push or pop), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes a queue with one slot per entry of `capacities` (in items), each also bounded by
/// `byte_limit` payload bytes. A queue with no slots is already at its end: its receiver sees
/// the end of stream at once.
pub fn channel<T>(
    capacities: &[usize],
    byte_limit: usize,
    cancel: CancellationToken,
) -> (Vec<Sender<T>>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            byte_limit,
            slots: capacities
                .iter()
                .map(|&capacity| Slot {
                    capacity: capacity.max(1),
                    queued: 0,
                    max_depth: 0,
                    bytes: 0,
                })
                .collect(),
            open_senders: capacities.len(),
            aborted: false,
            receiver_alive: true,
        }),
        data: Notify::new(),
        space: capacities.iter().map(|_| Notify::new()).collect(),
        cancel,
    });
    let senders = (0..capacities.len())
        .map(|slot| Sender {
            shared: Arc::clone(&shared),
            slot,
        })
        .collect();
    (senders, Receiver { shared })
}

/// The sending end of one slot. Dropping it ends that slot's stream.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
    slot: usize,
}

impl<T: Weighed> Sender<T> {
    /// Whether `items` (with `bytes` of payload) would be taken whole right now, without
    /// waiting. `Err` when the receiver is gone or the run was cancelled.
    pub fn has_room(&self, count: usize, bytes: usize) -> Result<bool, SendError> {
        if self.shared.cancel.is_cancelled() {
            return Err(SendError::Cancelled);
        }
        let state = self.shared.lock();
        if !state.receiver_alive {
            return Err(SendError::Closed);
        }
        let slot = &state.slots[self.slot];
        Ok(slot.queued + count <= slot.capacity
            && (slot.queued == 0 || slot.bytes + bytes <= state.byte_limit))
    }

    /// Queues `items` in order, waiting while the slot is full. Returns the time spent
    /// waiting for room.
    ///
    /// # Errors
    /// [`SendError::Closed`] when the receiver is gone (the unsent items are dropped: nobody
    /// would read them), [`SendError::Cancelled`] when the run is cancelled and the items do
    /// not all fit without waiting.
    pub async fn send(&self, items: Vec<T>) -> Result<Duration, SendError> {
        let mut blocked = Duration::ZERO;
        // Chunks are taken from the front as room appears; an iterator hands each one over
        // without moving the rest (splitting the vector copied the rest for every chunk, which
        // made a large morsel quadratic).
        let mut rest = items.into_iter().peekable();
        while rest.peek().is_some() {
            // A cancelled run still takes what fits without waiting: the trailing outputs of
            // a node that finished just as the stop came (a sink's summary after its file is
            // in place) are not lost. Only waiting for room is cut short.
            let sent_some = {
                let mut state = self.shared.lock();
                if !state.receiver_alive {
                    return Err(SendError::Closed);
                }
                let byte_limit = state.byte_limit;
                let slot = &mut state.slots[self.slot];
                let (mut chunk, mut bytes) = (Vec::new(), 0);
                while slot.queued + chunk.len() < slot.capacity {
                    let Some(weight) = rest.peek().map(Weighed::weight) else {
                        break;
                    };
                    // An item over the byte bound still goes, alone, into an empty slot.
                    let alone = slot.queued == 0 && chunk.is_empty();
                    if !alone && slot.bytes + bytes + weight > byte_limit {
                        break;
                    }
                    chunk.extend(rest.next());
                    bytes += weight;
                }
                if chunk.is_empty() {
                    false
                } else {
                    slot.queued += chunk.len();
                    slot.bytes += bytes;
                    slot.max_depth = slot.max_depth.max(slot.queued);
                    state.queue.push_back((
                        Morsel {
                            slot: self.slot,
                            items: chunk,
                        },
                        bytes,
                    ));
                    true
                }
            };
            if sent_some {
                self.shared.data.notify_one();
                continue;
            }
            let started = Instant::now();
            tokio::select! {
                biased;
                () = self.shared.cancel.cancelled() => return Err(SendError::Cancelled),
                () = self.shared.space[self.slot].notified() => {}
            }
            blocked += started.elapsed();
        }
        Ok(blocked)
    }
}

impl<T> Sender<T> {
    /// Ends this slot's stream as failed: what was sent is still delivered, but the receiver
    /// then gets `Err(Cancelled)` instead of the end of stream, so a downstream node never
    /// finishes (writes out, flushes) a stream that was cut short.
    pub fn abort(self) {
        self.shared.lock().aborted = true;
        // Drop: the last sender wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.open_senders -= 1;
            state.open_senders == 0
        };
        if last {
            self.shared.data.notify_one();
        }
    }
}

/// The receiving end. Dropping it tells every sender that nobody reads any more.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// The next morsel in arrival order, waiting for one; `None` once every sender is gone and
    /// the queue is empty.
    ///
    /// # Errors
    /// The run was cancelled, or the queue is empty and a sender ended by
    /// [`Sender::abort`].
    pub async fn recv(&mut self) -> Result<Option<Morsel<T>>, Cancelled> {
        loop {
            if self.shared.cancel.is_cancelled() {
                return Err(Cancelled);
            }
            let popped = {
                let mut state = self.shared.lock();
                match state.pop() {
                    Some(morsel) => Some(morsel),
                    None if state.open_senders == 0 && state.aborted => return Err(Cancelled),
                    None if state.open_senders == 0 => return Ok(None),
                    None => None,
                }
            };
            if let Some(morsel) = popped {
                self.shared.space[morsel.slot].notify_one();
                return Ok(Some(morsel));
            }
            tokio::select! {
                biased;
                () = self.shared.cancel.cancelled() => return Err(Cancelled),
                () = self.shared.data.notified() => {}
            }
        }
    }

    /// The next morsel, waiting for one even after cancellation; `None` once every sender is
    /// gone and the queue is empty (aborted or not). For the run's outputs: what a sink still
    /// emits as the run stops (a summary after its file is in place) is delivered, not lost.
    /// Senders end promptly once the run is cancelled, so this does not wait for long.
    pub async fn recv_until_closed(&mut self) -> Option<Morsel<T>> {
        loop {
            if let Some(morsel) = self.try_recv() {
                return Some(morsel);
            }
            if self.shared.lock().open_senders == 0 {
                // A morsel may have come between the two looks.
                return self.try_recv();
            }
            self.shared.data.notified().await;
        }
    }

    /// The next queued morsel, without waiting and even after cancellation: for draining what
    /// was already sent when a run stops.
    pub fn try_recv(&mut self) -> Option<Morsel<T>> {
        let morsel = self.shared.lock().pop()?;
        self.shared.space[morsel.slot].notify_one();
        Some(morsel)
    }

    /// Whether nothing is queued right now (senders may still be open).
    pub fn is_empty(&self) -> bool {
        self.shared.lock().queue.is_empty()
    }
}

impl<T: Send + 'static> Receiver<T> {
    /// A handle that reads this queue's statistics, usable after the receiver is gone.
    pub fn probe(&self) -> Probe {
        Probe(Arc::clone(&self.shared) as Arc<dyn StatsSource>)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.lock().receiver_alive = false;
        for space in &self.shared.space {
            space.notify_one();
        }
    }
}

trait StatsSource: Send + Sync {
    fn stats(&self) -> Vec<SlotStats>;
}

impl<T: Send> StatsSource for Shared<T> {
    fn stats(&self) -> Vec<SlotStats> {
        self.lock()
            .slots
            .iter()
            .map(|s| SlotStats {
                capacity: s.capacity,
                max_depth: s.max_depth,
            })
            .collect()
    }
}

/// Reads a queue's per-slot statistics.
#[derive(Clone)]
pub struct Probe(Arc<dyn StatsSource>);

impl Probe {
    /// Capacity and deepest fill of each slot.
    pub fn stats(&self) -> Vec<SlotStats> {
        self.0.stats()
    }
}

#[cfg(test)]
mod tests;
