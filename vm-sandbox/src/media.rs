//! Media values: bytes, n-d arrays and audio frames (DESIGN §4).
//!
//! Their memory is a [`Buffer`]: a reference-counted, immutable run of bytes whose owner is
//! either Rust (a `Vec<u8>`) or something else that keeps the memory alive, such as a Python
//! object when a node hands an array over (see `cpython::memory`). Cloning a value, fanning it
//! out, or handing it to Python or back clones a pointer, never the bytes.

mod dtype;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

pub use self::dtype::DType;

/// What owns the memory of a [`Buffer`]: it keeps the bytes alive and unchanged for as long
/// as it lives. Implemented by `Vec<u8>` (Rust-owned memory) and by the backends for memory
/// they lend (a Python object's buffer).
pub trait Storage: Send + Sync + 'static {
    /// The bytes. Must return the same memory, unchanged, on every call.
    fn bytes(&self) -> &[u8];
    /// The owner itself, for a backend to recognise memory it lent (and hand back the very
    /// object instead of a copy).
    fn as_any(&self) -> &dyn Any;
}

impl Storage for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Immutable bytes shared by reference count.
#[derive(Clone)]
pub struct Buffer(Arc<dyn Storage>);

impl Buffer {
    /// Wraps an owner of memory.
    pub fn new(storage: impl Storage) -> Self {
        Buffer(Arc::new(storage))
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        self.0.bytes()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The owner of the memory.
    pub fn storage(&self) -> &dyn Storage {
        &*self.0
    }

    /// Whether both share one owner (no copy was made between them).
    pub fn same_memory(&self, other: &Buffer) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || std::ptr::eq(self.bytes(), other.bytes())
    }
}

impl From<Vec<u8>> for Buffer {
    fn from(bytes: Vec<u8>) -> Self {
        Buffer::new(bytes)
    }
}

impl PartialEq for Buffer {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Buffer({} bytes)", self.len())
    }
}

/// The most dimensions an array may have (numpy 1's limit; numpy 2 allows 64).
pub const MAX_DIMS: usize = 32;

/// An n-d array: elements of one dtype, little-endian, in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    dtype: DType,
    shape: Box<[usize]>,
    data: Buffer,
}

impl Array {
    /// An array over `data`.
    ///
    /// # Errors
    /// `data` does not hold exactly the elements `shape` asks for.
    pub fn new(
        dtype: DType,
        shape: impl Into<Box<[usize]>>,
        data: Buffer,
    ) -> Result<Array, String> {
        let shape = shape.into();
        if shape.len() > MAX_DIMS {
            return Err(format!(
                "an array may have at most {MAX_DIMS} dimensions, got {}",
                shape.len()
            ));
        }
        // Even an empty array (a dimension of 0) must have a shape numpy can address.
        let addressable = shape
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(dtype.size(), |n, &d| n.checked_mul(d))
            .is_some_and(|n| isize::try_from(n).is_ok());
        if !addressable {
            return Err(format!("array shape {shape:?} is too large"));
        }
        let elements = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("array shape {shape:?} is too large"))?;
        let expected = elements
            .checked_mul(dtype.size())
            .ok_or_else(|| format!("array shape {shape:?} is too large"))?;
        if expected != data.len() {
            return Err(format!(
                "array of dtype {dtype} and shape {shape:?} needs {expected} bytes of data, got {}",
                data.len()
            ));
        }
        Ok(Array { dtype, shape, data })
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Length of each dimension.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements' memory.
    pub fn data(&self) -> &Buffer {
        &self.data
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// An audio frame: interleaved samples (float32 or int16) with their rate and start time.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioFrame {
    samples: Array,
    sample_rate: u32,
    timestamp: f64,
}

impl AudioFrame {
    /// A frame over `samples`: shape `(n,)` (mono) or `(n, channels)` (interleaved).
    ///
    /// # Errors
    /// Samples of another dtype or shape, a zero sample rate, zero channels, a non-finite
    /// timestamp.
    pub fn new(samples: Array, sample_rate: u32, timestamp: f64) -> Result<AudioFrame, String> {
        if !matches!(samples.dtype(), DType::F32 | DType::I16) {
            return Err(format!(
                "audio samples must be float32 or int16, got {}",
                samples.dtype()
            ));
        }
        match samples.shape() {
            [_, 0] => return Err("an audio frame needs at least one channel".into()),
            [_] | [_, _] => {}
            other => {
                return Err(format!(
                    "audio samples must have shape (n,) or (n, channels), got {other:?}"
                ));
            }
        }
        if sample_rate == 0 {
            return Err("an audio frame's sample_rate must be at least 1".into());
        }
        if !timestamp.is_finite() {
            return Err(format!(
                "an audio frame's timestamp must be finite, got {timestamp}"
            ));
        }
        Ok(AudioFrame {
            samples,
            sample_rate,
            timestamp,
        })
    }

    /// The interleaved samples.
    pub fn samples(&self) -> &Array {
        &self.samples
    }

    /// Samples per second (per channel).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Start of the frame in seconds.
    pub fn timestamp(&self) -> f64 {
        self.timestamp
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.samples.shape().get(1).copied().unwrap_or(1)
    }

    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.shape()[0]
    }

    /// Length in seconds.
    #[allow(clippy::cast_precision_loss)] // sample counts far below 2^52
    pub fn duration(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_needs_exactly_its_bytes() {
        let data = Buffer::from(vec![0u8; 24]);
        assert!(Array::new(DType::F32, vec![2, 3], data.clone()).is_ok());
        let err = Array::new(DType::F64, vec![2, 3], data).unwrap_err();
        assert!(err.contains("needs 48 bytes of data, got 24"), "{err}");
        let err = Array::new(DType::U8, vec![usize::MAX, 2], Buffer::from(vec![])).unwrap_err();
        assert!(err.contains("too large"), "{err}");
        let empty = || Buffer::from(vec![]);
        let err = Array::new(DType::F32, vec![0, 1 << 62], empty()).unwrap_err();
        assert!(err.contains("too large"), "{err}");
        assert!(Array::new(DType::F32, vec![0, 1 << 20], empty()).is_ok());
        let err = Array::new(DType::U8, vec![1; 33], Buffer::from(vec![0])).unwrap_err();
        assert!(err.contains("at most 32 dimensions"), "{err}");
    }

    #[test]
    fn a_frame_checks_dtype_shape_rate_and_time() {
        let samples = |dtype, shape: Vec<usize>| {
            let n: usize = shape.iter().product();
            Array::new(dtype, shape, Buffer::from(vec![0; n * DType::size(dtype)])).unwrap()
        };
        let stereo = AudioFrame::new(samples(DType::I16, vec![480, 2]), 48_000, 1.5).unwrap();
        assert_eq!((stereo.channels(), stereo.frames()), (2, 480));
        assert!((stereo.duration() - 0.01).abs() < 1e-12);
        for (array, rate, ts, expected) in [
            (
                samples(DType::F64, vec![4]),
                16_000,
                0.0,
                "float32 or int16",
            ),
            (
                samples(DType::F32, vec![4, 0]),
                16_000,
                0.0,
                "at least one channel",
            ),
            (
                samples(DType::F32, vec![1, 2, 2]),
                16_000,
                0.0,
                "shape (n,)",
            ),
            (samples(DType::F32, vec![4]), 0, 0.0, "sample_rate"),
            (samples(DType::F32, vec![4]), 16_000, f64::NAN, "finite"),
        ] {
            let err = AudioFrame::new(array, rate, ts).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn clones_share_memory() {
        let a = Buffer::from(vec![1, 2, 3]);
        let b = a.clone();
        assert!(a.same_memory(&b));
        assert!(!a.same_memory(&Buffer::from(vec![1, 2, 3])));
        assert_eq!(a, Buffer::from(vec![1, 2, 3]));
    }
}
