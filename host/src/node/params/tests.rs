//! Unit tests of the parent module.

use serde_json::json;

use super::*;

fn specs() -> Vec<ParamSpec> {
    vec![
        ParamSpec::required("factor", ParamKind::Number, ""),
        ParamSpec::optional("step", ParamKind::Integer, json!(1), ""),
    ]
}

fn check(params: Json) -> Vec<String> {
    let Json::Object(map) = params else {
        unreachable!()
    };
    let at = Location::root().key("nodes").index(1).key("params");
    check_params(&specs(), false, &map, &at)
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
fn extra_names_pass_where_the_node_takes_any_keyword() {
    let at = Location::root().key("params");
    let Json::Object(map) = json!({"factor": 1, "gain": 3}) else {
        unreachable!()
    };
    assert!(check_params(&specs(), true, &map, &at).is_empty());
}

#[test]
fn media_kinds_take_their_tagged_objects() {
    assert!(ParamKind::Bytes.accepts(&json!({"$bytes": "AAE="})));
    assert!(!ParamKind::Bytes.accepts(&json!("AAE=")));
    assert!(ParamKind::Map.accepts(&json!({"a": 1})));
    assert!(!ParamKind::List.accepts(&json!({"a": 1})));
    assert_eq!(ParamKind::from_tag("audio"), ParamKind::Audio);
    assert_eq!(ParamKind::from_tag("tensor"), ParamKind::Any);
}

#[test]
fn a_whole_float_for_an_integer_is_not_an_integer_unless_no_integer_could_hold_it() {
    assert_eq!(
        check(json!({"factor": 1, "step": 200.0})),
        vec!["nodes[1].params.step: expected an integer, got number 200.0"]
    );
    assert_eq!(
        check(json!({"factor": 1, "step": 1e20})),
        vec![
            "nodes[1].params.step: number 1e+20 is out of range (-9223372036854775808 to 9223372036854775807)"
        ]
    );
}

#[test]
fn an_integer_beyond_64_bits_is_refused_in_any_kind_and_nested() {
    let found = check(json!({"factor": 18_446_744_073_709_551_615_u64}));
    assert_eq!(
        found,
        vec![
            "nodes[1].params.factor: integer 18446744073709551615 is out of range (-9223372036854775808 to 9223372036854775807)"
        ]
    );
    let at = Location::root().key("params");
    let Json::Object(map) = json!({"any": [1, {"deep": 18_446_744_073_709_551_615_u64}]}) else {
        unreachable!()
    };
    let problems = check_params(&[], true, &map, &at);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].location, at.key("any"));
}

#[test]
fn a_malformed_media_form_is_found_in_any_parameter() {
    let at = Location::root().key("params");
    let Json::Object(map) = json!({
        "weights": {"$array": {"dtype": "float32", "shape": [3], "data": "AAAAAAAAAAA="}},
        "clip": {"$bytes": "AAE="},
        "nested": [{"$bytes": "!"}],
    }) else {
        unreachable!()
    };
    let found: Vec<String> = check_params(&[], true, &map, &at)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with(
            "params.weights: \"$array\": array of dtype float32 and shape [3] needs 12 bytes"
        ),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("params.nested: \"$bytes\": data is not standard base64"),
        "{found:?}"
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
