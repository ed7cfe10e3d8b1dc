"""mlp: a torch multilayer perceptron that learns, reports per epoch, stops and serves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import algorithms
from algorithms.base import Channel, HyperparameterError
from algorithms.builtin.mlp import MLP
from tests.fakes import RecordingReporter

from ..conftest import csv_channel


def rings(rows: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three concentric rings: class = ring index. No linear model separates them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=rows).astype(float)
    angle = rng.uniform(0, 2 * np.pi, size=rows)
    radius = 1.0 + 1.5 * labels + rng.normal(0, 0.15, size=rows)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]), labels


def train(channels, model_dir: Path, reporter: RecordingReporter, **overrides: str):
    """Train with small, fast settings; an override of "" leaves that hyperparameter unset."""
    values = {
        "predictor_type": "multiclass_classifier",
        "num_classes": "3",
        "hidden_sizes": "32,16",
        "epochs": "12",
        "learning_rate": "0.02",
        "mini_batch_size": "64",
        "seed": "11",
        **overrides,
    }
    hyperparameters = algorithms.parse_hyperparameters(
        MLP, {name: value for name, value in values.items() if value != ""}
    )
    return MLP().train(
        channels=channels, hyperparameters=hyperparameters, model_dir=model_dir, reporter=reporter
    )


@pytest.fixture
def ring_channels(tmp_path: Path) -> dict[str, Channel]:
    features, labels = rings(450, seed=1)
    validation_features, validation_labels = rings(150, seed=2)
    return {
        "train": csv_channel(tmp_path / "train", labels, features),
        "validation": csv_channel(tmp_path / "validation", validation_labels, validation_features),
    }


def test_multiclass_learns_reports_each_epoch_and_serves_every_type(tmp_path, ring_channels):
    reporter = RecordingReporter()
    model_dir = tmp_path / "model"

    result = train(ring_channels, model_dir, reporter)

    for name in ("train:loss", "validation:loss", "validation:accuracy"):
        assert [step for step, _ in reporter.series(name)] == list(range(1, 13))
    losses = [value for _, value in reporter.series("train:loss")]
    assert losses[-1] < losses[0] / 2
    assert result.final_metrics["validation:accuracy"] > 0.9

    model = algorithms.load_model(model_dir)
    probe = np.array([[1.0, 0.0], [0.0, -2.5], [-4.0, 0.0], [0.0, 0.9]])
    expected = [0, 1, 2, 0]
    csv = "\n".join(",".join(map(str, row)) for row in probe).encode()
    assert model.invoke(csv, "text/csv", "text/csv").decode().split() == ["0", "1", "2", "0"]
    lines = "\n".join(json.dumps(row) for row in probe.tolist()).encode()
    records = [
        json.loads(line)
        for line in model.invoke(lines, "application/jsonlines", "application/jsonlines").split()
    ]
    assert [record["predicted_label"] for record in records] == expected
    assert all(len(record["score"]) == 3 for record in records)
    assert all(abs(sum(record["score"]) - 1) < 1e-6 for record in records)
    body = json.dumps({"instances": [{"features": row} for row in probe.tolist()]}).encode()
    answer = json.loads(model.invoke(body, "application/json", "application/json"))
    assert [p["predicted_label"] for p in answer["predictions"]] == expected


def test_regressor_reports_rmse_in_label_units_and_predicts_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    features = rng.uniform(-2, 2, size=(400, 2))
    values = 100 + 10 * np.sin(features[:, 0]) + 5 * features[:, 1] ** 2
    channels = {
        "train": csv_channel(tmp_path / "train", values[:300], features[:300]),
        "validation": csv_channel(tmp_path / "validation", values[300:], features[300:]),
    }
    reporter = RecordingReporter()

    train(
        channels,
        tmp_path / "model",
        reporter,
        predictor_type="regressor",
        num_classes="",
        epochs="15",
    )

    rmse = [value for _, value in reporter.series("validation:rmse")]
    assert rmse[-1] < 0.3 * np.std(values)
    model = algorithms.load_model(tmp_path / "model")
    predicted = [float(v) for v in model.invoke(b"0,0\n1.5,-1.5\n", "text/csv", "text/csv").split()]
    truth = [100.0, 100 + 10 * np.sin(1.5) + 5 * 2.25]
    assert all(abs(p - t) < 0.3 * np.std(values) for p, t in zip(predicted, truth, strict=True))


def test_binary_classifier_scores_probabilities(tmp_path: Path) -> None:
    features, rings_labels = rings(300, seed=4)
    labels = (rings_labels == 1).astype(float)  # the middle ring against the others
    reporter = RecordingReporter()

    train(
        {"train": csv_channel(tmp_path / "train", labels, features)},
        tmp_path / "model",
        reporter,
        predictor_type="binary_classifier",
        num_classes="",
        epochs="15",
    )

    model = algorithms.load_model(tmp_path / "model")
    answer = model.invoke(b"0,2.5\n0,1\n", "text/csv", "application/jsonlines").split()
    inside, outside = (json.loads(line) for line in answer)
    assert inside["predicted_label"] == 1 and inside["score"] > 0.5
    assert outside["predicted_label"] == 0 and outside["score"] < 0.5


def test_should_stop_ends_after_the_current_epoch_with_a_usable_model(tmp_path, ring_channels):
    reporter = RecordingReporter(stop_after_epochs=2)

    result = train(ring_channels, tmp_path / "model", reporter)

    assert result.stopped_early
    assert [step for step, _ in reporter.series("train:loss")] == [1, 2]
    assert algorithms.load_model(tmp_path / "model").invoke(b"1,0\n", "text/csv", "text/csv")


def test_early_stopping_keeps_the_best_epoch(tmp_path: Path) -> None:
    features, labels = rings(300, seed=5)
    noise_features, _ = rings(100, seed=6)
    noise_labels = np.random.default_rng(7).integers(0, 3, size=100).astype(float)
    channels = {
        "train": csv_channel(tmp_path / "train", labels, features),
        "validation": csv_channel(tmp_path / "validation", noise_labels, noise_features),
    }
    reporter = RecordingReporter()

    result = train(channels, tmp_path / "model", reporter, epochs="40", early_stopping_patience="2")

    validation_loss = [value for _, value in reporter.series("validation:loss")]
    assert len(validation_loss) < 40
    assert result.final_metrics["validation:loss"] == min(validation_loss)
    assert any("no improvement" in line for line in reporter.lines)


def test_same_seed_same_run(tmp_path: Path, ring_channels) -> None:
    runs = []
    for name in ("a", "b"):
        reporter = RecordingReporter()
        train(ring_channels, tmp_path / name, reporter, epochs="2")
        runs.append(reporter.series("validation:loss"))

    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"hidden_sizes": "64,abc"}, "hidden_sizes"),
        ({"hidden_sizes": "0"}, "hidden_sizes"),
        ({"num_classes": ""}, "num_classes"),
        ({"predictor_type": "regressor"}, "num_classes"),
    ],
)
def test_bad_hyperparameters_name_the_field(overrides, field) -> None:
    values = {"predictor_type": "multiclass_classifier", "num_classes": "3", **overrides}
    values = {key: value for key, value in values.items() if value != ""}
    with pytest.raises(HyperparameterError) as raised:
        algorithms.parse_hyperparameters(MLP, values)
    assert raised.value.name == field
