//! Python pickles as the seeds' feature files hold them: plain dicts and lists whose leaves are
//! numpy arrays. `serde_pickle` parses the opcodes; `ndarray` rebuilds the arrays from the
//! states numpy leaves behind, and `write` emits the same layout for synthetic fixtures.

pub(crate) mod ndarray;
pub mod write;

use std::path::Path;

use serde_pickle::{DeOptions, HashableValue, Value};

pub use self::ndarray::{NdArray, decode_ndarray, kind_of};
use super::error::DataError;

/// How the seeds' pickles are read: `keep_restore_state` and `replace_unresolved_globals` let
/// numpy's reduce calls through as their arguments and BUILD states (see `ndarray`); byte
/// strings stay bytes, as Python 3's `encoding='bytes'` keeps them.
pub fn read_options() -> DeOptions {
    DeOptions::new()
        .keep_restore_state()
        .replace_unresolved_globals()
}

/// The whole pickle at `path` as a value tree.
pub fn read_pickle(path: &Path) -> Result<Value, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    serde_pickle::value_from_reader(std::io::BufReader::new(file), read_options())
        .map_err(|e| DataError::format(path, format!("not a readable pickle: {e}")))
}

/// A dict's entries with their keys as text; Python 2 wrote them as bytes, Python 3 as str.
pub fn dict_entries(value: &Value) -> Result<Vec<(String, &Value)>, String> {
    let Value::Dict(map) = value else {
        return Err(format!("expected a dict, found {}", kind_of(value)));
    };
    map.iter()
        .map(|(key, v)| match key {
            HashableValue::Bytes(b) => Ok((String::from_utf8_lossy(b).into_owned(), v)),
            HashableValue::String(s) => Ok((s.clone(), v)),
            other => Err(format!("unexpected dict key {other:?}")),
        })
        .collect()
}

/// The value under `key` of a dict, or an error that lists the keys there are.
pub fn lookup<'a>(value: &'a Value, key: &str) -> Result<&'a Value, String> {
    let entries = dict_entries(value)?;
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("no {key:?} key (keys: {keys:?})"))
}

/// Python 2 pickles strings as bytes, Python 3 as str.
pub fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bytes(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

/// A matrix `[rows, width]` from a numpy array of that shape, or from a list of equally wide
/// rows (each a 1-D array or a list of numbers), as Python code builds per-word or per-frame
/// features. An empty list is zero rows.
pub fn matrix_of(value: &Value) -> Result<NdArray, String> {
    match value {
        Value::List(rows) | Value::Tuple(rows) if rows.is_empty() => Ok(NdArray {
            shape: vec![0, 0],
            values: Vec::new(),
        }),
        Value::List(rows) => {
            let rows: Vec<Vec<f32>> = rows
                .iter()
                .enumerate()
                .map(|(i, row)| vector_of(row).map_err(|e| format!("row {i}: {e}")))
                .collect::<Result<_, _>>()?;
            let width = rows[0].len();
            if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
                return Err(format!(
                    "row {i} has {} values, row 0 has {width}",
                    row.len()
                ));
            }
            Ok(NdArray {
                shape: vec![rows.len(), width],
                values: rows.concat(),
            })
        }
        other => {
            let array = decode_ndarray(other)?;
            match array.shape.len() {
                2 => Ok(array),
                1 if array.shape[0] == 0 => Ok(NdArray {
                    shape: vec![0, 0],
                    values: Vec::new(),
                }),
                _ => Err(format!(
                    "expected a 2-D array or a list of rows, found an array of shape {:?}",
                    array.shape
                )),
            }
        }
    }
}

/// A vector from a 1-D numpy array or a list of numbers.
pub fn vector_of(value: &Value) -> Result<Vec<f32>, String> {
    match value {
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::F64(x) => Ok(*x as f32),
                Value::I64(x) => Ok(*x as f32),
                other => Err(format!("a list item is {}, not a number", kind_of(other))),
            })
            .collect(),
        other => {
            let array = decode_ndarray(other)?;
            if array.shape.len() != 1 {
                return Err(format!(
                    "expected a 1-D array, found shape {:?}",
                    array.shape
                ));
            }
            Ok(array.values)
        }
    }
}

/// Strings from a list of str/bytes, or from a numpy array of them (an object array, whose
/// state holds a list, or a fixed-width unicode `<U` array, whose bytes are UTF-32).
pub fn strings_of(value: &Value) -> Result<Vec<String>, String> {
    let from_list = |items: &[Value]| -> Result<Vec<String>, String> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::List(inner) | Value::Tuple(inner) if inner.len() == 1 => {
                    text_of(&inner[0]).ok_or_else(|| format!("item {i} is not a string"))
                }
                _ => text_of(item)
                    .ok_or_else(|| format!("item {i} is {}, not a string", kind_of(item))),
            })
            .collect()
    };
    match value {
        Value::List(items) => from_list(items),
        Value::Tuple(state) => match state.as_slice() {
            [_, _, _, _, Value::List(items)] => from_list(items),
            [_, shape, dtype, _, Value::Bytes(raw)] => ndarray::decode_unicode(shape, dtype, raw),
            _ => Err("expected a list of strings or a numpy array of them".into()),
        },
        other => Err(format!(
            "expected a list of strings or a numpy array of them, found {}",
            kind_of(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::write::{F32Array, Node, write_pickle};
    use super::*;

    fn round_trip(node: &Node) -> Value {
        let mut bytes = Vec::new();
        write_pickle(&mut bytes, node).unwrap();
        serde_pickle::value_from_slice(&bytes, read_options()).unwrap()
    }

    fn array(shape: &[usize], values: Vec<f32>) -> Node {
        Node::Array(F32Array {
            shape: shape.to_vec(),
            values,
        })
    }

    #[test]
    fn a_matrix_comes_from_a_2d_array_or_a_list_of_rows() {
        let stacked = round_trip(&array(&[2, 3], vec![1., 2., 3., 4., 5., 6.]));
        let rows = round_trip(&Node::List(vec![
            array(&[3], vec![1., 2., 3.]),
            array(&[3], vec![4., 5., 6.]),
        ]));
        for value in [stacked, rows] {
            let m = matrix_of(&value).unwrap();
            assert_eq!(m.shape, [2, 3]);
            assert_eq!(m.values, [1., 2., 3., 4., 5., 6.]);
        }
        assert_eq!(
            matrix_of(&round_trip(&Node::List(vec![]))).unwrap().shape,
            [0, 0]
        );
        let ragged = round_trip(&Node::List(vec![
            array(&[3], vec![1., 2., 3.]),
            array(&[2], vec![4., 5.]),
        ]));
        assert!(
            matrix_of(&ragged)
                .unwrap_err()
                .contains("row 1 has 2 values")
        );
        let cube = round_trip(&array(&[1, 1, 2], vec![1., 2.]));
        assert!(matrix_of(&cube).unwrap_err().contains("[1, 1, 2]"));
    }

    #[test]
    fn strings_come_from_lists_of_bytes_and_unicode_arrays() {
        let listed = round_trip(&Node::List(vec![
            Node::Bytes(b"abc_1".to_vec()),
            Node::Bytes(b"-x_10".to_vec()),
        ]));
        assert_eq!(strings_of(&listed).unwrap(), ["abc_1", "-x_10"]);
        // numpy's `np.array(['ab', 'c'])`: dtype '<U2', two UTF-32 units per item, NUL-padded.
        let mut raw = Vec::new();
        for unit in ['a', 'b', 'c', '\0'] {
            raw.extend((unit as u32).to_le_bytes());
        }
        let state = Value::Tuple(vec![
            Value::I64(1),
            Value::Tuple(vec![Value::I64(2)]),
            Value::Tuple(vec![Value::String("U8".into())]),
            Value::Bool(false),
            Value::Bytes(raw),
        ]);
        assert_eq!(strings_of(&state).unwrap(), ["ab", "c"]);
        let numbers = round_trip(&array(&[2], vec![1., 2.]));
        assert!(strings_of(&numbers).is_err());
    }
}
