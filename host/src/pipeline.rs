//! A pipeline ready to run: a resolved manifest, its graph, and its constructed nodes.

use std::path::Path;
use std::sync::Arc;

use remotemedia_vm_sandbox::{Backend, LiveNode};

use serde_json::Value as Json;

use crate::error::{HostError, Result};
use crate::graph::Graph;
use crate::manifest::{self, Format, ResolvedPipeline};
use crate::node::python::PythonNode;
use crate::node::{Implementation, NodeImpl, Registry};

/// The most input items of a short run (see [`Pipeline::is_short_run`]).
pub const SHORT_RUN_ITEMS: usize = 256;

/// A node as built for a run: a Rust node, or the declaration of a Python node, which the
/// interpreter constructs inside its stage.
pub enum Constructed {
    /// A Rust node.
    Rust(NodeImpl),
    /// A Python node.
    Python(PythonNode),
}

/// One node of a pipeline its caller drives (see [`Pipeline::into_caller_chain`]).
pub enum CallerStep {
    /// A synchronous Rust node.
    Rust {
        /// Node id.
        id: String,
        /// Node type, for errors.
        node_type: String,
        /// The node.
        node: Box<dyn crate::node::Node>,
    },
    /// A Python node, for the caller to construct (or use as it is, when live).
    Python {
        /// Node id.
        id: String,
        /// Node type, for errors.
        node_type: String,
        /// Its class and parameters.
        node: PythonNode,
    },
}

/// A resolved manifest with its nodes built.
pub struct Pipeline {
    resolved: ResolvedPipeline,
    graph: Graph,
    nodes: Vec<Constructed>,
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
        let resolved =
            manifest::validate(doc, registry).map_err(|problems| HostError::Manifest {
                source_name: source_name.to_owned(),
                problems,
            })?;
        Ok(Self::build(resolved))
    }

    /// Constructs the nodes of a resolved manifest: each Rust node's factory runs once here,
    /// and only here; Python nodes are declared for their stages.
    pub fn build(resolved: ResolvedPipeline) -> Self {
        let edges = resolved.edges.iter().map(|e| (e.from, e.to)).collect();
        let graph = Graph::new(resolved.nodes.len(), edges);
        let nodes = resolved
            .nodes
            .iter()
            .map(|node| match &node.resolved.implementation {
                Implementation::Rust { factory, .. } => Constructed::Rust(factory(&node.params)),
                Implementation::Python { module, qualname } => Constructed::Python(PythonNode {
                    retry: node.retry,
                    timeout_ms: node.timeout_ms,
                    ..PythonNode::new(module, qualname, node.params.clone())
                }),
            })
            .collect();
        Pipeline {
            resolved,
            graph,
            nodes,
            python: None,
        }
    }

    /// The resolved manifest.
    pub fn resolved(&self) -> &ResolvedPipeline {
        &self.resolved
    }

    /// The graph, nodes indexed in manifest order.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Makes the Python node `id` use `live`, an object the caller made, instead of
    /// constructing one (the native module's in-process runs).
    ///
    /// # Errors
    /// No such node, or it is not a Python node (a built-in Rust node answered to its type).
    pub fn set_live_node(&mut self, id: &str, live: LiveNode) -> Result<()> {
        let index = self
            .resolved
            .nodes
            .iter()
            .position(|n| n.id == *id)
            .ok_or_else(|| HostError::Usage(format!("no node \"{id}\" in the pipeline")))?;
        match &mut self.nodes[index] {
            Constructed::Python(node) => {
                node.live = Some(live);
                Ok(())
            }
            Constructed::Rust(_) => Err(HostError::Usage(format!(
                "node \"{id}\" is not a Python node"
            ))),
        }
    }

    /// Whether a run on `n_inputs` input items (`None`: no input) is certain to end in
    /// microseconds: at most [`SHORT_RUN_ITEMS`] items through synchronous Rust transforms (no
    /// source, no asynchronous or Python node). The native module runs such a run on the
    /// calling thread, where handing it to a worker would cost more than the run.
    pub fn is_short_run(&self, n_inputs: Option<usize>) -> bool {
        n_inputs.is_some_and(|n| n <= SHORT_RUN_ITEMS)
            && self
                .nodes
                .iter()
                .all(|n| matches!(n, Constructed::Rust(NodeImpl::Sync(_))))
    }

    /// The nodes in chain order, when the pipeline is one chain (a single root, each node at
    /// most one edge in and one out) of synchronous Rust nodes and Python nodes: the shape a
    /// caller can drive item by item on its own thread, with no queue and no thread between
    /// nodes (the SDK's live path, DESIGN §7). Anything else (a source, an asynchronous Rust
    /// node, a fan-out or fan-in, a Python node with `retry` or `timeout_ms`, which the
    /// interpreter's stages apply) gives the pipeline back.
    ///
    /// # Errors
    /// The pipeline itself, unchanged, when it is not such a chain.
    #[allow(clippy::result_large_err)] // the error is the pipeline, handed back to run it
    pub fn into_caller_chain(self) -> std::result::Result<Vec<CallerStep>, Pipeline> {
        let Some(order) = self.chain_order() else {
            return Err(self);
        };
        let fits = |n: &Constructed| match n {
            Constructed::Rust(node) => matches!(node, NodeImpl::Sync(_)),
            Constructed::Python(node) => !node.has_call_options(),
        };
        if !self.nodes.iter().all(fits) {
            return Err(self);
        }
        let mut nodes: Vec<Option<Constructed>> = self.nodes.into_iter().map(Some).collect();
        let steps = order
            .into_iter()
            .filter_map(|v| {
                let spec = &self.resolved.nodes[v];
                let (id, node_type) = (spec.id.to_string(), spec.node_type.clone());
                match nodes[v].take()? {
                    Constructed::Rust(NodeImpl::Sync(node)) => Some(CallerStep::Rust {
                        id,
                        node_type,
                        node,
                    }),
                    Constructed::Python(node) => Some(CallerStep::Python {
                        id,
                        node_type,
                        node,
                    }),
                    Constructed::Rust(_) => None,
                }
            })
            .collect();
        Ok(steps)
    }

    /// The node indices from the one root to the one sink, if the graph is a single chain.
    fn chain_order(&self) -> Option<Vec<usize>> {
        let g = &self.graph;
        let mut roots = (0..g.len()).filter(|&v| g.upstream_edges(v).is_empty());
        let (Some(mut v), None) = (roots.next(), roots.next()) else {
            return None;
        };
        let mut order = vec![v];
        while let Some(&e) = g.downstream_edges(v).first() {
            if g.downstream_edges(v).len() > 1 {
                return None;
            }
            v = g.edge(e).1;
            if g.upstream_edges(v).len() > 1 {
                return None;
            }
            order.push(v);
        }
        (order.len() == g.len()).then_some(order)
    }

    /// Sets the interpreter the pipeline's Python nodes run in.
    #[must_use]
    pub fn with_python(mut self, backend: Arc<dyn Backend>) -> Self {
        self.python = Some(backend);
        self
    }

    /// Takes the pieces apart for the executor.
    pub(crate) fn into_parts(
        self,
    ) -> (
        ResolvedPipeline,
        Graph,
        Vec<Constructed>,
        Option<Arc<dyn Backend>>,
    ) {
        (self.resolved, self.graph, self.nodes, self.python)
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
}
