//! `audio.Downmix`: makes a frame mono, each sample the mean of its channels. The dtype is
//! kept (an int16 mean is rounded, and always fits); a mono frame passes unchanged (the same
//! memory).

use std::sync::Arc;

use super::frame::{
    audio_item, each_item, expect_audio, f32_bytes, f32_samples, i16_bytes, i16_samples,
};
use crate::node::{Node, NodeError, NodeImpl, NodeType, Role};
use crate::value::Value;
use remotemedia_vm_sandbox::{AudioFrame, DType};

/// The node's type name.
pub const NAME: &str = "audio.Downmix";

/// Averages the channels of each frame.
pub struct Downmix;

#[allow(clippy::cast_precision_loss)] // channel counts are small
fn downmix(frame: &AudioFrame) -> Result<Value, NodeError> {
    let channels = frame.channels();
    let bytes = frame.samples().data().bytes();
    let dtype = frame.samples().dtype();
    let mono = if dtype == DType::I16 {
        let samples: Vec<i16> = i16_samples(bytes).collect();
        #[allow(clippy::cast_possible_truncation)] // a mean of int16s is within int16
        let mean: Vec<i16> = samples
            .chunks_exact(channels)
            .map(|c| {
                (c.iter().map(|&s| f64::from(s)).sum::<f64>() / channels as f64).round() as i16
            })
            .collect();
        i16_bytes(&mean)
    } else {
        let samples: Vec<f32> = f32_samples(bytes).collect();
        #[allow(clippy::cast_possible_truncation)] // back to the frame's own precision
        let mean: Vec<f32> = samples
            .chunks_exact(channels)
            .map(|c| (c.iter().map(|&s| f64::from(s)).sum::<f64>() / channels as f64) as f32)
            .collect();
        f32_bytes(&mean)
    };
    audio_item(
        NAME,
        dtype,
        mono,
        (frame.sample_rate(), 1),
        frame.timestamp(),
    )
}

impl Node for Downmix {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        each_item(items, |item, out| {
            let frame = expect_audio(NAME, &item)?;
            if frame.channels() == 1 {
                out.push(item);
            } else {
                out.push(downmix(frame)?);
            }
            Ok(())
        })
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![NodeType::rust(
        NAME,
        crate::node::builtin::PROVIDER,
        "Mixes audio down to mono: the mean of the channels. Mono passes unchanged.",
        Role::Transform,
        Vec::new(),
        Arc::new(|_| NodeImpl::sync(Downmix)),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::builtin::audio::frame::to_f32;

    fn mix(item: Value) -> Arc<AudioFrame> {
        let mut items = vec![item];
        Downmix.process(&mut items).unwrap();
        let Some(Value::Audio(frame)) = items.pop() else {
            panic!("no frame")
        };
        frame
    }

    #[test]
    fn stereo_becomes_the_mean_of_its_channels() {
        let stereo = audio_item(
            "t",
            DType::I16,
            i16_bytes(&[100, 201, -32_768, -32_767, 7, 8]),
            (8_000, 2),
            0.5,
        )
        .unwrap();
        let out = mix(stereo);
        assert_eq!(out.samples().shape(), &[3]);
        let samples: Vec<i16> = i16_samples(out.samples().data().bytes()).collect();
        assert_eq!(samples, vec![151, -32_768, 8]);
        assert_eq!((out.sample_rate(), out.timestamp()), (8_000, 0.5));
        let three = audio_item(
            "t",
            DType::F32,
            f32_bytes(&[0.25, 0.5, 0.75]),
            (8_000, 3),
            0.0,
        )
        .unwrap();
        assert_eq!(to_f32(&mix(three)), vec![0.5]);
    }

    #[test]
    fn mono_and_empty_frames_pass() {
        let mono = audio_item("t", DType::F32, f32_bytes(&[0.1, 0.2]), (8_000, 1), 0.0).unwrap();
        let Value::Audio(before) = &mono else {
            unreachable!()
        };
        let before = Arc::clone(before);
        assert!(Arc::ptr_eq(&mix(mono), &before));
        let empty = audio_item("t", DType::I16, vec![], (8_000, 2), 0.0).unwrap();
        assert_eq!(mix(empty).frames(), 0);
    }
}
