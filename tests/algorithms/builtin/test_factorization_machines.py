"""factorization-machines: SageMaker's FM in torch learns pairwise interactions and serves them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

import algorithms
from algorithms.base import Channel, HyperparameterError
from algorithms.builtin.factorization_machines import FactorizationMachines
from tests.fakes import RecordingReporter

from ..conftest import csv_channel


def interaction_data(rows: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels that depend on a product of two features: a linear model cannot fit them."""
    rng = np.random.default_rng(seed)
    features = rng.choice([0.0, 1.0], size=(rows, 6))
    values = 2.0 * features[:, 0] * features[:, 1] - 1.5 * features[:, 2] * features[:, 3]
    return features, values


def train(channels: dict[str, Channel], model_dir: Path, reporter=None, **overrides) -> object:
    hyperparameters = algorithms.parse_hyperparameters(
        FactorizationMachines,
        {
            "feature_dim": "6",
            "num_factors": "4",
            "predictor_type": "regressor",
            "epochs": "15",
            "mini_batch_size": "50",
            "bias_lr": "0.1",
            "linear_lr": "0.1",
            "factors_lr": "0.1",
            "factors_init_sigma": "0.1",
            "factors_wd": "0",
            "linear_wd": "0",
            "bias_wd": "0",
            "seed": "3",
            **overrides,
        },
    )
    return FactorizationMachines().train(
        channels=channels,
        hyperparameters=hyperparameters,
        model_dir=model_dir,
        reporter=reporter or RecordingReporter(),
    )


def test_regressor_learns_interactions_and_reports_each_epoch(tmp_path: Path) -> None:
    features, values = interaction_data(400, seed=1)
    test_features, test_values = interaction_data(100, seed=2)
    channels = {
        "train": csv_channel(tmp_path / "train", values, features),
        "test": csv_channel(tmp_path / "test", test_values, test_features),
    }
    reporter = RecordingReporter()

    result = train(channels, tmp_path / "model", reporter)

    rmse = reporter.series("test:rmse")
    assert [step for step, _ in rmse] == list(range(1, 16))
    assert rmse[-1][1] < 0.25 * np.std(test_values)  # far better than predicting the mean
    assert result.final_metrics["test:rmse"] == rmse[-1][1]
    assert not result.stopped_early


def test_binary_classifier_serves_score_and_label_per_record(tmp_path: Path) -> None:
    features, values = interaction_data(400, seed=4)
    labels = (values > 0).astype(float)
    model_dir = tmp_path / "model"
    reporter = RecordingReporter()
    train(
        {"train": csv_channel(tmp_path / "train", labels, features)},
        model_dir,
        reporter,
        predictor_type="binary_classifier",
    )
    assert reporter.series("train:binary_classification_accuracy")[-1][1] > 0.95

    model = algorithms.load_model(model_dir)
    probe = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [1, 1, 1, 0, 1, 1]], dtype=float)
    expected = [1, 0, 1]
    csv = "\n".join(",".join(map(str, row)) for row in probe).encode()
    assert model.invoke(csv, "text/csv", "text/csv").decode().split() == ["1", "0", "1"]
    lines = "\n".join(json.dumps({"features": row}) for row in probe.tolist()).encode()
    records = [
        json.loads(line)
        for line in model.invoke(lines, "application/jsonlines", "application/jsonlines").split()
    ]
    assert [record["predicted_label"] for record in records] == expected
    assert all(
        (record["score"] > 0.5) == bool(label)
        for record, label in zip(records, expected, strict=True)
    )
    body = json.dumps({"instances": [{"features": row} for row in probe.tolist()]}).encode()
    predictions = json.loads(model.invoke(body, "application/json", "application/json"))
    assert [p["predicted_label"] for p in predictions["predictions"]] == expected


def test_sparse_libsvm_training_matches_the_data(tmp_path: Path) -> None:
    features, values = interaction_data(300, seed=5)
    folder = tmp_path / "train"
    folder.mkdir()
    dump_svmlight_file(features, values, str(folder / "part.libsvm"), zero_based=True)
    channel = Channel(name="train", path=folder, content_type="text/libsvm")
    reporter = RecordingReporter()

    train({"train": channel}, tmp_path / "model", reporter, epochs="10")

    assert reporter.series("train:rmse")[-1][1] < 0.25 * np.std(values)


def test_should_stop_ends_training_after_the_current_epoch(tmp_path: Path) -> None:
    features, values = interaction_data(200, seed=6)
    reporter = RecordingReporter(stop_after_metrics=2)  # train:rmse of epochs 1 and 2

    result = train(
        {"train": csv_channel(tmp_path / "train", values, features)}, tmp_path / "model", reporter
    )

    assert result.stopped_early
    assert [step for step, _ in reporter.series("train:rmse")] == [1, 2]
    assert algorithms.load_model(tmp_path / "model").invoke(b"1,1,0,0,0,0\n", "text/csv", "")


def test_same_seed_same_model(tmp_path: Path) -> None:
    features, values = interaction_data(200, seed=7)
    channels = {"train": csv_channel(tmp_path / "train", values, features)}
    runs = []
    for name in ("a", "b"):
        reporter = RecordingReporter()
        train(channels, tmp_path / name, reporter, epochs="3")
        runs.append(reporter.series("train:rmse"))

    assert runs[0] == runs[1]


def test_feature_dim_must_match_the_data(tmp_path: Path) -> None:
    features, values = interaction_data(50, seed=8)
    with pytest.raises(HyperparameterError, match="feature_dim"):
        train(
            {"train": csv_channel(tmp_path / "train", values, features)},
            tmp_path / "model",
            feature_dim="10",
        )


def test_uniform_init_needs_a_scale() -> None:
    with pytest.raises(HyperparameterError, match="factors_init_scale"):
        algorithms.parse_hyperparameters(
            FactorizationMachines,
            {
                "feature_dim": "6",
                "num_factors": "4",
                "predictor_type": "regressor",
                "factors_init_method": "uniform",
            },
        )
