"""Dev-only: read a run directory's parquet tables with pyarrow and pandas, the way users'
analysis notebooks do, and check their columns and types. Not part of CI (needs pyarrow).

    python scripts/dev/check_parquet.py runs/quickstart/<run-id>
"""
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

EXPECTED = {
    "metrics.parquet": {
        "stage": "string", "fold": "uint32", "epoch": "uint32", "split": "string",
        "metric": "string", "value": "double", "wall_s": "double",
    },
    "predictions.parquet": {
        "stage": "string", "fold": "uint32", "split": "string", "utterance_id": "string",
        "target": "string", "prediction": "string",
    },
}


def main(run_dir: Path) -> None:
    for name, columns in EXPECTED.items():
        table = pq.read_table(run_dir / name)
        types = {f.name: str(f.type) for f in table.schema}
        for column, kind in columns.items():
            got = types.get(column, "missing")
            # polars writes large strings; both spellings are strings to pandas.
            ok = got == kind or (kind == "string" and got == "large_string")
            assert ok, f"{name}: column {column} is {got}, expected {kind}"
        frame = pd.read_parquet(run_dir / name)
        print(f"{name}: {len(frame)} rows, columns {list(frame.columns)}")
        print(frame.head(3).to_string())
    scores = pd.read_parquet(run_dir / "predictions.parquet")["scores"]
    sums = scores.map(lambda s: float(sum(s)))
    assert ((sums - 1.0).abs() < 1e-4).all(), "each scores list is a probability distribution"
    print("scores: lists of", len(scores.iloc[0]), "probabilities summing to 1")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
