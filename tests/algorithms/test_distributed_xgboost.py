"""``xgboost`` on several instances: ``xgboost.dask`` across two Dask workers, shards read where
they train, the metrics XGBoost computes over every row, one model in the single-machine layout."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from algorithms import DataError
from tests.algorithms.test_distributed import _libsvm, _shards, _train
from tests.fakes import RecordingReporter


def _booster(model_dir) -> xgb.Booster:
    return xgb.Booster(model_file=str(model_dir / "xgboost-model"))


def test_xgboost_trains_on_two_shards(tmp_path, dask_client, local_store, binary_problem) -> None:
    features, labels = binary_problem
    result, _, reporter = _train(
        "xgboost",
        {"objective": "binary:logistic", "eval_metric": "logloss,auc", "num_round": "20"},
        _shards(local_store, features, labels, zipped=True),
        tmp_path / "model",
        dask_client,
        local_store,
    )
    names = {"train:logloss", "train:auc", "validation:logloss", "validation:auc"}
    assert reporter.names() == names
    assert reporter.steps("validation:logloss") == list(range(1, 21))
    assert any(line.startswith("[19]#011train-logloss:") for line in reporter.lines)
    assert set(result.final_metrics) == names
    scores = _booster(tmp_path / "model").predict(xgb.DMatrix(features[300:]))
    assert roc_auc_score(labels[300:], scores) > 0.95
    # The reported validation logloss is the whole validation set's, not one worker's.
    logloss = -np.mean(labels[300:] * np.log(scores) + (1 - labels[300:]) * np.log(1 - scores))
    assert result.final_metrics["validation:logloss"] == pytest.approx(logloss, rel=1e-4)


def test_container_metrics_from_libsvm_on_s3(tmp_path, dask_client, s3_store, binary_problem):
    """``accuracy`` is the container's metric: each machine computes it on its rows, and the two
    validation shards hold 50 rows each, so their mean is the whole set's accuracy."""
    features, labels = binary_problem
    result, _, _ = _train(
        "xgboost",
        {"objective": "binary:logistic", "eval_metric": "accuracy", "num_round": "10"},
        _shards(s3_store, features, labels, encode=_libsvm, content_type="text/libsvm"),
        tmp_path / "model",
        dask_client,
        s3_store,
    )
    scores = _booster(tmp_path / "model").predict(xgb.DMatrix(features[300:]))
    accuracy = np.mean((scores > 0.5) == labels[300:])
    assert accuracy > 0.9
    assert result.final_metrics["validation:accuracy"] == pytest.approx(accuracy)


def test_early_stopping_keeps_the_best_iteration(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    noisy = labels.copy()
    noisy[300:] = np.random.default_rng(0).integers(0, 2, size=100)  # nothing to learn there
    result, _, reporter = _train(
        "xgboost",
        {"objective": "binary:logistic", "num_round": "200", "early_stopping_rounds": "3"},
        _shards(local_store, features, noisy),
        tmp_path / "model",
        dask_client,
        local_store,
    )
    steps = reporter.steps("validation:logloss")
    assert len(steps) < 200
    assert _booster(tmp_path / "model").num_boosted_rounds() == len(steps) - 3
    values = [value for name, value, _ in reporter.metrics if name == "validation:logloss"]
    assert result.final_metrics["validation:logloss"] == min(values)


def test_stop_request_ends_every_worker_at_the_same_iteration(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    result, _, reporter = _train(
        "xgboost",
        {"objective": "binary:logistic", "num_round": "50"},
        _shards(local_store, features, labels),
        tmp_path / "model",
        dask_client,
        local_store,
        RecordingReporter(stop_after_checks=4),
    )
    assert result.stopped_early
    assert reporter.steps("validation:logloss") == [1, 2, 3, 4]
    assert _booster(tmp_path / "model").num_boosted_rounds() == 4


def test_labels_are_checked_on_the_workers(
    tmp_path, dask_client, local_store, binary_problem
) -> None:
    features, labels = binary_problem
    wrong = labels.copy()
    wrong[100] = 2  # in the second train object, which instance 2 reads
    with pytest.raises(DataError, match="is not between 0 and 1") as caught:
        _train(
            "xgboost",
            {"objective": "binary:logistic", "num_round": "3"},
            _shards(local_store, features, wrong),
            tmp_path / "model",
            dask_client,
            local_store,
        )
    assert caught.value.source == "train shard of instance 2"
