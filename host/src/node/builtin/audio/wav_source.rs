//! `audio.WavSource {path, frame_ms = 20}`: a source that streams a WAV file as audio frames.
//!
//! The file is read as it goes, never whole: each `fill` reads at most a few frames (about
//! [`FILL_SAMPLES`] samples) through a buffered reader. That is a small blocking read from
//! disk, which the source contract accepts; a file on a stalled network mount would stall
//! this task.
//!
//! Samples: 16-bit PCM becomes int16 frames and 32-bit float becomes float32 frames, bit for
//! bit. Other integer depths (8, 24 and 32-bit) become float32 scaled to [-1, 1) (divided by
//! 2^(bits-1)), exact for 8 and 24 bits, rounded to float32's 24-bit precision for 32 bits.
//! Frames are `round(rate * frame_ms / 1000)` samples per channel, stamped with their start
//! (`sample index / rate`, from 0); the last may be shorter. A file with no samples gives one
//! empty frame, so its format still reaches the nodes downstream (a `WavSink` then writes an
//! empty file of the same format).
//!
//! `validate` opens the file: a missing, unreadable or non-WAV file, or an unsupported
//! format, is reported at `nodes[i].params.path`. A relative path is relative to the host's
//! working directory.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use hound::{SampleFormat, WavReader};
use serde_json::json;

use super::frame::{
    audio_item, check_frame_ms, f32_bytes, frame_len, i16_bytes, param_f64, param_str, time_at,
};
use crate::node::{NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role, Source};
use crate::value::Value;
use remotemedia_vm_sandbox::DType;

/// The node's type name.
pub const NAME: &str = "audio.WavSource";

/// About how many samples one `fill` reads: past this it returns and lets the pipeline run.
pub const FILL_SAMPLES: usize = 1 << 16;

/// How the file's samples become frame samples.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Decode {
    /// 16-bit PCM, kept as int16.
    Int16,
    /// 32-bit float, kept as float32.
    Float32,
    /// Other integer depths, scaled to float32 by this factor.
    ScaledInt(f32),
}

/// Opens `path` as a WAV file this node can read.
fn open(path: &str) -> Result<(WavReader<BufReader<File>>, Decode), String> {
    let reader = WavReader::open(path).map_err(|e| format!("cannot read WAV file {path}: {e}"))?;
    let spec = reader.spec();
    if spec.sample_rate == 0 {
        return Err(format!("WAV file {path} has a sample rate of 0"));
    }
    check_container(path, spec.bits_per_sample)?;
    let decode = match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Int, 16) => Decode::Int16,
        (SampleFormat::Float, 32) => Decode::Float32,
        (SampleFormat::Int, bits @ (8 | 24 | 32)) => {
            Decode::ScaledInt(1.0 / 2f32.powi(i32::from(bits) - 1))
        }
        (format, bits) => {
            let kind = if format == SampleFormat::Int {
                "integer"
            } else {
                "float"
            };
            return Err(format!(
                "WAV file {path} holds {bits}-bit {kind} samples; readable are 8, 16, 24 and 32-bit integer and 32-bit float"
            ));
        }
    };
    Ok((reader, decode))
}

/// Refuses samples narrower than their container (24 valid bits in 4 bytes, say, in
/// `WAVE_FORMAT_EXTENSIBLE` files): hound reads the low bytes of such a container, where the
/// format puts the sample in the high ones, so they would decode to noise. Looked at in
/// regular files only (reading a FIFO's header twice would lose it).
fn check_container(path: &str, bits: u16) -> Result<(), String> {
    let Ok(file) = File::open(path) else {
        return Ok(()); // WavReader::open just opened it: nothing new to say
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    // hound parsed the header already; only the fmt chunk's block alignment is wanted.
    let Some(container) = container_bits(BufReader::new(file)) else {
        return Ok(());
    };
    if container != bits {
        return Err(format!(
            "WAV file {path} holds {bits}-bit samples in {container}-bit containers, which this reader cannot decode; convert it to plain 16, 24 or 32-bit PCM or 32-bit float"
        ));
    }
    Ok(())
}

/// The bits each sample takes in the file (block align / channels, from the fmt chunk), or
/// `None` if the header cannot be read that far.
fn container_bits(mut file: impl Read + Seek) -> Option<u16> {
    let mut riff = [0u8; 12];
    file.read_exact(&mut riff).ok()?;
    loop {
        let mut head = [0u8; 8];
        file.read_exact(&mut head).ok()?;
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if &head[..4] == b"fmt " {
            let mut fmt = [0u8; 14];
            file.read_exact(&mut fmt).ok()?;
            let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
            let block_align = u16::from_le_bytes([fmt[12], fmt[13]]);
            return block_align.checked_div(channels)?.checked_mul(8);
        }
        // Chunks are padded to an even length.
        file.seek(SeekFrom::Current(i64::from(len) + i64::from(len & 1)))
            .ok()?;
    }
}

/// Streams a WAV file.
pub struct WavSource {
    path: String,
    frame_ms: f64,
    reader: Option<(WavReader<BufReader<File>>, Decode)>,
    /// Samples per channel emitted so far.
    position: u64,
    emitted_any: bool,
}

impl WavSource {
    /// A source for the file at `path`, in frames of `frame_ms`; opened by `initialize`.
    pub fn new(path: &str, frame_ms: f64) -> Self {
        WavSource {
            path: path.to_owned(),
            frame_ms,
            reader: None,
            position: 0,
            emitted_any: false,
        }
    }

    fn io_error(&self, e: &hound::Error) -> NodeError {
        NodeError::new("OSError", format!("{NAME}: reading {}: {e}", self.path))
    }

    /// Reads the next frame, or `None` at the end of the file.
    fn next_frame(&mut self) -> Result<Option<Value>, NodeError> {
        let Some((reader, decode)) = self.reader.as_mut() else {
            return Ok(None);
        };
        let decode = *decode;
        let spec = reader.spec();
        let channels = usize::from(spec.channels);
        let left = u64::from(reader.duration()).saturating_sub(self.position);
        if left == 0 && self.emitted_any {
            return Ok(None);
        }
        let len = frame_len(spec.sample_rate, self.frame_ms);
        let take = usize::try_from(left).map_or(len, |left| left.min(len));
        let count = take * channels;
        let read = match decode {
            Decode::Int16 => reader
                .samples::<i16>()
                .take(count)
                .collect::<Result<Vec<i16>, _>>()
                .map(|s| (DType::I16, i16_bytes(&s))),
            Decode::Float32 => reader
                .samples::<f32>()
                .take(count)
                .collect::<Result<Vec<f32>, _>>()
                .map(|s| (DType::F32, f32_bytes(&s))),
            #[allow(clippy::cast_precision_loss)] // 32-bit ints round to float32: documented
            Decode::ScaledInt(scale) => reader
                .samples::<i32>()
                .take(count)
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<Vec<f32>, _>>()
                .map(|s| (DType::F32, f32_bytes(&s))),
        };
        let (dtype, bytes) = read.map_err(|e| self.io_error(&e))?;
        let timestamp = time_at(0.0, self.position, spec.sample_rate);
        self.position += take as u64;
        self.emitted_any = true;
        audio_item(NAME, dtype, bytes, (spec.sample_rate, channels), timestamp).map(Some)
    }
}

impl Source for WavSource {
    /// Opens the file; a file that cannot be read is an `OSError` naming it.
    fn initialize(&mut self) -> Result<(), NodeError> {
        let opened =
            open(&self.path).map_err(|e| NodeError::new("OSError", format!("{NAME}: {e}")))?;
        self.reader = Some(opened);
        Ok(())
    }

    fn fill(&mut self, out: &mut Vec<Value>, max: usize) -> Result<bool, NodeError> {
        let mut samples = 0;
        for _ in 0..max {
            match self.next_frame()? {
                Some(Value::Audio(frame)) => {
                    samples += frame.samples().len();
                    out.push(Value::Audio(frame));
                }
                Some(other) => out.push(other),
                None => {
                    self.reader = None;
                    return Ok(false);
                }
            }
            if samples >= FILL_SAMPLES {
                break;
            }
        }
        Ok(true)
    }

    fn cleanup(&mut self) {
        self.reader = None;
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![
        NodeType::rust(
            NAME,
            crate::node::builtin::PROVIDER,
            "Source: streams a WAV file as audio frames of frame_ms (16-bit -> int16, float -> float32, other depths -> float32).",
            Role::Source,
            vec![
                ParamSpec::required("path", ParamKind::String, "the WAV file to read"),
                ParamSpec::optional(
                    "frame_ms",
                    ParamKind::Number,
                    json!(20),
                    "frame length in milliseconds, up to 60000",
                ),
            ],
            Arc::new(|params| {
                NodeImpl::source(WavSource::new(
                    param_str(params, "path"),
                    param_f64(params, "frame_ms", 20.0),
                ))
            }),
        )
        .with_check(|params| {
            check_frame_ms(params)?;
            let path = param_str(params, "path");
            if path.is_empty() {
                return Err(("path".to_owned(), "must not be empty".to_owned()));
            }
            // Only a regular file is opened here: opening a FIFO would wait for a writer
            // (and use up its one stream); it is read when the run starts.
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => Err(("path".to_owned(), format!("{path} is a directory"))),
                Ok(meta) if !meta.is_file() => Ok(()),
                _ => open(path).map(drop).map_err(|e| ("path".to_owned(), e)),
            }
        }),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use hound::{WavSpec, WavWriter};

    use super::*;
    use crate::node::builtin::audio::frame::to_f32;

    /// A WAV file in a fresh directory under the system's temporary one.
    fn write_wav(name: &str, spec: WavSpec, samples: &[i32]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rm-wav-source-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.wav");
        let mut w = WavWriter::create(&path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        path
    }

    fn read_all(
        path: &Path,
        frame_ms: f64,
        max: usize,
    ) -> Vec<Arc<remotemedia_vm_sandbox::AudioFrame>> {
        let mut source = WavSource::new(path.to_str().unwrap(), frame_ms);
        source.initialize().unwrap();
        let mut out = Vec::new();
        while source.fill(&mut out, max).unwrap() {}
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        out.into_iter()
            .map(|v| match v {
                Value::Audio(f) => f,
                other => panic!("{other}"),
            })
            .collect()
    }

    fn spec(channels: u16, bits: u16) -> WavSpec {
        WavSpec {
            channels,
            sample_rate: 1_000,
            bits_per_sample: bits,
            sample_format: SampleFormat::Int,
        }
    }

    #[test]
    fn other_integer_depths_become_scaled_float32() {
        for bits in [8u16, 24, 32] {
            let full = 1i64 << (bits - 1);
            let values: Vec<i32> = [-full, 0, full / 2, -full / 4]
                .iter()
                .map(|&v| i32::try_from(v).unwrap())
                .collect();
            let path = write_wav(&format!("depth{bits}"), spec(2, bits), &values);
            let frames = read_all(&path, 1.0, 8);
            assert_eq!(frames.len(), 2, "{bits} bits");
            assert_eq!(frames[0].samples().dtype(), DType::F32);
            let samples: Vec<f32> = frames.iter().flat_map(|f| to_f32(f)).collect();
            assert_eq!(samples, vec![-1.0, 0.0, 0.5, -0.25], "{bits} bits");
        }
    }

    #[test]
    fn frames_are_stamped_and_the_last_is_shorter() {
        let samples: Vec<i32> = (0..25).collect();
        let path = write_wav("stamps", spec(1, 16), &samples);
        // 10 ms at 1 kHz: 10 samples; a morsel of at most 2 frames per fill.
        let frames = read_all(&path, 10.0, 2);
        let shape: Vec<(f64, usize)> = frames.iter().map(|f| (f.timestamp(), f.frames())).collect();
        assert_eq!(shape, vec![(0.0, 10), (0.01, 10), (0.02, 5)]);
        assert_eq!(frames[2].samples().dtype(), DType::I16);
    }

    #[test]
    fn an_empty_file_gives_one_empty_frame() {
        let path = write_wav("empty", spec(2, 16), &[]);
        let frames = read_all(&path, 20.0, 4);
        assert_eq!(frames.len(), 1);
        assert_eq!((frames[0].frames(), frames[0].channels()), (0, 2));
    }

    #[test]
    fn a_missing_or_non_wav_file_is_named_in_the_error() {
        let mut source = WavSource::new("/nonexistent/a.wav", 20.0);
        let err = source.initialize().unwrap_err();
        assert_eq!(err.error_type, "OSError");
        assert!(
            err.message
                .contains("cannot read WAV file /nonexistent/a.wav"),
            "{err}"
        );
        let text = std::env::temp_dir().join(format!("rm-not-wav-{}.wav", std::process::id()));
        std::fs::write(&text, "not a wav file at all").unwrap();
        let err = open(text.to_str().unwrap()).err().unwrap();
        std::fs::remove_file(&text).unwrap();
        assert!(err.starts_with("cannot read WAV file"), "{err}");
    }
}
