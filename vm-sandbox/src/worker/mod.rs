//! A worker process per pipeline (DESIGN §10): the pipeline's Python nodes run in a child
//! process, so a crash, an `os._exit` or a hang there ends that pipeline with a node error and
//! nothing else.
//!
//! The worker embeds CPython like the host does and runs the same backend
//! ([`crate::cpython::CPython`]) and driver; the host reaches it through [`Worker`], a
//! [`crate::Backend`] whose operations travel over a Unix socket in the versioned format of
//! [`wire`]. Items cross in the batches the executor already makes (morsels); media payloads
//! of a message cross in one sealed shared-memory segment ([`shm`]), copied once.
//!
//! # Layout
//! - `wire`: frames (`wire/socket`: on the socket), and items in binary form (`wire/items`).
//! - `shm`: media segments, and the board where the worker notes which node runs.
//! - `client`: the host's side ([`Worker`]; `client/launch`: [`Launch`], how it is started,
//!   `client/backend`: the operations, `client/death`: how a worker ended).
//! - `serve`: the worker's side ([`serve`]).
//! - `sandbox`: the kernel's confinement of a sandboxed worker ([`Policy`]).

mod client;
pub mod sandbox;
#[cfg(feature = "cpython")]
mod serve;
pub mod shm;
pub mod wire;

#[cfg(test)]
mod tests;

pub use client::{Launch, Worker};
pub use sandbox::Policy;
#[cfg(feature = "cpython")]
pub use serve::serve;
