"""kmeans: finds the clusters, reports msd per epoch, answers closest_cluster and distance."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import DataError, HyperparameterError
from tests.fakes import RecordingReporter

from ..conftest import channel, invoke_every_type, train, write_csv


def _blobs(tmp_path, multiclass_problem):
    features, labels = multiclass_problem
    write_csv(tmp_path / "train" / "x.csv", features)
    write_csv(tmp_path / "test" / "x.csv", features[:60])
    return (
        features,
        labels,
        {"train": channel(tmp_path / "train"), "test": channel(tmp_path / "test")},
    )


def test_clusters_match_the_blobs(tmp_path, multiclass_problem) -> None:
    features, labels, channels = _blobs(tmp_path, multiclass_problem)
    result, model, reporter = train(
        "kmeans",
        {
            "k": "3",
            "feature_dim": "3",
            "epochs": "3",
            "mini_batch_size": "100",
            "init_method": "kmeans++",
            "eval_metrics": '["msd", "ssd"]',
        },
        channels,
        tmp_path / "model",
    )
    assert reporter.steps("train:msd") == [1, 2, 3]
    assert {"test:msd", "test:ssd"} <= set(result.final_metrics)
    outputs = invoke_every_type(model, features)
    clusters = np.array([r["closest_cluster"] for r in outputs["records"]])
    # Each true blob maps (all but a stray point or two) to its own cluster.
    majority = [np.bincount(clusters[labels == blob]).argmax() for blob in range(3)]
    assert len(set(majority)) == 3
    agreement = np.mean(clusters == np.array(majority)[labels.astype(int)])
    assert agreement > 0.97
    first = outputs["records"][0]
    assert outputs["csv"][0] == [str(first["closest_cluster"]), str(first["distance_to_cluster"])]
    assert first["distance_to_cluster"] < 5


def test_stop_request_ends_after_the_current_epoch(tmp_path, multiclass_problem) -> None:
    _, _, channels = _blobs(tmp_path, multiclass_problem)
    result, _, reporter = train(
        "kmeans",
        {"k": "3", "feature_dim": "3", "epochs": "10"},
        channels,
        tmp_path / "model",
        RecordingReporter(stop_after_checks=1),
    )
    assert result.stopped_early and reporter.steps("train:msd") == [1]


def test_feature_dim_must_match_the_data(tmp_path, multiclass_problem) -> None:
    _, _, channels = _blobs(tmp_path, multiclass_problem)
    with pytest.raises(HyperparameterError, match="'feature_dim' must match the train channel"):
        train("kmeans", {"k": "3", "feature_dim": "4"}, channels, tmp_path / "model")
    with pytest.raises(HyperparameterError, match="'k' is required by kmeans"):
        train("kmeans", {"feature_dim": "3"}, channels, tmp_path / "model")


def test_missing_values_are_refused_at_inference(tmp_path, multiclass_problem) -> None:
    _, _, channels = _blobs(tmp_path, multiclass_problem)
    _, model, _ = train("kmeans", {"k": "3", "feature_dim": "3"}, channels, tmp_path / "model")
    with pytest.raises(DataError, match="value is missing") as caught:
        model.invoke(b"1,2,3\n4,,6\n", "text/csv", "text/csv")
    assert (caught.value.line, caught.value.column) == (2, 2)
