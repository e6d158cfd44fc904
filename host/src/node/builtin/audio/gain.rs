//! `audio.Gain {db}`: scales every sample by `10^(db / 20)`, keeping the dtype. int16 samples
//! are rounded to the nearest integer and saturate at the ends of their range (never wrap);
//! float32 samples are scaled as they are (no clipping: a float stream may exceed full scale
//! until something downstream decides what to do with it).

use std::sync::Arc;

use serde_json::json;

use super::frame::{
    audio_item, each_item, expect_audio, f32_bytes, f32_samples, i16_bytes, i16_samples, param_f64,
};
use crate::node::{Node, NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role};
use crate::value::Value;
use remotemedia_vm_sandbox::{AudioFrame, DType};

/// The node's type name.
pub const NAME: &str = "audio.Gain";

/// The largest gain or attenuation taken, in dB: beyond it a level is not changed but erased.
pub const MAX_DB: f64 = 200.0;

/// Scales samples by a fixed gain.
pub struct Gain {
    factor: f64,
}

impl Gain {
    /// A gain of `db` decibels.
    pub fn new(db: f64) -> Self {
        Gain {
            factor: 10f64.powf(db / 20.0),
        }
    }

    fn apply(&self, frame: &AudioFrame) -> Result<Value, NodeError> {
        let bytes = frame.samples().data().bytes();
        let dtype = frame.samples().dtype();
        let scaled = if dtype == DType::I16 {
            #[allow(clippy::cast_possible_truncation)] // `as` saturates, the rounding we want
            let samples: Vec<i16> = i16_samples(bytes)
                .map(|s| (f64::from(s) * self.factor).round() as i16)
                .collect();
            i16_bytes(&samples)
        } else {
            #[allow(clippy::cast_possible_truncation)] // the factor is at most 10^10
            let factor = self.factor as f32;
            let samples: Vec<f32> = f32_samples(bytes).map(|s| s * factor).collect();
            f32_bytes(&samples)
        };
        audio_item(
            NAME,
            dtype,
            scaled,
            (frame.sample_rate(), frame.channels()),
            frame.timestamp(),
        )
    }
}

impl Node for Gain {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        each_item(items, |item, out| {
            out.push(self.apply(expect_audio(NAME, &item)?)?);
            Ok(())
        })
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![
        NodeType::rust(
            NAME,
            crate::node::builtin::PROVIDER,
            "Scales audio by a gain in dB, keeping the dtype (int16 rounds and saturates).",
            Role::Transform,
            vec![ParamSpec::optional(
                "db",
                ParamKind::Number,
                json!(0),
                "gain in decibels, -200 to 200; negative attenuates",
            )],
            Arc::new(|params| NodeImpl::sync(Gain::new(param_f64(params, "db", 0.0)))),
        )
        .with_check(|params| {
            let db = param_f64(params, "db", 0.0);
            if db.abs() <= MAX_DB {
                Ok(())
            } else {
                Err((
                    "db".to_owned(),
                    format!("must be between -{MAX_DB} and {MAX_DB}, got {db}"),
                ))
            }
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::builtin::audio::frame::to_f32;

    fn run(db: f64, dtype: DType, bytes: Vec<u8>) -> Arc<AudioFrame> {
        let item = audio_item("t", dtype, bytes, (8_000, 2), 1.25).unwrap();
        let mut items = vec![item];
        Gain::new(db).process(&mut items).unwrap();
        let Some(Value::Audio(frame)) = items.pop() else {
            panic!("no frame")
        };
        frame
    }

    #[test]
    fn int16_rounds_and_saturates() {
        let out = run(6.0, DType::I16, i16_bytes(&[1000, -1000, 30_000, -30_000]));
        let samples: Vec<i16> = i16_samples(out.samples().data().bytes()).collect();
        // 10^(6/20) = 1.99526...
        assert_eq!(samples, vec![1995, -1995, i16::MAX, i16::MIN]);
        assert_eq!((out.channels(), out.timestamp()), (2, 1.25));
    }

    #[test]
    fn float_scales_without_clipping_and_nan_stays_nan() {
        let out = run(
            -20.0,
            DType::F32,
            f32_bytes(&[1.0, -4.0, f32::NAN, f32::MAX]),
        );
        let samples = to_f32(&out);
        assert!((samples[0] - 0.1).abs() < 1e-7 && (samples[1] + 0.4).abs() < 1e-6);
        assert!(samples[2].is_nan() && samples[3].is_finite());
        let loud = run(MAX_DB, DType::F32, f32_bytes(&[f32::MAX, 0.0]));
        assert_eq!(to_f32(&loud), vec![f32::INFINITY, 0.0]);
    }

    #[test]
    fn a_non_audio_item_is_a_type_error_naming_the_node() {
        let mut items = vec![Value::Int(3)];
        let err = Gain::new(1.0).process(&mut items).unwrap_err();
        assert_eq!(err.error_type, "TypeError");
        assert_eq!(err.message, "audio.Gain expects an audio frame, got int 3");
        assert!(items.is_empty());
    }
}
