//! The wire's frames and items: every kind of value survives a round trip, inline and in a
//! segment; media in a segment are read where they lie; malformed frames are errors.

use std::os::unix::net::UnixStream;
use std::sync::Arc;

use super::shm::{Segment, Shared};
use super::wire::{self, FrameReader, SEGMENT_MIN, Tag, Writer};
use crate::media::{Array, AudioFrame, Buffer, DType};
use crate::value::Value;

fn every_kind(payload: usize) -> Vec<Value> {
    let bytes: Vec<u8> = (0..payload)
        .map(|i| u8::try_from(i % 251).unwrap_or(0))
        .collect();
    let samples = Array::new(
        DType::I16,
        vec![payload / 4, 2],
        Buffer::from(bytes[..payload / 4 * 4].to_vec()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    vec![
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(i64::MIN),
        Value::Float(-0.5),
        Value::Str("héllo".into()),
        Value::List(vec![Value::Int(1), Value::List(Vec::new().into())].into()),
        Value::Map(
            vec![
                ("k".into(), Value::Str("v".into())),
                ("".into(), Value::Null),
            ]
            .into(),
        ),
        Value::Bytes(Buffer::from(bytes.clone())),
        Value::Array(Arc::new(
            Array::new(DType::F64, vec![0, 3], Buffer::from(Vec::new()))
                .unwrap_or_else(|e| panic!("{e}")),
        )),
        Value::Audio(Arc::new(
            AudioFrame::new(samples, 48_000, 1.25).unwrap_or_else(|e| panic!("{e}")),
        )),
    ]
}

/// Sends `items` as a `Push` for stage 7 and reads them back on the other end.
fn round_trip(items: &[Value]) -> (Vec<Value>, bool) {
    round_trip_from(items, SEGMENT_MIN)
}

fn round_trip_from(items: &[Value], segment_min: usize) -> (Vec<Value>, bool) {
    let (a, b) = UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
    let (body, fd) = wire::items_body_from(&7u64.to_le_bytes(), items, segment_min)
        .unwrap_or_else(|e| panic!("{e}"));
    let writer = Writer::new(a);
    let sender = std::thread::spawn(move || {
        writer
            .send(
                Tag::Push,
                42,
                &body,
                fd.as_ref().map(std::os::fd::AsFd::as_fd),
            )
            .unwrap_or_else(|e| panic!("{e}"));
    });
    let mut reader = FrameReader::new(b);
    let frame = reader
        .read_frame()
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no frame"));
    sender
        .join()
        .unwrap_or_else(|_| panic!("the sender panicked"));
    assert_eq!((frame.tag, frame.call), (Tag::Push, 42));
    assert_eq!(frame.stage().unwrap_or_else(|e| panic!("{e}")), 7);
    let in_segment = frame.fd.is_some();
    (frame.items().unwrap_or_else(|e| panic!("{e}")), in_segment)
}

#[test]
fn small_media_travel_inside_the_frame() {
    let items = every_kind(64);
    let (back, in_segment) = round_trip(&items);
    assert!(!in_segment);
    assert_eq!(back, items);
}

#[test]
fn large_media_travel_in_a_sealed_segment_and_are_read_in_place() {
    let items = every_kind(SEGMENT_MIN);
    let (back, in_segment) = round_trip(&items);
    assert!(in_segment);
    assert_eq!(back, items);
    let Value::Bytes(bytes) = &back[8] else {
        panic!("not bytes: {:?}", back[8])
    };
    assert!(
        bytes.storage().as_any().is::<Shared>(),
        "copied out of the segment"
    );
}

#[test]
fn large_media_travel_inline_when_no_segment_may_be_made() {
    // A sandboxed worker's answers: it may create no memory file.
    let items = every_kind(SEGMENT_MIN * 4);
    let (back, in_segment) = round_trip_from(&items, usize::MAX);
    assert!(!in_segment);
    assert_eq!(back, items);
}

#[test]
fn the_board_cannot_be_shrunk_under_its_mappings() {
    // Node code in a worker holds a copy of the board's descriptor: a shrunk board would be a
    // SIGBUS in the host at its next read.
    let board = super::shm::Board::create().unwrap_or_else(|e| panic!("{e}"));
    let error = rustix::fs::ftruncate(board.fd(), 0).unwrap_err();
    assert_eq!(error, rustix::io::Errno::PERM);
    assert_eq!(board.read(1), 0);
}

#[test]
fn a_frame_larger_than_the_read_buffer_arrives_whole() {
    let text: String = "x".repeat(300_000);
    let (back, _) = round_trip(&[Value::Str(text.as_str().into())]);
    assert_eq!(back, vec![Value::Str(text.as_str().into())]);
}

#[test]
fn an_unsealed_or_resized_segment_is_refused() {
    let fd = rustix::fs::memfd_create("t", rustix::fs::MemfdFlags::CLOEXEC)
        .unwrap_or_else(|e| panic!("{e}"));
    rustix::fs::ftruncate(&fd, 16).unwrap_or_else(|e| panic!("{e}"));
    let error = Segment::map(&fd, 16).err().map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("a media segment that is not sealed"));
    let sealed = Segment::write(4, [&b"abcd"[..]].into_iter()).unwrap_or_else(|e| panic!("{e}"));
    let error = Segment::map(&sealed, 8).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("a media segment of 4 bytes where 8 were announced")
    );
}

#[test]
fn malformed_items_are_errors_not_panics() {
    let (body, _) = wire::items_body(&[], &every_kind(32)).unwrap_or_else(|e| panic!("{e}"));
    // Every truncation, and every byte flipped, is read without a panic.
    for cut in 0..body.len() {
        let frame = wire::Frame {
            tag: Tag::Items,
            call: 1,
            body: body[..cut].to_vec(),
            fd: None,
        };
        assert!(frame.items().is_err(), "a frame cut at {cut} was read");
    }
    for at in 0..body.len() {
        let mut bad = body.clone();
        bad[at] ^= 0xff;
        let frame = wire::Frame {
            tag: Tag::Items,
            call: 1,
            body: bad,
            fd: None,
        };
        drop(frame.items());
    }
    let nested = {
        let mut body = 1u32.to_le_bytes().to_vec();
        for _ in 0..5000 {
            body.push(6);
            body.extend_from_slice(&1u64.to_le_bytes());
        }
        body.push(0);
        body
    };
    let frame = wire::Frame {
        tag: Tag::Items,
        call: 1,
        body: nested,
        fd: None,
    };
    assert_eq!(
        frame.items().err().map(|e| e.to_string()).as_deref(),
        Some("items nested too deeply")
    );
}

#[test]
fn a_socket_that_closes_inside_a_frame_is_an_error_and_between_frames_an_end() {
    let (a, b) = UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
    let writer = Writer::new(a);
    writer
        .send(Tag::Ack, 1, b"", None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut reader = FrameReader::new(b);
    assert!(matches!(reader.read_frame(), Ok(Some(f)) if f.tag == Tag::Ack));
    drop(writer);
    assert!(matches!(reader.read_frame(), Ok(None)));

    let (mut a, b) = UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
    std::io::Write::write_all(
        &mut a,
        &[9, 0, 0, 0, 65, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    drop(a);
    let mut reader = FrameReader::new(b);
    assert!(reader.read_frame().is_err());
}
