#!/usr/bin/env python3
"""Dev-only: write tests/fixtures/metrics/sklearn_cases.json with scikit-learn's own numbers.

    pip install scikit-learn numpy
    python3 scripts/dev/make_metrics_fixture.py

The unit test `matches_scikit_learn` in src/metrics/classification.rs compares emo-run's
metrics with these values, so the Rust tests never need Python. Re-run this script only to
add cases or to re-check against a newer scikit-learn; the output is deterministic (fixed seed).
"""
import json
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fixtures/metrics/sklearn_cases.json"
SEED = 20261121


def noisy(rng, y, n_classes, keep):
    """Predictions equal to `y` with probability `keep`, otherwise a uniform random class."""
    return np.where(rng.random(len(y)) < keep, y, rng.integers(0, n_classes, len(y)))


def cases(rng):
    """(name, y_true, y_pred, n_classes) for every fixture case."""
    yield "random_7_classes", rng.integers(0, 7, 60), rng.integers(0, 7, 60), 7
    # KEMDy-like: ~90% of the targets are class 0 (neutral).
    y = np.where(rng.random(80) < 0.9, 0, rng.integers(1, 7, 80))
    yield "kemdy_like_imbalanced", y, noisy(rng, y, 7, 0.8), 7
    yield "class_absent_from_targets", [0, 0, 1, 1, 0, 1], [0, 2, 1, 2, 0, 0], 3
    yield "class_never_predicted", [0, 1, 2, 2, 1, 0, 2], [0, 1, 1, 1, 1, 0, 0], 3
    yield "class_absent_everywhere", [0, 1, 0, 1, 1], [0, 1, 1, 1, 0], 4
    yield "perfect", [0, 1, 2, 3, 2, 1], [0, 1, 2, 3, 2, 1], 4
    yield "all_wrong", [0, 0, 1, 1, 2], [1, 2, 0, 2, 0], 3
    yield "two_classes", rng.integers(0, 2, 25), rng.integers(0, 2, 25), 2
    yield "single_sample", [3], [3], 7
    yield "labels_beyond_present", [0, 1, 1, 0], [1, 1, 1, 0], 7
    # A collapsed model that predicts the majority class for everything.
    y = np.where(rng.random(40) < 0.6, 0, rng.integers(1, 4, 40))
    yield "collapsed_to_majority", y, np.zeros(40, dtype=int), 4
    y = rng.integers(0, 5, 200)
    yield "mostly_right_5_classes", y, noisy(rng, y, 5, 0.7), 5
    # More than 8 classes, so numpy's pairwise summation takes its unrolled path.
    y = rng.integers(0, 11, 150)
    yield "eleven_classes", y, noisy(rng, y, 11, 0.5), 11


def sklearn_numbers(y, p, n):
    labels = list(range(n))
    kw = dict(labels=labels, zero_division=0)
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, average=None, **kw)
    with warnings.catch_warnings():
        # balanced_accuracy_score warns when y_pred has classes that y_true lacks, and then
        # ignores them: that convention is what the Rust side must reproduce.
        warnings.simplefilter("ignore")
        balanced = balanced_accuracy_score(y, p)
    return {
        "accuracy": float(accuracy_score(y, p)),
        "balanced_accuracy": float(balanced),
        "f1_weighted": float(f1_score(y, p, average="weighted", **kw)),
        "f1_macro": float(f1_score(y, p, average="macro", **kw)),
        "precision_weighted": float(precision_score(y, p, average="weighted", **kw)),
        "precision_macro": float(precision_score(y, p, average="macro", **kw)),
        "recall_weighted": float(recall_score(y, p, average="weighted", **kw)),
        "recall_macro": float(recall_score(y, p, average="macro", **kw)),
        "per_class": {
            "precision": prec.tolist(),
            "recall": rec.tolist(),
            "f1": f1.tolist(),
            # Integers: sklearn hands support back as floats in some cases (e.g. no tp at all).
            "support": [int(v) for v in sup],
        },
        "confusion": confusion_matrix(y, p, labels=labels).tolist(),
    }


def compact(obj, indent=1):
    """Pretty JSON, but with lists of numbers kept on one line so the file stays small."""
    placeholder = {}

    def fold(value):
        if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
            key = f"@@{len(placeholder)}@@"
            placeholder[key] = json.dumps(value)
            return key
        if isinstance(value, list):
            return [fold(v) for v in value]
        if isinstance(value, dict):
            return {k: fold(v) for k, v in value.items()}
        return value

    text = json.dumps(fold(obj), indent=indent)
    for key, flat in placeholder.items():
        text = text.replace(f'"{key}"', flat)
    return text


def main():
    rng = np.random.default_rng(SEED)
    out = {
        "generator": "scripts/dev/make_metrics_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "cases": [],
    }
    for name, y, p, n in cases(rng):
        y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=int)
        out["cases"].append(
            {
                "name": name,
                "n_classes": n,
                "y_true": [int(v) for v in y],
                "y_pred": [int(v) for v in p],
                "sklearn": sklearn_numbers(y, p, n),
            }
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(compact(out) + "\n")
    print(f"wrote {len(out['cases'])} cases to {OUT} (scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
