"""Synthetic CSV the suites write to object storage: labelled files to train on, rows to score,
and what a model answers for those rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def labelled_csv(
    rows: int,
    *,
    seed: int = 0,
    weights: Sequence[float] = (1.0, 0.5, 0.0, 0.0),
    decimals: int = 5,
) -> bytes:
    """A training file: ``label,x1,...,xn`` lines of normal features, one per weight; the label
    is 1 where the weighted sum of the features is positive, else 0."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, len(weights)))
    labels = (features @ np.asarray(weights, dtype=float) > 0).astype(int)
    return "".join(
        f"{label}," + ",".join(f"{x:.{decimals}f}" for x in row) + "\n"
        for label, row in zip(labels, features, strict=True)
    ).encode()


def feature_rows(rows: int, features: int, *, seed: int) -> list[bytes]:
    """Records to score: each ``x1,...,xn`` (normal, four decimals) without its line ending."""
    values = np.random.default_rng(seed).normal(size=(rows, features)).round(4)
    return [",".join(str(v) for v in row).encode() for row in values]


def oracle(model, rows: list[bytes], content_type="text/csv", accept="text/csv") -> bytes:
    """What ``model`` answers in-process for ``rows`` sent as one body: what a transform's output
    must equal."""
    return model.invoke(b"\n".join(rows) + b"\n", content_type, accept)
