//! A pipeline ready to run: a validated manifest, its graph, and its constructed nodes.

use std::collections::HashMap;
use std::path::Path;

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
}

impl Pipeline {
    /// Reads, validates and builds the manifest at `path` (`.toml` is TOML, anything else JSON).
    ///
    /// # Errors
    /// [`HostError::Usage`] if the file cannot be read, [`HostError::Manifest`] with every
    /// problem found otherwise.
    pub fn load(path: &Path, registry: &Registry) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            HostError::Usage(format!("cannot read manifest {}: {e}", path.display()))
        })?;
        Self::from_text(
            &text,
            Format::from_path(path),
            &path.display().to_string(),
            registry,
        )
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
                    .build(&spec.node_type, &spec.params, &at)
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

    /// Takes the pieces apart for the executor.
    pub(crate) fn into_parts(self) -> (Manifest, Graph, Vec<NodeImpl>) {
        (self.manifest, self.graph, self.nodes)
    }
}
