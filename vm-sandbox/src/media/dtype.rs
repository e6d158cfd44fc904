//! [`DType`]: the element types of arrays (DESIGN §4), their numpy names, sizes and
//! buffer-protocol formats.

use std::fmt;

/// The element types an array may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// One byte, 0 or 1.
    Bool,
    /// Unsigned 8-bit.
    U8,
    /// Signed 16-bit (PCM audio).
    I16,
    /// Signed 32-bit.
    I32,
    /// Signed 64-bit.
    I64,
    /// 32-bit float (audio samples, model tensors).
    F32,
    /// 64-bit float.
    F64,
}

impl DType {
    /// Every dtype, in the order DESIGN §4 lists them.
    pub const ALL: [DType; 7] = [
        DType::Bool,
        DType::U8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    /// numpy's name for it (`"float32"`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 => 1,
            DType::I16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// The dtype named `name` (numpy's names).
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Its buffer-protocol format (`struct` module letters: `"f"` for float32), as a
    /// `memoryview` shows it.
    pub fn format(self) -> &'static str {
        match self {
            DType::Bool => "?",
            DType::U8 => "B",
            DType::I16 => "h",
            DType::I32 => "i",
            DType::I64 => "q",
            DType::F32 => "f",
            DType::F64 => "d",
        }
    }

    /// The dtype of a buffer-protocol format of this (little-endian, LP64) platform: native
    /// (`"f"`, `"@l"`: a C long is 8 bytes) or standard sizes in little-endian order (`"<f"`,
    /// `"=i"`; there `"l"` is 4 bytes), as the `struct` module reads them; `None` for any other.
    pub fn from_format(format: &str) -> Option<DType> {
        let (standard, letters) = match format.as_bytes().first() {
            Some(b'<' | b'=') => (true, &format[1..]),
            Some(b'@') => (false, &format[1..]),
            _ => (false, format),
        };
        match letters {
            "?" => Some(DType::Bool),
            "B" => Some(DType::U8),
            "h" => Some(DType::I16),
            "i" => Some(DType::I32),
            "l" if standard => Some(DType::I32),
            "q" | "l" => Some(DType::I64),
            "f" => Some(DType::F32),
            "d" => Some(DType::F64),
            _ => None,
        }
    }

    /// The error for an array of a dtype no item may hold; the Python executor raises the
    /// same text.
    pub fn unsupported(name: &str) -> String {
        format!(
            "cannot pass an array of dtype {name} between nodes (dtypes: bool, uint8, int16, int32, int64, float32, float64)"
        )
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::DType;

    #[test]
    fn every_dtype_reads_back_from_its_format_and_its_name() {
        for dtype in DType::ALL {
            assert_eq!(DType::from_format(dtype.format()), Some(dtype), "{dtype}");
            assert_eq!(DType::from_name(dtype.name()), Some(dtype), "{dtype}");
        }
    }

    #[test]
    fn standard_sizes_make_a_long_four_bytes_and_other_orders_are_refused() {
        assert_eq!(DType::from_format("l"), Some(DType::I64));
        assert_eq!(DType::from_format("@l"), Some(DType::I64));
        assert_eq!(DType::from_format("<l"), Some(DType::I32));
        assert_eq!(DType::from_format("=f"), Some(DType::F32));
        for refused in [">f", "!f", "b", "e", "T{f}", ""] {
            assert_eq!(DType::from_format(refused), None, "{refused:?}");
        }
    }
}
