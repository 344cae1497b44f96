#!/usr/bin/env python3
"""Dev-only: check that real Python and numpy read emo-run's synthetic `iemocap.pkl` the way
LMF's loader reads the original (`pickle.load(f, encoding='bytes')`). Not part of CI (needs
numpy). From the repository root:

    mkdir -p /tmp/synthcheck
    EMO_CMU_SYNTH_CHECK=/tmp/synthcheck cargo test --lib \
        cmu_pickle::synth::tests::write_files_for_the_python_check -- --ignored
    python scripts/dev/check_synthetic_cmu_pickle.py /tmp/synthcheck

The Rust test writes `iemocap_synth.pkl` (with its `.synthetic.json` marker) and
`expected.json`, what the generator put in each array (shape, first row with NaN as null,
NaN-skipping sum). This script checks keys, types, dtypes, shapes and values against them.
"""
import json
import math
import pickle
import sys
from pathlib import Path

import numpy as np

DIMS = {"covarep": (74,), "facet": (35,), "glove": (20, 300), "label": (2,)}
SPLITS = ("train", "valid", "test")


def check_array(where, array, expected):
    assert isinstance(array, np.ndarray), f"{where}: {type(array)}"
    assert array.dtype == np.float32 and array.dtype.byteorder in "<=", f"{where}: {array.dtype}"
    assert array.flags.c_contiguous, f"{where}: not C order"
    assert list(array.shape) == expected["shape"], f"{where}: {array.shape}"
    want = np.array([math.nan if v is None else v for v in expected["first_row"]], np.float32)
    got = array[0].reshape(-1)
    assert np.array_equal(got, want, equal_nan=True), f"{where}: first row differs"
    total = float(np.nansum(array, dtype=np.float64))
    assert math.isclose(total, expected["nansum"], rel_tol=1e-9, abs_tol=1e-9), (
        f"{where}: sum {total} != {expected['nansum']}"
    )


def check_split(where, table, expected, summary):
    assert set(table) == {k.encode() for k in DIMS}, f"{where}: keys {sorted(table)}"
    for key, dims in DIMS.items():
        array = table[key.encode()]
        assert array.shape[1:] == dims, f"{where}/{key}: {array.shape}"
        check_array(f"{where}/{key}", array, expected[key])
    label = table[b"label"]
    assert np.all(label.sum(axis=1) == 1) and np.all((label == 0) | (label == 1)), where
    assert int(label[:, 1].sum()) == summary["positives"], f"{where}: positives"
    nans = int(np.isnan(table[b"covarep"]).sum() + np.isnan(table[b"facet"]).sum())
    assert nans == summary["nan_planted"], f"{where}: {nans} NaNs"
    assert not np.isnan(table[b"glove"]).any(), f"{where}: NaN in glove"
    print(
        f"{where:14} " + " ".join(f"{k}{table[k.encode()].shape}" for k in DIMS)
        + f" {table[b'glove'].dtype} positives={summary['positives']} nans={nans}"
    )


def main(folder: Path) -> None:
    pkl = folder / "iemocap_synth.pkl"
    with pkl.open("rb") as f:  # what LMF's loader does
        data = pickle.load(f, encoding="bytes")
    expected = json.loads((folder / "expected.json").read_text())
    marker = json.loads(Path(f"{pkl}.synthetic.json").read_text())
    assert all(isinstance(k, bytes) for k in data), list(data)
    assert [k.decode() for k in data] == ["angry", "sad", "neutral", "happy"], list(data)
    for emotion, splits in data.items():
        emotion = emotion.decode()
        assert list(splits) == [s.encode() for s in SPLITS], list(splits)
        for split in SPLITS:
            check_split(
                f"{emotion}/{split}",
                splits[split.encode()],
                expected[emotion][split],
                marker["summary"]["emotions"][emotion]["splits"][split],
            )
    print(f"numpy {np.__version__}: {pkl} reads as emo-run wrote it")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
