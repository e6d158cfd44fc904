//! The built-in audio nodes in running pipelines: gain, downmix and rechunk, format changes,
//! items that are not audio, and validation; WAV files and resampling have their own files.

mod files;
mod resample;
mod wav;

use std::f64::consts::TAU;
use std::path::PathBuf;
use std::sync::Arc;

use remotemedia_host::{HostError, Pipeline, Registry, Value};
use remotemedia_vm_sandbox::{Array, AudioFrame, Buffer, DType};
use serde_json::{Value as Json, json};

use crate::support::{from, run};

/// A fresh directory under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rm-audio-it-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn frame(dtype: DType, bytes: Vec<u8>, rate: u32, channels: usize, timestamp: f64) -> Value {
    let n = bytes.len() / dtype.size() / channels;
    let shape = if channels == 1 {
        vec![n]
    } else {
        vec![n, channels]
    };
    let samples = Array::new(dtype, shape, Buffer::from(bytes)).unwrap();
    Value::Audio(Arc::new(AudioFrame::new(samples, rate, timestamp).unwrap()))
}

fn f32_frame(samples: &[f32], rate: u32, channels: usize, timestamp: f64) -> Value {
    let bytes = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    frame(DType::F32, bytes, rate, channels, timestamp)
}

fn i16_frame(samples: &[i16], rate: u32, channels: usize, timestamp: f64) -> Value {
    let bytes = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    frame(DType::I16, bytes, rate, channels, timestamp)
}

fn audio(item: &Value) -> &AudioFrame {
    match item {
        Value::Audio(f) => f,
        other => panic!("not audio: {other}"),
    }
}

fn f32s(item: &Value) -> Vec<f32> {
    let bytes = audio(item).samples().data().bytes();
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn i16s(item: &Value) -> Vec<i16> {
    let bytes = audio(item).samples().data().bytes();
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn chain(nodes: &[(&str, &str, Json)]) -> Json {
    let nodes: Vec<Json> = nodes
        .iter()
        .map(|(id, t, p)| json!({"id": id, "node_type": t, "params": p}))
        .collect();
    let connections: Vec<Json> = nodes
        .windows(2)
        .map(|w| json!({"from": w[0]["id"], "to": w[1]["id"]}))
        .collect();
    json!({"version": "v1", "nodes": nodes, "connections": connections})
}

/// Half-scale `freq` Hz at `rate`, `seconds` long, each channel its own phase.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)] // small, positive sample counts
fn tone(rate: u32, channels: usize, seconds: f64, freq: f64) -> Vec<f64> {
    let n = (f64::from(rate) * seconds).round() as usize;
    (0..n * channels)
        .map(|i| {
            0.5 * (TAU * freq * (i / channels) as f64 / f64::from(rate) + (i % channels) as f64)
                .sin()
        })
        .collect()
}

#[tokio::test]
async fn gain_downmix_and_rechunk_in_a_chain() {
    // Stereo int16 at 1 kHz: -6.0206 dB halves, downmix averages, 4 ms frames of 4 samples.
    let inputs = vec![
        i16_frame(&[100, 300, -1000, -3000, 32_767, 32_767], 1_000, 2, 5.0),
        i16_frame(&[2, 4, 10, 10, 0, 0, 7, 9], 1_000, 2, 99.0),
    ];
    let doc = chain(&[
        ("gain", "audio.Gain", json!({"db": -6.020_599_913_279_624})),
        ("mix", "audio.Downmix", json!({})),
        ("cut", "audio.Rechunk", json!({"frame_ms": 4})),
    ]);
    let (outputs, _) = run(&doc, Some(inputs)).await.unwrap();
    let out = from(&outputs, "cut");
    let got: Vec<(f64, Vec<i16>)> = out
        .iter()
        .map(|v| (audio(v).timestamp(), i16s(v)))
        .collect();
    // Gain: 50 150 -500 -1500 16384 16384 | 1 2 5 5 0 0 4 5 (round half away from zero);
    // downmix: 100 -1000 16384 | 2 5 0 5 (1.5 -> 2, 4.5 -> 5).
    assert_eq!(
        got,
        vec![(5.0, vec![100, -1000, 16_384, 2]), (5.004, vec![5, 0, 5])]
    );
}

#[tokio::test]
async fn a_format_change_mid_stream_fails_the_run_naming_both() {
    let dir = TempDir::new("format-change");
    for (node, params) in [
        ("audio.Resample", json!({"rate": 16_000})),
        ("audio.Rechunk", json!({})),
        ("audio.WavSink", json!({"path": dir.file("o.wav")})),
    ] {
        let doc = chain(&[("n", node, params)]);
        let inputs = vec![
            f32_frame(&[0.0; 8], 8_000, 2, 0.0),
            f32_frame(&[0.0; 8], 8_000, 1, 0.0),
        ];
        let err = run(&doc, Some(inputs)).await.unwrap_err();
        let HostError::Node(failure) = err else {
            panic!("{err}")
        };
        assert_eq!(
            (failure.node_id.as_str(), failure.error.error_type.as_str()),
            ("n", "ValueError")
        );
        assert!(
            failure
                .error
                .message
                .contains("from 8000 Hz, 2 channels, float32 to 8000 Hz, 1 channel, float32"),
            "{node}: {}",
            failure.error
        );
        assert!(dir.names().is_empty(), "{node} left {:?}", dir.names());
    }
}

#[tokio::test]
async fn a_non_audio_item_is_a_type_error_naming_the_node_and_kind() {
    for (node, params) in [
        ("audio.Gain", json!({"db": 1})),
        ("audio.Downmix", json!({})),
        ("audio.Rechunk", json!({})),
        ("audio.Resample", json!({"rate": 8000})),
        (
            "audio.WavSink",
            json!({"path": std::env::temp_dir().join("rm-never.wav")}),
        ),
    ] {
        let doc = chain(&[("n", node, params)]);
        let err = run(&doc, Some(vec![Value::from("hello")]))
            .await
            .unwrap_err();
        let HostError::Node(failure) = err else {
            panic!("{err}")
        };
        assert_eq!(failure.error.error_type, "TypeError");
        assert_eq!(
            failure.error.message,
            format!("{node} expects an audio frame, got string \"hello\"")
        );
    }
}

fn problems(doc: &Json) -> Vec<String> {
    match Pipeline::from_document(doc, "<test>", &Registry::builtin()) {
        Err(HostError::Manifest { problems, .. }) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("{other}"),
        Ok(_) => Vec::new(),
    }
}

#[test]
fn validate_reports_bad_paths_and_values_at_their_params() {
    let dir = TempDir::new("validate");
    std::fs::write(dir.file("text.wav"), "not a wav").unwrap();
    let missing = dir.file("missing.wav");
    let cases = [
        (
            "audio.WavSource",
            json!({"path": missing}),
            "nodes[0].params.path: cannot read WAV file",
        ),
        (
            "audio.WavSource",
            json!({"path": dir.file("text.wav")}),
            "nodes[0].params.path: cannot read WAV file",
        ),
        (
            "audio.WavSource",
            json!({"path": ""}),
            "nodes[0].params.path: must not be empty",
        ),
        (
            "audio.WavSource",
            json!({"path": missing, "frame_ms": 0}),
            "nodes[0].params.frame_ms: must be above 0",
        ),
        (
            "audio.WavSink",
            json!({"path": dir.file("no/such/dir.wav")}),
            "nodes[0].params.path: directory",
        ),
        (
            "audio.WavSink",
            json!({"path": ""}),
            "nodes[0].params.path: must not be empty",
        ),
        (
            "audio.Resample",
            json!({"rate": 0}),
            "nodes[0].params.rate: must be between 1 and 768000",
        ),
        (
            "audio.Resample",
            json!({"rate": 10_000_000}),
            "nodes[0].params.rate: must be between",
        ),
        (
            "audio.Rechunk",
            json!({"frame_ms": -5}),
            "nodes[0].params.frame_ms: must be above 0",
        ),
        (
            "audio.Rechunk",
            json!({"frame_ms": 1e9}),
            "nodes[0].params.frame_ms: must be above 0 and at most 60000",
        ),
        (
            "audio.Gain",
            json!({"db": 1000}),
            "nodes[0].params.db: must be between -200 and 200",
        ),
    ];
    for (node, params, expected) in cases {
        let found = problems(&chain(&[("n", node, params.clone())]));
        assert!(
            found.len() == 1 && found[0].starts_with(expected),
            "{node} {params}: {found:?}"
        );
    }
}
