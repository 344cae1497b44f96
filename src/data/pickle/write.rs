//! A pickle writer for exactly the CMU feature layout: nested dicts with byte-string keys whose
//! leaves are C-order float32 numpy arrays, emitted the way Python 2's cPickle wrote
//! `iemocap.pkl` (protocol 2).
//!
//! Hand-written because `serde_pickle` can only emit plain data (dicts, lists, strings,
//! numbers): it has no way to write the GLOBAL/REDUCE/BUILD opcodes through which numpy
//! pickles an array, and without them neither numpy nor our own reader (`ndarray`) would see
//! an array. What is written, per array, is what numpy's `ndarray.__reduce__` asks for:
//!
//! ```text
//! numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')           REDUCE
//!   .__setstate__((1, shape, dtype, False, raw_bytes))                     BUILD
//! dtype = numpy.dtype('f4', False, True)                                  REDUCE, memoised
//!   .__setstate__((3, '<', None, None, None, -1, -1, 0))                   BUILD
//! ```
//!
//! As Python's pickler does, the dtype is memoised right after its REDUCE and fetched from the
//! memo by every later array. Strings go out as Python 2 `str` (SHORT_BINSTRING/BINSTRING), so
//! Python 3 reads them with `pickle.load(f, encoding='bytes')` as LMF's loader does, and the
//! reconstructor keeps Python 2 numpy's module name `numpy.core.multiarray` (numpy >= 2 still
//! resolves it).

use std::io::{self, Write};

// Protocol-2 opcodes (CPython's Lib/pickle.py names).
const PROTO: u8 = 0x80;
const STOP: u8 = b'.';
const MARK: u8 = b'(';
const EMPTY_DICT: u8 = b'}';
const EMPTY_LIST: u8 = b']';
const APPENDS: u8 = b'e';
const SETITEMS: u8 = b'u';
const GLOBAL: u8 = b'c';
const REDUCE: u8 = b'R';
const BUILD: u8 = b'b';
const TUPLE: u8 = b't';
const TUPLE1: u8 = 0x85;
const TUPLE3: u8 = 0x87;
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT: u8 = b'J';
const BININT1: u8 = b'K';
const BININT2: u8 = b'M';
const SHORT_BINSTRING: u8 = b'U';
const BINSTRING: u8 = b'T';
const BINPUT: u8 = b'q';
const BINGET: u8 = b'h';

/// The memo slot of the float32 dtype (the only object fetched twice).
const DTYPE_MEMO: u8 = 0;

/// A C-order float32 array.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// What this writer can emit: a dict with byte-string keys, in the order given, a list, a
/// byte string, or an array.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Dict(Vec<(Vec<u8>, Node)>),
    List(Vec<Node>),
    Bytes(Vec<u8>),
    Array(F32Array),
}

/// Pickle `root` into `out` (protocol 2, ending with STOP).
pub fn write_pickle(out: &mut impl Write, root: &Node) -> io::Result<()> {
    let mut writer = PickleWriter {
        out,
        dtype_memoised: false,
    };
    writer.out.write_all(&[PROTO, 2])?;
    writer.node(root)?;
    writer.out.write_all(&[STOP])
}

struct PickleWriter<'a, W: Write> {
    out: &'a mut W,
    dtype_memoised: bool,
}

impl<W: Write> PickleWriter<'_, W> {
    fn node(&mut self, node: &Node) -> io::Result<()> {
        match node {
            Node::Dict(entries) => self.dict(entries),
            Node::List(items) => self.list(items),
            Node::Bytes(data) => self.bytes(data),
            Node::Array(array) => self.array(array),
        }
    }

    /// An empty list filled by one APPENDS (Python batches by 1000; one batch reads the same).
    fn list(&mut self, items: &[Node]) -> io::Result<()> {
        self.out.write_all(&[EMPTY_LIST])?;
        if items.is_empty() {
            return Ok(());
        }
        self.out.write_all(&[MARK])?;
        for item in items {
            self.node(item)?;
        }
        self.out.write_all(&[APPENDS])
    }

    /// An empty dict filled by one SETITEMS, as Python does for dicts of up to 1000 items.
    fn dict(&mut self, entries: &[(Vec<u8>, Node)]) -> io::Result<()> {
        self.out.write_all(&[EMPTY_DICT])?;
        if entries.is_empty() {
            return Ok(());
        }
        self.out.write_all(&[MARK])?;
        for (key, value) in entries {
            self.bytes(key)?;
            self.node(value)?;
        }
        self.out.write_all(&[SETITEMS])
    }

    fn array(&mut self, array: &F32Array) -> io::Result<()> {
        let count: usize = array.shape.iter().product();
        if count != array.values.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "array of shape {:?} given {} values",
                    array.shape,
                    array.values.len()
                ),
            ));
        }
        self.global("numpy.core.multiarray", "_reconstruct")?;
        self.global("numpy", "ndarray")?;
        self.int(0)?;
        self.out.write_all(&[TUPLE1])?;
        self.bytes(b"b")?;
        self.out.write_all(&[TUPLE3, REDUCE])?;
        // State: (1, shape, dtype, is_fortran, raw_bytes).
        self.out.write_all(&[MARK])?;
        self.int(1)?;
        self.shape(&array.shape)?;
        self.dtype_f4()?;
        self.out.write_all(&[NEWFALSE])?;
        self.raw_f32(&array.values)?;
        self.out.write_all(&[TUPLE, BUILD])
    }

    fn shape(&mut self, shape: &[usize]) -> io::Result<()> {
        self.out.write_all(&[MARK])?;
        for &dim in shape {
            self.int(i64::try_from(dim).expect("dimension fits i64"))?;
        }
        self.out.write_all(&[TUPLE])
    }

    /// `numpy.dtype('f4', False, True)` with its little-endian state the first time, a memo
    /// reference afterwards.
    fn dtype_f4(&mut self) -> io::Result<()> {
        if self.dtype_memoised {
            return self.out.write_all(&[BINGET, DTYPE_MEMO]);
        }
        self.global("numpy", "dtype")?;
        self.bytes(b"f4")?;
        self.out
            .write_all(&[NEWFALSE, NEWTRUE, TUPLE3, REDUCE, BINPUT, DTYPE_MEMO])?;
        self.dtype_memoised = true;
        self.out.write_all(&[MARK])?;
        self.int(3)?;
        self.bytes(b"<")?;
        self.out.write_all(&[NONE, NONE, NONE])?;
        self.int(-1)?;
        self.int(-1)?;
        self.int(0)?;
        self.out.write_all(&[TUPLE, BUILD])
    }

    fn global(&mut self, module: &str, name: &str) -> io::Result<()> {
        self.out.write_all(&[GLOBAL])?;
        write!(self.out, "{module}\n{name}\n")
    }

    /// The smallest of BININT1/BININT2/BININT, as Python picks them.
    fn int(&mut self, value: i64) -> io::Result<()> {
        match value {
            0..=0xff => self.out.write_all(&[BININT1, value as u8]),
            0x100..=0xffff => {
                self.out.write_all(&[BININT2])?;
                self.out.write_all(&(value as u16).to_le_bytes())
            }
            _ => {
                let value = i32::try_from(value).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "integer beyond 32 bits")
                })?;
                self.out.write_all(&[BININT])?;
                self.out.write_all(&value.to_le_bytes())
            }
        }
    }

    /// A Python 2 `str`: SHORT_BINSTRING under 256 bytes, else BINSTRING (32-bit length).
    fn bytes(&mut self, data: &[u8]) -> io::Result<()> {
        self.string_header(data.len())?;
        self.out.write_all(data)
    }

    fn string_header(&mut self, len: usize) -> io::Result<()> {
        if len < 256 {
            return self.out.write_all(&[SHORT_BINSTRING, len as u8]);
        }
        let len = i32::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "array data over 2 GiB needs protocol 4",
            )
        })?;
        self.out.write_all(&[BINSTRING])?;
        self.out.write_all(&len.to_le_bytes())
    }

    /// The array's data as one byte string, little-endian, written value by value so that
    /// no second copy of a large array is made.
    fn raw_f32(&mut self, values: &[f32]) -> io::Result<()> {
        self.string_header(values.len() * 4)?;
        for value in values {
            self.out.write_all(&value.to_le_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::pickle::ndarray::decode_ndarray;
    use serde_pickle::{HashableValue, Value};

    fn read_back(bytes: &[u8]) -> Value {
        serde_pickle::value_from_slice(bytes, crate::data::pickle::read_options()).unwrap()
    }

    fn entry<'a>(value: &'a Value, key: &str) -> &'a Value {
        let Value::Dict(map) = value else {
            panic!("not a dict: {value:?}")
        };
        &map[&HashableValue::Bytes(key.as_bytes().to_vec())]
    }

    #[test]
    fn arrays_read_back_with_shape_and_values_first_and_memoised_dtype() {
        let a = F32Array {
            shape: vec![2, 3],
            values: vec![1.0, -2.5, 0.0, f32::MAX, 1e-7, -0.0],
        };
        let b = F32Array {
            shape: vec![1, 300],
            values: (0..300).map(|i| i as f32 / 7.0).collect(),
        };
        let root = Node::Dict(vec![
            (b"a".to_vec(), Node::Array(a.clone())),
            (
                b"inner".to_vec(),
                Node::Dict(vec![(b"b".to_vec(), Node::Array(b.clone()))]),
            ),
            (b"empty".to_vec(), Node::Dict(vec![])),
        ]);
        let mut bytes = Vec::new();
        write_pickle(&mut bytes, &root).unwrap();
        assert_eq!(&bytes[..2], &[PROTO, 2]);
        assert_eq!(bytes.last(), Some(&STOP));
        let value = read_back(&bytes);
        // The first array carries the dtype's state, the second its memoised arguments: both
        // forms `decode_ndarray` reads.
        let got_a = decode_ndarray(entry(&value, "a")).unwrap();
        let got_b = decode_ndarray(entry(entry(&value, "inner"), "b")).unwrap();
        assert_eq!((got_a.shape, got_a.values), (a.shape, a.values));
        assert_eq!((got_b.shape, got_b.values), (b.shape, b.values));
        assert_eq!(entry(&value, "empty"), &Value::Dict(Default::default()));
    }

    #[test]
    fn large_dimensions_and_mismatched_values() {
        let big = F32Array {
            shape: vec![70_000, 0],
            values: vec![],
        };
        let mut bytes = Vec::new();
        write_pickle(&mut bytes, &Node::Array(big)).unwrap();
        let got = decode_ndarray(&read_back(&bytes)).unwrap();
        assert_eq!(got.shape, vec![70_000, 0]);
        let bad = F32Array {
            shape: vec![2],
            values: vec![1.0],
        };
        let err = write_pickle(&mut Vec::new(), &Node::Array(bad)).unwrap_err();
        assert!(err.to_string().contains("given 1 values"), "{err}");
    }
}
