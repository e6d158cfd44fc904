//! `audio.Resample` on a stream: the quality of a resampled tone, frame boundaries that
//! change nothing, and N seconds in for N seconds out.

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};
use remotemedia_host::Value;
use serde_json::json;

use super::{TempDir, audio, chain, f32_frame, f32s, tone};
use crate::support::{from, run};

/// A streamed 1 kHz tone at 48 kHz through `Resample {16000}`, in 20 ms frames.
async fn resampled_tone() -> Vec<Value> {
    let input = tone(48_000, 1, 1.0, 1000.0);
    #[allow(clippy::cast_possible_truncation)] // half scale
    let frames: Vec<Value> = input
        .chunks(960)
        .enumerate()
        .map(|(k, c)| {
            let samples: Vec<f32> = c.iter().map(|&s| s as f32).collect();
            f32_frame(
                &samples,
                48_000,
                1,
                f64::from(u32::try_from(k).unwrap()) * 0.02,
            )
        })
        .collect();
    let doc = chain(&[("rs", "audio.Resample", json!({"rate": 16_000}))]);
    let (outputs, _) = run(&doc, Some(frames)).await.unwrap();
    from(&outputs, "rs")
}

#[tokio::test]
#[allow(clippy::cast_precision_loss)] // small sample counts
async fn a_streamed_tone_resamples_to_the_same_tone() {
    let out = resampled_tone().await;
    let got: Vec<f64> = out.iter().flat_map(f32s).map(f64::from).collect();
    // One second in, one second out.
    assert_eq!(got.len(), 16_000);
    let ideal = tone(16_000, 1, 1.0, 1000.0);
    // The edges: the tone starts and stops abruptly there, a step the band-limited filter
    // rings on for its half-length, 128 input samples = 43 output samples; 48 are skipped.
    let body = 48..16_000 - 48;
    let power = |x: &[f64]| x.iter().map(|s| s * s).sum::<f64>() / x.len() as f64;
    let residual: Vec<f64> = body.clone().map(|i| got[i] - ideal[i]).collect();
    let snr_db = 10.0 * (power(&ideal[body.clone()]) / power(&residual)).log10();
    assert!(snr_db > 50.0, "residual only {snr_db:.1} dB below the tone");
    // Same level: within 0.01 dB.
    let level_db = 10.0 * (power(&got[body.clone()]) / power(&ideal[body.clone()])).log10();
    assert!(level_db.abs() < 0.01, "level off by {level_db:.3} dB");
    // Same frequency: 2 zero crossings per period, 1000 periods in the second.
    let crossings = got[body.clone()]
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    let expected = 2.0 * 1000.0 * body.len() as f64 / 16_000.0;
    assert!(
        (crossings as f64 - expected).abs() <= 2.0,
        "{crossings} zero crossings"
    );
    // Timestamps run on from the first frame's, and never overlap.
    let mut sent = 0;
    for item in &out {
        let f = audio(item);
        assert!((f.timestamp() - sent as f64 / 16_000.0).abs() < 1e-9);
        sent += f.frames();
    }
}

#[tokio::test]
async fn streaming_in_frames_gives_what_one_whole_frame_gives() {
    let streamed: Vec<f32> = resampled_tone().await.iter().flat_map(f32s).collect();
    #[allow(clippy::cast_possible_truncation)] // half scale
    let whole: Vec<f32> = tone(48_000, 1, 1.0, 1000.0)
        .iter()
        .map(|&s| s as f32)
        .collect();
    let doc = chain(&[("rs", "audio.Resample", json!({"rate": 16_000}))]);
    let (outputs, _) = run(&doc, Some(vec![f32_frame(&whole, 48_000, 1, 0.0)]))
        .await
        .unwrap();
    let at_once: Vec<f32> = from(&outputs, "rs").iter().flat_map(f32s).collect();
    assert!(streamed == at_once, "frame boundaries changed the output");
}

#[tokio::test]
#[allow(clippy::cast_possible_truncation)] // test tones are within range
async fn n_seconds_of_wav_resampled_are_n_seconds_of_wav() {
    let dir = TempDir::new("length");
    let (src, dst) = (dir.file("in.wav"), dir.file("out.wav"));
    let spec = WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut w = WavWriter::create(&src, spec).unwrap();
    for s in tone(44_100, 2, 1.5, 300.0) {
        w.write_sample((s * 32_767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let doc = chain(&[
        ("src", "audio.WavSource", json!({"path": src})),
        ("rs", "audio.Resample", json!({"rate": 16_000})),
        ("sink", "audio.WavSink", json!({"path": dst})),
    ]);
    let (outputs, _) = run(&doc, None).await.unwrap();
    let summary = serde_json::to_value(&from(&outputs, "sink")[0]).unwrap();
    assert_eq!(summary["samples"], json!(24_000));
    assert_eq!(summary["dtype"], json!("float32"));
    let written = WavReader::open(&dst).unwrap();
    assert_eq!(
        (
            written.duration(),
            written.spec().channels,
            written.spec().sample_rate
        ),
        (24_000, 2, 16_000)
    );
}
