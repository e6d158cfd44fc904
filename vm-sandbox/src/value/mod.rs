//! The items that flow between nodes.
//!
//! A [`Value`] is JSON-like, or a media value (bytes, an n-d array, an audio frame; see
//! [`crate::media`]). Its heavy variants sit behind an [`Arc`], so fanning an item out to
//! several branches clones a pointer, never the data (DESIGN §4).
//!
//! As JSON (the CLI's JSON lines, manifest parameters), a media value is an object with one
//! reserved key: `{"$bytes": "<base64>"}`, `{"$array": {"dtype", "shape", "data"}}`,
//! `{"$audio": {"sample_rate", "channels", "timestamp", "dtype", "data"}}`, data in standard
//! base64 with padding, little-endian, C order (audio interleaved).

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::media::{Array, AudioFrame, Buffer};

mod json_form;

/// One item of a stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// JSON `true` / `false`. Not a number: arithmetic nodes reject it.
    Bool(bool),
    /// A whole number that fits in 64 bits.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A UTF-8 string.
    Str(Arc<str>),
    /// An ordered list of values.
    List(Arc<[Value]>),
    /// A map with string keys, kept in insertion order (as Python's `dict` and JSON text are).
    Map(Arc<[(Arc<str>, Value)]>),
    /// Raw bytes.
    Bytes(Buffer),
    /// An n-d array of numbers.
    Array(Arc<Array>),
    /// An audio frame.
    Audio(Arc<AudioFrame>),
}

impl Value {
    /// The name of this value's kind, as used in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Bytes(_) => "bytes",
            Value::Array(_) => "array",
            Value::Audio(_) => "audio",
        }
    }

    /// The media payload this item holds, in bytes: what a queue's byte bound counts
    /// (DESIGN §7). JSON-like values count 0; lists and maps count what they hold.
    pub fn payload_bytes(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Array(a) => a.data().len(),
            Value::Audio(f) => f.samples().data().len(),
            Value::List(items) => items.iter().map(Value::payload_bytes).sum(),
            Value::Map(entries) => entries.iter().map(|(_, v)| v.payload_bytes()).sum(),
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => 0,
        }
    }

    /// Parses one JSON text into a value.
    ///
    /// # Errors
    /// The JSON parser's error, which names the line and column; an integer literal that does
    /// not fit in 64 bits (the parser would read it as a float, changing the item).
    pub fn from_json(text: &str) -> Result<Value, serde_json::Error> {
        if let Some((literal, at)) = oversized_integer(text) {
            return Err(<serde_json::Error as de::Error>::custom(format!(
                "integer {literal} is out of range ({} to {}) at byte {at}",
                i64::MIN,
                i64::MAX
            )));
        }
        serde_json::from_str(text)
    }

    /// Converts a parsed manifest value (for instance a node parameter) into an item.
    ///
    /// # Errors
    /// An integer that does not fit in 64 bits.
    pub fn from_json_value(v: &serde_json::Value) -> Result<Value, serde_json::Error> {
        Value::deserialize(v)
    }

    /// A JSON error's message without serde's trailing " at line L column C", with the line
    /// and column apart, so callers can place them once.
    pub fn json_error_parts(e: &serde_json::Error) -> (String, usize, usize) {
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
        (message, e.line(), e.column())
    }

    /// A short rendering for error messages: the JSON text, cut after 60 characters. Only
    /// that much is rendered, so a 64 MiB array costs no more than a number.
    pub fn brief(&self) -> String {
        let mut out = Bounded(Vec::with_capacity(64));
        // Stops with an error once past the bound: what was written is the text's start.
        let _ = serde_json::to_writer(&mut out, self);
        let mut text = String::from_utf8_lossy(&out.0).into_owned();
        if text.is_empty() {
            self.kind().clone_into(&mut text);
        }
        if text.len() > 60 {
            let mut cut = 57;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("...");
        }
        text
    }
}

/// A writer that takes a little more than [`Value::brief`] shows, then refuses.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() > 64 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The first integer literal of a JSON text that does not fit in 64 bits, with its byte
/// offset: one pass over the text, outside strings. serde reads such a literal as a float.
pub fn oversized_integer(text: &str) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            {
                i += 1;
            }
            let literal = &text[start..i];
            let integral = !literal.contains(['.', 'e', 'E']);
            if integral && literal.len() > 18 && literal.parse::<i64>().is_err() {
                return Some((literal, start));
            }
            continue;
        }
        i += 1;
    }
    None
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.brief())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.into())
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) => s.serialize_f64(*x),
            Value::Str(text) => s.serialize_str(text),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries.iter() {
                    map.serialize_entry(&**k, v)?;
                }
                map.end()
            }
            Value::Bytes(bytes) => json_form::serialize_bytes(bytes, s),
            Value::Array(array) => json_form::serialize_array(array, s),
            Value::Audio(frame) => json_form::serialize_audio(frame, s),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

/// Up to this many keys, a map finds a repeated key by scanning; past it, by a hash index.
const SMALL_MAP: usize = 16;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        // Rounding a large integer to a float would change the item behind the user's back.
        i64::try_from(v).map(Value::Int).map_err(|_| {
            E::custom(format!(
                "integer {v} is out of range (at most {})",
                i64::MAX
            ))
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items.into()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Arc<str>, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(0));
        // Positions by key, kept once a map grows past a few keys: a scan per key made a line
        // of 100k keys take seconds.
        let mut index: std::collections::HashMap<Arc<str>, usize> =
            std::collections::HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if json_form::is_reserved(&key) {
                if !entries.is_empty() {
                    return Err(de::Error::custom(json_form::not_alone(&key)));
                }
                return json_form::deserialize(&key, &mut map);
            }
            let value: Value = map.next_value()?;
            // A repeated key keeps its first position and its last value, as Python's json does.
            let found = if entries.len() < SMALL_MAP {
                entries.iter().position(|(k, _)| **k == *key)
            } else {
                if index.is_empty() {
                    index.extend(
                        entries
                            .iter()
                            .enumerate()
                            .map(|(i, (k, _))| (Arc::clone(k), i)),
                    );
                }
                index.get(key.as_str()).copied()
            };
            if let Some(at) = found {
                entries[at].1 = value;
            } else {
                let key: Arc<str> = key.into();
                if !index.is_empty() {
                    index.insert(Arc::clone(&key), entries.len());
                }
                entries.push((key, value));
            }
        }
        Ok(Value::Map(entries.into()))
    }
}

#[cfg(test)]
mod tests;
