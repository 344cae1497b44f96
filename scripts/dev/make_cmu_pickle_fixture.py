#!/usr/bin/env python3
"""Write tests/fixtures/cmu_pickle/iemocap_tiny.pkl, a stand-in for LMF's `iemocap.pkl`.

Dev-only: the Rust tests read the committed output; nothing runs this script at build or test
time. Run it from the repository root with any Python 3 that has numpy:

    python scripts/dev/make_cmu_pickle_fixture.py

Layout (docs/methods/seed-002-lmf.md): {emotion: {split: {covarep [N,74], facet [N,35],
glove [N,20,300], label [N,2]}}}, every key a byte string, every array a numpy float32 array.
The real dimensions are kept; only the utterance count is tiny. One GloVe utterance alone is
20*300*4 = 24,000 bytes, so the fixture holds two utterances (happy/train: label column 1,
sad/test: label column 0) and the other four splits are empty [0, ...] arrays, which keeps the
file near 50 KB.

The file is written the way Python 2's cPickle wrote the original (protocol 2, the highest
Python 2 had):
* byte strings (the keys, numpy's raw array data) and str (numpy's dtype descriptors) go out as
  SHORT_BINSTRING/BINSTRING, Python 2's `str`, which is why Python 3 needs
  `pickle.load(f, encoding='bytes')` and sees bytes keys;
* numpy's reconstructor is referenced as `numpy.core.multiarray._reconstruct` (numpy >= 2 says
  `numpy._core`, which Python 2's numpy would not know).
Python 3's own protocol 2 would instead write bytes as `_codecs.encode(u'...', 'latin1')`.

NaNs are planted in covarep, facet and glove: the loader zeroes them in covarep and facet and,
like LMF's loader, leaves GloVe untouched.
"""

import pickle
import struct
import sys
from pathlib import Path

import numpy as np

OUT = Path("tests/fixtures/cmu_pickle/iemocap_tiny.pkl")
DIMS = {b"covarep": (74,), b"facet": (35,), b"glove": (20, 300), b"label": (2,)}


class Python2Pickler(pickle._Pickler):
    """The pure-Python pickler, with Python 2's spelling of strings and numpy globals."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str

    def save_global(self, obj, name=None):
        name = name or obj.__qualname__
        module = getattr(obj, "__module__", None) or pickle.whichmodule(obj, name)
        module = module.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))
        self.memoize(obj)


def features(n, dims, offset):
    """Deterministic values that float32 holds exactly (multiples of 1/8)."""
    count = n * int(np.prod(dims))
    values = ((np.arange(count) + offset) % 16).astype(np.float32) / 8.0 - 1.0
    return values.reshape((n, *dims))


def split(n, positive, offset):
    data = {key: features(n, dims, offset) for key, dims in DIMS.items() if key != b"label"}
    label = np.zeros((n, 2), np.float32)
    label[:, 1 if positive else 0] = 1.0
    data[b"label"] = label
    return data


def fixture():
    happy_train = split(1, positive=True, offset=0)
    happy_train[b"covarep"][0, 3] = np.nan
    happy_train[b"covarep"][0, 70] = np.nan
    happy_train[b"facet"][0, 0] = np.nan
    happy_train[b"glove"][0, 19, 299] = np.nan
    sad_test = split(1, positive=False, offset=5)
    # A fork that reads the original by position implies its key order angry, sad, neutral,
    # happy: sad before happy.
    return {
        b"sad": {b"train": split(0, False, 0), b"valid": split(0, False, 0), b"test": sad_test},
        b"happy": {b"train": happy_train, b"valid": split(0, True, 0), b"test": split(0, True, 0)},
    }


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("wb") as f:
        Python2Pickler(f, protocol=2).dump(fixture())
    with OUT.open("rb") as f:  # what LMF's loader does
        loaded = pickle.load(f, encoding="bytes")
    assert loaded[b"happy"][b"train"][b"glove"].shape == (1, 20, 300)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
