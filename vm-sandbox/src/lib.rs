//! Interpreter backends for remotemedia's Python nodes.
//!
//! The executor talks to Python through one seam, [`Backend`]: typed operations (discover,
//! describe a class, create a stage, initialize, push, pull, close, cleanup) on *stages* (runs
//! of consecutive Python nodes driven as one chain inside the interpreter), and the backend's
//! [`Capabilities`]. [`Stage`] is the executor's handle on one stage. [`Interpreter`] is the one
//! place a backend is chosen and started: the embedded CPython backend (feature `cpython`)
//! runs Python on a dedicated thread, and the host never takes the interpreter lock on its own
//! threads. A RustPython VM per pipeline (feature `rustpython`) and a worker process per
//! pipeline are more variants of [`Interpreter`] behind the same trait, held to the same
//! contract suite (`tests/contract.rs`).
//!
//! No PyO3 type appears in this crate's public API.
//!
//! # Layout
//! - `value`: [`Value`], the items that flow (and cross into Python), and their JSON form.
//! - `media`: the memory of media values ([`Buffer`]), arrays and audio frames.
//! - `backend`: the [`Backend`] trait, its operations' types and [`Capabilities`].
//! - `discovery`: [`Discovery`] and [`NodeTypeInfo`], what an environment provides.
//! - `interpreter`: [`Interpreter`], which backend runs a pipeline's Python, and its start.
//! - `stage`: [`Stage`], the executor's handle on a Python stage.
//! - `env`: [`PythonEnv`], which environment (virtualenv, plugins) Python nodes use.
//! - `cpython`: the embedded CPython backend.
//! - `rustpython`: a RustPython VM per pipeline.
//! - `mailbox`, `stages`: what the two in-process backends share (a Python thread's requests,
//!   a thread per stage).
//! - `worker`: a worker process per pipeline, and the wire between it and the host.
//! - `error`: [`SandboxError`].

mod backend;
#[cfg(feature = "cpython")]
pub mod cpython;
mod discovery;
mod env;
mod error;
mod interpreter;
#[cfg(any(feature = "cpython", feature = "rustpython"))]
mod mailbox;
pub mod media;
#[cfg(feature = "rustpython")]
pub mod rustpython;
mod stage;
#[cfg(any(feature = "cpython", feature = "rustpython"))]
mod stages;
pub mod value;
pub mod worker;

pub use backend::{
    Backend, BoxFuture, Capabilities, Fed, Limits, LiveNode, NodeCounts, NodeSpec, PyFailure,
    RetryPolicy, StageId,
};
pub use discovery::{Discovery, NodeTypeInfo, ParamInfo, PluginError};
pub use env::PythonEnv;
pub use error::SandboxError;
pub use interpreter::{Interpreter, InterpreterKind};
pub use media::{Array, AudioFrame, Buffer, DType, Storage};
pub use stage::Stage;
pub use value::Value;
