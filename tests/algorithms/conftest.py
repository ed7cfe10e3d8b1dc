"""Shared pieces for algorithm tests: synthetic data as files, training as the platform does."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from algorithms import (
    Channel,
    Model,
    TrainingResult,
    load_model,
    parse_hyperparameters,
    resolve_image,
)
from tests.fakes import RecordingReporter


def _open(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return gzip.open(path, "wt") if path.suffix == ".gz" else path.open("w")


def write_csv(path: Path, features: np.ndarray, labels: np.ndarray | None = None) -> Path:
    rows = features if labels is None else np.column_stack([labels, features])
    with _open(path) as file:
        for row in rows:
            file.write(",".join(repr(float(v)) for v in row) + "\n")
    return path


def write_jsonlines(path: Path, features: np.ndarray, labels: np.ndarray) -> Path:
    with _open(path) as file:
        for row, label in zip(features, labels, strict=True):
            file.write(json.dumps({"features": row.tolist(), "label": float(label)}) + "\n")
    return path


def write_libsvm(path: Path, features: np.ndarray, labels: np.ndarray) -> Path:
    with _open(path) as file:
        for row, label in zip(features, labels, strict=True):
            cells = " ".join(f"{i}:{v!r}" for i, v in enumerate(row.tolist()) if v != 0)
            file.write(f"{label:g} {cells}\n")
    return path


def channel(path: Path, content_type: str = "text/csv") -> Channel:
    return Channel(name=path.name, path=path, content_type=content_type)


def csv_channel(folder: Path, labels: np.ndarray, features: np.ndarray) -> Channel:
    """A channel named after ``folder``, holding ``data.csv``: the label, then the features."""
    folder.mkdir()
    np.savetxt(folder / "data.csv", np.column_stack([labels, features]), delimiter=",")
    return Channel(name=folder.name, path=folder)


@pytest.fixture
def binary_problem() -> tuple[np.ndarray, np.ndarray]:
    """400 rows, 5 features; the label is the sign of x0 + x1 (linearly separable)."""
    rng = np.random.default_rng(7)
    features = rng.normal(size=(400, 5))
    return features, (features[:, 0] + features[:, 1] > 0).astype(float)


@pytest.fixture
def regression_problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    features = rng.normal(size=(400, 4))
    target = 3 * features[:, 0] - 2 * features[:, 1] + 0.1 * rng.normal(size=400)
    return features, target


@pytest.fixture
def multiclass_problem() -> tuple[np.ndarray, np.ndarray]:
    """Three well separated blobs, labels 0, 1, 2."""
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0]], dtype=float)
    labels = rng.integers(0, 3, size=360)
    return centres[labels] + rng.normal(size=(360, 3)), labels.astype(float)


def train(
    image: str,
    hyperparameters: dict[str, str],
    channels: dict[str, Channel],
    model_dir: Path,
    reporter: RecordingReporter | None = None,
) -> tuple[TrainingResult, Model, RecordingReporter]:
    """Parse the hyperparameters as the platform does, train, and load the saved model."""
    algorithm = resolve_image(image)
    reporter = reporter or RecordingReporter()
    result = algorithm().train(
        channels=channels,
        hyperparameters=parse_hyperparameters(algorithm, hyperparameters),
        model_dir=model_dir,
        reporter=reporter,
    )
    return result, load_model(model_dir), reporter


def invoke_every_type(model: Model, features: np.ndarray) -> dict[str, list]:
    """Invoke with each content type (blank lines mixed in) and return per-record outputs.

    Checks that line types answer one line per record and that every type agrees.
    """
    csv_body = "\r\n\n".join(",".join(repr(float(v)) for v in row) for row in features)
    jsonl_body = "\n\n".join(json.dumps({"features": row.tolist()}) for row in features)
    json_body = json.dumps({"instances": features.tolist()})
    csv_lines = model.invoke(csv_body.encode(), "text/csv", "text/csv").decode()
    jsonl = model.invoke(jsonl_body.encode(), "application/jsonlines", "application/jsonlines")
    document = json.loads(model.invoke(json_body.encode(), "application/json", "application/json"))
    assert csv_lines.endswith("\n") and csv_lines.count("\n") == len(features)
    records = [json.loads(line) for line in jsonl.decode().splitlines()]
    assert len(records) == len(features)
    (answers,) = document.values()  # {"predictions": ...}, or PCA's "projections", RCF's "scores"
    assert answers == records
    return {
        "csv": [line.split(",") for line in csv_lines.splitlines()],
        "records": records,
    }
