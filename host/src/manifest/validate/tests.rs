//! Unit tests of the parent module.

use serde_json::json;

use super::runtime::check_sandbox;
use super::*;

fn problems(doc: &Json) -> Vec<String> {
    validate(doc, &Registry::builtin())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn missing_connections_key_chains_nodes_in_order() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "a", "node_type": "PassThrough"},
        {"id": "b", "node_type": "Add", "params": {"addend": 1}},
        {"id": "c", "node_type": "PassThroughNode"}]});
    let m = validate(&doc, &Registry::builtin()).unwrap();
    let pairs: Vec<(usize, usize)> = m.edges.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(pairs, vec![(0, 1), (1, 2)]);
    assert_eq!(m.edges[0].capacity, super::super::DEFAULT_CHANNEL_CAPACITY);
    assert_eq!(m.nodes[1].resolved.name, "Add");
}

#[test]
fn empty_connections_means_no_edges() {
    let doc = json!({"version": "v1", "connections": [], "nodes": [
        {"id": "a", "node_type": "PassThrough"}, {"id": "b", "node_type": "PassThrough"}]});
    assert!(
        validate(&doc, &Registry::builtin())
            .unwrap()
            .edges
            .is_empty()
    );
}

#[test]
fn schema_and_semantic_problems_come_together() {
    let found = problems(&json!({"version": "v1", "nodes": [
        {"id": "a", "node_type": "Multipy", "parms": {}},
        {"id": "a", "node_type": "Add", "params": {"addend": "one"}}],
        "connections": [{"from": "a", "to": "b"}]}));
    assert_eq!(
        found,
        vec![
            "nodes[0].parms: unknown field \"parms\" (did you mean \"params\"?)",
            "nodes[0].node_type: unknown node type \"Multipy\" (did you mean \"Multiply\"?)",
            "nodes[1].id: duplicate node id \"a\" (first used by nodes[0])",
            "nodes[1].params.addend: expected a number, got string \"one\"",
            "connections[0].to: unknown node \"b\" (node ids: a)",
        ]
    );
}

#[test]
fn cycle_names_its_nodes() {
    let found = problems(&json!({"version": "v1", "nodes": [
        {"id": "src", "node_type": "PassThrough"},
        {"id": "x", "node_type": "PassThrough"},
        {"id": "y", "node_type": "PassThrough"}],
        "connections": [{"from": "src", "to": "x"}, {"from": "x", "to": "y"}, {"from": "y", "to": "x"}]}));
    assert_eq!(found, vec!["connections: cycle: x -> y -> x"]);
}

/// The built-ins, a Python function node `Py` and a Python streaming node `Stream`.
fn with_python() -> Registry {
    let info = |name: &str, streaming: bool| remotemedia_vm_sandbox::NodeTypeInfo {
        node_type: name.to_owned(),
        provider: Some("tests".to_owned()),
        doc: String::new(),
        module: "m".to_owned(),
        qualname: name.to_owned(),
        source: false,
        streaming,
        params: Vec::new(),
        extra_params: false,
    };
    let mut registry = Registry::builtin();
    registry.add_python(&remotemedia_vm_sandbox::Discovery {
        types: vec![info("Py", false), info("Stream", true)],
        errors: Vec::new(),
        plugins: vec!["tests".to_owned()],
    });
    registry
}

fn python_problems(nodes: &Json) -> Vec<String> {
    let doc = json!({"version": "v1", "connections": [], "nodes": nodes});
    match validate(&doc, &with_python()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn retry_and_timeout_reach_the_resolved_python_node() {
    let doc = json!({"version": "v1", "nodes": [
        {"id": "a", "node_type": "Py", "retry": {"max_attempts": 3, "backoff_ms": 20},
         "timeout_ms": 100},
        {"id": "b", "node_type": "Py", "retry": {"max_attempts": 2}},
        {"id": "c", "node_type": "Stream", "timeout_ms": 5},
        {"id": "d", "node_type": "Py"}]});
    let m = validate(&doc, &with_python()).unwrap();
    let options: Vec<_> = m.nodes.iter().map(|n| (n.retry, n.timeout_ms)).collect();
    let policy = |max_attempts, backoff_ms| {
        Some(RetryPolicy {
            max_attempts,
            backoff_ms,
        })
    };
    assert_eq!(
        options,
        vec![
            (policy(3, 20), Some(100)),
            (policy(2, 0), None),
            (None, Some(5)),
            (None, None),
        ]
    );
}

#[test]
fn retry_and_timeout_on_a_rust_node_say_they_apply_to_python_nodes() {
    let found = python_problems(&json!([
        {"id": "m", "node_type": "Multiply", "params": {"factor": 2},
         "retry": {"max_attempts": 2}},
        {"id": "p", "node_type": "PassThrough", "timeout_ms": 10},
        {"id": "r", "node_type": "Py", "runtime_hint": "rust", "timeout_ms": 10}]));
    assert_eq!(
        found,
        vec![
            "nodes[0].retry: retry applies to Python nodes only, and \"Multiply\" is a Rust node",
            "nodes[1].timeout_ms: timeout_ms applies to Python nodes only, and \"PassThrough\" is a Rust node",
            // An unresolved type is its own problem: nothing more is said of its fields.
            "nodes[2].node_type: \"Py\" is not a built-in Rust node, but runtime_hint is \"rust\"",
        ]
    );
}

#[test]
fn retry_on_a_streaming_node_is_refused_and_its_timeout_is_not() {
    let found = python_problems(&json!([
        {"id": "s", "node_type": "Stream", "retry": {"max_attempts": 2}, "timeout_ms": 10}]));
    assert_eq!(
        found,
        vec![
            "nodes[0].retry: retry does not apply to a streaming node: \"Stream\" takes the whole stream, so no single item's call can be made again"
        ]
    );
}

#[test]
fn retry_and_timeout_values_are_checked_by_the_schema() {
    let found = python_problems(&json!([
        {"id": "a", "node_type": "Py", "retry": {"max_attempts": 0, "backoff_ms": -1},
         "timeout_ms": 0},
        {"id": "b", "node_type": "Py", "retry": {"backoff_ms": 5, "tries": 2},
         "timeout_ms": 1.5},
        {"id": "c", "node_type": "Py", "retry": 3}]));
    assert_eq!(
        found,
        vec![
            "nodes[0].retry.max_attempts: must be at least 1, got 0",
            "nodes[0].retry.backoff_ms: must be at least 0, got -1",
            "nodes[0].timeout_ms: must be at least 1, got 0",
            "nodes[1].retry: missing required field \"max_attempts\"",
            "nodes[1].retry.tries: unknown field \"tries\"",
            "nodes[1].timeout_ms: expected an integer, got number 1.5",
            "nodes[2].retry: expected an object, got integer 3",
        ]
    );
}

/// A one-node document with these runtime settings.
fn with_runtime(runtime: &Json) -> Json {
    json!({"version": "v1", "runtime": runtime, "nodes": [{"id": "a", "node_type": "PassThrough"}]})
}

const IN_PROCESS: &str = "runtime.sandbox: a sandbox confines a worker process, and runtime.isolation is \"in_process\" (remove it, or make it \"process\")";

#[test]
fn a_sandbox_in_process_is_refused_where_it_is() {
    assert_eq!(
        problems(&with_runtime(
            &json!({"isolation": "in_process", "sandbox": {}})
        )),
        vec![IN_PROCESS]
    );
    // Beside the other problems of the section, schema problems first.
    assert_eq!(
        problems(&with_runtime(&json!({"isolation": "in_process",
            "sandbox": {"network": 1, "env": ["HOME", "A=B"]}}))),
        vec![
            "runtime.sandbox.network: expected a boolean, got integer 1",
            IN_PROCESS,
            "runtime.sandbox.env[1]: \"A=B\" is not an environment variable's name (no \"=\" or NUL)",
        ]
    );
}

#[test]
fn a_sandbox_env_holds_names_only() {
    let found = problems(&with_runtime(
        &json!({"sandbox": {"env": ["HOME", "A=B", "C\u{0}D", "=", "", 3]}}),
    ));
    assert_eq!(
        found,
        vec![
            "runtime.sandbox.env[4]: must not be empty",
            "runtime.sandbox.env[5]: expected a string, got integer 3",
            "runtime.sandbox.env[1]: \"A=B\" is not an environment variable's name (no \"=\" or NUL)",
            "runtime.sandbox.env[2]: \"C\u{0}D\" is not an environment variable's name (no \"=\" or NUL)",
            "runtime.sandbox.env[3]: \"=\" is not an environment variable's name (no \"=\" or NUL)",
        ]
    );
}

#[test]
fn a_misspelt_sandbox_field_is_named_with_a_suggestion() {
    let found = problems(&with_runtime(
        &json!({"isolation": "process", "sandbox": {"netwrok": true, "envs": ["HOME"]}}),
    ));
    assert_eq!(
        found,
        vec![
            "runtime.sandbox.netwrok: unknown field \"netwrok\" (did you mean \"network\"?)",
            "runtime.sandbox.envs: unknown field \"envs\" (did you mean \"env\"?)",
        ]
    );
}

#[test]
fn sandbox_limits_are_bounded_by_the_schema() {
    assert_eq!(
        problems(&with_runtime(&json!({"sandbox": {"memory_mb": 63}}))),
        vec!["runtime.sandbox.memory_mb: must be at least 64, got 63"]
    );
    assert_eq!(
        problems(&with_runtime(
            &json!({"sandbox": {"memory_mb": 0, "cpu_s": 0}})
        )),
        vec![
            "runtime.sandbox.memory_mb: must be at least 64, got 0",
            "runtime.sandbox.cpu_s: must be at least 1, got 0",
        ]
    );
    assert_eq!(
        problems(&with_runtime(
            &json!({"sandbox": {"memory_mb": 1_048_577, "cpu_s": 1.5}})
        )),
        vec![
            "runtime.sandbox.memory_mb: must be at most 1048576, got 1048577",
            "runtime.sandbox.cpu_s: expected an integer, got number 1.5",
        ]
    );
    assert_eq!(
        problems(&with_runtime(
            &json!({"sandbox": {"read": [""], "write": [1], "network": "yes"}})
        )),
        vec![
            "runtime.sandbox.read[0]: must not be empty",
            "runtime.sandbox.write[0]: expected a string, got integer 1",
            "runtime.sandbox.network: expected a boolean, got string \"yes\"",
        ]
    );
}

#[test]
fn a_valid_sandbox_passes_with_process_isolation_or_none_and_reaches_the_runtime() {
    let policy = json!({"read": ["/usr"], "write": ["/tmp"], "network": false,
        "memory_mb": 64, "cpu_s": 10, "env": ["HOME", "A_B"]});
    for runtime in [
        json!({"sandbox": {}}),
        json!({"sandbox": policy}),
        json!({"isolation": "process", "sandbox": policy}),
        json!({"isolation": "process", "sandbox": {"network": true, "memory_mb": 1_048_576}}),
    ] {
        let resolved = validate(&with_runtime(&runtime), &Registry::builtin());
        let m = resolved.unwrap_or_else(|p| panic!("{runtime}: {p:?}"));
        let expected = serde_json::from_value(runtime["sandbox"].clone()).unwrap();
        assert_eq!(m.runtime.sandbox, Some(expected), "{runtime}");
    }
    let m = validate(
        &with_runtime(&json!({"sandbox": policy})),
        &Registry::builtin(),
    )
    .unwrap();
    let sandbox = m.runtime.sandbox.unwrap();
    assert_eq!(sandbox.memory_mb, Some(64));
    assert_eq!(sandbox.env, ["HOME", "A_B"]);
    assert!(!sandbox.network);
}

#[test]
fn check_sandbox_says_what_the_schema_cannot() {
    let at = Location::root().key("runtime");
    let check = |sandbox: Json, isolation: Option<Json>| {
        let mut found = Vec::new();
        check_sandbox(&sandbox, isolation.as_ref(), &at, &mut found);
        found.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert!(check(json!({"env": ["HOME"]}), None).is_empty());
    assert!(check(json!({"env": ["HOME"]}), Some(json!("process"))).is_empty());
    // The schema reports a sandbox or env of the wrong kind; that it needs a worker process
    // holds whatever its kind.
    assert!(check(json!({"env": "A=B"}), None).is_empty());
    assert!(check(json!([]), Some(json!("bogus"))).is_empty());
    assert_eq!(
        check(json!([]), Some(json!("in_process"))),
        vec![IN_PROCESS]
    );
    assert_eq!(
        check(json!({"env": [1, "X=1"]}), Some(json!("in_process"))),
        vec![
            IN_PROCESS,
            "runtime.sandbox.env[1]: \"X=1\" is not an environment variable's name (no \"=\" or NUL)",
        ]
    );
}
