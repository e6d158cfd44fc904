//! WAV files through `audio.WavSource` and `audio.WavSink`: bit-exact round trips, no file
//! left by a failed run, and the CLI.

use std::path::Path;
use std::process::{Command, Stdio};

use hound::{SampleFormat, WavSpec, WavWriter};
use remotemedia_host::{HostError, Value};
use serde_json::{Value as Json, json};

use super::{TempDir, chain, i16_frame, tone};
use crate::support::{from, run};

#[tokio::test]
#[allow(clippy::cast_possible_truncation)] // test tones are within range
async fn wav_files_round_trip_bit_exact_through_source_and_sink() {
    let dir = TempDir::new("round-trip");
    for (channels, float) in [(1, false), (2, false), (1, true), (2, true)] {
        let spec = WavSpec {
            channels,
            sample_rate: 22_050,
            bits_per_sample: if float { 32 } else { 16 },
            sample_format: if float {
                SampleFormat::Float
            } else {
                SampleFormat::Int
            },
        };
        let (src, dst) = (dir.file("in.wav"), dir.file("out.wav"));
        let mut w = WavWriter::create(&src, spec).unwrap();
        // 0.51 s: the last 20 ms frame is shorter; extremes and odd values included.
        for (i, s) in tone(22_050, channels.into(), 0.51, 440.0)
            .into_iter()
            .enumerate()
        {
            let s = if i % 97 == 0 {
                1.0
            } else if i % 89 == 0 {
                -1.0
            } else {
                s
            };
            if float {
                w.write_sample(s as f32 * 1.75).unwrap();
            } else {
                w.write_sample((s * 32_767.0) as i16).unwrap();
            }
        }
        w.finalize().unwrap();
        let doc = chain(&[
            (
                "src",
                "audio.WavSource",
                json!({"path": src, "frame_ms": 20}),
            ),
            ("sink", "audio.WavSink", json!({"path": dst})),
        ]);
        let (outputs, _) = run(&doc, None).await.unwrap();
        let summary = serde_json::to_value(&from(&outputs, "sink")[0]).unwrap();
        let dtype = if float { "float32" } else { "int16" };
        assert_eq!(
            summary,
            json!({"path": dst, "sample_rate": 22_050, "channels": channels, "dtype": dtype,
                   "samples": 11_246, "duration": 11_246.0 / 22_050.0})
        );
        let (a, b) = (std::fs::read(&src).unwrap(), std::fs::read(&dst).unwrap());
        assert!(
            a == b,
            "{channels} channel(s), float {float}: the files differ"
        );
        assert_eq!(dir.names(), vec!["in.wav", "out.wav"]);
    }
}

#[tokio::test]
async fn a_failed_run_leaves_no_wav_file() {
    let dir = TempDir::new("failed");
    let src = dir.file("in.wav");
    let spec = WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut w = WavWriter::create(&src, spec).unwrap();
    for i in 0..8_000 {
        w.write_sample(i16::try_from(i % 100).unwrap()).unwrap();
    }
    w.finalize().unwrap();
    // The sink has written frames when the stream fails upstream of it.
    let doc = chain(&[
        (
            "src",
            "audio.WavSource",
            json!({"path": src, "frame_ms": 10}),
        ),
        ("fail", "Fail", json!({"at": 30})),
        (
            "sink",
            "audio.WavSink",
            json!({"path": dir.file("out.wav")}),
        ),
    ]);
    let err = run(&doc, None).await.unwrap_err();
    assert!(
        matches!(&err, HostError::Node(f) if f.node_id == "fail"),
        "{err}"
    );
    // ... and when the sink itself fails.
    let doc = chain(&[(
        "sink",
        "audio.WavSink",
        json!({"path": dir.file("out.wav")}),
    )]);
    let inputs = vec![i16_frame(&[1, 2], 8_000, 1, 0.0), Value::Int(3)];
    assert!(run(&doc, Some(inputs)).await.is_err());
    assert_eq!(dir.names(), vec!["in.wav"]);
}

#[test]
fn the_cli_writes_a_resampled_file_and_prints_the_summary() {
    let dir = TempDir::new("cli");
    let (src, dst) = (dir.file("in.wav"), dir.file("out.wav"));
    let spec = WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut w = WavWriter::create(&src, spec).unwrap();
    for i in 0..24_000 {
        w.write_sample(i16::try_from(i % 200).unwrap()).unwrap();
    }
    w.finalize().unwrap();
    let manifest = dir.file("m.json");
    let doc = chain(&[
        ("src", "audio.WavSource", json!({"path": src})),
        ("rs", "audio.Resample", json!({"rate": 16_000})),
        ("sink", "audio.WavSink", json!({"path": dst})),
    ]);
    std::fs::write(&manifest, doc.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_remotemedia-host"))
        .args(["run", &manifest])
        .env_remove("VIRTUAL_ENV")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (line["samples"].as_i64(), line["duration"].as_f64()),
        (Some(8_000), Some(0.5))
    );
    assert!(Path::new(&dst).is_file());
}
