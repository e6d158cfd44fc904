//! The built-in audio nodes, one per file, named `audio.*`. Each takes audio frames
//! (`Value::Audio`: float32 or int16 samples, interleaved, with a rate and a start time); any
//! other item is a `TypeError` naming the node and the item's kind. Nodes that keep a stream's
//! format (`WavSink`, `Resample`, `Rechunk`) refuse a change of it mid-stream with a
//! `ValueError` naming both formats. docs/architecture.md ("Audio nodes") gives the decisions.
//!
//! # Layout
//! - `frame`: what they share (format, sample conversion, building frames, `frame_ms`).
//! - `wav_source`, `wav_sink`: WAV files in and out, through `hound`.
//! - `resample`: rate conversion, through `rubato`.
//! - `gain`, `downmix`, `rechunk`: level, channels, frame length.

mod downmix;
mod frame;
mod gain;
mod rechunk;
mod resample;
mod wav_sink;
mod wav_source;

use super::NodeType;

/// Every audio node type.
pub(super) fn node_types() -> Vec<NodeType> {
    [
        wav_source::node_types(),
        wav_sink::node_types(),
        resample::node_types(),
        gain::node_types(),
        downmix::node_types(),
        rechunk::node_types(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
