//! `audio.Resample {rate}`: converts a stream to another sample rate, as float32.
//!
//! The resampler is rubato's asynchronous sinc resampler at a fixed ratio (built without the
//! FFT resampler and its dependencies): a 256-tap sinc filter under a squared Blackman-Harris
//! window, cutoff chosen by rubato for that length, 128-fold oversampled table with cubic
//! interpolation between its points; chunks of [`CHUNK`] input samples. One resampler lives
//! for the whole stream, so its filter runs across frame boundaries as across any other
//! sample: a streamed tone comes out as a whole-file resample would.
//!
//! Alignment: the filter delays its output by 128 input samples less one output sample. So
//! that this delay is a whole number of output samples, the stream is preceded by a few
//! zeros (fewer than `in_rate / gcd(in_rate, out_rate)`), and exactly that many leading
//! output samples are dropped: the first output sample is the first input sample's instant.
//! At `finish` the filter is fed silence until the output holds `round(n * out / in)`
//! samples for `n` input samples, and no more: N seconds in give N seconds out.
//!
//! int16 samples are scaled by 1/32768; output is always float32. Output frames are stamped
//! with the first input frame's timestamp plus the output samples sent before them; an input
//! frame gives at most one output frame (none while the filter fills). A stream already at
//! `rate` passes through, converted to float32, with its own timestamps. The rates may differ
//! by a factor of at most [`MAX_FACTOR`], neither may exceed [`MAX_RATE`], and a stream has at
//! most [`MAX_CHANNELS`] channels; a change of rate or channel count mid-stream is a
//! `ValueError`.

use std::sync::Arc;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Indexing, Resampler, SincInterpolationParameters, WindowFunction};

use super::frame::{Format, audio_item, each_item, expect_audio, f32_bytes, time_at, to_f32};
use crate::node::{Node, NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role, param_i64};
use crate::value::Value;
use remotemedia_vm_sandbox::{AudioFrame, DType};

/// The node's type name.
pub const NAME: &str = "audio.Resample";
/// The highest rate in or out.
pub const MAX_RATE: u32 = 768_000;
/// The most the two rates may differ by: beyond it the filter's delay no longer covers the
/// output of one input chunk.
pub const MAX_FACTOR: u32 = 256;
/// The most channels a stream may have: the resampler keeps a filter history per channel.
pub const MAX_CHANNELS: usize = 1024;
/// Input samples per channel that the resampler takes per call.
pub const CHUNK: usize = 512;
/// Taps of the sinc filter.
const SINC_LEN: u64 = 256;

fn error(kind: &str, message: impl std::fmt::Display) -> NodeError {
    NodeError::new(kind, format!("{NAME}: {message}"))
}

/// One stream being resampled.
struct Stream {
    resampler: Async<f32>,
    channels: usize,
    /// Output rate over input rate, in lowest terms.
    up: u64,
    down: u64,
    /// Zeros still to feed before the input (the alignment padding).
    zeros: u64,
    /// Interleaved input samples not yet fed.
    pending: Vec<f32>,
    /// Leading output samples per channel still to drop (the filter's delay).
    skip: u64,
    /// Input samples per channel received.
    received: u64,
    chunk: Vec<f32>,
    output: Vec<f32>,
}

impl Stream {
    fn new(rate_in: u32, rate_out: u32, channels: usize) -> Result<Stream, NodeError> {
        let (hi, lo) = (rate_in.max(rate_out), rate_in.min(rate_out));
        if rate_in > MAX_RATE || u64::from(hi) > u64::from(lo) * u64::from(MAX_FACTOR) {
            return Err(error(
                "ValueError",
                format!(
                    "cannot resample {rate_in} Hz to {rate_out} Hz: rates go up to {MAX_RATE} Hz and may differ by a factor of at most {MAX_FACTOR}"
                ),
            ));
        }
        if channels > MAX_CHANNELS {
            return Err(error(
                "ValueError",
                format!("cannot resample {channels} channels; at most {MAX_CHANNELS}"),
            ));
        }
        let g = gcd(u64::from(rate_in), u64::from(rate_out));
        let (up, down) = (u64::from(rate_out) / g, u64::from(rate_in) / g);
        #[allow(clippy::cast_precision_loss)] // both below 2^20
        let ratio = up as f64 / down as f64;
        let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2);
        let resampler = Async::new_sinc(ratio, 1.0, &params, CHUNK, channels, FixedAsync::Input)
            .map_err(|e| error("ValueError", e))?;
        let half = SINC_LEN / 2;
        let zeros = (down - half % down) % down;
        let output = vec![0.0; resampler.output_frames_max() * channels];
        Ok(Stream {
            resampler,
            channels,
            up,
            down,
            zeros,
            pending: Vec::new(),
            skip: (half + zeros) * up / down - 1,
            received: 0,
            chunk: vec![0.0; CHUNK * channels],
            output,
        })
    }

    /// Feeds whole chunks (with `flush`, the last partial one too), appending the output.
    fn pump(&mut self, out: &mut Vec<f32>, flush: bool) -> Result<(), NodeError> {
        let ch = self.channels;
        loop {
            let pending = self.pending.len() / ch;
            let available = self.zeros + pending as u64;
            if available < CHUNK as u64 && !(flush && available > 0) {
                return Ok(());
            }
            let zeros = usize::try_from(self.zeros).map_or(CHUNK, |z| z.min(CHUNK));
            let taken = (CHUNK - zeros).min(pending);
            self.chunk[..zeros * ch].fill(0.0);
            self.chunk[zeros * ch..(zeros + taken) * ch]
                .copy_from_slice(&self.pending[..taken * ch]);
            self.pending.drain(..taken * ch);
            self.zeros -= zeros as u64;
            self.feed(zeros + taken, out)?;
        }
    }

    /// Runs the resampler on the first `len` samples of `chunk` (silence after them).
    fn feed(&mut self, len: usize, out: &mut Vec<f32>) -> Result<usize, NodeError> {
        let ch = self.channels;
        let fail = |e: &dyn std::fmt::Display| error("RuntimeError", e);
        let input = InterleavedSlice::new(&self.chunk, ch, CHUNK).map_err(|e| fail(&e))?;
        let capacity = self.output.len() / ch;
        let mut output =
            InterleavedSlice::new_mut(&mut self.output, ch, capacity).map_err(|e| fail(&e))?;
        let partial = (len < CHUNK).then(|| Indexing::new().partial_len(len));
        let (_, written) = self
            .resampler
            .process_into_buffer(&input, &mut output, partial.as_ref())
            .map_err(|e| fail(&e))?;
        let dropped = usize::try_from(self.skip).map_or(written, |s| s.min(written));
        self.skip -= dropped as u64;
        out.extend_from_slice(&self.output[dropped * ch..written * ch]);
        Ok(written)
    }

    /// Feeds the rest and then silence until `sent + out` holds the stream's length.
    fn flush(&mut self, sent: u64, out: &mut Vec<f32>) -> Result<(), NodeError> {
        let ch = self.channels as u64;
        let total = u128::from(self.received) * u128::from(self.up);
        let target = u64::try_from((total + u128::from(self.down / 2)) / u128::from(self.down))
            .unwrap_or(u64::MAX);
        if self.received > 0 {
            self.pump(out, true)?;
            while sent + (out.len() as u64) / ch < target {
                if self.feed(0, out)? == 0 {
                    break;
                }
            }
        }
        let keep = target.saturating_sub(sent).saturating_mul(ch);
        out.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        Ok(())
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Resamples a stream to one rate.
pub struct Resample {
    rate: u32,
    format: Option<Format>,
    stream: Option<Stream>,
    start: f64,
    /// Output samples per channel sent.
    sent: u64,
}

impl Resample {
    /// Resamples to `rate` samples per second.
    pub fn new(rate: u32) -> Self {
        Resample {
            rate,
            format: None,
            stream: None,
            start: 0.0,
            sent: 0,
        }
    }

    fn emit(
        &mut self,
        samples: &[f32],
        channels: usize,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeError> {
        let timestamp = time_at(self.start, self.sent, self.rate);
        out.push(audio_item(
            NAME,
            DType::F32,
            f32_bytes(samples),
            (self.rate, channels),
            timestamp,
        )?);
        self.sent += (samples.len() / channels) as u64;
        Ok(())
    }

    fn push(
        &mut self,
        item: Value,
        frame: &AudioFrame,
        out: &mut Vec<Value>,
    ) -> Result<(), NodeError> {
        let first = self.format.is_none();
        let format = Format::check(NAME, &mut self.format, frame, |a, b| {
            a.rate == b.rate && a.channels == b.channels
        })?;
        if format.rate == self.rate {
            if format.dtype == DType::F32 {
                out.push(item);
            } else {
                let samples = f32_bytes(&to_f32(frame));
                let format = (self.rate, format.channels);
                out.push(audio_item(
                    NAME,
                    DType::F32,
                    samples,
                    format,
                    frame.timestamp(),
                )?);
            }
            return Ok(());
        }
        if first {
            self.start = frame.timestamp();
            self.stream = Some(Stream::new(format.rate, self.rate, format.channels)?);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        stream.pending.extend(to_f32(frame));
        stream.received += frame.frames() as u64;
        let mut produced = Vec::new();
        stream.pump(&mut produced, false)?;
        if !produced.is_empty() {
            self.emit(&produced, format.channels, out)?;
        }
        Ok(())
    }
}

impl Node for Resample {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        each_item(items, |item, out| {
            let frame = Arc::clone(expect_audio(NAME, &item)?);
            self.push(item, &frame, out)
        })
    }

    /// Sends the filter's tail: the output up to the length of the input.
    fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        let Some(mut stream) = self.stream.take() else {
            return Ok(());
        };
        let mut tail = Vec::new();
        stream.flush(self.sent, &mut tail)?;
        if !tail.is_empty() {
            self.emit(&tail, stream.channels, out)?;
        }
        Ok(())
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![
        NodeType::rust(
            NAME,
            crate::node::builtin::PROVIDER,
            "Resamples audio to rate (float32 out), delay removed and tail flushed: N seconds in, N seconds out.",
            Role::Transform,
            vec![ParamSpec::required("rate", ParamKind::Integer, "output sample rate in Hz, up to 768000")],
            Arc::new(|params| {
                let rate = u32::try_from(param_i64(params, "rate", 16_000)).unwrap_or(16_000);
                NodeImpl::sync(Resample::new(rate))
            }),
        )
        .with_check(|params| {
            let rate = param_i64(params, "rate", 16_000);
            if (1..=i64::from(MAX_RATE)).contains(&rate) {
                Ok(())
            } else {
                Err(("rate".to_owned(), format!("must be between 1 and {MAX_RATE}, got {rate}")))
            }
        }),
    ]
}

#[cfg(test)]
mod tests;
