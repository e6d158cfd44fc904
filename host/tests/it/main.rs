//! Integration tests of `remotemedia-host`, compiled as one binary.
//!
//! Fixture manifests live in `host/tests/fixtures/manifests/`: `valid-*.{json,toml}` must
//! validate, `invalid-*.{json,toml}` must fail with the problems listed in the `.expected` file
//! beside each.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail the test loudly, by design

mod audio;
mod backpressure;
mod cancellation;
mod cli;
mod failures;
mod fuzz;
mod hostile;
mod manifest;
mod python_nodes;
mod support;
mod topology;
