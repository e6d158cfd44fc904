use std::f64::consts::TAU;

use super::*;
use crate::node::builtin::audio::frame::{f32_samples, i16_bytes};

fn frame(samples: &[f32], rate: u32, channels: usize, timestamp: f64) -> Value {
    audio_item(
        "t",
        DType::F32,
        f32_bytes(samples),
        (rate, channels),
        timestamp,
    )
    .unwrap()
}

/// Runs `inputs` through a `Resample` to `rate`, one item per morsel, and the finish.
fn run(rate: u32, inputs: Vec<Value>) -> Vec<Arc<AudioFrame>> {
    let mut node = Resample::new(rate);
    let mut out = Vec::new();
    for input in inputs {
        let mut items = vec![input];
        node.process(&mut items).unwrap();
        out.append(&mut items);
    }
    node.finish(&mut out).unwrap();
    out.into_iter()
        .map(|v| match v {
            Value::Audio(f) => f,
            other => panic!("{other}"),
        })
        .collect()
}

fn samples(frames: &[Arc<AudioFrame>]) -> Vec<f32> {
    frames
        .iter()
        .flat_map(|f| f32_samples(f.samples().data().bytes()).collect::<Vec<_>>())
        .collect()
}

/// `seconds` of a `freq` tone at `rate` on `channels` (each channel its own phase), cut into
/// frames of `frame_len`.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)] // small, positive sample counts
fn tone(rate: u32, channels: usize, seconds: f64, freq: f64, frame_len: usize) -> Vec<Value> {
    let n = (f64::from(rate) * seconds).round() as usize;
    let all: Vec<f32> = (0..n * channels)
        .map(|i| {
            let t = (i / channels) as f64 / f64::from(rate);
            (0.5 * (TAU * freq * t + (i % channels) as f64).sin()) as f32
        })
        .collect();
    all.chunks(frame_len * channels)
        .enumerate()
        .map(|(k, c)| {
            frame(
                c,
                rate,
                channels,
                3.0 + (k * frame_len) as f64 / f64::from(rate),
            )
        })
        .collect()
}

#[test]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)] // small, positive sample counts
fn n_seconds_in_give_n_seconds_out_aligned_with_the_input() {
    for (from, to, channels, frame_len) in [
        (48_000, 16_000, 1, 960),
        (16_000, 48_000, 2, 320),
        (44_100, 16_000, 1, 441),
        (22_050, 48_000, 2, 1000),
        (8_000, 11_025, 1, 7),
    ] {
        let out = run(to, tone(from, channels, 0.5, 50.0, frame_len));
        let got = samples(&out);
        let expected_len = (f64::from(to) * 0.5).round() as usize;
        assert_eq!(got.len(), expected_len * channels, "{from} -> {to}");
        // A 50 Hz tone, away from the edges (where the filter sees the silence outside).
        // The filter spans 128 input samples each side.
        let edge = (128 * to / from + 2) as usize;
        let mut worst = 0f64;
        for (i, s) in got.iter().enumerate().skip(edge * channels) {
            let frame = i / channels;
            if frame + edge >= expected_len {
                break;
            }
            let t = frame as f64 / f64::from(to);
            let ideal = 0.5 * (TAU * 50.0 * t + (i % channels) as f64).sin();
            worst = worst.max((f64::from(*s) - ideal).abs());
        }
        assert!(worst < 1e-3, "{from} -> {to}: off by {worst}");
        assert!((out[0].timestamp() - 3.0).abs() < 1e-12);
        let mut sent = 0;
        for f in &out {
            let expected = 3.0 + sent as f64 / f64::from(to);
            assert!((f.timestamp() - expected).abs() < 1e-9, "{from} -> {to}");
            assert_eq!((f.sample_rate(), f.channels()), (to, channels));
            sent += f.frames();
        }
    }
}

#[test]
fn the_same_rate_passes_through_as_float32() {
    let float = frame(&[0.25, -0.5], 16_000, 1, 7.0);
    let out = run(16_000, vec![float.clone()]);
    let Value::Audio(before) = &float else {
        unreachable!()
    };
    assert!(Arc::ptr_eq(&out[0], before));
    let int = audio_item(
        "t",
        DType::I16,
        i16_bytes(&[-32_768, 16_384, 0, 1]),
        (16_000, 2),
        2.0,
    )
    .unwrap();
    let out = run(16_000, vec![int]);
    assert_eq!(out[0].samples().dtype(), DType::F32);
    assert_eq!(samples(&out), vec![-1.0, 0.5, 0.0, 1.0 / 32_768.0]);
    assert_eq!((out[0].timestamp(), out[0].channels()), (2.0, 2));
}

#[test]
fn a_change_of_rate_or_channels_is_an_error_but_dtype_may_change() {
    for (second, expected) in [
        (
            frame(&[0.0; 4], 44_100, 1, 0.0),
            "from 48000 Hz, 1 channel, float32 to 44100 Hz",
        ),
        (frame(&[0.0; 4], 48_000, 2, 0.0), "to 48000 Hz, 2 channels"),
    ] {
        let mut node = Resample::new(16_000);
        let mut items = vec![frame(&[0.0; 4], 48_000, 1, 0.0), second];
        let err = node.process(&mut items).unwrap_err();
        assert_eq!(err.error_type, "ValueError");
        assert!(err.message.starts_with("audio.Resample: "), "{err}");
        assert!(err.message.contains(expected), "{err}");
    }
    let int = audio_item("t", DType::I16, i16_bytes(&[0; 4]), (48_000, 1), 0.0).unwrap();
    let out = run(16_000, vec![frame(&[0.0; 4], 48_000, 1, 0.0), int]);
    assert_eq!(samples(&out).len(), 3);
}

#[test]
fn rates_too_far_apart_or_too_many_channels_are_an_error() {
    let mut node = Resample::new(16_000);
    let mut items = vec![frame(&[0.0], 8_000_000, 1, 0.0)];
    let err = node.process(&mut items).unwrap_err();
    assert!(
        err.message
            .contains("cannot resample 8000000 Hz to 16000 Hz"),
        "{err}"
    );
    let mut items = vec![frame(&[0.0], 16, 1, 0.0)];
    assert!(Resample::new(16_000).process(&mut items).is_err());
    let mut items = vec![frame(&[0.0; 2000], 8_000, 2000, 0.0)];
    let err = Resample::new(16_000).process(&mut items).unwrap_err();
    assert!(err.message.contains("2000 channels"), "{err}");
}

#[test]
fn odd_input_gives_no_panic() {
    // The extreme ratios, empty frames, non-finite and huge samples, many channels.
    let odd = [0.0, f32::NAN, f32::INFINITY, f32::MAX, -f32::MAX, 1e-45];
    for (from, to, channels) in [(256, 65_536, 1), (65_536, 256, 3), (48_000, 44_100, 9)] {
        let inputs = vec![
            frame(&[], from, channels, 0.0),
            frame(&odd.repeat(channels * 100), from, channels, 0.0),
            frame(&[], from, channels, 1e300),
        ];
        let out = run(to, inputs);
        let expected = (600.0 * f64::from(to) / f64::from(from)).round();
        #[allow(clippy::cast_precision_loss)] // small sample counts
        let got = (samples(&out).len() / channels) as f64;
        assert!(
            (got - expected).abs() < 1.0,
            "{from} -> {to}: {got} for {expected}"
        );
    }
    assert!(run(16_000, vec![frame(&[], 48_000, 2, 0.0)]).is_empty());
    assert!(run(16_000, Vec::new()).is_empty());
}
