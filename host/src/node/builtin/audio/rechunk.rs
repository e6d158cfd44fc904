//! `audio.Rechunk {frame_ms = 20}`: re-cuts a stream into frames of a fixed length,
//! `round(rate * frame_ms / 1000)` samples (at least one); what is left at the end of the
//! stream goes out as a last, shorter frame. Samples keep their dtype and bytes. Timestamps
//! run on from the first frame's, one sample at a time, whatever later frames carry: the
//! node makes a stream continuous. A change of rate, channels or dtype is a `ValueError`.

use std::sync::Arc;

use serde_json::json;

use super::frame::{
    Format, audio_item, check_frame_ms, each_item, expect_audio, frame_len, param_f64, time_at,
};
use crate::node::{Node, NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role};
use crate::value::Value;

/// The node's type name.
pub const NAME: &str = "audio.Rechunk";

/// Cuts a stream into frames of one length.
pub struct Rechunk {
    frame_ms: f64,
    format: Option<Format>,
    start: f64,
    /// Samples per channel already sent.
    sent: u64,
    /// Interleaved sample bytes not yet sent.
    pending: Vec<u8>,
}

impl Rechunk {
    /// Frames of `frame_ms` milliseconds.
    pub fn new(frame_ms: f64) -> Self {
        Rechunk {
            frame_ms,
            format: None,
            start: 0.0,
            sent: 0,
            pending: Vec::new(),
        }
    }

    /// Sends every whole frame in `pending`, and with `all` the rest too.
    fn emit(&mut self, out: &mut Vec<Value>, all: bool) -> Result<(), NodeError> {
        let Some(format) = self.format else {
            return Ok(());
        };
        let stride = format.channels * format.dtype.size();
        let chunk = frame_len(format.rate, self.frame_ms).saturating_mul(stride);
        let mut at = 0;
        while self.pending.len() - at >= chunk || (all && at < self.pending.len()) {
            let end = (at + chunk).min(self.pending.len());
            let bytes = self.pending[at..end].to_vec();
            let frames = (bytes.len() / stride) as u64;
            let timestamp = time_at(self.start, self.sent, format.rate);
            out.push(audio_item(
                NAME,
                format.dtype,
                bytes,
                (format.rate, format.channels),
                timestamp,
            )?);
            self.sent += frames;
            at = end;
        }
        self.pending.drain(..at);
        Ok(())
    }
}

impl Node for Rechunk {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        each_item(items, |item, out| {
            let frame = expect_audio(NAME, &item)?;
            if self.format.is_none() {
                self.start = frame.timestamp();
            }
            Format::check(NAME, &mut self.format, frame, |a, b| a == b)?;
            self.pending
                .extend_from_slice(frame.samples().data().bytes());
            self.emit(out, false)
        })
    }

    fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        self.emit(out, true)
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![
        NodeType::rust(
            NAME,
            crate::node::builtin::PROVIDER,
            "Re-cuts audio into frames of frame_ms; the last may be shorter. Timestamps run on from the first frame.",
            Role::Transform,
            vec![ParamSpec::optional(
                "frame_ms",
                ParamKind::Number,
                json!(20),
                "frame length in milliseconds, up to 60000",
            )],
            Arc::new(|params| NodeImpl::sync(Rechunk::new(param_f64(params, "frame_ms", 20.0)))),
        )
        .with_check(check_frame_ms),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::builtin::audio::frame::{i16_bytes, i16_samples};
    use remotemedia_vm_sandbox::DType;

    fn stereo(values: &[i16], timestamp: f64) -> Value {
        audio_item("t", DType::I16, i16_bytes(values), (1_000, 2), timestamp).unwrap()
    }

    fn frames(items: &[Value]) -> Vec<(f64, Vec<i16>)> {
        items
            .iter()
            .map(|v| {
                let Value::Audio(f) = v else { panic!("{v}") };
                (
                    f.timestamp(),
                    i16_samples(f.samples().data().bytes()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn recuts_to_fixed_frames_and_flushes_a_short_last_one() {
        // 3 ms at 1 kHz: 3 samples per channel. Later timestamps are ignored.
        let mut node = Rechunk::new(3.0);
        let mut items = vec![
            stereo(&[1, 1, 2, 2], 10.0),
            stereo(&[3, 3, 4, 4, 5, 5, 6, 6, 7, 7], 99.0),
        ];
        node.process(&mut items).unwrap();
        let mut items2 = vec![stereo(&[], 0.0), stereo(&[8, 8], 0.0)];
        node.process(&mut items2).unwrap();
        assert!(items2.is_empty());
        node.finish(&mut items).unwrap();
        let got = frames(&items);
        let expected = [
            (10.0, vec![1, 1, 2, 2, 3, 3]),
            (10.003, vec![4, 4, 5, 5, 6, 6]),
            (10.006, vec![7, 7, 8, 8]),
        ];
        assert_eq!(got.len(), expected.len());
        for ((t, samples), (et, es)) in got.iter().zip(&expected) {
            assert!((t - et).abs() < 1e-12, "{t} {et}");
            assert_eq!(samples, es);
        }
        let mut again = Vec::new();
        node.finish(&mut again).unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn a_format_change_is_an_error_and_earlier_outputs_stay() {
        let mut node = Rechunk::new(1.0);
        let mono = audio_item("t", DType::I16, i16_bytes(&[1]), (1_000, 1), 0.0).unwrap();
        let mut items = vec![stereo(&[1, 2], 0.0), mono];
        let err = node.process(&mut items).unwrap_err();
        assert_eq!(err.error_type, "ValueError");
        assert!(
            err.message
                .contains("from 1000 Hz, 2 channels, int16 to 1000 Hz, 1 channel, int16"),
            "{err}"
        );
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn nothing_in_nothing_out() {
        let mut out = Vec::new();
        Rechunk::new(20.0).finish(&mut out).unwrap();
        assert!(out.is_empty());
    }
}
