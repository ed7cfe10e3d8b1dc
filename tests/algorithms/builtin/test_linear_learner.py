"""linear-learner: the three predictor types, per-epoch metrics, SageMaker-shaped outputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from algorithms import DataError, HyperparameterError
from tests.fakes import RecordingReporter

from ..conftest import channel, invoke_every_type, train, write_csv

FAST = {"epochs": "6", "mini_batch_size": "50"}


def _channels(tmp_path, features, labels):
    write_csv(tmp_path / "train" / "t.csv", features[:300], labels[:300])
    write_csv(tmp_path / "validation" / "v.csv", features[300:], labels[300:])
    return {"train": channel(tmp_path / "train"), "validation": channel(tmp_path / "validation")}


def test_binary_classifier(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = train(
        "linear-learner",
        {**FAST, "predictor_type": "binary_classifier"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    assert reporter.steps("train:objective_loss") == list(range(1, 7))
    assert reporter.steps("validation:binary_classification_accuracy") == list(range(1, 7))
    assert result.final_metrics["validation:binary_classification_accuracy"] > 0.9
    outputs = invoke_every_type(model, features[300:])
    records = outputs["records"]
    assert set(records[0]) == {"predicted_label", "score"}
    assert roc_auc_score(labels[300:], [r["score"] for r in records]) > 0.95
    assert [int(row[0]) for row in outputs["csv"]] == [r["predicted_label"] for r in records]


def test_regressor_scores_on_the_label_scale(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    result, model, _ = train(
        "linear-learner",
        {**FAST, "predictor_type": "regressor"},
        _channels(tmp_path, features, target),
        tmp_path / "model",
    )
    assert result.final_metrics["validation:rmse"] < 0.3 * target.std()
    records = invoke_every_type(model, features[300:])["records"]
    assert set(records[0]) == {"score"}
    errors = np.array([r["score"] for r in records]) - target[300:]
    assert np.sqrt(np.mean(errors**2)) < 0.3 * target.std()


def test_multiclass_classifier(tmp_path, multiclass_problem) -> None:
    features, labels = multiclass_problem
    result, model, _ = train(
        "linear-learner",
        {**FAST, "predictor_type": "multiclass_classifier", "num_classes": "3"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    assert result.final_metrics["validation:multiclass_accuracy"] > 0.9
    records = invoke_every_type(model, features[300:])["records"]
    assert all(len(r["score"]) == 3 for r in records)


def test_stop_request_ends_after_the_current_epoch(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = train(
        "linear-learner",
        {**FAST, "predictor_type": "binary_classifier"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
        RecordingReporter(stop_after_checks=2),
    )
    assert result.stopped_early and reporter.steps("train:objective_loss") == [1, 2]
    assert len(invoke_every_type(model, features[:4])["records"]) == 4


def test_labels_must_be_zero_or_one_for_binary(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    with pytest.raises(DataError, match="is not a class index") as caught:
        train(
            "linear-learner",
            {**FAST, "predictor_type": "binary_classifier"},
            _channels(tmp_path, features, target),
            tmp_path / "model",
        )
    assert caught.value.source == "train"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "'predictor_type' is required by linear-learner"),
        ({"predictor_type": "ranker"}, "'predictor_type' must be one of"),
        ({"predictor_type": "multiclass_classifier"}, "'num_classes' is required"),
        ({"predictor_type": "regressor", "loss": "logistic"}, "'loss' must be one of auto"),
        ({"predictor_type": "regressor", "feature_dim": "9"}, "'feature_dim' must match"),
        ({"predictor_type": "regressor", "learning_rate": "-1"}, "'learning_rate' must be"),
    ],
)
def test_bad_hyperparameters_are_refused(tmp_path, regression_problem, values, message) -> None:
    features, target = regression_problem
    with pytest.raises(HyperparameterError, match=message):
        train(
            "linear-learner",
            {**FAST, **values},
            _channels(tmp_path, features, target),
            tmp_path / "model",
        )
