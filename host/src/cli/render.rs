//! `validate`, `nodes` and `graph`.

use std::fmt::Write as _;
use std::path::Path;

use remotemedia_vm_sandbox::Interpreter;

use super::args::GraphFormat;
use super::print;
use super::python;
use crate::error::HostError;
use crate::manifest::Isolation;
use crate::node::NodeType;
use crate::pipeline::Pipeline;
use crate::python::{PythonChoice, registry_with_plugins};

/// The pipeline a manifest describes, built in-process to be looked at, not run: its
/// interpreter, if it started one, is stopped.
fn inspect(path: &Path, python_env: Option<&Path>) -> Result<Pipeline, HostError> {
    let (pipeline, interpreter) = python::load(
        path,
        python_env,
        python::Overrides {
            python: None,
            isolation: Some(Isolation::InProcess),
        },
        python::Forced::ToInspect,
    )?;
    interpreter.iter().for_each(Interpreter::shutdown);
    Ok(pipeline)
}

/// `validate`: every problem, or one line saying what the manifest holds.
pub fn validate(path: &Path, python_env: Option<&Path>) -> Result<(), HostError> {
    let pipeline = inspect(path, python_env)?;
    let m = pipeline.resolved();
    print(&format!(
        "ok: {}: pipeline \"{}\", {}, {}\n",
        path.display(),
        m.name,
        count(m.nodes.len(), "node"),
        count(m.edges.len(), "connection")
    ))
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `nodes`: every node type, as a table or (`--json`) a JSON array (DESIGN §8), each with
/// whether it is a source and its parameters.
pub fn nodes(json: bool, python_env: Option<&Path>) -> Result<(), HostError> {
    // Python node types are listed when an environment with the SDK is there; without one,
    // the built-in types still are, and stderr says why the others are missing.
    let (registry, interpreter) =
        registry_with_plugins(&PythonChoice::for_binary(python_env), python::report)?;
    match interpreter {
        Ok(interpreter) => interpreter.shutdown(),
        Err(e) => super::to_stderr(&format!("warning: Python node types not listed: {e}\n")),
    }
    if json {
        let entries: Vec<serde_json::Value> = registry.iter().map(NodeType::to_json).collect();
        let text = serde_json::to_string_pretty(&entries)
            .map_err(|e| HostError::Runtime(e.to_string()))?;
        return print(&format!("{text}\n"));
    }
    let width = registry.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for t in registry.iter() {
        let _ = writeln!(
            out,
            "{:<width$}  {:<6} {:<8} {}{}",
            t.name,
            t.runtime(),
            t.provider,
            t.doc,
            if t.is_source() {
                " Takes no input."
            } else {
                ""
            }
        );
        for p in &t.params {
            let detail = match (&p.default, p.required) {
                (_, true) => "required".to_owned(),
                (Some(default), false) => format!("default {default}"),
                (None, false) => "optional".to_owned(),
            };
            let doc = if p.doc.is_empty() {
                String::new()
            } else {
                format!(": {}", p.doc)
            };
            let _ = writeln!(
                out,
                "{:<width$}    {} ({}, {detail}){doc}",
                "",
                p.name,
                p.kind.tag()
            );
        }
        if t.extra_params {
            let _ = writeln!(out, "{:<width$}    (and any other keyword)", "");
        }
    }
    print(&out)
}

/// `graph`: the manifest's DAG as Graphviz dot or a Mermaid flowchart.
pub fn graph(path: &Path, format: GraphFormat, python_env: Option<&Path>) -> Result<(), HostError> {
    let pipeline = inspect(path, python_env)?;
    print(&render_graph(&pipeline, format))
}

/// The text of `graph`. Edges with a capacity other than the default are labelled with it.
pub fn render_graph(pipeline: &Pipeline, format: GraphFormat) -> String {
    let m = pipeline.resolved();
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
            for n in &m.nodes {
                let shape = if n.resolved.is_source() {
                    ", shape=invhouse"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {} [label={}{shape}];",
                    q(n.id.as_str()),
                    q(&format!("{}\n{}", n.id, n.node_type)).replace('\n', "\\n")
                );
            }
            for c in &m.edges {
                let label = if c.capacity == default_capacity {
                    String::new()
                } else {
                    format!(" [label=\"{}\"]", c.capacity)
                };
                let (from, to) = (&m.nodes[c.from].id, &m.nodes[c.to].id);
                let _ = writeln!(out, "  {} -> {}{label};", q(from.as_str()), q(to.as_str()));
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            let text = |s: &str| s.replace('"', "#quot;");
            out.push_str("flowchart LR\n");
            for (i, n) in m.nodes.iter().enumerate() {
                let label = format!("{}<br/>{}", text(n.id.as_str()), text(&n.node_type));
                let _ = if n.resolved.is_source() {
                    writeln!(out, "  n{i}[/\"{label}\"/]")
                } else {
                    writeln!(out, "  n{i}[\"{label}\"]")
                };
            }
            for c in &m.edges {
                let (a, b) = (c.from, c.to);
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
