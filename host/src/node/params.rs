//! Node parameters: what each node type accepts, and checking a manifest's `params` against it.

use serde_json::{Map, Value as Json};

use crate::manifest::schema::{article, describe};
use crate::manifest::{Location, Problem, did_you_mean};

/// The JSON kind a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// An integer or a float.
    Number,
    /// An integer that fits in 64 bits.
    Integer,
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// Anything.
    Any,
}

impl ParamKind {
    /// The name used in docs and messages.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Number => "number",
            ParamKind::Integer => "integer",
            ParamKind::String => "string",
            ParamKind::Bool => "boolean",
            ParamKind::Any => "any",
        }
    }

    fn accepts(self, v: &Json) -> bool {
        match self {
            ParamKind::Number => v.is_i64() || v.is_f64(),
            ParamKind::Integer => v.is_i64(),
            ParamKind::String => v.is_string(),
            ParamKind::Bool => v.is_boolean(),
            ParamKind::Any => true,
        }
    }
}

/// One parameter a node type accepts.
#[derive(Clone, Debug)]
pub struct ParamSpec {
    /// Its key in `params`.
    pub name: &'static str,
    /// Its JSON kind.
    pub kind: ParamKind,
    /// Whether a manifest must give it.
    pub required: bool,
    /// One line for `nodes` output and docs, including the default if there is one.
    pub doc: &'static str,
}

/// Checks `params` against `specs`: unknown keys (with a suggestion), missing required keys,
/// values of the wrong kind. Returns every problem found.
pub fn check_params(
    specs: &[ParamSpec],
    params: &Map<String, Json>,
    at: &Location,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for spec in specs {
        match params.get(spec.name) {
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
                problems.push(Problem::new(at.key(spec.name), message));
            }
            _ => {}
        }
    }
    for key in params.keys() {
        if !specs.iter().any(|s| s.name == key) {
            let message = if specs.is_empty() {
                format!("unknown parameter \"{key}\" (this node takes no parameters)")
            } else {
                format!("unknown parameter \"{key}\"")
            };
            problems.push(
                Problem::new(at.key(key), message)
                    .with_help(did_you_mean(key, specs.iter().map(|s| s.name))),
            );
        }
    }
    problems
}

/// A JSON number with no fraction that `as_i64` refuses: too large for 64 bits (serde reads
/// such a number as `u64`, or as a float beyond `u64`).
fn is_whole_number(v: &Json) -> bool {
    v.is_u64() || v.as_f64().is_some_and(|x| x.fract() == 0.0)
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
mod tests {
    use serde_json::json;

    use super::*;

    const SPECS: &[ParamSpec] = &[
        ParamSpec {
            name: "factor",
            kind: ParamKind::Number,
            required: true,
            doc: "",
        },
        ParamSpec {
            name: "step",
            kind: ParamKind::Integer,
            required: false,
            doc: "",
        },
    ];

    fn check(params: Json) -> Vec<String> {
        let Json::Object(map) = params else {
            unreachable!()
        };
        let at = Location::root().key("nodes").index(1).key("params");
        check_params(SPECS, &map, &at)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn well_typed_params_pass() {
        assert!(check(json!({"factor": 2.5, "step": -1})).is_empty());
        assert!(check(json!({"factor": 2})).is_empty());
    }

    #[test]
    fn every_param_problem_is_reported() {
        assert_eq!(
            check(json!({"factr": 2, "step": 1.5})),
            vec![
                "nodes[1].params: missing required parameter \"factor\" (number)",
                "nodes[1].params.step: expected an integer, got number 1.5",
                "nodes[1].params.factr: unknown parameter \"factr\" (did you mean \"factor\"?)",
            ]
        );
    }

    #[test]
    fn huge_integer_is_named_as_too_big() {
        let found = check(json!({"factor": 1, "step": 18_446_744_073_709_551_615_u64}));
        assert_eq!(
            found,
            vec![
                "nodes[1].params.step: integer 18446744073709551615 is out of range (-9223372036854775808 to 9223372036854775807)"
            ]
        );
    }
}
