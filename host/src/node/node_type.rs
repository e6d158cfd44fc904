//! One node type: what a manifest may give it (its parameters, whether it is a source), known
//! before a run, and how it is made.

use std::fmt;
use std::sync::Arc;

use remotemedia_vm_sandbox::NodeTypeInfo;
use serde_json::{Map, Value as Json};

use super::NodeImpl;
use super::params::{ParamKind, ParamSpec, check_params};
use crate::manifest::{Location, Problem};

/// Builds a Rust node from parameters that passed [`NodeType::check`].
pub type NodeFactory = Arc<dyn Fn(&Map<String, Json>) -> NodeImpl + Send + Sync>;

/// Checks parameter values beyond their kinds (say, a `step` of 0). `Err((param, message))`
/// names the parameter at fault.
pub type ValueCheck = fn(&Map<String, Json>) -> Result<(), (String, String)>;

/// Whether a node type consumes items or makes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Takes items from its upstreams (or the run's inputs) and emits items.
    Transform,
    /// Takes no items; emits its own.
    Source,
}

/// How a node type is made.
#[derive(Clone)]
pub enum Implementation {
    /// A Rust node, built in this process.
    Rust {
        /// Checks the values of its parameters, beyond their kinds.
        check: Option<ValueCheck>,
        /// Makes an instance.
        factory: NodeFactory,
    },
    /// A Python class, constructed in the interpreter as `cls(name=id, **params)`.
    Python {
        /// The module that defines it.
        module: String,
        /// Its qualified name in the module.
        qualname: String,
    },
}

/// One node type: what a manifest may give it, known before a run (DESIGN §5).
#[derive(Clone)]
pub struct NodeType {
    /// The name manifests use in `node_type`.
    pub name: String,
    /// `"builtin"`, the distribution that registered it, or `"import path"`.
    pub provider: String,
    /// One paragraph for `nodes` output.
    pub doc: String,
    /// Transform or source.
    pub role: Role,
    /// The parameters it accepts.
    pub params: Vec<ParamSpec>,
    /// Whether it accepts parameter names beyond `params` (a Python `**kwargs`).
    pub extra_params: bool,
    /// Whether its `process` takes the whole stream (a Python streaming node, DESIGN §5):
    /// there is no one item's call to retry.
    pub streaming: bool,
    /// How it is made.
    pub implementation: Implementation,
}

impl fmt::Debug for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeType")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The provider of types that a manifest names by `"module:Class"`.
pub const IMPORT_PATH_PROVIDER: &str = "import path";

impl NodeType {
    /// A Rust node type of `provider`.
    pub fn rust(
        name: &str,
        provider: &str,
        doc: &str,
        role: Role,
        params: Vec<ParamSpec>,
        factory: NodeFactory,
    ) -> Self {
        NodeType {
            name: name.to_owned(),
            provider: provider.to_owned(),
            doc: doc.to_owned(),
            role,
            params,
            extra_params: false,
            streaming: false,
            implementation: Implementation::Rust {
                check: None,
                factory,
            },
        }
    }

    /// Adds a check of parameter values to a Rust node type.
    #[must_use]
    pub fn with_check(mut self, value_check: ValueCheck) -> Self {
        if let Implementation::Rust { check, .. } = &mut self.implementation {
            *check = Some(value_check);
        }
        self
    }

    /// A Python node type as the interpreter described it.
    pub fn python(info: &NodeTypeInfo) -> Self {
        NodeType {
            name: info.node_type.clone(),
            provider: info
                .provider
                .clone()
                .unwrap_or_else(|| IMPORT_PATH_PROVIDER.to_owned()),
            doc: info.doc.clone(),
            role: if info.source {
                Role::Source
            } else {
                Role::Transform
            },
            params: info
                .params
                .iter()
                .map(|p| ParamSpec {
                    name: p.name.clone(),
                    kind: ParamKind::from_tag(&p.kind),
                    required: p.required,
                    default: p.default.clone(),
                    doc: String::new(),
                })
                .collect(),
            extra_params: info.extra_params,
            streaming: info.streaming,
            implementation: Implementation::Python {
                module: info.module.clone(),
                qualname: info.qualname.clone(),
            },
        }
    }

    /// `"rust"` or `"python"`.
    pub fn runtime(&self) -> &'static str {
        match self.implementation {
            Implementation::Rust { .. } => "rust",
            Implementation::Python { .. } => "python",
        }
    }

    /// Whether it takes no input items.
    pub fn is_source(&self) -> bool {
        self.role == Role::Source
    }

    /// Whether it is a Python node type, whose calls `retry` and `timeout_ms` can govern.
    pub fn is_python(&self) -> bool {
        matches!(self.implementation, Implementation::Python { .. })
    }

    /// Problems with a node's `params` for this type (`at` is the node's location): unknown
    /// names with a suggestion, missing required ones, wrong kinds, bad values.
    pub fn check(&self, params: &Map<String, Json>, at: &Location) -> Vec<Problem> {
        let params_at = at.key("params");
        let mut problems = check_params(&self.params, self.extra_params, params, &params_at);
        if problems.is_empty()
            && let Implementation::Rust {
                check: Some(check), ..
            } = &self.implementation
            && let Err((param, message)) = check(params)
        {
            problems.push(Problem::new(params_at.key(&param), message));
        }
        problems
    }

    /// As `nodes --json` lists it (DESIGN §8): `node_type`, `provider`, `runtime`, `doc`,
    /// `source` and `params`.
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "node_type": self.name,
            "provider": self.provider,
            "runtime": self.runtime(),
            "doc": self.doc,
            "source": self.is_source(),
            "params": self.params.iter().map(ParamSpec::to_json).collect::<Vec<_>>(),
        })
    }
}
