//! `validate`, `nodes` and `graph`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::args::GraphFormat;
use super::print;
use super::python;
use crate::error::HostError;
use crate::node::{Registry, Role};
use crate::pipeline::Pipeline;

/// `validate`: every problem, or one line saying what the manifest holds.
pub fn validate(path: &Path, python_env: Option<&Path>) -> Result<(), HostError> {
    let (pipeline, python) = python::load(path, python_env)?;
    python.iter().for_each(crate::python::Python::shutdown);
    let m = pipeline.manifest();
    print(&format!(
        "ok: {}: pipeline \"{}\", {}, {}\n",
        path.display(),
        m.name,
        count(m.nodes.len(), "node"),
        count(m.connections.len(), "connection")
    ))
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[derive(Serialize)]
struct NodeEntry<'a> {
    node_type: &'a str,
    provider: &'a str,
    runtime: &'a str,
    doc: String,
}

/// `nodes`: every node type, as a table or (`--json`) a JSON array.
pub fn nodes(json: bool, python_env: Option<&Path>) -> Result<(), HostError> {
    let mut registry = Registry::builtin();
    // Python node types are listed when an environment with the SDK is there; without one,
    // the built-in types still are, and stderr says why the others are missing. A wrong
    // --python-env is an error, as for every command.
    if python_env.is_some() {
        python::select_env(python_env)?;
    }
    let python = match python::start(python_env) {
        Ok(python) => Some(python),
        Err(e) => {
            eprintln!("warning: Python node types not listed: {e}");
            None
        }
    };
    if let Some(python) = &python {
        let discovery = python.discover()?;
        discovery.errors.iter().for_each(python::report);
        registry.add_python(discovery.node_types(), discovery.plugins.clone());
        python.shutdown();
    }
    let entries: Vec<NodeEntry> = registry
        .iter()
        .map(|t| {
            let mut doc = t.doc.clone();
            if t.role == Role::Source {
                doc.push_str(" Takes no input.");
            }
            if !t.params.is_empty() {
                let params: Vec<String> = t
                    .params
                    .iter()
                    .map(|p| {
                        format!(
                            "{} ({}{}): {}",
                            p.name,
                            p.kind.name(),
                            if p.required { ", required" } else { "" },
                            p.doc
                        )
                    })
                    .collect();
                let _ = write!(doc, " Params: {}.", params.join("; "));
            }
            NodeEntry {
                node_type: &t.name,
                provider: &t.provider,
                runtime: t.runtime,
                doc,
            }
        })
        .collect();
    if json {
        let text = serde_json::to_string_pretty(&entries)
            .map_err(|e| HostError::Runtime(e.to_string()))?;
        return print(&format!("{text}\n"));
    }
    let width = entries.iter().map(|e| e.node_type.len()).max().unwrap_or(0);
    let mut out = String::new();
    for e in &entries {
        let _ = writeln!(
            out,
            "{:<width$}  {:<6} {:<8} {}",
            e.node_type, e.runtime, e.provider, e.doc
        );
    }
    print(&out)
}

/// `graph`: the manifest's DAG as Graphviz dot or a Mermaid flowchart.
pub fn graph(path: &Path, format: GraphFormat, python_env: Option<&Path>) -> Result<(), HostError> {
    let (pipeline, python) = python::load(path, python_env)?;
    python.iter().for_each(crate::python::Python::shutdown);
    print(&render_graph(&pipeline, format))
}

/// The text of `graph`. Edges with a capacity other than the default are labelled with it.
pub fn render_graph(pipeline: &Pipeline, format: GraphFormat) -> String {
    let m = pipeline.manifest();
    let default_capacity = m.runtime.channel_capacity;
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
            let _ = writeln!(
                out,
                "digraph {} {{\n  rankdir=LR;\n  node [shape=box, style=rounded];",
                q(&m.name)
            );
            for (n, role) in m.nodes.iter().zip(pipeline.roles()) {
                let shape = if *role == Role::Source {
                    ", shape=invhouse"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {} [label={}{shape}];",
                    q(&n.id),
                    q(&format!("{}\n{}", n.id, n.node_type)).replace('\n', "\\n")
                );
            }
            for c in &m.connections {
                let label = if c.capacity == default_capacity {
                    String::new()
                } else {
                    format!(" [label=\"{}\"]", c.capacity)
                };
                let _ = writeln!(out, "  {} -> {}{label};", q(&c.from), q(&c.to));
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            let text = |s: &str| s.replace('"', "#quot;");
            let index = |id: &str| m.nodes.iter().position(|n| n.id == id).unwrap_or(0);
            out.push_str("flowchart LR\n");
            for (i, (n, role)) in m.nodes.iter().zip(pipeline.roles()).enumerate() {
                let label = format!("{}<br/>{}", text(&n.id), text(&n.node_type));
                let _ = if *role == Role::Source {
                    writeln!(out, "  n{i}[/\"{label}\"/]")
                } else {
                    writeln!(out, "  n{i}[\"{label}\"]")
                };
            }
            for c in &m.connections {
                let (a, b) = (index(&c.from), index(&c.to));
                let _ = if c.capacity == default_capacity {
                    writeln!(out, "  n{a} --> n{b}")
                } else {
                    writeln!(out, "  n{a} -->|{}| n{b}", c.capacity)
                };
            }
        }
    }
    out
}
