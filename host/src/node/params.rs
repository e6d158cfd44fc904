//! Node parameters: what each node type accepts, and checking a manifest's `params` against it.

use serde_json::{Map, Value as Json};

use crate::manifest::schema::{article, describe};
use crate::manifest::{Location, Problem, did_you_mean};

/// The kind of value a parameter takes (DESIGN §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// An integer that fits in 64 bits.
    Integer,
    /// An integer or a float.
    Number,
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// A JSON array.
    List,
    /// A JSON object.
    Map,
    /// Binary data: `{"$bytes": "<base64>"}`.
    Bytes,
    /// An n-d array: `{"$array": {...}}`.
    Array,
    /// An audio frame: `{"$audio": {...}}`.
    Audio,
    /// Anything.
    Any,
}

impl ParamKind {
    /// Every kind, in the order of DESIGN §5.
    pub const ALL: [ParamKind; 10] = [
        ParamKind::Integer,
        ParamKind::Number,
        ParamKind::String,
        ParamKind::Bool,
        ParamKind::List,
        ParamKind::Map,
        ParamKind::Bytes,
        ParamKind::Array,
        ParamKind::Audio,
        ParamKind::Any,
    ];

    /// Its name in `nodes --json` and in Python discovery: int, number, string, bool, list,
    /// map, bytes, array, audio, any.
    pub fn tag(self) -> &'static str {
        match self {
            ParamKind::Integer => "int",
            ParamKind::Number => "number",
            ParamKind::String => "string",
            ParamKind::Bool => "bool",
            ParamKind::List => "list",
            ParamKind::Map => "map",
            ParamKind::Bytes => "bytes",
            ParamKind::Array => "array",
            ParamKind::Audio => "audio",
            ParamKind::Any => "any",
        }
    }

    /// The kind named `tag`; an unknown tag (from a newer SDK, say) is `Any`.
    pub fn from_tag(tag: &str) -> ParamKind {
        Self::ALL
            .into_iter()
            .find(|k| k.tag() == tag)
            .unwrap_or(ParamKind::Any)
    }

    /// The name used in messages ("expected an integer").
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Integer => "integer",
            ParamKind::Bool => "boolean",
            ParamKind::List => "array",
            ParamKind::Map => "object",
            ParamKind::Bytes => "bytes value",
            ParamKind::Array => "array value",
            ParamKind::Audio => "audio value",
            other => other.tag(),
        }
    }

    fn accepts(self, v: &Json) -> bool {
        let tagged = |key: &str| {
            v.as_object()
                .is_some_and(|m| m.len() == 1 && m.contains_key(key))
        };
        match self {
            ParamKind::Integer => v.is_i64(),
            ParamKind::Number => v.is_i64() || v.is_f64(),
            ParamKind::String => v.is_string(),
            ParamKind::Bool => v.is_boolean(),
            ParamKind::List => v.is_array(),
            ParamKind::Map => v.is_object(),
            ParamKind::Bytes => tagged("$bytes"),
            ParamKind::Array => tagged("$array"),
            ParamKind::Audio => tagged("$audio"),
            ParamKind::Any => true,
        }
    }
}

/// One parameter a node type accepts.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Its key in `params`.
    pub name: String,
    /// Its kind.
    pub kind: ParamKind,
    /// Whether a manifest must give it.
    pub required: bool,
    /// The value used when a manifest does not give it (only when not required, and only
    /// when JSON can hold it).
    pub default: Option<Json>,
    /// One line for `nodes` output and docs.
    pub doc: String,
}

impl ParamSpec {
    /// A parameter every manifest must give.
    pub fn required(name: &str, kind: ParamKind, doc: &str) -> Self {
        ParamSpec {
            name: name.to_owned(),
            kind,
            required: true,
            default: None,
            doc: doc.to_owned(),
        }
    }

    /// A parameter with a default.
    pub fn optional(name: &str, kind: ParamKind, default: Json, doc: &str) -> Self {
        ParamSpec {
            name: name.to_owned(),
            kind,
            required: false,
            default: Some(default),
            doc: doc.to_owned(),
        }
    }

    /// As `nodes --json` lists it: `{"name", "kind", "required", "default"}` (default only
    /// when not required and known).
    pub fn to_json(&self) -> Json {
        let mut entry = Map::new();
        entry.insert("name".into(), Json::from(self.name.as_str()));
        entry.insert("kind".into(), Json::from(self.kind.tag()));
        entry.insert("required".into(), Json::from(self.required));
        if let (false, Some(default)) = (self.required, &self.default) {
            entry.insert("default".into(), default.clone());
        }
        Json::Object(entry)
    }
}

/// Checks `params` against `specs`: unknown keys (with a suggestion) unless `extra` allows any
/// other name, missing required keys, values of the wrong kind. Returns every problem found.
pub fn check_params(
    specs: &[ParamSpec],
    extra: bool,
    params: &Map<String, Json>,
    at: &Location,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Integers are 64-bit wherever they are (DESIGN §4): a larger one is refused here, in any
    // parameter of any kind, rather than rounded or refused when the node is built.
    for (key, value) in params {
        if let Some(big) = integer_out_of_range(value) {
            problems.push(Problem::new(
                at.key(key),
                format!(
                    "{} is out of range ({} to {})",
                    describe(big),
                    i64::MIN,
                    i64::MAX
                ),
            ));
        } else if let Err(e) = crate::value::Value::from_json_value(value) {
            // A malformed media form (`{"$array": ...}` whose data does not fit its shape):
            // found here, not when the node is built.
            problems.push(Problem::new(at.key(key), e.to_string()));
        }
    }
    let refused: Vec<Location> = problems.iter().map(|p| p.location.clone()).collect();
    for spec in specs {
        if refused.contains(&at.key(&spec.name)) {
            continue;
        }
        match params.get(&spec.name) {
            None if spec.required => problems.push(Problem::new(
                at.clone(),
                format!(
                    "missing required parameter \"{}\" ({})",
                    spec.name,
                    spec.kind.name()
                ),
            )),
            Some(v) if !spec.kind.accepts(v) => {
                let message = if spec.kind == ParamKind::Integer && is_whole_number(v) {
                    format!(
                        "{} is out of range ({} to {})",
                        describe(v),
                        i64::MIN,
                        i64::MAX
                    )
                } else {
                    format!(
                        "expected {}, got {}",
                        article(spec.kind.name()),
                        describe(v)
                    )
                };
                problems.push(Problem::new(at.key(&spec.name), message));
            }
            _ => {}
        }
    }
    for key in params.keys().filter(|_| !extra) {
        if !specs.iter().any(|s| s.name == *key) {
            let message = if specs.is_empty() {
                format!("unknown parameter \"{key}\" (this node takes no parameters)")
            } else {
                format!("unknown parameter \"{key}\"")
            };
            problems.push(
                Problem::new(at.key(key), message)
                    .with_help(did_you_mean(key, specs.iter().map(|s| s.name.as_str()))),
            );
        }
    }
    problems
}

/// The first integer in `v` (nested ones included) that does not fit in 64 bits.
fn integer_out_of_range(v: &Json) -> Option<&Json> {
    match v {
        Json::Number(n) if n.is_u64() && !n.is_i64() => Some(v),
        Json::Array(items) => items.iter().find_map(integer_out_of_range),
        Json::Object(map) => map.values().find_map(integer_out_of_range),
        _ => None,
    }
}

/// A JSON number with no fraction that `as_i64` refuses: too large for 64 bits (serde reads
/// such a number as `u64`, or as a float beyond `u64`).
/// A whole number that no 64-bit integer holds (`2**64`, `1e20`); a whole float that one
/// would hold (`200.0`) is just not an integer.
fn is_whole_number(v: &Json) -> bool {
    #[allow(clippy::cast_precision_loss)] // the bounds of i64 as floats, for a comparison
    let outside = |x: f64| x < i64::MIN as f64 || x >= i64::MAX as f64;
    v.is_u64() || v.as_f64().is_some_and(|x| x.fract() == 0.0 && outside(x))
}

/// An integer parameter, or `default` when absent. Call only after [`check_params`] passed.
pub fn param_i64(params: &Map<String, Json>, name: &str, default: i64) -> i64 {
    params.get(name).and_then(Json::as_i64).unwrap_or(default)
}

/// A number parameter as an integer when it is one, else as a float; `default` when absent.
/// Call only after [`check_params`] passed.
///
/// # Errors
/// Not an error: `Err` carries the float form of a non-integer number.
pub fn param_f64_or_i64(params: &Map<String, Json>, name: &str, default: i64) -> Result<i64, f64> {
    match params.get(name) {
        Some(v) => v.as_i64().ok_or_else(|| v.as_f64().unwrap_or(f64::NAN)),
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests;
