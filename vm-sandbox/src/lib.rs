//! Interpreter backends for remotemedia's Python nodes.
//!
//! The executor talks to Python through one seam, [`Backend`]: backend-neutral [`Request`]s
//! in, [`Reply`]s out, addressed to a *stage* (a run of consecutive Python nodes driven as one
//! chain inside the interpreter). [`Stage`] wraps that protocol for the executor. The embedded
//! CPython backend (feature `cpython`) runs Python on a dedicated thread with its own asyncio
//! loop; the host never takes the interpreter lock on its own threads. A RustPython VM per
//! pipeline and a worker process per pipeline are meant to slot in behind the same trait.
//!
//! No PyO3 type appears in this crate's public API.
//!
//! # Layout
//! - `value`: [`Value`], the items that flow (and cross into Python).
//! - `backend`: the [`Backend`] trait and its protocol.
//! - `stage`: [`Stage`], the executor's handle on a Python stage.
//! - `env`: [`PythonEnv`], which environment (virtualenv, plugins) Python nodes use.
//! - `cpython`: the embedded CPython backend.
//! - `error`: [`SandboxError`].

mod backend;
#[cfg(feature = "cpython")]
pub mod cpython;
mod env;
mod error;
mod stage;
pub mod value;

pub use backend::{Backend, BoxFuture, LiveNode, NodeSpec, PyFailure, Reply, Request};
pub use env::PythonEnv;
pub use error::SandboxError;
pub use stage::Stage;
pub use value::Value;
