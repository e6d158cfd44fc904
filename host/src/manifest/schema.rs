//! Structural validation against the committed JSON Schema, kept in the SDK package
//! (`sdk/python/remotemedia/manifest.schema.json`) so that the wheel ships it.
//!
//! The schema is the one statement of the manifest's structure; the Python SDK validates against
//! the same file. The host interprets the subset of JSON Schema 2020-12 that file uses, and
//! refuses any keyword outside that subset (see `SUPPORTED`), so the schema cannot grow a rule
//! that the host would silently skip. Each failure becomes a [`Problem`] in the host's own
//! wording, with a "did you mean" for misspelt field names.

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use super::problem::{Location, Problem, did_you_mean};

/// The schema text, as committed.
pub const SCHEMA_TEXT: &str = include_str!("../../../sdk/python/remotemedia/manifest.schema.json");

/// Keywords this interpreter acts on, or that only annotate.
const SUPPORTED: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "default",
    "type",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "minLength",
    "minimum",
    "maximum",
];

/// The parsed schema.
///
/// # Panics
/// If the committed schema is not valid JSON; a unit test keeps that from ever shipping.
pub fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        #[allow(clippy::expect_used)] // the schema is compiled in and checked by a unit test
        serde_json::from_str(SCHEMA_TEXT).expect("manifest.schema.json is valid JSON")
    })
}

/// Checks `doc` against the schema and returns every problem found.
pub fn check(doc: &Json) -> Vec<Problem> {
    let root = schema();
    let mut problems = Vec::new();
    Checker { root }.check(root, doc, &Location::root(), &mut problems);
    problems
}

/// Keywords used in `schema` that this interpreter does not know, with their paths.
pub fn unsupported_keywords(schema: &Json) -> Vec<String> {
    fn walk(node: &Json, path: &str, out: &mut Vec<String>) {
        let Json::Object(map) = node else { return };
        for (key, value) in map {
            if !SUPPORTED.contains(&key.as_str()) {
                out.push(format!("{path}/{key}"));
            }
            match key.as_str() {
                "properties" | "$defs" => {
                    if let Json::Object(children) = value {
                        for (name, child) in children {
                            walk(child, &format!("{path}/{key}/{name}"), out);
                        }
                    }
                }
                "items" | "additionalProperties" => walk(value, &format!("{path}/{key}"), out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, "#", &mut out);
    out
}

struct Checker<'s> {
    root: &'s Json,
}

impl<'s> Checker<'s> {
    fn resolve(&self, schema: &'s Json) -> &'s Json {
        let target = schema
            .get("$ref")
            .and_then(Json::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.root.get("$defs")?.get(name));
        target.unwrap_or(schema)
    }

    fn check(&self, schema: &'s Json, value: &Json, at: &Location, out: &mut Vec<Problem>) {
        let schema = self.resolve(schema);
        if let Some(expected) = schema.get("type").and_then(Json::as_str)
            && !has_type(value, expected)
        {
            out.push(Problem::new(
                at.clone(),
                format!("expected {}, got {}", article(expected), describe(value)),
            ));
            return;
        }
        if let Some(Json::Array(allowed)) = schema.get("enum")
            && !allowed.contains(value)
        {
            let options: Vec<String> = allowed.iter().map(Json::to_string).collect();
            let help = value
                .as_str()
                .and_then(|s| did_you_mean(s, allowed.iter().filter_map(Json::as_str)));
            out.push(
                Problem::new(
                    at.clone(),
                    format!(
                        "expected one of {}, got {}",
                        options.join(", "),
                        describe(value)
                    ),
                )
                .with_help(help),
            );
            return;
        }
        match value {
            Json::Object(map) => self.check_object(schema, map, at, out),
            Json::Array(items) => self.check_array(schema, items, at, out),
            Json::String(s) => {
                let min = schema.get("minLength").and_then(Json::as_u64).unwrap_or(0);
                if (s.chars().count() as u64) < min {
                    out.push(Problem::new(at.clone(), "must not be empty"));
                }
            }
            Json::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if let Some(min) = schema.get("minimum").and_then(Json::as_f64)
                    && x < min
                {
                    out.push(Problem::new(
                        at.clone(),
                        format!("must be at least {min}, got {n}"),
                    ));
                }
                if let Some(max) = schema.get("maximum").and_then(Json::as_f64)
                    && x > max
                {
                    out.push(Problem::new(
                        at.clone(),
                        format!("must be at most {max}, got {n}"),
                    ));
                }
            }
            _ => {}
        }
    }

    fn check_object(
        &self,
        schema: &'s Json,
        map: &Map<String, Json>,
        at: &Location,
        out: &mut Vec<Problem>,
    ) {
        let props = schema.get("properties").and_then(Json::as_object);
        if let Some(Json::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Json::as_str) {
                if !map.contains_key(name) {
                    out.push(Problem::new(
                        at.clone(),
                        format!("missing required field \"{name}\""),
                    ));
                }
            }
        }
        for (key, value) in map {
            match props.and_then(|p| p.get(key)) {
                Some(sub) => self.check(sub, value, &at.key(key), out),
                None => match schema.get("additionalProperties") {
                    Some(Json::Bool(false)) => {
                        let known = props.into_iter().flat_map(|p| p.keys().map(String::as_str));
                        out.push(
                            Problem::new(at.key(key), format!("unknown field \"{key}\""))
                                .with_help(did_you_mean(key, known)),
                        );
                    }
                    Some(sub @ Json::Object(_)) => self.check(sub, value, &at.key(key), out),
                    _ => {}
                },
            }
        }
    }

    fn check_array(&self, schema: &'s Json, items: &[Json], at: &Location, out: &mut Vec<Problem>) {
        let min = schema.get("minItems").and_then(Json::as_u64).unwrap_or(0);
        if (items.len() as u64) < min {
            out.push(Problem::new(
                at.clone(),
                format!("needs at least {min} entry"),
            ));
        }
        if let Some(sub) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(sub, item, &at.index(i), out);
            }
        }
    }
}

fn has_type(value: &Json, expected: &str) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

/// "an integer", "a number": a kind with its article.
pub fn article(kind: &str) -> String {
    match kind {
        "object" | "array" | "integer" => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// `string "abc"`, `integer 3`, `object`: how a found value is named in messages.
pub fn describe(value: &Json) -> String {
    match value {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => format!("boolean {b}"),
        Json::Number(n) if n.is_f64() => format!("number {n}"),
        Json::Number(n) => format!("integer {n}"),
        Json::String(s) if s.len() > 40 => {
            format!("string \"{}...\"", &s[..s.floor_char_boundary(37)])
        }
        Json::String(s) => format!("string \"{s}\""),
        Json::Array(_) => "an array".to_owned(),
        Json::Object(_) => "an object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn committed_schema_parses_and_uses_only_supported_keywords() {
        assert!(schema().is_object());
        assert_eq!(unsupported_keywords(schema()), Vec::<String>::new());
    }

    #[test]
    fn unknown_keyword_in_a_schema_is_detected() {
        let s = json!({"type": "object", "properties": {"a": {"pattern": "x+"}}});
        assert_eq!(unsupported_keywords(&s), vec!["#/properties/a/pattern"]);
    }

    #[test]
    fn valid_manifest_has_no_problems() {
        let doc = json!({"version": "v1", "nodes": [{"id": "a", "node_type": "PassThrough"}]});
        assert_eq!(check(&doc), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_location() {
        let doc = json!({
            "version": "v2",
            "nodes": [{"id": "", "node_type": "X", "parms": {}}],
            "connections": [{"from": "a"}],
            "runtime": {"channel_capacity": 0}
        });
        let rendered: Vec<String> = check(&doc).iter().map(ToString::to_string).collect();
        assert_eq!(
            rendered,
            vec![
                "version: expected one of \"v1\", got string \"v2\"",
                "nodes[0].id: must not be empty",
                "nodes[0].parms: unknown field \"parms\" (did you mean \"params\"?)",
                "connections[0]: missing required field \"to\"",
                "runtime.channel_capacity: must be at least 1, got 0",
            ]
        );
    }
}
