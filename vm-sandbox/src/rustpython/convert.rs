//! Items to RustPython objects and back (DESIGN §4 under RustPython): JSON-like values and
//! bytes as themselves, arrays as read-only `memoryview`s with their dtype's format and their
//! shape, over the host's memory, and audio frames as `remotemedia.AudioFrame`s (the VM's,
//! `remotemedia._vm.AudioFrame`) whose samples are such a `memoryview`.
//!
//! Copies: `bytes` handed to Python are copied once (a `bytes` object owns its memory), as
//! under CPython; `bytes` from Python are copied once too (a VM object may not outlive the VM
//! thread that drops it); a `memoryview` a node returns is carried without a copy when it is
//! one the host made (a node passing its input on), else copied once.

use rustpython_vm::builtins::{
    PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyListRef, PyMemoryView, PyStr, PyTuple,
};
use rustpython_vm::{
    AsObject, PyObject, PyObjectRef, PyPayload, PyResult, TryFromObject, VirtualMachine,
};
use serde_json::{Map, Value as Json};

use super::host::{HostBuffer, error_text};
use crate::media::{Array, AudioFrame, Buffer, DType};
use crate::value::Value;

/// How deep an item may nest (DESIGN §4), as under CPython.
const MAX_DEPTH: usize = 1000;

/// An item as a Python object.
pub fn to_py(vm: &VirtualMachine, value: &Value) -> PyResult<PyObjectRef> {
    Ok(match value {
        Value::Null => vm.ctx.none(),
        Value::Bool(b) => vm.ctx.new_bool(*b).into(),
        Value::Int(i) => vm.ctx.new_int(*i).into(),
        Value::Float(x) => vm.ctx.new_float(*x).into(),
        Value::Str(s) => vm.ctx.new_str(&**s).into(),
        Value::List(items) => list_to_py(vm, items)?.into(),
        Value::Map(entries) => {
            let dict = vm.ctx.new_dict();
            for (key, item) in entries.iter() {
                dict.set_item(&**key, to_py(vm, item)?, vm)?;
            }
            dict.into()
        }
        Value::Bytes(bytes) => vm.ctx.new_bytes(bytes.bytes().to_vec()).into(),
        Value::Array(array) => array_to_py(vm, array)?,
        Value::Audio(frame) => {
            let samples = array_to_py(vm, frame.samples())?;
            audio_class(vm)?.call(
                (
                    samples,
                    vm.ctx.new_int(frame.sample_rate()),
                    vm.ctx.new_float(frame.timestamp()),
                ),
                vm,
            )?
        }
    })
}

/// Items as a Python list.
pub fn list_to_py(vm: &VirtualMachine, items: &[Value]) -> PyResult<PyListRef> {
    let objects = items
        .iter()
        .map(|item| to_py(vm, item))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(vm.ctx.new_list(objects))
}

/// A node's constructor parameters as a dict.
pub fn params_to_py(vm: &VirtualMachine, params: &Map<String, Json>) -> PyResult<PyObjectRef> {
    let dict = vm.ctx.new_dict();
    for (key, param) in params {
        let value = Value::from_json_value(param)
            .map_err(|e| vm.new_value_error(format!("parameter {key:?}: {e}")))?;
        dict.set_item(key.as_str(), to_py(vm, &value)?, vm)?;
    }
    Ok(dict.into())
}

/// An array as a read-only `memoryview` over the host's memory.
fn array_to_py(vm: &VirtualMachine, array: &Array) -> PyResult<PyObjectRef> {
    let exported = HostBuffer::new(array.data().clone(), array.dtype(), array.shape());
    let exported = exported.into_ref(&vm.ctx);
    let view = PyMemoryView::from_object(exported.as_object(), vm)?;
    Ok(view.into_ref(&vm.ctx).into())
}

fn audio_class(vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    super::vm::import_attr(vm, "remotemedia._vm", "AudioFrame")
}

/// A Python object as an item; the error says what cannot pass.
pub fn from_py(vm: &VirtualMachine, obj: &PyObject) -> Result<Value, String> {
    from_py_at(vm, obj, 0)
}

fn from_py_at(vm: &VirtualMachine, obj: &PyObject, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "a value nested deeper than {MAX_DEPTH} levels (or one that contains itself) cannot pass between nodes"
        ));
    }
    if vm.is_none(obj) {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int.
    if obj.class().is(vm.ctx.types.bool_type) {
        return Ok(Value::Bool(obj.is(&vm.ctx.true_value)));
    }
    if obj.downcast_ref::<PyInt>().is_some() {
        return i64::try_from_object(vm, obj.to_owned())
            .map(Value::Int)
            .map_err(|_| {
                let text = obj.repr(vm).map_or_else(|_| "?".into(), |r| r.to_string());
                format!("int {text} is out of the 64-bit range")
            });
    }
    if let Some(x) = obj.downcast_ref::<PyFloat>() {
        return Ok(Value::Float(x.to_f64()));
    }
    if let Some(s) = obj.downcast_ref::<PyStr>() {
        return s
            .to_str()
            .map(|s| Value::Str(s.into()))
            .ok_or_else(|| "a str with lone surrogates cannot pass between nodes".to_owned());
    }
    if let Some(list) = obj.downcast_ref::<PyList>() {
        let items: Vec<PyObjectRef> = list.borrow_vec().to_vec();
        return list_from_py(vm, &items, depth);
    }
    if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        return list_from_py(vm, tuple.as_slice(), depth);
    }
    if let Some(dict) = obj.downcast_ref::<PyDict>() {
        let mut entries = Vec::with_capacity(dict.__len__());
        for (key, item) in dict.items_vec() {
            let key = key
                .downcast_ref::<PyStr>()
                .and_then(|k| k.to_str().map(std::sync::Arc::<str>::from))
                .ok_or_else(|| format!("map keys must be strings, got {}", key.class().name()))?;
            entries.push((key, from_py_at(vm, &item, depth + 1)?));
        }
        return Ok(Value::Map(entries.into()));
    }
    if let Some(bytes) = obj.downcast_ref::<PyBytes>() {
        return Ok(Value::Bytes(bytes.as_bytes().to_vec().into()));
    }
    if let Some(bytes) = obj.downcast_ref::<PyByteArray>() {
        return Ok(Value::Bytes(bytes.borrow_buf().to_vec().into()));
    }
    if let Some(view) = obj.downcast_ref::<PyMemoryView>() {
        return array_from_view(vm, view.as_object()).map(|a| Value::Array(a.into()));
    }
    let audio = audio_class(vm).map_err(|e| error_text(vm, &e.into()))?;
    if obj.is_instance(&audio, vm).unwrap_or(false) {
        return audio_from_py(vm, obj).map(|f| Value::Audio(f.into()));
    }
    Err(format!(
        "cannot pass a {} between nodes (items are None, bool, int, float, str, list, tuple, dict, bytes, memoryview or remotemedia.AudioFrame)",
        obj.class().name()
    ))
}

fn list_from_py(vm: &VirtualMachine, items: &[PyObjectRef], depth: usize) -> Result<Value, String> {
    items
        .iter()
        .map(|item| from_py_at(vm, item, depth + 1))
        .collect::<Result<Vec<_>, _>>()
        .map(|v| Value::List(v.into()))
}

/// A `memoryview` as an array of its format's dtype and its shape: over the host's memory when
/// it is a whole view the host made, else copied once.
fn array_from_view(vm: &VirtualMachine, view: &PyObject) -> Result<Array, String> {
    let text = |e: rustpython_vm::builtins::PyBaseExceptionRef| error_text(vm, &e.into());
    let format: String = view
        .get_attr("format", vm)
        .and_then(|f| String::try_from_object(vm, f))
        .map_err(text)?;
    let shape: Vec<usize> = view
        .get_attr("shape", vm)
        .and_then(|s| Vec::<usize>::try_from_object(vm, s))
        .map_err(text)?;
    let Some(dtype) = DType::from_format(&format) else {
        // The SDK's words for the format (`int8`, a struct, another byte order).
        let refused = super::vm::import_attr(vm, "remotemedia._vm", "format_dtype")
            .and_then(|check| check.call((vm.ctx.new_str(format.as_str()),), vm));
        return Err(match refused {
            Err(e) => error_text(vm, &e.into()),
            Ok(_) => DType::unsupported(&format!("with format {format:?}")),
        });
    };
    let exported = view.downcast_ref::<PyMemoryView>().and_then(|v| {
        v.viewed_object()
            .downcast_ref::<HostBuffer>()
            .map(|h| h.parts())
    });
    if let Some((data, host_dtype, host_shape)) = exported {
        let whole = view
            .get_attr("nbytes", vm)
            .and_then(|n| usize::try_from_object(vm, n))
            .is_ok_and(|n| n == data.len());
        let contiguous = view
            .get_attr("c_contiguous", vm)
            .is_ok_and(|c| c.is(&vm.ctx.true_value));
        if whole && contiguous && host_dtype == dtype && host_shape == shape.as_slice() {
            return Array::new(dtype, shape, data.clone());
        }
    }
    let bytes = vm.call_method(view, "tobytes", ()).map_err(text)?;
    let bytes = bytes
        .downcast_ref::<PyBytes>()
        .map(|b| Buffer::from(b.as_bytes().to_vec()))
        .ok_or_else(|| "memoryview.tobytes() did not return bytes".to_owned())?;
    Array::new(dtype, shape, bytes)
}

fn audio_from_py(vm: &VirtualMachine, obj: &PyObject) -> Result<AudioFrame, String> {
    let text = |e: rustpython_vm::builtins::PyBaseExceptionRef| error_text(vm, &e.into());
    let samples = obj.get_attr("samples", vm).map_err(text)?;
    let rate = obj
        .get_attr("sample_rate", vm)
        .and_then(|r| u32::try_from_object(vm, r))
        .map_err(text)?;
    let timestamp = obj
        .get_attr("timestamp", vm)
        .and_then(|t| f64::try_from_object(vm, t))
        .map_err(text)?;
    let samples = if samples.downcast_ref::<PyMemoryView>().is_some() {
        array_from_view(vm, &samples)?
    } else {
        return Err(format!(
            "AudioFrame samples must be a memoryview under RustPython, got {}",
            samples.class().name()
        ));
    };
    AudioFrame::new(samples, rate, timestamp)
}
