"""xgboost: SageMaker XGBoost's names in, its metric names and prediction shapes out."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from algorithms import HyperparameterError
from tests.fakes import RecordingReporter

from ..conftest import (
    channel,
    invoke_every_type,
    train,
    write_csv,
    write_jsonlines,
)

FAST = {"nthread": "1", "num_round": "25"}


def _channels(tmp_path, features, labels, *, writer=write_csv, content_type="text/csv"):
    writer(tmp_path / "train" / "t.gz", features[:300], labels[:300])
    writer(tmp_path / "validation" / "v", features[300:], labels[300:])
    return {
        "train": channel(tmp_path / "train", content_type),
        "validation": channel(tmp_path / "validation", content_type),
    }


def test_binary_logistic_reports_xgboost_metric_names(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = train(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        {**FAST, "objective": "binary:logistic", "eval_metric": "auc,logloss", "eta": "0.2"},
        _channels(
            tmp_path, features, labels, writer=write_jsonlines, content_type="application/jsonlines"
        ),
        tmp_path / "model",
    )
    assert reporter.names() == {
        "train:auc",
        "train:logloss",
        "validation:auc",
        "validation:logloss",
    }
    assert reporter.steps("validation:logloss") == list(range(1, 26))
    assert result.final_metrics["validation:auc"] > 0.9
    outputs = invoke_every_type(model, features[300:])
    probabilities = [record["score"] for record in outputs["records"]]
    assert all(0 < p < 1 for p in probabilities)
    assert roc_auc_score(labels[300:], probabilities) > 0.9


def test_squarederror_learns_the_target(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    result, model, reporter = train(
        "xgboost",
        {**FAST, "num_round": "60"},
        _channels(tmp_path, features, target),
        tmp_path / "model",
    )
    assert {"train:rmse", "validation:rmse"} == reporter.names()
    assert result.final_metrics["validation:rmse"] < 0.5 * target.std()
    csv = invoke_every_type(model, features[300:])["csv"]
    assert all(len(row) == 1 for row in csv)


def test_softprob_and_softmax_shapes(tmp_path, multiclass_problem) -> None:
    features, labels = multiclass_problem
    channels = _channels(tmp_path, features, labels)
    _, softprob, reporter = train(
        "xgboost",
        {**FAST, "objective": "multi:softprob", "num_class": "3"},
        channels,
        tmp_path / "softprob",
    )
    assert "validation:mlogloss" in reporter.names()
    outputs = invoke_every_type(softprob, features[300:])
    rows = np.array([record["score"] for record in outputs["records"]])
    assert rows.shape == (60, 3) and np.allclose(rows.sum(axis=1), 1)
    assert all(len(row) == 3 for row in outputs["csv"])  # one CSV column per class
    _, softmax, _ = train(
        "xgboost",
        {**FAST, "objective": "multi:softmax", "num_class": "3"},
        channels,
        tmp_path / "softmax",
    )
    classes = [r["score"] for r in invoke_every_type(softmax, features[300:])["records"]]
    assert classes == rows.argmax(axis=1).astype(float).tolist()
    assert np.mean(np.array(classes) == labels[300:]) > 0.9


def test_stop_request_keeps_the_trees_so_far(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = train(
        "xgboost",
        {**FAST, "objective": "binary:logistic"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
        RecordingReporter(stop_after_checks=2),
    )
    assert result.stopped_early and model.booster.num_trees() == 2
    assert reporter.steps("validation:logloss") == [1, 2]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"eta": "3"}, r"hyperparameter 'eta' must be between 0 and 1 \(got '3'\)"),
        ({"objective": "binary:logitraw"}, "'objective' must be one of"),
        ({"num_class": "3"}, "'num_class' applies only to multi:softprob"),
        ({"num_round": "2.5"}, "'num_round' must be an integer"),
        ({"subsample": "0"}, "'subsample' must be greater than 0"),
    ],
)
def test_bad_hyperparameters_are_refused(tmp_path, binary_problem, values, message) -> None:
    features, labels = binary_problem
    with pytest.raises(HyperparameterError, match=message):
        train(
            "xgboost", {**FAST, **values}, _channels(tmp_path, features, labels), tmp_path / "model"
        )


def test_num_round_is_required(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    with pytest.raises(HyperparameterError, match="'num_round' is required by xgboost"):
        train(
            "xgboost", {"nthread": "1"}, _channels(tmp_path, features, labels), tmp_path / "model"
        )
