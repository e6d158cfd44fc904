//! The rules a JSON Schema cannot state, checked alongside the schema: unique ids, connections
//! that name existing nodes, known node types with well-typed parameters, `retry` and
//! `timeout_ms` only on the Python nodes they apply to, no cycles, no fields whose feature is
//! not built yet. Every check reads the raw document defensively, so one run
//! reports every problem, whatever else is wrong, in document order.

use std::collections::HashMap;

use remotemedia_vm_sandbox::RetryPolicy;
use serde_json::{Map, Value as Json};

use self::runtime::check_runtime;
pub use self::runtime::runtime_problems;
use super::problem::{Location, Problem, closest, did_you_mean};
use super::{Edge, NodeId, ResolvedNode, ResolvedPipeline, RuntimeConfig, RuntimeHint, schema};
use crate::graph::Graph;
use crate::node::{NodeType, Registry};

/// What a node of a document names, read before anything else: its `node_type` (if it is a
/// non-empty string) and its `runtime_hint` (`auto` when absent or invalid: the schema reports
/// an invalid one). The one place a hint is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeRef<'d> {
    /// `node_type`.
    pub node_type: Option<&'d str>,
    /// `runtime_hint`.
    pub hint: RuntimeHint,
}

/// The [`NodeRef`] of every node of a document, in order (nothing if `nodes` is no array).
pub fn node_refs(doc: &Json) -> Vec<NodeRef<'_>> {
    let nodes = doc.get("nodes").and_then(Json::as_array);
    nodes
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|node| NodeRef {
            node_type: node
                .get("node_type")
                .and_then(Json::as_str)
                .filter(|t| !t.is_empty()),
            hint: match node.get("runtime_hint").and_then(Json::as_str) {
                Some("rust") => RuntimeHint::Rust,
                Some("python") => RuntimeHint::Python,
                _ => RuntimeHint::Auto,
            },
        })
        .collect()
}

/// Validates a parsed manifest document against the schema and the rules above, resolving
/// every node type once.
///
/// # Errors
/// Every problem found, in document order.
pub fn validate(doc: &Json, registry: &Registry) -> Result<ResolvedPipeline, Vec<Problem>> {
    let mut problems = schema::check(doc);
    let empty = Vec::new();
    let nodes = doc.get("nodes").and_then(Json::as_array).unwrap_or(&empty);
    let (index_of, resolved) = check_nodes(nodes, &node_refs(doc), registry, &mut problems);
    let default_capacity = check_runtime(doc, &mut problems);
    let edges = check_connections(
        doc,
        nodes,
        &index_of,
        &resolved,
        default_capacity,
        &mut problems,
    );
    // A cycle among the edges that passed is a real cycle, whatever else is wrong.
    let graph = Graph::new(nodes.len(), edges.iter().map(|e| (e.from, e.to)).collect());
    if let Err(cycle) = graph.topo_order() {
        let mut names: Vec<&str> = cycle.iter().map(|&v| node_id(&nodes[v])).collect();
        names.push(names[0]);
        problems.push(Problem::new(
            Location::root().key("connections"),
            format!("cycle: {}", names.join(" -> ")),
        ));
    }
    if !problems.is_empty() {
        sort_in_document_order(doc, &mut problems);
        return Err(problems);
    }
    typed(doc, nodes, resolved, edges)
        .map_err(|e| vec![Problem::new(Location::root(), e.to_string())])
}

/// Ids, node types, parameters, and `retry` and `timeout_ms` where they do not apply. Returns the index of each id,
/// and each node's resolved type where it resolved.
fn check_nodes<'d, 'r>(
    nodes: &'d [Json],
    refs: &[NodeRef<'d>],
    registry: &'r Registry,
    problems: &mut Vec<Problem>,
) -> (HashMap<&'d str, usize>, Vec<Option<&'r NodeType>>) {
    let no_params = Map::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let mut resolved = Vec::with_capacity(nodes.len());
    for ((i, node), refer) in nodes.iter().enumerate().zip(refs) {
        let at = Location::root().key("nodes").index(i);
        if let Some(id) = node
            .get("id")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
        {
            if let Some(first) = index_of.get(id) {
                problems.push(Problem::new(
                    at.key("id"),
                    format!("duplicate node id \"{id}\" (first used by nodes[{first}])"),
                ));
            } else {
                index_of.insert(id, i);
            }
        }
        let params = match node.get("params") {
            // A misspelt "params" key has been reported; its parameters are not missing.
            None if has_misspelt_params(node) => None,
            None => Some(&no_params),
            Some(p) => p.as_object(),
        };
        let found = refer.node_type.and_then(|name| {
            registry
                .resolve(name, refer.hint, &at)
                .map_err(|problem| problems.push(problem))
                .ok()
        });
        if let (Some(found), Some(params)) = (found, params) {
            problems.extend(found.check(params, &at));
        }
        if let (Some(found), Some(name)) = (found, refer.node_type) {
            check_call_options(node, found, name, &at, problems);
        }
        resolved.push(found);
    }
    (index_of, resolved)
}

/// `retry` and `timeout_ms` govern one item's call of a Python node's `process`: a Rust node
/// has no such call, and a streaming node takes the whole stream, so no single item's call of
/// it can be made again (its `timeout_ms` bounds each resumption of its code).
fn check_call_options(
    node: &Json,
    found: &NodeType,
    name: &str,
    at: &Location,
    problems: &mut Vec<Problem>,
) {
    for field in ["retry", "timeout_ms"] {
        if node.get(field).is_none() {
            continue;
        }
        let message = if !found.is_python() {
            format!("{field} applies to Python nodes only, and \"{name}\" is a Rust node")
        } else if field == "retry" && found.streaming {
            format!(
                "retry does not apply to a streaming node: \"{name}\" takes the whole stream, so no single item's call can be made again"
            )
        } else {
            continue;
        };
        problems.push(Problem::new(at.key(field), message));
    }
}

/// A node's `retry`, from a document that passed the schema (`max_attempts` >= 1, both
/// bounded by it).
fn retry_policy(node: &Json) -> Option<RetryPolicy> {
    let retry = node.get("retry")?;
    let field = |key: &str| retry.get(key).and_then(Json::as_u64);
    Some(RetryPolicy {
        max_attempts: field("max_attempts")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1),
        backoff_ms: field("backoff_ms").unwrap_or(0),
    })
}

fn has_misspelt_params(node: &Json) -> bool {
    node.as_object().is_some_and(|fields| {
        fields
            .keys()
            .any(|k| k != "params" && !closest(k, ["params"]).is_empty())
    })
}

/// Orders problems as their places appear in the document: by top-level field, then by array
/// index; problems at the same place keep the order they were found in.
fn sort_in_document_order(doc: &Json, problems: &mut [Problem]) {
    let top: Vec<&str> = doc
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    problems.sort_by_key(|p| {
        let (key, index) = p.location.head();
        let position = key.and_then(|k| top.iter().position(|t| *t == k));
        (
            key.is_some(),
            position.unwrap_or(usize::MAX),
            index.unwrap_or(0),
        )
    });
}

fn node_id(node: &Json) -> &str {
    node.get("id").and_then(Json::as_str).unwrap_or("?")
}

/// Checks `connections` (or makes the default chain) and returns the edges that passed.
fn check_connections(
    doc: &Json,
    nodes: &[Json],
    index_of: &HashMap<&str, usize>,
    resolved: &[Option<&NodeType>],
    default_capacity: usize,
    problems: &mut Vec<Problem>,
) -> Vec<Edge> {
    let is_source = |v: usize| resolved[v].is_some_and(NodeType::is_source);
    let Some(connections) = doc.get("connections") else {
        let mut edges = Vec::new();
        for v in 1..nodes.len() {
            if is_source(v) {
                problems.push(
                    Problem::new(
                        Location::root().key("nodes").index(v),
                        format!(
                            "node \"{}\" is a source and takes no input, but without \"connections\" the nodes form a chain in list order, so it would follow \"{}\"",
                            node_id(&nodes[v]),
                            node_id(&nodes[v - 1])
                        ),
                    )
                    .with_help(Some("list the edges in \"connections\", or put the source first".to_owned())),
                );
            } else {
                edges.push(Edge {
                    from: v - 1,
                    to: v,
                    capacity: default_capacity,
                });
            }
        }
        return edges;
    };
    let Some(connections) = connections.as_array() else {
        return Vec::new();
    };
    let mut ids: Vec<&str> = index_of.keys().copied().collect();
    ids.sort_unstable();
    let mut edges = Vec::new();
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    for (i, conn) in connections.iter().enumerate() {
        let at = Location::root().key("connections").index(i);
        let mut end = |key: &str| -> Option<usize> {
            let name = conn.get(key)?.as_str().filter(|s| !s.is_empty())?;
            let found = index_of.get(name).copied();
            if found.is_none() {
                let help = did_you_mean(name, ids.iter().copied())
                    .unwrap_or_else(|| format!("node ids: {}", ids.join(", ")));
                problems.push(
                    Problem::new(at.key(key), format!("unknown node \"{name}\""))
                        .with_help(Some(help)),
                );
            }
            found
        };
        let (from, to) = (end("from"), end("to"));
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        if is_source(to) {
            let to_type = nodes[to]
                .get("node_type")
                .and_then(Json::as_str)
                .unwrap_or_default();
            problems.push(Problem::new(
                at.key("to"),
                format!(
                    "node \"{}\" ({to_type}) is a source and takes no input",
                    node_id(&nodes[to])
                ),
            ));
            continue;
        }
        if let Some(first) = seen.insert((from, to), i) {
            problems.push(Problem::new(
                at,
                format!(
                    "duplicate connection \"{}\" -> \"{}\" (first at connections[{first}])",
                    node_id(&nodes[from]),
                    node_id(&nodes[to])
                ),
            ));
            continue;
        }
        let capacity = conn
            .get("capacity")
            .and_then(Json::as_u64)
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(default_capacity);
        edges.push(Edge { from, to, capacity });
    }
    edges
}

/// The resolved pipeline of a document that passed every check.
fn typed(
    doc: &Json,
    nodes: &[Json],
    resolved: Vec<Option<&NodeType>>,
    edges: Vec<Edge>,
) -> Result<ResolvedPipeline, serde_json::Error> {
    let mut runtime: RuntimeConfig = match doc.get("runtime") {
        Some(r) => serde_json::from_value(r.clone())?,
        None => RuntimeConfig::default(),
    };
    if runtime.sandbox.is_some() {
        runtime.isolation = super::Isolation::Process; // a sandbox confines a worker process
    }
    let metadata = doc.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let nodes = nodes
        .iter()
        .zip(resolved)
        .filter_map(|(node, found)| {
            Some(ResolvedNode {
                id: NodeId::from(node_id(node)),
                node_type: node.get("node_type")?.as_str()?.to_owned(),
                resolved: found?.clone(),
                params: node
                    .get("params")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default(),
                retry: retry_policy(node),
                timeout_ms: node.get("timeout_ms").and_then(Json::as_u64),
            })
        })
        .collect();
    Ok(ResolvedPipeline {
        name: text("name").unwrap_or_else(|| "pipeline".to_owned()),
        description: text("description"),
        runtime,
        nodes,
        edges,
    })
}

mod runtime;
#[cfg(test)]
mod tests;
