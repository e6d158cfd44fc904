//! The `runtime` section's rules a schema cannot state: what RustPython cannot do (a worker
//! process, a sandbox, `timeout_ms`), and what a sandbox needs (a worker process, paths that
//! exist, variable names).

use serde_json::Value as Json;

use super::schema;
use crate::manifest::problem::{Location, Problem};

/// The problems of a document's `runtime` section alone: what must hold before a worker is
/// started for it (a sandbox that does not parse, or beside in-process isolation, starts none).
pub fn runtime_problems(doc: &Json) -> Vec<Problem> {
    let mut problems: Vec<Problem> = schema::check(doc)
        .into_iter()
        .filter(|p| p.location.head().0 == Some("runtime"))
        .collect();
    check_runtime(doc, &mut problems);
    problems
}

/// The `runtime` section's settings against each other and against the nodes of `doc`.
/// Returns the default edge capacity.
pub(super) fn check_runtime(doc: &Json, problems: &mut Vec<Problem>) -> usize {
    let runtime = doc.get("runtime");
    let at = Location::root().key("runtime");
    let setting = |key: &str| runtime.and_then(|r| r.get(key));
    if setting("python").and_then(Json::as_str) == Some("rustpython") {
        check_rustpython(doc, setting("isolation"), setting("sandbox"), problems);
    }
    if let Some(sandbox) = setting("sandbox") {
        check_sandbox(sandbox, setting("isolation"), &at, problems);
    }
    setting("channel_capacity")
        .and_then(Json::as_u64)
        .and_then(|c| usize::try_from(c).ok())
        .unwrap_or(super::super::DEFAULT_CHANNEL_CAPACITY)
}

/// What a RustPython VM cannot do: run in a worker process (which runs CPython), be
/// sandboxed, or interrupt a node's call at its `timeout_ms`.
fn check_rustpython(
    doc: &Json,
    isolation: Option<&Json>,
    sandbox: Option<&Json>,
    problems: &mut Vec<Problem>,
) {
    let at = Location::root().key("runtime");
    if isolation.and_then(Json::as_str) == Some("process") {
        problems.push(Problem::new(
            at.key("isolation"),
            "the RustPython runtime runs in the host process; a worker process (isolation \"process\") runs CPython",
        ));
    }
    if sandbox.is_some() {
        problems.push(Problem::new(
            at.key("sandbox"),
            "a sandbox runs CPython in a worker process; the RustPython runtime runs in the host process",
        ));
    }
    let nodes = doc
        .get("nodes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten();
    for (i, node) in nodes.enumerate() {
        if node.get("timeout_ms").is_some() {
            problems.push(Problem::new(
                Location::root().key("nodes").index(i).key("timeout_ms"),
                "not supported by the RustPython runtime, which cannot interrupt running Python code (use runtime.python \"cpython\")",
            ));
        }
    }
}

/// What the schema cannot say of `runtime.sandbox`: that it needs a worker process, and
/// that its `env` holds variable names.
pub(super) fn check_sandbox(
    sandbox: &Json,
    isolation: Option<&Json>,
    at: &Location,
    problems: &mut Vec<Problem>,
) {
    if isolation.and_then(Json::as_str) == Some("in_process") {
        problems.push(Problem::new(
            at.key("sandbox"),
            "a sandbox confines a worker process, and runtime.isolation is \"in_process\" (remove it, or make it \"process\")",
        ));
    }
    for field in ["read", "write"] {
        let paths = sandbox
            .get(field)
            .and_then(Json::as_array)
            .into_iter()
            .flatten();
        for (i, path) in paths.enumerate() {
            if let Some(path) = path.as_str().filter(|p| !p.is_empty())
                && !std::path::Path::new(path).exists()
            {
                problems.push(Problem::new(
                    at.key("sandbox").key(field).index(i),
                    format!("\"{path}\" does not exist (the sandbox opens every path it is given: create it first)"),
                ));
            }
        }
    }
    let names = sandbox
        .get("env")
        .and_then(Json::as_array)
        .into_iter()
        .flatten();
    for (i, name) in names.enumerate() {
        if let Some(name) = name.as_str()
            && (name.contains('=') || name.contains('\0'))
        {
            problems.push(Problem::new(
                at.key("sandbox").key("env").index(i),
                format!("\"{name}\" is not an environment variable's name (no \"=\" or NUL)"),
            ));
        }
    }
}
