//! What the audio nodes share: taking an item as a frame, its format, sample conversion,
//! building frames, and the `frame_ms` parameter.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::node::NodeError;
use crate::value::Value;
use remotemedia_vm_sandbox::{Array, AudioFrame, Buffer, DType};

/// The largest `frame_ms` the audio nodes take: one minute per frame.
pub const MAX_FRAME_MS: f64 = 60_000.0;

/// What must stay the same from one frame of a stream to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// Samples per second.
    pub rate: u32,
    /// Interleaved channels.
    pub channels: usize,
    /// `int16` or `float32`.
    pub dtype: DType,
}

impl Format {
    /// The format of `frame`.
    pub fn of(frame: &AudioFrame) -> Format {
        Format {
            rate: frame.sample_rate(),
            channels: frame.channels(),
            dtype: frame.samples().dtype(),
        }
    }

    /// Records the first frame's format in `seen`; a later frame that differs in what `same`
    /// compares is a `ValueError` naming both formats.
    pub fn check(
        node: &str,
        seen: &mut Option<Format>,
        frame: &AudioFrame,
        same: fn(&Format, &Format) -> bool,
    ) -> Result<Format, NodeError> {
        let now = Format::of(frame);
        match seen {
            None => {
                *seen = Some(now);
                Ok(now)
            }
            Some(first) if same(first, &now) => Ok(now),
            Some(first) => Err(NodeError::new(
                "ValueError",
                format!("{node}: the stream changed format mid-stream, from {first} to {now}"),
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.channels == 1 { "" } else { "s" };
        write!(
            f,
            "{} Hz, {} channel{plural}, {}",
            self.rate, self.channels, self.dtype
        )
    }
}

/// The frame `item` holds, or a `TypeError` naming the node and the item's kind.
pub fn expect_audio<'a>(node: &str, item: &'a Value) -> Result<&'a Arc<AudioFrame>, NodeError> {
    match item {
        Value::Audio(frame) => Ok(frame),
        other => Err(NodeError::new(
            "TypeError",
            format!(
                "{node} expects an audio frame, got {} {}",
                other.kind(),
                other.brief()
            ),
        )),
    }
}

/// Runs `step` on each item in order, collecting what it pushes. On an error `items` keeps
/// the outputs of the items before the failing one (the node contract).
pub fn each_item(
    items: &mut Vec<Value>,
    mut step: impl FnMut(Value, &mut Vec<Value>) -> Result<(), NodeError>,
) -> Result<(), NodeError> {
    let mut out = Vec::with_capacity(items.len());
    for item in std::mem::take(items) {
        if let Err(e) = step(item, &mut out) {
            *items = out;
            return Err(e);
        }
    }
    *items = out;
    Ok(())
}

/// The samples of little-endian int16 bytes.
pub fn i16_samples(bytes: &[u8]) -> impl Iterator<Item = i16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
}

/// The samples of little-endian float32 bytes.
pub fn f32_samples(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The frame's interleaved samples as float32: int16 is scaled by 1/32768, so full scale is
/// [-1, 1) as in numpy and most audio libraries.
pub fn to_f32(frame: &AudioFrame) -> Vec<f32> {
    let bytes = frame.samples().data().bytes();
    match frame.samples().dtype() {
        DType::I16 => i16_samples(bytes)
            .map(|s| f32::from(s) / 32_768.0)
            .collect(),
        _ => f32_samples(bytes).collect(),
    }
}

/// Little-endian bytes of float32 samples.
pub fn f32_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Little-endian bytes of int16 samples.
pub fn i16_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// An audio item over interleaved sample bytes: shape `(n,)` for one channel, else
/// `(n, channels)`. An invalid frame (a rate of 0, a timestamp that overflowed) is a
/// `ValueError` naming the node, never a panic.
pub fn audio_item(
    node: &str,
    dtype: DType,
    bytes: Vec<u8>,
    format: (u32, usize),
    timestamp: f64,
) -> Result<Value, NodeError> {
    let (rate, channels) = format;
    let frames = bytes.len() / dtype.size() / channels.max(1);
    let shape = if channels == 1 {
        vec![frames]
    } else {
        vec![frames, channels]
    };
    Array::new(dtype, shape, Buffer::from(bytes))
        .and_then(|samples| AudioFrame::new(samples, rate, timestamp))
        .map(|frame| Value::Audio(Arc::new(frame)))
        .map_err(|e| NodeError::new("ValueError", format!("{node}: {e}")))
}

/// `start + samples / rate`: the time of a stream's `samples`-th sample.
#[allow(clippy::cast_precision_loss)] // sample counts far below 2^52
pub fn time_at(start: f64, samples: u64, rate: u32) -> f64 {
    start + samples as f64 / f64::from(rate)
}

/// Samples per channel in a frame of `frame_ms` at `rate`: rounded, at least one.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // positive, and bounded by rate * 60 s
pub fn frame_len(rate: u32, frame_ms: f64) -> usize {
    (f64::from(rate) * frame_ms / 1000.0).round().max(1.0) as usize
}

/// A number parameter as a float, or `default` when absent.
#[allow(clippy::cast_precision_loss)] // a manifest's integer milliseconds or decibels
pub fn param_f64(params: &Map<String, Json>, name: &str, default: f64) -> f64 {
    params.get(name).and_then(Json::as_f64).unwrap_or(default)
}

/// A string parameter, or `""` when absent.
pub fn param_str<'a>(params: &'a Map<String, Json>, name: &str) -> &'a str {
    params.get(name).and_then(Json::as_str).unwrap_or("")
}

/// Checks `frame_ms`: above 0 and at most [`MAX_FRAME_MS`].
pub fn check_frame_ms(params: &Map<String, Json>) -> Result<(), (String, String)> {
    let ms = param_f64(params, "frame_ms", 20.0);
    if ms > 0.0 && ms <= MAX_FRAME_MS {
        Ok(())
    } else {
        Err((
            "frame_ms".to_owned(),
            format!("must be above 0 and at most {MAX_FRAME_MS} (one minute), got {ms}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int16_is_scaled_to_unit_range() {
        let item = audio_item(
            "t",
            DType::I16,
            i16_bytes(&[-32_768, 0, 16_384]),
            (8, 1),
            0.0,
        )
        .unwrap();
        let Value::Audio(frame) = item else {
            unreachable!()
        };
        assert_eq!(to_f32(&frame), vec![-1.0, 0.0, 0.5]);
    }

    #[test]
    fn a_format_change_names_both_formats() {
        let frame = |rate, channels: usize| {
            let item = audio_item(
                "t",
                DType::F32,
                f32_bytes(&vec![0.0; 2 * channels]),
                (rate, channels),
                0.0,
            )
            .unwrap();
            let Value::Audio(frame) = item else {
                unreachable!()
            };
            frame
        };
        let mut seen = None;
        Format::check("X", &mut seen, &frame(16_000, 1), |a, b| a == b).unwrap();
        let err = Format::check("X", &mut seen, &frame(8_000, 2), |a, b| a == b).unwrap_err();
        assert_eq!(
            err.message,
            "X: the stream changed format mid-stream, from 16000 Hz, 1 channel, float32 to 8000 Hz, 2 channels, float32"
        );
    }

    #[test]
    fn frame_len_rounds_and_is_never_zero() {
        assert_eq!(frame_len(44_100, 20.0), 882);
        assert_eq!(frame_len(8_000, 0.01), 1);
    }

    #[test]
    fn a_bad_frame_is_an_error_not_a_panic() {
        let err = audio_item("X", DType::F32, vec![], (0, 1), 0.0).unwrap_err();
        assert!(err.message.starts_with("X: "), "{err}");
        assert!(audio_item("X", DType::F32, vec![], (1, 1), f64::INFINITY).is_err());
    }
}
