//! The table of node types: one entry per name, each with its parameters and its factory.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::NodeImpl;
use super::params::{ParamSpec, check_params};
use crate::manifest::{Location, Problem, did_you_mean};

/// Builds a node from its checked parameters. `Err((param, message))` reports a parameter
/// whose kind was right but whose value is not (say a `step` of 0).
pub type NodeFactory =
    Arc<dyn Fn(&Map<String, Json>) -> Result<NodeImpl, (String, String)> + Send + Sync>;

/// Whether a node type consumes items or makes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Takes items from its upstreams (or the run's inputs) and emits items.
    Transform,
    /// Takes no items; emits its own.
    Source,
}

/// One registered node type.
#[derive(Clone)]
pub struct NodeType {
    /// The name manifests use in `node_type`.
    pub name: String,
    /// `"builtin"`, or the distribution that registered it.
    pub provider: String,
    /// `"rust"` or `"python"`.
    pub runtime: &'static str,
    /// One paragraph for `nodes` output.
    pub doc: String,
    /// Transform or source.
    pub role: Role,
    /// The parameters it accepts.
    pub params: Vec<ParamSpec>,
    /// Makes an instance.
    pub factory: NodeFactory,
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

/// Every node type the host can build, by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    types: Vec<NodeType>,
    by_name: HashMap<String, usize>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// The built-in Rust nodes.
    pub fn builtin() -> Self {
        let mut registry = Registry::new();
        for node_type in super::builtin::all() {
            registry
                .register(node_type)
                .unwrap_or_else(|e| unreachable!("{e}"));
        }
        registry
    }

    /// Adds a node type.
    ///
    /// # Errors
    /// The name is already taken; the message names both providers.
    pub fn register(&mut self, node_type: NodeType) -> Result<(), String> {
        if let Some(&i) = self.by_name.get(&node_type.name) {
            return Err(format!(
                "node type \"{}\" is registered by both {} and {}",
                node_type.name, self.types[i].provider, node_type.provider
            ));
        }
        self.by_name
            .insert(node_type.name.clone(), self.types.len());
        self.types.push(node_type);
        Ok(())
    }

    /// The node type registered under `name`.
    pub fn get(&self, name: &str) -> Option<&NodeType> {
        self.by_name.get(name).map(|&i| &self.types[i])
    }

    /// Every node type, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &NodeType> {
        self.types.iter()
    }

    /// Problems with a node's type and parameters. `at` is the node's location.
    pub fn check(
        &self,
        node_type: &str,
        params: &Map<String, Json>,
        at: &Location,
    ) -> Vec<Problem> {
        let Some(entry) = self.get(node_type) else {
            return vec![self.unknown(node_type, at)];
        };
        let params_at = at.key("params");
        let mut problems = check_params(&entry.params, params, &params_at);
        if problems.is_empty()
            && let Err((param, message)) = (entry.factory)(params)
        {
            problems.push(Problem::new(params_at.key(&param), message));
        }
        problems
    }

    /// The problem with a node's type alone, if it is unknown (for nodes whose parameters
    /// cannot be checked).
    pub fn check_type(&self, node_type: &str, at: &Location) -> Option<Problem> {
        self.get(node_type)
            .is_none()
            .then(|| self.unknown(node_type, at))
    }

    /// Builds a node whose type and parameters passed [`Registry::check`].
    ///
    /// # Errors
    /// The same problems `check` would report.
    pub fn build(
        &self,
        node_type: &str,
        params: &Map<String, Json>,
        at: &Location,
    ) -> Result<NodeImpl, Vec<Problem>> {
        let entry = self
            .get(node_type)
            .ok_or_else(|| vec![self.unknown(node_type, at)])?;
        (entry.factory)(params)
            .map_err(|(param, message)| vec![Problem::new(at.key("params").key(&param), message)])
    }

    fn unknown(&self, node_type: &str, at: &Location) -> Problem {
        let at = at.key("node_type");
        if node_type.contains(':') {
            return Problem::new(
                at,
                format!(
                    "\"{node_type}\" is a Python import path; Python nodes are not supported by this build yet"
                ),
            );
        }
        let mut known: Vec<&str> = self.types.iter().map(|t| t.name.as_str()).collect();
        known.sort_unstable();
        let help = did_you_mean(node_type, known.iter().copied())
            .unwrap_or_else(|| format!("known node types: {}", known.join(", ")));
        Problem::new(at, format!("unknown node type \"{node_type}\"")).with_help(Some(help))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(v: &Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn unknown_type_suggests_the_closest_names() {
        let r = Registry::builtin();
        let at = Location::root().key("nodes").index(0);
        let problems = r.check("Multipy", &Map::new(), &at);
        assert_eq!(
            problems[0].to_string(),
            "nodes[0].node_type: unknown node type \"Multipy\" (did you mean \"Multiply\"?)"
        );
        let problems = r.check("Zebra", &Map::new(), &at);
        assert!(
            problems[0]
                .help
                .as_deref()
                .unwrap()
                .starts_with("known node types: Add, ")
        );
    }

    #[test]
    fn factory_rejections_are_located_on_the_parameter() {
        let r = Registry::builtin();
        let at = Location::root().key("nodes").index(3);
        let problems = r.check("Range", &params(&json!({"stop": 5, "step": 0})), &at);
        assert_eq!(
            problems[0].to_string(),
            "nodes[3].params.step: must not be 0"
        );
    }

    #[test]
    fn registering_a_taken_name_names_both_providers() {
        let mut r = Registry::builtin();
        let mut dup = r.get("Add").unwrap().clone();
        dup.provider = "remotemedia-extra".into();
        let err = r.register(dup).unwrap_err();
        assert_eq!(
            err,
            "node type \"Add\" is registered by both builtin and remotemedia-extra"
        );
    }
}
