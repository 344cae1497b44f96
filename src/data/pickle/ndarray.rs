//! numpy arrays inside a pickle, as `serde_pickle` leaves them.
//!
//! A pickle holds no numpy array as such: numpy pickles an array as a call plus a state,
//! `_reconstruct(ndarray, (0,), b'b')` (REDUCE) followed by `__setstate__((1, shape, dtype,
//! is_fortran, raw_bytes))` (BUILD), and the dtype the same way, `dtype('f4', False, True)`
//! then `__setstate__((3, '<', None, None, None, -1, -1, 0))`. `serde_pickle` cannot call
//! numpy; read with `keep_restore_state` and `replace_unresolved_globals`, it replaces each
//! built object with its BUILD state, so an array arrives as the tuple
//! `(1, shape, dtype, is_fortran, raw_bytes)` and this module rebuilds the numbers from it.
//!
//! The dtype is the awkward part. The pickle memoises the dtype object after its REDUCE and
//! before its BUILD, and `serde_pickle` replaces only the stack copy at BUILD: the *first*
//! array of each dtype therefore carries the dtype's state `(3, '<', None, …)`, which names the
//! byte order but not the kind or size, while later arrays (which fetch the dtype from the
//! memo) carry its arguments `('f4', False, True)`. For the state form the item size is
//! `len(raw_bytes) / element count` and a 4- or 8-byte item is read as a float (the CMU feature
//! pickles hold float arrays). Should an 8-byte integer array be read that way, non-negative
//! integers keep their order as f64 bit patterns, so an argmax over one-hot labels stays right.

use serde_pickle::Value;

use super::text_of;

/// A decoded array, in C (row-major) order, converted to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The element types this decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    F32,
    F64,
    I32,
    I64,
    U8,
    Bool,
}

impl Element {
    fn size(self) -> usize {
        match self {
            Element::F32 | Element::I32 => 4,
            Element::F64 | Element::I64 => 8,
            Element::U8 | Element::Bool => 1,
        }
    }

    /// numpy's type string without its byte-order mark: `f4`, `<f8`, `float32`, …
    fn from_descriptor(descriptor: &str) -> Option<Self> {
        let code = descriptor.trim_start_matches(['<', '=', '|']);
        Some(match code {
            "f4" | "float32" => Element::F32,
            "f8" | "float64" => Element::F64,
            "i4" | "int32" => Element::I32,
            "i8" | "int64" => Element::I64,
            "u1" | "uint8" => Element::U8,
            "b1" | "bool" => Element::Bool,
            _ => return None,
        })
    }

    /// `chunk` is exactly `self.size()` little-endian bytes.
    fn decode(self, chunk: &[u8]) -> f32 {
        let four = || -> [u8; 4] { chunk.try_into().expect("4-byte chunk") };
        let eight = || -> [u8; 8] { chunk.try_into().expect("8-byte chunk") };
        match self {
            Element::F32 => f32::from_le_bytes(four()),
            Element::F64 => f64::from_le_bytes(eight()) as f32,
            Element::I32 => i32::from_le_bytes(four()) as f32,
            Element::I64 => i64::from_le_bytes(eight()) as f32,
            Element::U8 => f32::from(chunk[0]),
            Element::Bool => f32::from(u8::from(chunk[0] != 0)),
        }
    }
}

/// Rebuild an array from the `(1, shape, dtype, is_fortran, raw_bytes)` tuple.
pub fn decode_ndarray(value: &Value) -> Result<NdArray, String> {
    let Value::Tuple(state) = value else {
        return Err(format!("expected a numpy array, found {}", kind_of(value)));
    };
    let [_version, shape, dtype, fortran, raw] = state.as_slice() else {
        return Err(format!(
            "expected a numpy array state (version, shape, dtype, is_fortran, data), found a \
             {}-tuple (an array referenced twice in the pickle cannot be restored)",
            state.len()
        ));
    };
    let shape = decode_shape(shape)?;
    let count: usize = shape.iter().product();
    let Value::Bytes(raw) = raw else {
        return Err(format!(
            "array data is {}, not raw bytes (object arrays are not supported)",
            kind_of(raw)
        ));
    };
    let values = if count == 0 {
        Vec::new()
    } else {
        let element = decode_dtype(dtype, raw.len(), count)?;
        if raw.len() != count * element.size() {
            return Err(format!(
                "array data holds {} bytes, shape {shape:?} of {element:?} needs {}",
                raw.len(),
                count * element.size()
            ));
        }
        raw.chunks_exact(element.size())
            .map(|chunk| element.decode(chunk))
            .collect()
    };
    let values = match fortran {
        Value::Bool(true) | Value::I64(1) => fortran_to_c_order(&values, &shape),
        _ => values,
    };
    Ok(NdArray { shape, values })
}

fn decode_shape(value: &Value) -> Result<Vec<usize>, String> {
    let Value::Tuple(dims) = value else {
        return Err(format!("array shape is {}, not a tuple", kind_of(value)));
    };
    dims.iter()
        .map(|d| match d {
            Value::I64(n) => usize::try_from(*n).map_err(|_| format!("negative dimension {n}")),
            other => Err(format!("array dimension is {}", kind_of(other))),
        })
        .collect()
}

/// The dtype arrives in one of two forms (module docs): its arguments `('f4', False, True)`, or
/// its state `(3, '<', None, None, None, -1, -1, 0)`, where only the item size is known.
fn decode_dtype(value: &Value, data_len: usize, count: usize) -> Result<Element, String> {
    let Value::Tuple(parts) = value else {
        return Err(format!("array dtype is {}", kind_of(value)));
    };
    match parts.first() {
        Some(first) if text_of(first).is_some() => {
            let descriptor = text_of(first).unwrap_or_default();
            Element::from_descriptor(&descriptor)
                .ok_or_else(|| format!("unsupported numpy dtype {descriptor:?}"))
        }
        Some(Value::I64(_)) => {
            let byte_order = parts.get(1).and_then(text_of).unwrap_or_default();
            if byte_order == ">" {
                return Err("big-endian arrays are not supported".into());
            }
            match data_len / count {
                4 if data_len.is_multiple_of(count) => Ok(Element::F32),
                8 if data_len.is_multiple_of(count) => Ok(Element::F64),
                _ => Err(format!(
                    "cannot tell the dtype of an array of {count} elements in {data_len} bytes"
                )),
            }
        }
        _ => Err("array dtype is an empty tuple".into()),
    }
}

/// Reorder column-major data (first index fastest) into row-major.
fn fortran_to_c_order(values: &[f32], shape: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    let mut index = vec![0usize; shape.len()];
    for slot in out.iter_mut() {
        let mut fortran_offset = 0;
        let mut stride = 1;
        for (i, dim) in index.iter().zip(shape) {
            fortran_offset += i * stride;
            stride *= dim;
        }
        *slot = values[fortran_offset];
        // Advance the row-major multi-index (last index fastest).
        for (i, dim) in index.iter_mut().zip(shape).rev() {
            *i += 1;
            if *i < *dim {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// A fixed-width unicode array (`<U<n>`: `n` UTF-32 code units per item, NUL-padded) from its
/// state's shape, dtype and raw bytes, flattened in C order.
pub fn decode_unicode(shape: &Value, dtype: &Value, raw: &[u8]) -> Result<Vec<String>, String> {
    let count: usize = decode_shape(shape)?.iter().product();
    if count == 0 {
        return Ok(Vec::new());
    }
    let Value::Tuple(parts) = dtype else {
        return Err(format!("array dtype is {}", kind_of(dtype)));
    };
    // The dtype's arguments name it (`'U8'`); its state (module docs) gives a flexible type's
    // item size in slot 5, where a number type has -1.
    let unicode = match parts.first() {
        Some(Value::I64(_)) => matches!(parts.get(5), Some(Value::I64(n)) if *n > 0),
        Some(first) => {
            text_of(first).is_some_and(|d| d.trim_start_matches(['<', '=', '|']).starts_with('U'))
        }
        None => false,
    };
    if !unicode {
        return Err("expected strings, found a numpy array of numbers".into());
    }
    if !raw.len().is_multiple_of(count) || !(raw.len() / count).is_multiple_of(4) {
        return Err(format!(
            "{} bytes do not hold {count} UTF-32 strings",
            raw.len()
        ));
    }
    raw.chunks_exact(raw.len() / count)
        .map(|item| {
            item.chunks_exact(4)
                .map(|unit| u32::from_le_bytes(unit.try_into().expect("4 bytes")))
                .take_while(|&unit| unit != 0)
                .map(|unit| char::from_u32(unit).ok_or_else(|| format!("bad code point {unit:#x}")))
                .collect()
        })
        .collect()
}

pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::None => "None",
        Value::Bool(_) => "a bool",
        Value::I64(_) | Value::Int(_) => "an int",
        Value::F64(_) => "a float",
        Value::Bytes(_) => "bytes",
        Value::String(_) => "a str",
        Value::List(_) => "a list",
        Value::Tuple(_) => "a tuple",
        Value::Set(_) | Value::FrozenSet(_) => "a set",
        Value::Dict(_) => "a dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(shape: &[i64], dtype: Value, fortran: bool, raw: Vec<u8>) -> Value {
        Value::Tuple(vec![
            Value::I64(1),
            Value::Tuple(shape.iter().map(|&d| Value::I64(d)).collect()),
            dtype,
            Value::Bool(fortran),
            Value::Bytes(raw),
        ])
    }

    fn descriptor(code: &str) -> Value {
        Value::Tuple(vec![
            Value::Bytes(code.as_bytes().to_vec()),
            Value::Bool(false),
            Value::Bool(true),
        ])
    }

    fn built_dtype_state() -> Value {
        Value::Tuple(vec![
            Value::I64(3),
            Value::String("<".into()),
            Value::None,
            Value::None,
            Value::None,
            Value::I64(-1),
            Value::I64(-1),
            Value::I64(0),
        ])
    }

    #[test]
    fn float64_and_int64_descriptors_are_read() {
        let raw: Vec<u8> = [1.5f64, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = decode_ndarray(&state(&[2], descriptor("f8"), false, raw)).unwrap();
        assert_eq!(a.values, vec![1.5, -2.0]);
        let raw: Vec<u8> = [0i64, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = decode_ndarray(&state(&[1, 2], descriptor("<i8"), false, raw)).unwrap();
        assert_eq!((a.shape, a.values), (vec![1, 2], vec![0.0, 1.0]));
    }

    #[test]
    fn built_dtype_state_is_read_by_item_size() {
        let raw: Vec<u8> = [0.25f32, 4.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = decode_ndarray(&state(&[2], built_dtype_state(), false, raw)).unwrap();
        assert_eq!(a.values, vec![0.25, 4.0]);
        let err = decode_ndarray(&state(&[2], built_dtype_state(), false, vec![0; 6]));
        assert!(err.unwrap_err().contains("cannot tell the dtype"));
    }

    #[test]
    fn fortran_order_is_transposed_to_row_major() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let raw: Vec<u8> = [1f32, 4., 2., 5., 3., 6.]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = decode_ndarray(&state(&[2, 3], descriptor("f4"), true, raw)).unwrap();
        assert_eq!(a.values, vec![1., 2., 3., 4., 5., 6.]);
    }

    #[test]
    fn empty_arrays_need_no_dtype_and_bad_sizes_are_reported() {
        let a = decode_ndarray(&state(&[0, 74], built_dtype_state(), false, vec![])).unwrap();
        assert_eq!((a.shape, a.values.len()), (vec![0, 74], 0));
        let err = decode_ndarray(&state(&[3], descriptor("f4"), false, vec![0; 8]));
        assert!(err.unwrap_err().contains("holds 8 bytes"));
        let err = decode_ndarray(&Value::Tuple(vec![Value::None, Value::None]));
        assert!(err.unwrap_err().contains("referenced twice"));
    }
}
