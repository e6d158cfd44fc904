//! What is at a WAV node's path: FIFOs, devices, symbolic links, file modes, and sample
//! containers the reader cannot decode.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::Command;

use hound::{SampleFormat, WavSpec, WavWriter};
use serde_json::json;

use super::{TempDir, chain, i16_frame, problems};
use crate::support::run;

fn sink(path: &str) -> serde_json::Value {
    chain(&[("sink", "audio.WavSink", json!({ "path": path }))])
}

#[tokio::test]
async fn a_sink_follows_a_symbolic_link_and_keeps_the_file_mode() {
    let dir = TempDir::new("link-mode");
    let (real, link) = (dir.file("real.wav"), dir.file("link.wav"));
    std::fs::write(&real, b"old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink(&real, &link).unwrap();
    let frames = vec![i16_frame(&[1, 2, 3], 8_000, 1, 0.0)];
    run(&sink(&link), Some(frames)).await.unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let reader = hound::WavReader::open(&real).unwrap();
    assert_eq!(reader.len(), 3);
    assert_eq!(dir.names(), vec!["link.wav", "real.wav"]);
}

#[test]
fn a_sink_refuses_a_path_that_is_no_regular_file() {
    let dir = TempDir::new("not-regular");
    std::fs::create_dir(dir.file("adir")).unwrap();
    for path in ["/dev/null".to_owned(), dir.file("adir")] {
        let found = problems(&sink(&path));
        assert_eq!(
            found,
            vec![format!(
                "nodes[0].params.path: {path} exists and is not a regular file; it would be replaced"
            )]
        );
    }
}

#[test]
fn validate_leaves_a_fifo_to_the_run() {
    // Opening a FIFO waits for a writer and uses up its one stream: validate does not.
    let dir = TempDir::new("fifo");
    let fifo = dir.file("live.wav");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let doc = chain(&[("src", "audio.WavSource", json!({ "path": fifo }))]);
    assert_eq!(problems(&doc), Vec::<String>::new());
}

#[test]
fn samples_narrower_than_their_container_are_refused() {
    // 24 valid bits in 4-byte containers: hound would read the container's low bytes.
    let dir = TempDir::new("container");
    let path = dir.file("24in32.wav");
    let spec = WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 32,
        sample_format: SampleFormat::Int,
    };
    let mut w = WavWriter::create(&path, spec).unwrap();
    w.write_sample(0x0100_0000).unwrap();
    w.finalize().unwrap();
    // hound writes WAVE_FORMAT_EXTENSIBLE here: mark its valid bits (at byte 18 of the fmt
    // chunk's data) as 24, the container staying 4 bytes.
    let mut bytes = std::fs::read(&path).unwrap();
    let fmt = bytes.windows(4).position(|w| w == b"fmt ").unwrap() + 8;
    assert_eq!(bytes[fmt..fmt + 2], 0xfffe_u16.to_le_bytes());
    bytes[fmt + 18..fmt + 20].copy_from_slice(&24u16.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let doc = chain(&[("src", "audio.WavSource", json!({ "path": path }))]);
    let found = problems(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("holds 24-bit samples in 32-bit containers"),
        "{found:?}"
    );
}

#[test]
fn a_sample_rate_of_zero_is_named_with_its_file() {
    let dir = TempDir::new("rate0");
    let path = dir.file("rate0.wav");
    let spec = WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    };
    let mut w = WavWriter::create(&path, spec).unwrap();
    w.write_sample(1i16).unwrap();
    w.finalize().unwrap();
    // Sample rate (fmt data bytes 4..8) and byte rate (8..12) both 0, so the header agrees.
    let mut bytes = std::fs::read(&path).unwrap();
    let fmt = bytes.windows(4).position(|w| w == b"fmt ").unwrap() + 8;
    bytes[fmt + 4..fmt + 12].fill(0);
    std::fs::write(&path, bytes).unwrap();
    let doc = chain(&[("src", "audio.WavSource", json!({ "path": path }))]);
    assert_eq!(
        problems(&doc),
        vec![format!(
            "nodes[0].params.path: WAV file {path} has a sample rate of 0"
        )]
    );
}
