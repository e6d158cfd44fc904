//! Media values as JSON (DESIGN §4): an object with one reserved key, its data in standard
//! base64 with padding.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, MapAccess};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::Value;
use crate::media::{Array, AudioFrame, Buffer, DType};

const BYTES: &str = "$bytes";
const ARRAY: &str = "$array";
const AUDIO: &str = "$audio";

/// Whether `key` marks a media value.
pub(super) fn is_reserved(key: &str) -> bool {
    matches!(key, BYTES | ARRAY | AUDIO)
}

/// The error for a reserved key beside others.
pub(super) fn not_alone(key: &str) -> String {
    format!("reserved key \"{key}\" must be the only key of its object")
}

#[derive(Serialize)]
struct ArrayOut<'a> {
    dtype: &'static str,
    shape: &'a [usize],
    data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArrayIn {
    dtype: String,
    shape: Vec<usize>,
    data: String,
}

#[derive(Serialize)]
struct AudioOut {
    sample_rate: u32,
    channels: usize,
    timestamp: f64,
    dtype: &'static str,
    data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AudioIn {
    sample_rate: u32,
    channels: usize,
    #[serde(default)]
    timestamp: f64,
    dtype: String,
    data: String,
}

pub(super) fn serialize_bytes<S: Serializer>(bytes: &Buffer, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(BYTES, &STANDARD.encode(bytes.bytes()))?;
    map.end()
}

pub(super) fn serialize_array<S: Serializer>(array: &Array, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(
        ARRAY,
        &ArrayOut {
            dtype: array.dtype().name(),
            shape: array.shape(),
            data: STANDARD.encode(array.data().bytes()),
        },
    )?;
    map.end()
}

pub(super) fn serialize_audio<S: Serializer>(frame: &AudioFrame, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(
        AUDIO,
        &AudioOut {
            sample_rate: frame.sample_rate(),
            channels: frame.channels(),
            timestamp: frame.timestamp(),
            dtype: frame.samples().dtype().name(),
            data: STANDARD.encode(frame.samples().data().bytes()),
        },
    )?;
    map.end()
}

/// Reads the value of reserved `key` (just read from `map`) and checks no key follows.
pub(super) fn deserialize<'de, A: MapAccess<'de>>(
    key: &str,
    map: &mut A,
) -> Result<Value, A::Error> {
    let fail = |message: String| de::Error::custom(format!("\"{key}\": {message}"));
    let value = match key {
        BYTES => {
            let text: String = map.next_value()?;
            Value::Bytes(decode(&text).map_err(fail)?.into())
        }
        ARRAY => {
            let form: ArrayIn = map.next_value()?;
            let dtype = dtype(&form.dtype).map_err(fail)?;
            let data = decode(&form.data).map_err(fail)?;
            Value::Array(Arc::new(
                Array::new(dtype, form.shape, data.into()).map_err(fail)?,
            ))
        }
        _ => {
            let form: AudioIn = map.next_value()?;
            let dtype = dtype(&form.dtype).map_err(fail)?;
            if form.channels == 0 {
                return Err(fail("channels must be at least 1".into()));
            }
            let data = decode(&form.data).map_err(fail)?;
            let samples = data.len() / dtype.size();
            if samples % form.channels != 0 {
                return Err(fail(format!(
                    "{samples} samples do not divide into {} channels",
                    form.channels
                )));
            }
            let shape = if form.channels == 1 {
                vec![samples]
            } else {
                vec![samples / form.channels, form.channels]
            };
            let samples = Array::new(dtype, shape, data.into()).map_err(fail)?;
            Value::Audio(Arc::new(
                AudioFrame::new(samples, form.sample_rate, form.timestamp).map_err(fail)?,
            ))
        }
    };
    if let Some(other) = map.next_key::<String>()? {
        return Err(de::Error::custom(format!(
            "{} (found \"{other}\" too)",
            not_alone(key)
        )));
    }
    Ok(value)
}

fn decode(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|e| format!("data is not standard base64 with padding: {e}"))
}

fn dtype(name: &str) -> Result<DType, String> {
    DType::from_name(name).ok_or_else(|| DType::unsupported(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        serde_json::to_string(&Value::from_json(text).unwrap()).unwrap()
    }

    #[test]
    fn bytes_arrays_and_frames_round_trip() {
        for text in [
            r#"{"$bytes":"AAEC/w=="}"#,
            r#"{"$bytes":""}"#,
            r#"{"$array":{"dtype":"float32","shape":[2,1],"data":"AACAPwAAAMA="}}"#,
            r#"{"$array":{"dtype":"int64","shape":[],"data":"KgAAAAAAAAA="}}"#,
            r#"{"$array":{"dtype":"uint8","shape":[0,3],"data":""}}"#,
            r#"{"$audio":{"sample_rate":16000,"channels":2,"timestamp":0.5,"dtype":"int16","data":"AQACAAMABAA="}}"#,
            r#"{"k":[{"$bytes":"eA=="}],"n":1}"#,
        ] {
            assert_eq!(round_trip(text), text);
        }
    }

    #[test]
    fn decoded_values_hold_what_the_text_says() {
        let v =
            Value::from_json(r#"{"$array":{"dtype":"float32","shape":[2],"data":"AACAPwAAAMA="}}"#)
                .unwrap();
        let Value::Array(a) = v else { unreachable!() };
        let floats: Vec<f32> = a
            .data()
            .bytes()
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(floats, [1.0, -2.0]);
        let v = Value::from_json(
            r#"{"$audio":{"sample_rate":8000,"channels":1,"dtype":"float32","data":"AACAPwAAAMA="}}"#,
        )
        .unwrap();
        let Value::Audio(f) = v else { unreachable!() };
        assert_eq!((f.channels(), f.frames(), f.timestamp()), (1, 2, 0.0));
        assert_eq!(v_kind(r#"{"$bytes":"eA=="}"#), "bytes");
    }

    fn v_kind(text: &str) -> &'static str {
        Value::from_json(text).unwrap().kind()
    }

    #[test]
    fn malformed_forms_say_what_is_wrong() {
        for (text, expected) in [
            (
                r#"{"$bytes":"!!"}"#,
                "\"$bytes\": data is not standard base64",
            ),
            (
                r#"{"$bytes":3}"#,
                "invalid type: integer `3`, expected a string",
            ),
            (
                r#"{"$array":{"dtype":"complex64","shape":[1],"data":"AAAAAAAAAAA="}}"#,
                "cannot pass an array of dtype complex64 between nodes",
            ),
            (
                r#"{"$array":{"dtype":"float32","shape":[3],"data":"AACAPwAAAMA="}}"#,
                "needs 12 bytes of data, got 8",
            ),
            (
                r#"{"$array":{"dtype":"float32","shape":[2],"data":"AACAPwAAAMA=","x":1}}"#,
                "unknown field `x`",
            ),
            (
                r#"{"$array":{"dtype":"float32","data":""}}"#,
                "missing field `shape`",
            ),
            (
                r#"{"$audio":{"sample_rate":8000,"channels":3,"dtype":"int16","data":"AQACAAMABAA="}}"#,
                "4 samples do not divide into 3 channels",
            ),
            (
                r#"{"$audio":{"sample_rate":8000,"channels":1,"dtype":"float64","data":""}}"#,
                "float32 or int16",
            ),
            (
                r#"{"$audio":{"sample_rate":0,"channels":1,"dtype":"int16","data":""}}"#,
                "sample_rate must be at least 1",
            ),
            (
                r#"{"$bytes":"","a":1}"#,
                "must be the only key of its object (found \"a\" too)",
            ),
            (
                r#"{"a":1,"$bytes":""}"#,
                "reserved key \"$bytes\" must be the only key",
            ),
        ] {
            let err = Value::from_json(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn brief_renders_only_the_start_of_a_big_array() {
        let big = Array::new(DType::U8, vec![64 << 20], vec![7u8; 64 << 20].into()).unwrap();
        let brief = Value::Array(Arc::new(big)).brief();
        assert!(
            brief.starts_with(r#"{"$array":{"dtype":"uint8","shape":[67108864]"#),
            "{brief}"
        );
        assert_eq!(brief.len(), 60);
    }
}
