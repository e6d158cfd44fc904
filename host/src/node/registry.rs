//! The table of node types by name, and resolution of a manifest's `node_type` (DESIGN §5).

use std::collections::{BTreeMap, HashMap};

use remotemedia_vm_sandbox::Discovery;

use super::node_type::NodeType;
use crate::manifest::RuntimeHint;
use crate::manifest::{Location, Problem, did_you_mean};

/// Every node type the host can build, by name: the Rust ones (built-in, or registered by an
/// embedding program), the Python ones that plugins registered, and the `"module:Class"`
/// classes a manifest names, as the interpreter described them.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    rust: Vec<NodeType>,
    rust_by_name: HashMap<String, usize>,
    /// Python types by name; more than one provider makes the name ambiguous.
    python: BTreeMap<String, Vec<NodeType>>,
    /// Import paths, described, or why they cannot be used.
    imports: HashMap<String, Result<NodeType, String>>,
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

/// `("module", "Class")` of a `"module:Class"` node type name.
pub fn import_path(name: &str) -> Option<(&str, &str)> {
    name.split_once(':')
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

    /// Adds the Python node types plugins registered. A name that two plugins register
    /// stays, as an ambiguity to report.
    pub fn add_python(&mut self, discovery: &Discovery) {
        for info in &discovery.types {
            let node_type = NodeType::python(info);
            self.python
                .entry(node_type.name.clone())
                .or_default()
                .push(node_type);
        }
        self.python_status = PythonStatus::Available(discovery.plugins.clone());
    }

    /// Adds what the interpreter said of the `"module:Class"` type `path`: its description,
    /// or why it cannot be a node type (it does not import, or is no `remotemedia.Node`).
    pub fn add_import(&mut self, path: &str, described: Result<NodeType, String>) {
        self.imports.insert(path.to_owned(), described);
    }

    /// Whether `name` is an import path the interpreter must describe: not a Rust or plugin
    /// type, and of the form `"module:Class"`.
    pub fn needs_description(&self, name: &str, hint: RuntimeHint) -> bool {
        let rust = hint != RuntimeHint::Python && self.rust_by_name.contains_key(name);
        hint != RuntimeHint::Rust
            && !rust
            && !self.python.contains_key(name)
            && !self.imports.contains_key(name)
            && import_path(name).is_some_and(|(m, c)| !m.is_empty() && !c.is_empty())
    }

    /// Records why Python node types cannot be had (no interpreter, no SDK), for messages
    /// about the types that are then unknown.
    pub fn python_unavailable(&mut self, reason: String) {
        self.python_status = PythonStatus::Unavailable(reason);
    }

    /// Whether `name` with `hint` needs the Python interpreter: a Python type or an import
    /// path. A node that must be Rust never does: it is a Rust type or a problem.
    pub fn needs_python(&self, name: &str, hint: RuntimeHint) -> bool {
        match hint {
            RuntimeHint::Python => true,
            RuntimeHint::Rust => false,
            RuntimeHint::Auto => !self.rust_by_name.contains_key(name),
        }
    }

    /// The Rust node type `name` resolves to without a runtime hint, if any.
    pub fn rust_type(&self, name: &str) -> Option<&NodeType> {
        self.rust_by_name.get(name).map(|&i| &self.rust[i])
    }

    /// Every node type, Rust first, in registration order, then Python by name.
    pub fn iter(&self) -> impl Iterator<Item = &NodeType> {
        self.rust.iter().chain(self.python.values().flatten())
    }

    /// Resolves a node type (DESIGN §5): a built-in Rust node unless the hint is `python`,
    /// then a type registered by a plugin, then a `"package.module:ClassName"` import path,
    /// which must name a `remotemedia.Node` subclass. `at` is the node's location.
    ///
    /// # Errors
    /// The problem with the name, located at `node_type`.
    pub fn resolve(
        &self,
        name: &str,
        hint: RuntimeHint,
        at: &Location,
    ) -> Result<&NodeType, Problem> {
        if hint != RuntimeHint::Python
            && let Some(found) = self.rust_type(name)
        {
            return Ok(found);
        }
        let at = at.key("node_type");
        if hint == RuntimeHint::Rust {
            return Err(Problem::new(
                at,
                format!("\"{name}\" is not a built-in Rust node, but runtime_hint is \"rust\""),
            ));
        }
        match self.python.get(name).map(Vec::as_slice) {
            Some([one]) => return Ok(one),
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
        let Some((module, qualname)) = import_path(name) else {
            return Err(self.unknown(name, hint, at));
        };
        if module.is_empty() || qualname.is_empty() {
            return Err(Problem::new(
                at,
                format!("\"{name}\" is not of the form \"package.module:ClassName\""),
            ));
        }
        match (&self.python_status, self.imports.get(name)) {
            (_, Some(Ok(found))) => Ok(found),
            (_, Some(Err(reason))) => {
                let help = if reason.contains("is not a remotemedia.Node") {
                    "a \"module:Class\" node type names a subclass of remotemedia.Node"
                } else if reason.contains("RustPython cannot load C extensions") {
                    "run this pipeline on CPython: runtime.python \"cpython\" (the default), or --runtime cpython"
                } else {
                    "the module must import in the selected Python environment (its packages, or PYTHONPATH)"
                };
                Err(Problem::new(at, reason.clone()).with_help(Some(help.to_owned())))
            }
            (PythonStatus::Unavailable(reason), None) => Err(Problem::new(
                at,
                format!("\"{name}\" is a Python import path, but Python is unavailable: {reason}"),
            )),
            (_, None) => Err(Problem::new(
                at,
                format!("\"{name}\" is a Python import path, but Python was not started"),
            )),
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
                Some(h) => format!("{h} ({python})"),
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

#[cfg(test)]
mod tests {
    use remotemedia_vm_sandbox::NodeTypeInfo;
    use serde_json::{Map, Value as Json, json};

    use super::*;

    fn params(v: &Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn unknown_type_suggests_the_closest_names() {
        let r = Registry::builtin();
        let at = Location::root().key("nodes").index(0);
        let problem = r.resolve("Multipy", RuntimeHint::Auto, &at).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "nodes[0].node_type: unknown node type \"Multipy\" (did you mean \"Multiply\"?)"
        );
        let problem = r.resolve("Zebra", RuntimeHint::Auto, &at).unwrap_err();
        assert!(
            problem
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
        let range = r.resolve("Range", RuntimeHint::Auto, &at).unwrap();
        let problems = range.check(&params(&json!({"stop": 5, "step": 0})), &at);
        assert_eq!(
            problems[0].to_string(),
            "nodes[3].params.step: must not be 0"
        );
    }

    #[test]
    fn an_import_path_that_is_no_node_is_a_located_problem() {
        let mut r = Registry::builtin();
        r.add_python(&Discovery::default());
        r.add_import(
            "tarfile:open",
            Err("\"tarfile:open\" is not a remotemedia.Node subclass".into()),
        );
        let at = Location::root().key("nodes").index(2);
        let problem = r
            .resolve("tarfile:open", RuntimeHint::Auto, &at)
            .unwrap_err();
        assert_eq!(
            problem.to_string(),
            "nodes[2].node_type: \"tarfile:open\" is not a remotemedia.Node subclass (a \"module:Class\" node type names a subclass of remotemedia.Node)"
        );
    }

    #[test]
    fn python_params_are_checked_like_builtins() {
        let info: NodeTypeInfo = serde_json::from_value(json!({
            "node_type": "Gain", "provider": "remotemedia-audio", "doc": "", "module": "m",
            "qualname": "Gain", "source": false, "extra_params": false,
            "params": [{"name": "factor", "kind": "number", "required": true}]}))
        .unwrap();
        let gain = NodeType::python(&info);
        let at = Location::root().key("nodes").index(0);
        let found: Vec<String> = gain
            .check(&params(&json!({"factr": 2})), &at)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "nodes[0].params: missing required parameter \"factor\" (number)",
                "nodes[0].params.factr: unknown parameter \"factr\" (did you mean \"factor\"?)",
            ]
        );
    }

    #[test]
    fn registering_a_taken_name_names_both_providers() {
        let mut r = Registry::builtin();
        let mut dup = r.rust_type("Add").unwrap().clone();
        dup.provider = "remotemedia-extra".into();
        let err = r.register(dup).unwrap_err();
        assert_eq!(
            err,
            "node type \"Add\" is registered by both builtin and remotemedia-extra"
        );
    }
}
