//! A pipeline ready to run: a validated manifest, its graph, and its constructed nodes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use remotemedia_vm_sandbox::{Backend, LiveNode};

use serde_json::Value as Json;

use crate::error::{HostError, Result};
use crate::graph::Graph;
use crate::manifest::{self, Format, Location, Manifest};
use crate::node::{NodeImpl, Registry, Role};

/// A validated manifest with its nodes built.
pub struct Pipeline {
    manifest: Manifest,
    graph: Graph,
    nodes: Vec<NodeImpl>,
    roles: Vec<Role>,
    python: Option<Arc<dyn Backend>>,
}

impl Pipeline {
    /// Reads, validates and builds the manifest at `path` (`.toml` is TOML, anything else JSON).
    ///
    /// # Errors
    /// [`HostError::Usage`] if the file cannot be read, [`HostError::Manifest`] with every
    /// problem found otherwise.
    pub fn load(path: &Path, registry: &Registry) -> Result<Self> {
        let doc = Self::read_document(path)?;
        Self::from_document(&doc, &path.display().to_string(), registry)
    }

    /// Validates and builds manifest text. `source_name` names it in errors.
    ///
    /// # Errors
    /// [`HostError::Manifest`] with every problem found.
    pub fn from_text(
        text: &str,
        format: Format,
        source_name: &str,
        registry: &Registry,
    ) -> Result<Self> {
        let doc = manifest::parse_text(text, format).map_err(|p| HostError::Manifest {
            source_name: source_name.to_owned(),
            problems: vec![p],
        })?;
        Self::from_document(&doc, source_name, registry)
    }

    /// Validates and builds a parsed manifest document.
    ///
    /// # Errors
    /// [`HostError::Manifest`] with every problem found.
    pub fn from_document(doc: &Json, source_name: &str, registry: &Registry) -> Result<Self> {
        let invalid = |problems| HostError::Manifest {
            source_name: source_name.to_owned(),
            problems,
        };
        let manifest = manifest::validate(doc, registry).map_err(invalid)?;
        let index: HashMap<&str, usize> = manifest
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        let edges = manifest
            .connections
            .iter()
            .map(|c| (index[c.from.as_str()], index[c.to.as_str()]))
            .collect();
        let graph = Graph::new(manifest.nodes.len(), edges);
        let mut nodes = Vec::with_capacity(manifest.nodes.len());
        let mut roles = Vec::with_capacity(manifest.nodes.len());
        for (i, spec) in manifest.nodes.iter().enumerate() {
            let at = Location::root().key("nodes").index(i);
            nodes.push(
                registry
                    .build(&spec.node_type, spec.runtime_hint, &spec.params, &at)
                    .map_err(invalid)?,
            );
            roles.push(
                registry
                    .get(&spec.node_type)
                    .map_or(Role::Transform, |t| t.role),
            );
        }
        Ok(Pipeline {
            manifest,
            graph,
            nodes,
            roles,
            python: None,
        })
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The graph, nodes indexed in manifest order.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Each node's role, in manifest order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Makes the Python node `id` use `live`, an object the caller made, instead of
    /// constructing one (the native module's in-process runs).
    ///
    /// # Errors
    /// No such node, or it is not a Python node (a built-in Rust node answered to its type).
    pub fn set_live_node(&mut self, id: &str, live: LiveNode) -> Result<()> {
        let index = self
            .manifest
            .nodes
            .iter()
            .position(|n| n.id == id)
            .ok_or_else(|| HostError::Usage(format!("no node \"{id}\" in the pipeline")))?;
        match &mut self.nodes[index] {
            NodeImpl::Python(node) => {
                node.live = Some(live);
                Ok(())
            }
            _ => Err(HostError::Usage(format!(
                "node \"{id}\" is not a Python node"
            ))),
        }
    }

    /// Whether any node runs in Python.
    pub fn has_python_nodes(&self) -> bool {
        self.nodes.iter().any(|n| matches!(n, NodeImpl::Python(_)))
    }

    /// Sets the interpreter the pipeline's Python nodes run in.
    #[must_use]
    pub fn with_python(mut self, backend: Arc<dyn Backend>) -> Self {
        self.python = Some(backend);
        self
    }

    /// Takes the pieces apart for the executor.
    pub(crate) fn into_parts(self) -> (Manifest, Graph, Vec<NodeImpl>, Option<Arc<dyn Backend>>) {
        (self.manifest, self.graph, self.nodes, self.python)
    }

    /// Reads and parses a manifest file without validating it, for callers that must look at
    /// it (does it need Python?) before building a registry.
    ///
    /// # Errors
    /// [`HostError::Usage`] if the file cannot be read, [`HostError::Manifest`] for a syntax
    /// error.
    pub fn read_document(path: &Path) -> Result<Json> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            HostError::Usage(format!("cannot read manifest {}: {e}", path.display()))
        })?;
        manifest::parse_text(&text, Format::from_path(path)).map_err(|p| HostError::Manifest {
            source_name: path.display().to_string(),
            problems: vec![p],
        })
    }

    /// Whether a manifest document names a node that only Python can provide (a type that is
    /// not a Rust node of `registry`, or a node with `runtime_hint: "python"`). A pipeline of
    /// built-in nodes never starts the interpreter.
    pub fn needs_python(doc: &Json, registry: &Registry) -> bool {
        let nodes = doc
            .get("nodes")
            .and_then(Json::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        nodes.iter().any(|node| {
            let hint = node
                .get("runtime_hint")
                .and_then(|h| serde_json::from_value(h.clone()).ok())
                .unwrap_or_default();
            node.get("node_type")
                .and_then(Json::as_str)
                .is_some_and(|t| registry.needs_python(t, hint))
        })
    }
}
