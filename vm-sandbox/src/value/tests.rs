//! Unit tests of the parent module.

use super::*;

#[test]
fn json_round_trip_keeps_key_order_and_number_kinds() {
    let text = r#"{"b":1,"a":[2.5,null,true,"x"],"c":{"z":-3}}"#;
    let v = Value::from_json(text).unwrap();
    assert_eq!(serde_json::to_string(&v).unwrap(), text);
}

#[test]
fn repeated_key_keeps_last_value_in_first_position() {
    let v = Value::from_json(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":3,"b":2}"#);
}

#[test]
fn integer_beyond_64_bits_is_an_error_not_a_rounded_float() {
    let err = Value::from_json("18446744073709551615").unwrap_err();
    assert!(
        err.to_string()
            .contains("is out of range (-9223372036854775808 to 9223372036854775807)"),
        "{err}"
    );
}

#[test]
fn an_integer_literal_beyond_64_bits_is_an_error_anywhere_but_in_strings() {
    for text in [
        "18446744073709551616",
        "[1, -99999999999999999999]",
        r#"{"a": {"b": 1e400, "c": 123456789012345678901234567890}}"#,
    ] {
        let err = Value::from_json(text).unwrap_err().to_string();
        assert!(err.contains("is out of range"), "{text}: {err}");
    }
    for text in [
        r#""123456789012345678901234567890""#,
        "1.5e300",
        "-9223372036854775808",
        r#"{"k\"1234567890123456789012": 1}"#,
    ] {
        assert!(oversized_integer(text).is_none(), "{text}");
    }
}

#[test]
fn many_keys_keep_first_position_and_last_value() {
    let text = format!(
        "{{{},\"k3\":-1}}",
        (0..1000)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let Value::Map(entries) = Value::from_json(&text).unwrap() else {
        unreachable!()
    };
    assert_eq!(entries.len(), 1000);
    assert_eq!(entries[3], (Arc::from("k3"), Value::Int(-1)));
    assert_eq!(entries[999].1, Value::Int(999));
}

#[test]
fn brief_cuts_long_values() {
    let v = Value::from("y".repeat(200).as_str());
    assert_eq!(v.brief().len(), 60);
    assert!(v.brief().ends_with("..."));
}
