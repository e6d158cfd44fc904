//! `audio.WavSink {path}`: writes the audio frames it receives to a WAV file.
//!
//! The file takes the frames' dtype: int16 frames make 16-bit PCM, float32 frames 32-bit
//! float, so `WavSource -> WavSink` copies a file's samples bit for bit. Frames are written
//! one after another; their timestamps are not looked at (a gap is not filled with silence).
//! The first frame sets the format; a frame of another rate, channel count or dtype is a
//! `ValueError` naming both formats, and anything but an audio frame is a `TypeError`.
//!
//! Writing goes to a temporary file beside `path` (`.NAME.PID.N.part`, same directory, so the
//! rename is atomic), renamed to `path` at `finish`. A run that fails or is cancelled never
//! reaches `finish`: `cleanup` removes the temporary file and `path` is left as it was. A
//! symbolic link at `path` is followed (its target is replaced, the link stays); a file that
//! is replaced keeps its permissions; a directory, device or FIFO at `path` is refused.
//!
//! Outputs: nothing per frame; at `finish` one map, `{"path", "sample_rate", "channels",
//! "dtype", "samples" (per channel), "duration" (seconds)}`. With no frames at all there is no
//! format to write: no file is made, and the map has `samples` 0 and null format fields.
//! Writes are small and buffered, like `WavSource`'s reads.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hound::{SampleFormat, WavSpec, WavWriter};

use super::frame::{Format, each_item, expect_audio, f32_samples, i16_samples, param_str};
use crate::node::{Node, NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role};
use crate::value::Value;
use remotemedia_vm_sandbox::{AudioFrame, DType};

/// The node's type name.
pub const NAME: &str = "audio.WavSink";

/// Tells apart the temporary files of the sinks of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary file for `path`: hidden, beside it, unique to this process and sink.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.part", std::process::id()))
}

/// Where the file at `path` is really written, and the mode it must keep: a symbolic link is
/// followed (the link stays, its target is replaced), and an existing file's permissions pass
/// to the new one. Anything there but a regular file (a directory, a device, a FIFO) is
/// refused: renaming over it would replace it.
fn target(path: &Path) -> Result<(PathBuf, Option<fs::Permissions>), String> {
    let resolved = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(|e| {
            format!(
                "{} is a symbolic link that cannot be followed: {e}",
                path.display()
            )
        })?,
        _ => path.to_path_buf(),
    };
    match fs::metadata(&resolved) {
        Ok(meta) if meta.is_file() => Ok((resolved, Some(meta.permissions()))),
        Ok(_) => Err(format!(
            "{} exists and is not a regular file; it would be replaced",
            path.display()
        )),
        Err(_) => Ok((resolved, None)),
    }
}

/// Writes frames to a WAV file, in place at the end.
pub struct WavSink {
    path: PathBuf,
    /// The file renamed into place: `path`, or the file its symbolic link points to.
    target: PathBuf,
    format: Option<Format>,
    /// The open temporary file and its path.
    writer: Option<(WavWriter<BufWriter<File>>, PathBuf)>,
    samples: u64,
}

impl WavSink {
    /// A sink that will write `path`.
    pub fn new(path: &str) -> Self {
        WavSink {
            path: PathBuf::from(path),
            target: PathBuf::from(path),
            format: None,
            writer: None,
            samples: 0,
        }
    }

    fn io_error(&self, what: &str, e: &dyn std::fmt::Display) -> NodeError {
        NodeError::new(
            "OSError",
            format!("{NAME}: {what} {}: {e}", self.path.display()),
        )
    }

    fn write(&mut self, frame: &AudioFrame) -> Result<(), NodeError> {
        let format = Format::check(NAME, &mut self.format, frame, |a, b| a == b)?;
        if self.writer.is_none() {
            let channels = u16::try_from(format.channels).map_err(|_| {
                NodeError::new(
                    "ValueError",
                    format!(
                        "{NAME}: a WAV file holds at most 65535 channels, got {}",
                        format.channels
                    ),
                )
            })?;
            let (bits_per_sample, sample_format) = match format.dtype {
                DType::I16 => (16, SampleFormat::Int),
                _ => (32, SampleFormat::Float),
            };
            let spec = WavSpec {
                channels,
                sample_rate: format.rate,
                bits_per_sample,
                sample_format,
            };
            let (target, mode) = target(&self.path)
                .map_err(|e| NodeError::new("OSError", format!("{NAME}: {e}")))?;
            let temp = temp_path(&target);
            let file = File::options()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(|e| self.io_error("cannot create a temporary file for", &e))?;
            if let Some(mode) = mode
                && let Err(e) = file.set_permissions(mode)
            {
                drop(file);
                let _ = fs::remove_file(&temp);
                return Err(self.io_error("cannot give the temporary file the mode of", &e));
            }
            self.target = target;
            // Kept before the header is written, so cleanup removes the file even if that fails.
            let writer = WavWriter::new(BufWriter::new(file), spec);
            match writer {
                Ok(w) => self.writer = Some((w, temp)),
                Err(e) => {
                    let _ = fs::remove_file(&temp);
                    return Err(self.io_error("cannot write", &e));
                }
            }
        }
        let Some((writer, _)) = self.writer.as_mut() else {
            return Ok(());
        };
        let bytes = frame.samples().data().bytes();
        let written = if format.dtype == DType::I16 {
            i16_samples(bytes).try_for_each(|s| writer.write_sample(s))
        } else {
            f32_samples(bytes).try_for_each(|s| writer.write_sample(s))
        };
        written.map_err(|e| self.io_error("cannot write", &e))?;
        self.samples += frame.frames() as u64;
        Ok(())
    }

    #[allow(clippy::cast_precision_loss)] // sample counts far below 2^52
    fn summary(&self) -> Value {
        let path: Arc<str> = self.path.to_string_lossy().into();
        let (rate, channels, dtype, duration) = match self.format {
            Some(f) => (
                Value::Int(i64::from(f.rate)),
                Value::Int(i64::try_from(f.channels).unwrap_or(i64::MAX)),
                Value::Str(f.dtype.name().into()),
                self.samples as f64 / f64::from(f.rate),
            ),
            None => (Value::Null, Value::Null, Value::Null, 0.0),
        };
        let entries: Vec<(Arc<str>, Value)> = vec![
            ("path".into(), Value::Str(path)),
            ("sample_rate".into(), rate),
            ("channels".into(), channels),
            ("dtype".into(), dtype),
            (
                "samples".into(),
                Value::Int(i64::try_from(self.samples).unwrap_or(i64::MAX)),
            ),
            ("duration".into(), Value::Float(duration)),
        ];
        Value::Map(entries.into())
    }
}

impl Node for WavSink {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        each_item(items, |item, _| self.write(expect_audio(NAME, &item)?))
    }

    /// Completes the file's header and renames it into place, then emits the summary.
    fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), NodeError> {
        if let Some((writer, temp)) = self.writer.take() {
            if let Err(e) = writer.finalize() {
                let _ = fs::remove_file(&temp);
                return Err(self.io_error("cannot write", &e));
            }
            if let Err(e) = fs::rename(&temp, &self.target) {
                let _ = fs::remove_file(&temp);
                return Err(self.io_error("cannot rename the temporary file to", &e));
            }
        } else {
            tracing::warn!(
                "{NAME}: no audio arrived; {} not written",
                self.path.display()
            );
        }
        out.push(self.summary());
        Ok(())
    }

    /// Removes the temporary file of a run that did not finish.
    fn cleanup(&mut self) {
        if let Some((writer, temp)) = self.writer.take() {
            drop(writer);
            let _ = fs::remove_file(temp);
        }
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![
        NodeType::rust(
            NAME,
            crate::node::builtin::PROVIDER,
            "Writes audio frames to a WAV file (int16 -> 16-bit PCM, float32 -> 32-bit float), in place at the end; emits one summary map.",
            Role::Transform,
            vec![ParamSpec::required("path", ParamKind::String, "the WAV file to write")],
            Arc::new(|params| NodeImpl::sync(WavSink::new(param_str(params, "path")))),
        )
        .with_check(|params| {
            let path = Path::new(param_str(params, "path"));
            if path.as_os_str().is_empty() {
                return Err(("path".to_owned(), "must not be empty".to_owned()));
            }
            if path.file_name().is_none() {
                return Err(("path".to_owned(), "must name a file".to_owned()));
            }
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if dir.is_some_and(|d| !d.is_dir()) {
                return Err((
                    "path".to_owned(),
                    format!("directory {} does not exist", dir.unwrap_or(path).display()),
                ));
            }
            target(path).map(drop).map_err(|e| ("path".to_owned(), e))
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::builtin::audio::frame::{audio_item, i16_bytes};

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rm-wav-sink-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn stereo(rate: u32) -> Value {
        audio_item("t", DType::I16, i16_bytes(&[1, 2, 3, 4]), (rate, 2), 0.0).unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn writes_beside_and_renames_at_finish() {
        let dir = dir("finish");
        let path = dir.join("out.wav");
        let mut sink = WavSink::new(path.to_str().unwrap());
        let mut items = vec![stereo(8_000), stereo(8_000)];
        sink.process(&mut items).unwrap();
        assert!(items.is_empty());
        let names = entries(&dir);
        assert!(
            names.len() == 1
                && names[0].starts_with(".out.wav.")
                && Path::new(&names[0])
                    .extension()
                    .is_some_and(|e| e == "part"),
            "{names:?}"
        );
        let mut out = Vec::new();
        sink.finish(&mut out).unwrap();
        sink.cleanup();
        assert_eq!(entries(&dir), vec!["out.wav"]);
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(
            (
                reader.spec().channels,
                reader.spec().bits_per_sample,
                reader.duration()
            ),
            (2, 16, 4)
        );
        let json = serde_json::to_value(&out[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"path": path.to_str().unwrap(), "sample_rate": 8000, "channels": 2,
                               "dtype": "int16", "samples": 4, "duration": 0.0005})
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unfinished_run_leaves_no_file() {
        let dir = dir("unfinished");
        let mut sink = WavSink::new(dir.join("out.wav").to_str().unwrap());
        let mut items = vec![stereo(8_000), stereo(16_000)];
        let err = sink.process(&mut items).unwrap_err();
        assert_eq!(err.error_type, "ValueError");
        assert!(
            err.message
                .contains("from 8000 Hz, 2 channels, int16 to 16000 Hz, 2 channels, int16"),
            "{err}"
        );
        let mut items = vec![Value::from(1.5)];
        let err = sink.process(&mut items).unwrap_err();
        assert_eq!(
            err.message,
            "audio.WavSink expects an audio frame, got float 1.5"
        );
        sink.cleanup();
        assert!(entries(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_audio_writes_no_file() {
        let dir = dir("none");
        let mut sink = WavSink::new(dir.join("out.wav").to_str().unwrap());
        let mut out = Vec::new();
        sink.finish(&mut out).unwrap();
        let json = serde_json::to_value(&out[0]).unwrap();
        assert_eq!(
            (json["samples"].as_i64(), json["sample_rate"].is_null()),
            (Some(0), true)
        );
        assert!(entries(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
