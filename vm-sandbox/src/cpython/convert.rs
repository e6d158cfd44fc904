//! Items to Python objects and back.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyModule, PyString,
    PyTuple, PyType,
};

use super::memory::{Lent, SharedBuffer, lend};
use crate::media::{Array, AudioFrame, Buffer, DType};
use crate::value::Value;

/// `value` as a Python object: `None`, `bool`, `int`, `float`, `str`, `list`, `dict`,
/// `bytes`, a read-only `numpy.ndarray` over the item's memory, a `remotemedia.AudioFrame`.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(x) => PyFloat::new(py, *x).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items.iter() {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Map(entries) => {
            let dict = PyDict::new(py);
            for (k, v) in entries.iter() {
                dict.set_item(&**k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
        Value::Bytes(bytes) => bytes_to_py(py, bytes),
        Value::Array(array) => array_to_py(py, array)?,
        Value::Audio(frame) => audio_class(py)?
            .call_method1(
                "_from_parts",
                (
                    array_to_py(py, frame.samples())?,
                    frame.sample_rate(),
                    frame.timestamp(),
                ),
            )?
            .into_any(),
    })
}

/// The `bytes` object the memory was lent by, if it was; else a new one (a `bytes` owns its
/// memory: the one copy DESIGN §4 documents).
fn bytes_to_py<'py>(py: Python<'py>, bytes: &Buffer) -> Bound<'py, PyAny> {
    if let Some(lent) = bytes.storage().as_any().downcast_ref::<Lent>()
        && let Some(object) = lent.object(py)
        && object.is_exact_instance_of::<PyBytes>()
    {
        return object;
    }
    PyBytes::new(py, bytes.bytes()).into_any()
}

/// A read-only numpy array over the array's memory; a read-only `memoryview` with its format
/// and shape when numpy is not installed.
fn array_to_py<'py>(py: Python<'py>, array: &Array) -> PyResult<Bound<'py, PyAny>> {
    let shared = Bound::new(py, SharedBuffer::new(array.data().clone()))?;
    let shape = PyTuple::new(py, array.shape())?;
    match numpy(py)? {
        Some(np) => np
            .frombuffer
            .bind(py)
            .call1((shared, np.dtypes[dtype_index(array.dtype())].bind(py)))?
            .call_method1("reshape", (shape,)),
        None => PyMemoryView::from(shared.as_any())?
            .call_method1("cast", (array.dtype().format(), shape)),
    }
}

/// A node's constructor keyword arguments (manifest parameters) as a dict of items: a
/// `{"$bytes": ...}` parameter arrives as `bytes`. A malformed media form is a `ValueError`.
pub fn params_to_py<'py>(
    py: Python<'py>,
    params: &serde_json::Map<String, serde_json::Value>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in params {
        let value = Value::from_json_value(v)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        dict.set_item(k, to_py(py, &value)?)?;
    }
    Ok(dict)
}

/// A list of items as a Python list.
pub fn list_to_py<'py>(py: Python<'py>, items: &[Value]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for item in items {
        list.append(to_py(py, item)?)?;
    }
    Ok(list)
}

/// How deep a list or map may nest in an item (DESIGN §5): deeper, or a value that contains
/// itself, is an error rather than a stack overflow.
pub const MAX_DEPTH: usize = 1000;

/// A Python object as an item. Objects with no item form (a `set`, a custom class), nesting
/// deeper than [`MAX_DEPTH`] (a list that contains itself included) are an error naming what.
pub fn from_py(obj: &Bound<'_, PyAny>) -> Result<Value, String> {
    from_py_at(obj, 0)
}

fn from_py_at(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "a value nested deeper than {MAX_DEPTH} levels (or one that contains itself) cannot pass between nodes"
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        return obj
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("int {obj} is out of the 64-bit range"));
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(x.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_str()
            .map(|s| Value::Str(s.into()))
            .map_err(|e| e.to_string());
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Value::List(v.into()));
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Value::List(v.into()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| format!("map keys must be strings, got {}", type_name(&k)))?;
            entries.push((
                key.to_str().map_err(|e| e.to_string())?.into(),
                from_py_at(&v, depth + 1)?,
            ));
        }
        return Ok(Value::Map(entries.into()));
    }
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return lend(bytes.as_any())
            .map_err(|e| e.to_string())?
            .map(|(buffer, _)| Value::Bytes(buffer))
            .ok_or_else(|| "a bytes object that is not contiguous".to_owned());
    }
    if let Ok(bytes) = obj.cast::<PyByteArray>() {
        // Mutable: the one place bytes from Python are copied.
        return Ok(Value::Bytes(bytes.to_vec().into()));
    }
    let py = obj.py();
    if obj
        .is_instance(audio_class(py).map_err(|e| e.to_string())?.as_any())
        .unwrap_or(false)
    {
        return audio_from_py(obj).map(|f| Value::Audio(Arc::new(f)));
    }
    if let Some(np) = numpy_if_imported(py) {
        if obj.is_instance(np.ndarray.bind(py)).unwrap_or(false) {
            if is_masked(obj) {
                // Its mask would be lost: the data alone is not the item the node meant.
                return Err("cannot pass a numpy masked array between nodes (pass .filled(...), or the data and the mask apart)".into());
            }
            return array_from_py(obj).map(|a| Value::Array(Arc::new(a)));
        }
        // A numpy scalar (`np.float32(1.5)`, what `arr.sum()` returns) is the number it holds.
        if obj.is_instance(np.generic.bind(py)).unwrap_or(false) {
            let item = obj.call_method0("item").map_err(|e| e.to_string())?;
            if !item.is(obj) && !item.is_instance(np.generic.bind(py)).unwrap_or(true) {
                return from_py_at(&item, depth + 1);
            }
        }
    }
    Err(format!(
        "cannot pass a {} between nodes (items are None, bool, int, float, str, list, tuple, dict, bytes, numpy.ndarray or remotemedia.AudioFrame)",
        type_name(obj)
    ))
}

/// A numpy array as an array item, over its memory: copied once only when it is not
/// C-contiguous or not little-endian.
fn array_from_py(obj: &Bound<'_, PyAny>) -> Result<Array, String> {
    let py = obj.py();
    let failed = |e: PyErr| e.to_string();
    let lent = match lend(obj) {
        Ok(lent) => lent,
        // A 0-d array exports no shape; its one element is lent as a 1-d view of it.
        Err(e) if obj.getattr("ndim").and_then(|n| n.extract::<usize>()).ok() == Some(0) => {
            let flat = obj.call_method1("reshape", (1,)).map_err(failed)?;
            return array_from_py(&flat)
                .and_then(|a| Array::new(a.dtype(), Vec::new(), a.data().clone()))
                .map_err(|inner| format!("{inner} ({e})"));
        }
        // An array numpy cannot export (datetime64, say): its dtype is the reason.
        Err(e) => return Err(unsupported_dtype(obj).unwrap_or_else(|| failed(e))),
    };
    let (buffer, layout) = if let Some(lent) = lent {
        lent
    } else {
        // Not C-contiguous (a slice with a step, a transpose): one copy.
        let np = numpy(py).map_err(failed)?.ok_or("numpy is not installed")?;
        let copy = np
            .ascontiguousarray
            .bind(py)
            .call1((obj,))
            .map_err(failed)?;
        lend(&copy)
            .map_err(failed)?
            .ok_or("array is not contiguous")?
    };
    let format = layout.format.trim_start_matches(['@', '=', '<']);
    if format.starts_with('T') || format.contains(':') {
        return Err(unsupported_dtype(obj).unwrap_or_else(|| DType::unsupported("(structured)")));
    }
    if format.starts_with(['>', '!']) {
        // Big-endian: one copy in little-endian order.
        let little = obj
            .getattr("dtype")
            .and_then(|d| d.call_method1("newbyteorder", ("<",)))
            .and_then(|d| obj.call_method1("astype", (d,)))
            .map_err(failed)?;
        return array_from_py(&little);
    }
    let dtype = match (format, layout.item_size) {
        ("?", 1) => DType::Bool,
        ("B", 1) => DType::U8,
        ("h", 2) => DType::I16,
        ("i" | "l", 4) => DType::I32,
        ("l" | "q", 8) => DType::I64,
        ("f", 4) => DType::F32,
        ("d", 8) => DType::F64,
        _ => {
            return Err(unsupported_dtype(obj).unwrap_or_else(|| {
                DType::unsupported(&format!("with format {:?}", layout.format))
            }));
        }
    };
    Array::new(dtype, layout.shape, buffer)
}

/// The error for an array whose dtype no item may hold, naming it as numpy does.
fn unsupported_dtype(obj: &Bound<'_, PyAny>) -> Option<String> {
    let name = obj.getattr("dtype").and_then(|d| d.getattr("name")).ok()?;
    let name = name.to_string();
    DType::from_name(&name)
        .is_none()
        .then(|| DType::unsupported(&name))
}

fn audio_from_py(obj: &Bound<'_, PyAny>) -> Result<AudioFrame, String> {
    let failed = |e: PyErr| e.to_string();
    let samples = obj.getattr("samples").map_err(failed)?;
    let sample_rate: u32 = obj
        .getattr("sample_rate")
        .and_then(|r| r.extract())
        .map_err(|_| {
            "an audio frame's sample_rate must be an int from 1 to 4294967295".to_owned()
        })?;
    let timestamp: f64 = obj
        .getattr("timestamp")
        .and_then(|t| t.extract())
        .map_err(failed)?;
    let samples = array_from_py(&samples)?;
    AudioFrame::new(samples, sample_rate, timestamp)
}

/// Whether `obj` is a `numpy.ma.MaskedArray` (asked only when `numpy.ma` is loaded, as it
/// must be for one to exist).
fn is_masked(obj: &Bound<'_, PyAny>) -> bool {
    if obj.get_type().name().is_ok_and(|n| n == "ndarray") {
        return false;
    }
    obj.py()
        .import("sys")
        .and_then(|sys| sys.getattr("modules"))
        .and_then(|m| m.get_item("numpy.ma"))
        .and_then(|ma| ma.getattr("MaskedArray"))
        .and_then(|class| obj.is_instance(&class))
        .unwrap_or(false)
}

/// `remotemedia.AudioFrame`, looked up once.
fn audio_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS.import(py, "remotemedia.media", "AudioFrame")
}

/// What conversions use of numpy, looked up once.
struct Numpy {
    ndarray: Py<PyAny>,
    generic: Py<PyAny>,
    frombuffer: Py<PyAny>,
    ascontiguousarray: Py<PyAny>,
    /// `numpy.dtype` objects in [`DType::ALL`] order.
    dtypes: Vec<Py<PyAny>>,
}

static NUMPY: PyOnceLock<Option<Numpy>> = PyOnceLock::new();

/// numpy, imported on first need; `None` when it is not installed.
fn numpy(py: Python<'_>) -> PyResult<Option<&Numpy>> {
    NUMPY
        .get_or_try_init(py, || match py.import("numpy") {
            Ok(np) => load_numpy(&np).map(Some),
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyImportError>(py) => Ok(None),
            Err(e) => Err(e),
        })
        .map(Option::as_ref)
}

/// numpy if some code imported it already: otherwise no object can be an array, and the
/// import is not paid for.
fn numpy_if_imported(py: Python<'_>) -> Option<&Numpy> {
    if let Some(np) = NUMPY.get(py) {
        return np.as_ref();
    }
    let imported = py
        .import("sys")
        .and_then(|sys| sys.getattr("modules"))
        .and_then(|m| m.contains("numpy"))
        .unwrap_or(false);
    if imported {
        numpy(py).ok().flatten()
    } else {
        None
    }
}

fn load_numpy(np: &Bound<'_, PyModule>) -> PyResult<Numpy> {
    let dtype = np.getattr("dtype")?;
    Ok(Numpy {
        ndarray: np.getattr("ndarray")?.unbind(),
        generic: np.getattr("generic")?.unbind(),
        frombuffer: np.getattr("frombuffer")?.unbind(),
        ascontiguousarray: np.getattr("ascontiguousarray")?.unbind(),
        dtypes: DType::ALL
            .iter()
            .map(|d| dtype.call1((d.name(),)).map(Bound::unbind))
            .collect::<PyResult<_>>()?,
    })
}

fn dtype_index(dtype: DType) -> usize {
    DType::ALL.iter().position(|d| *d == dtype).unwrap_or(0)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}
