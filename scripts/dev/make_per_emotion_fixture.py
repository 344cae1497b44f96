#!/usr/bin/env python3
"""Dev-only: write tests/fixtures/metrics/per_emotion_cases.json, seed 001's evaluation computed
with scikit-learn.

    pip install scikit-learn numpy
    python3 scripts/dev/make_per_emotion_fixture.py

The reference follows the seed 001 spec (5.4, `eval_iemocap`): per emotion, the threshold of
np.arange(0.05, 1, 0.05) with the best binary F1 (the first on a tie), prediction p > t, then
accuracy_score, recall/precision/f1 of the positive class (zero_division=0) and roc_auc_score per
emotion, plus the balanced accuracy (TPR + TNR) / 2 of the seed's old `weighted_acc`. Thresholds
are tuned on a validation split and applied to a test split, as the seed reports. The unit test
`matches_the_seeds_evaluation` in src/metrics/per_emotion.rs reads the file; deterministic.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fixtures/metrics/per_emotion_cases.json"
SEED = 20261204
GRID = np.arange(0.05, 1.0, 0.05)


def tune(probs, truth):
    out = []
    for e in range(truth.shape[1]):
        scores = [f1_score(truth[:, e], probs[:, e] > t, zero_division=0) for t in GRID]
        out.append(float(GRID[int(np.argmax(scores))]))
    return out


def evaluate(probs, truth, thresholds):
    r = {k: [] for k in ("accuracy", "weighted_accuracy", "recall", "precision", "f1", "auc")}
    for e, t in enumerate(thresholds):
        y, p = truth[:, e], probs[:, e] > t
        r["accuracy"].append(float(accuracy_score(y, p)))
        r["recall"].append(float(recall_score(y, p, zero_division=0)))
        r["precision"].append(float(precision_score(y, p, zero_division=0)))
        r["f1"].append(float(f1_score(y, p, zero_division=0)))
        both = 0 < y.sum() < len(y)
        tpr = (p & y).sum() / y.sum() if both else None
        tnr = (~p & ~y).sum() / (~y).sum() if both else None
        r["weighted_accuracy"].append(float((tpr + tnr) / 2) if both else None)
        r["auc"].append(float(roc_auc_score(y, probs[:, e])) if both else None)
    return r


def one_hot(rng, n, c):
    return np.eye(c, dtype=bool)[rng.integers(0, c, n)]


def cases(rng):
    """(name, valid probs, valid truth, test probs, test truth)."""
    def probs_for(truth, signal):
        noise = rng.random(truth.shape)
        return (signal * truth + (1 - signal) * noise).astype(np.float32)

    v, t = one_hot(rng, 60, 6), one_hot(rng, 50, 6)
    yield "iemocap_like_one_hot", probs_for(v, 0.4), v, probs_for(t, 0.4), t
    v, t = rng.random((50, 6)) < 0.25, rng.random((40, 6)) < 0.25
    yield "mosei_like_multi_hot", probs_for(v, 0.3), v, probs_for(t, 0.3), t
    # Probabilities on a 0.1 grid: ties in the AUC's ranks and probabilities on thresholds.
    v, t = one_hot(rng, 40, 4), one_hot(rng, 40, 4)
    yield "tied_probabilities", np.round(probs_for(v, 0.5), 1), v, np.round(probs_for(t, 0.5), 1), t
    # Emotion 2 never occurs in test: its AUC and balanced accuracy are undefined.
    v = one_hot(rng, 30, 3)
    t = np.zeros((20, 3), dtype=bool)
    t[np.arange(20), rng.integers(0, 2, 20)] = True
    yield "emotion_absent_from_test", probs_for(v, 0.4), v, probs_for(t, 0.4), t


def main():
    rng = np.random.default_rng(SEED)
    out = []
    for name, vp, vt, tp, tt in cases(rng):
        thresholds = tune(vp, vt)
        out.append({
            "name": name,
            "valid_probs": vp.tolist(), "valid_truth": vt.tolist(),
            "test_probs": tp.tolist(), "test_truth": tt.tolist(),
            "thresholds": thresholds,
            "test": evaluate(tp, tt, thresholds),
        })
    OUT.write_text(json.dumps({"sklearn_version": sklearn.__version__, "cases": out}) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
