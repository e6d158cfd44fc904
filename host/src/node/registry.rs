//! The table of node types: one entry per name, each with its parameters and its factory.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::NodeImpl;
use super::params::{ParamSpec, check_params};
use super::python::PythonNode;
use crate::manifest::RuntimeHint;
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

/// Every node type the host can build, by name: the Rust ones (built-in, or registered by an
/// embedding program) and the Python ones that plugins registered.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    rust: Vec<NodeType>,
    rust_by_name: HashMap<String, usize>,
    /// Python types by name; more than one provider makes the name ambiguous.
    python: BTreeMap<String, Vec<NodeType>>,
    /// Whether Python node types were looked up, and what was found.
    python_status: PythonStatus,
}

/// What a registry knows about Python node types.
#[derive(Clone, Debug, Default)]
enum PythonStatus {
    /// Not looked up (a registry of Rust nodes only).
    #[default]
    NotSearched,
    /// Looked up but unavailable, and why.
    Unavailable(String),
    /// An interpreter is there; these plugins were seen.
    Available(Vec<String>),
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

    /// Adds a Rust node type.
    ///
    /// # Errors
    /// The name is already taken; the message names both providers.
    pub fn register(&mut self, node_type: NodeType) -> Result<(), String> {
        if let Some(&i) = self.rust_by_name.get(&node_type.name) {
            return Err(format!(
                "node type \"{}\" is registered by both {} and {}",
                node_type.name, self.rust[i].provider, node_type.provider
            ));
        }
        self.rust_by_name
            .insert(node_type.name.clone(), self.rust.len());
        self.rust.push(node_type);
        Ok(())
    }

    /// Adds the Python node types plugins registered, and makes `"module:Class"` types
    /// importable. A name that two plugins register stays, as an ambiguity to report.
    pub fn add_python(&mut self, types: Vec<NodeType>, plugins: Vec<String>) {
        for node_type in types {
            self.python
                .entry(node_type.name.clone())
                .or_default()
                .push(node_type);
        }
        self.python_status = PythonStatus::Available(plugins);
    }

    /// Records why Python node types cannot be had (no interpreter, no SDK), for messages
    /// about the types that are then unknown.
    pub fn python_unavailable(&mut self, reason: String) {
        self.python_status = PythonStatus::Unavailable(reason);
    }

    /// The node type `name` resolves to without a runtime hint: the Rust one, else the one
    /// Python type of that name.
    pub fn get(&self, name: &str) -> Option<&NodeType> {
        self.rust_by_name
            .get(name)
            .map(|&i| &self.rust[i])
            .or_else(|| {
                self.python
                    .get(name)
                    .filter(|t| t.len() == 1)
                    .map(|t| &t[0])
            })
    }

    /// Whether `name` with `hint` needs the Python interpreter: a Python type or an import path.
    pub fn needs_python(&self, name: &str, hint: RuntimeHint) -> bool {
        hint == RuntimeHint::Python || (!self.rust_by_name.contains_key(name))
    }

    /// Every node type, Rust first, in registration order, then Python by name.
    pub fn iter(&self) -> impl Iterator<Item = &NodeType> {
        self.rust.iter().chain(self.python.values().flatten())
    }

    /// Resolves a node type (DESIGN §5): a built-in Rust node unless the hint is `python`,
    /// then a type registered by a plugin, then a `"package.module:ClassName"` import path.
    fn resolve<'a>(
        &'a self,
        name: &'a str,
        hint: RuntimeHint,
        at: &Location,
    ) -> Result<Resolved<'a>, Problem> {
        if hint != RuntimeHint::Python
            && let Some(&i) = self.rust_by_name.get(name)
        {
            return Ok(Resolved::Type(&self.rust[i]));
        }
        let at = at.key("node_type");
        if hint == RuntimeHint::Rust {
            return Err(Problem::new(
                at,
                format!("\"{name}\" is not a built-in Rust node, but runtime_hint is \"rust\""),
            ));
        }
        match self.python.get(name).map(Vec::as_slice) {
            Some([one]) => return Ok(Resolved::Type(one)),
            Some(several) => {
                let providers: Vec<&str> = several.iter().map(|t| t.provider.as_str()).collect();
                return Err(Problem::new(
                    at,
                    format!(
                        "node type \"{name}\" is ambiguous: registered by {}",
                        providers.join(" and ")
                    ),
                )
                .with_help(Some(
                    "uninstall one of them, or name the class as \"module:Class\"".to_owned(),
                )));
            }
            None => {}
        }
        if let Some((module, qualname)) = name.split_once(':') {
            match &self.python_status {
                PythonStatus::Available(_) => {}
                PythonStatus::NotSearched => {
                    return Err(Problem::new(
                        at,
                        format!("\"{name}\" is a Python import path, but Python was not started"),
                    ));
                }
                PythonStatus::Unavailable(reason) => {
                    return Err(Problem::new(
                        at,
                        format!(
                            "\"{name}\" is a Python import path, but Python is unavailable: {reason}"
                        ),
                    ));
                }
            }
            if module.is_empty() || qualname.is_empty() {
                return Err(Problem::new(
                    at,
                    format!("\"{name}\" is not of the form \"package.module:ClassName\""),
                ));
            }
            return Ok(Resolved::Import { module, qualname });
        }
        Err(self.unknown(name, hint, at))
    }

    /// Problems with a node's type and parameters. `at` is the node's location. Python node
    /// types take any keyword parameters: their constructor checks them when the run starts.
    pub fn check(
        &self,
        node_type: &str,
        hint: RuntimeHint,
        params: &Map<String, Json>,
        at: &Location,
    ) -> Vec<Problem> {
        let entry = match self.resolve(node_type, hint, at) {
            Ok(Resolved::Type(entry)) if entry.runtime == "rust" => entry,
            Ok(_) => return Vec::new(),
            Err(problem) => return vec![problem],
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

    /// The problem with a node's type alone (for nodes whose parameters cannot be checked).
    pub fn check_type(&self, node_type: &str, hint: RuntimeHint, at: &Location) -> Option<Problem> {
        self.resolve(node_type, hint, at).err()
    }

    /// Builds a node whose type and parameters passed [`Registry::check`].
    ///
    /// # Errors
    /// The same problems `check` would report.
    pub fn build(
        &self,
        node_type: &str,
        hint: RuntimeHint,
        params: &Map<String, Json>,
        at: &Location,
    ) -> Result<NodeImpl, Vec<Problem>> {
        match self.resolve(node_type, hint, at).map_err(|p| vec![p])? {
            Resolved::Type(entry) => (entry.factory)(params).map_err(|(param, message)| {
                vec![Problem::new(at.key("params").key(&param), message)]
            }),
            Resolved::Import { module, qualname } => Ok(NodeImpl::Python(PythonNode::new(
                module,
                qualname,
                params.clone(),
            ))),
        }
    }

    fn unknown(&self, name: &str, hint: RuntimeHint, at: Location) -> Problem {
        let python_only = hint == RuntimeHint::Python;
        let mut known: Vec<&str> = self.python.keys().map(String::as_str).collect();
        if !python_only {
            known.extend(self.rust.iter().map(|t| t.name.as_str()));
        }
        known.sort_unstable();
        known.dedup();
        let mut help = did_you_mean(name, known.iter().copied()).or_else(|| {
            let kind = if python_only {
                "known Python node types"
            } else {
                "known node types"
            };
            (!known.is_empty()).then(|| format!("{kind}: {}", known.join(", ")))
        });
        let python = match &self.python_status {
            PythonStatus::NotSearched => {
                python_only.then(|| "Python node types were not looked up".to_owned())
            }
            PythonStatus::Unavailable(reason) => {
                Some(format!("Python node types are unavailable: {reason}"))
            }
            PythonStatus::Available(plugins) if plugins.is_empty() => {
                Some("plugins seen: none".to_owned())
            }
            PythonStatus::Available(plugins) => {
                Some(format!("plugins seen: {}", plugins.join(", ")))
            }
        };
        if let Some(python) = python {
            help = Some(match help {
                Some(h) => format!("{h}; {python}"),
                None => python,
            });
        }
        let what = if python_only {
            "unknown Python node type"
        } else {
            "unknown node type"
        };
        Problem::new(at, format!("{what} \"{name}\"")).with_help(help)
    }
}

enum Resolved<'a> {
    Type(&'a NodeType),
    Import { module: &'a str, qualname: &'a str },
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
        let problems = r.check("Multipy", RuntimeHint::Auto, &Map::new(), &at);
        assert_eq!(
            problems[0].to_string(),
            "nodes[0].node_type: unknown node type \"Multipy\" (did you mean \"Multiply\"?)"
        );
        let problems = r.check("Zebra", RuntimeHint::Auto, &Map::new(), &at);
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
        let problems = r.check(
            "Range",
            RuntimeHint::Auto,
            &params(&json!({"stop": 5, "step": 0})),
            &at,
        );
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
