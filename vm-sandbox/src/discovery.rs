//! What a Python environment provides: the node types its plugins register, described before
//! any node is constructed (DESIGN §5, §6).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Every node type the plugins registered, and the plugins that failed to load.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Discovery {
    /// Node types registered through the `remotemedia_node_types` hook, the SDK's first. Two
    /// providers may register one name: both are kept, for the host to report the ambiguity.
    pub types: Vec<NodeTypeInfo>,
    /// Plugins that failed to load; the others still did.
    pub errors: Vec<PluginError>,
    /// Entry point names seen (the SDK's own plugin included).
    pub plugins: Vec<String>,
}

/// One Python node type, described from its class.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct NodeTypeInfo {
    /// Its type name (`node_type` attribute, else the class name).
    pub node_type: String,
    /// The distribution that registered it; `None` for a class named by import path.
    pub provider: Option<String>,
    /// The first paragraph of its docstring, on one line.
    pub doc: String,
    /// The module that defines the class.
    pub module: String,
    /// The class's qualified name in that module.
    pub qualname: String,
    /// Whether it takes no input items (`is_source = True`).
    pub source: bool,
    /// Whether its `process` takes the whole stream (an async generator function, DESIGN §5),
    /// so no single item's call exists to retry. Absent in documents of older SDKs: false.
    #[serde(default)]
    pub streaming: bool,
    /// The constructor's parameters (from `__init__`, without `name`).
    pub params: Vec<ParamInfo>,
    /// Whether the constructor takes `**kwargs`, so unknown parameter names are accepted.
    pub extra_params: bool,
}

/// One constructor parameter of a Python node type.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ParamInfo {
    /// Its keyword.
    pub name: String,
    /// Its kind from the annotation: int, number, string, bool, list, map, bytes, array,
    /// audio or any.
    pub kind: String,
    /// Whether it has no default.
    pub required: bool,
    /// The default as JSON, when it has one that JSON can hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
}

/// A plugin that failed to load.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct PluginError {
    /// The entry point's name.
    pub entry_point: String,
    /// The distribution that declared it.
    pub provider: String,
    /// The error, as `Type: message`.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discovery_document_reads_with_params_and_source() {
        let text = r#"{"types": [{"node_type": "Gain", "provider": "remotemedia-audio",
            "doc": "Scales.", "module": "m", "qualname": "Gain", "source": false,
            "params": [{"name": "factor", "kind": "number", "required": false, "default": 2.0}],
            "extra_params": false}],
            "errors": [{"entry_point": "bad", "provider": "remotemedia-bad", "error": "ImportError: x"}],
            "plugins": ["remotemedia", "audio", "bad"]}"#;
        let d: Discovery = serde_json::from_str(text).unwrap();
        assert_eq!(d.types[0].params[0].default, Some(serde_json::json!(2.0)));
        assert_eq!(d.errors[0].entry_point, "bad");
        assert!(!d.types[0].source);
    }
}
