"""lightgbm: learns, reports per iteration, stops on request, predicts in every content type."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from algorithms import DataError, HyperparameterError
from tests.fakes import RecordingReporter

from ..conftest import channel, invoke_every_type, train, write_csv, write_libsvm

FAST = {"num_threads": "1", "num_boost_round": "30"}


def _channels(tmp_path, features, labels, *, writer=write_csv, content_type="text/csv"):
    writer(tmp_path / "train" / "part-1.csv.gz", features[:300], labels[:300])
    writer(tmp_path / "validation" / "v.csv", features[300:], labels[300:])
    return {
        "train": channel(tmp_path / "train", content_type),
        "validation": channel(tmp_path / "validation", content_type),
    }


def test_binary_classifier_learns_and_reports_each_iteration(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, reporter = train(
        "lightgbm",
        {**FAST, "objective": "binary", "metric": "auc,binary_logloss"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    assert reporter.steps("validation:auc") == list(range(1, 31))
    assert reporter.steps("train:binary_logloss") == list(range(1, 31))
    assert result.final_metrics["validation:auc"] > 0.9
    outputs = invoke_every_type(model, features[300:])
    scores = [record["score"] for record in outputs["records"]]
    assert roc_auc_score(labels[300:], scores) > 0.9
    assert [float(row[0]) for row in outputs["csv"]] == pytest.approx(scores)
    assert [r["predicted_label"] for r in outputs["records"]] == [int(s > 0.5) for s in scores]


def test_regression_from_libsvm(tmp_path, regression_problem) -> None:
    features, target = regression_problem
    channels = _channels(
        tmp_path, features, target, writer=write_libsvm, content_type="text/libsvm"
    )
    result, model, reporter = train(
        "lightgbm", {**FAST, "num_boost_round": "60"}, channels, tmp_path / "model"
    )
    assert "validation:rmse" in reporter.names()
    assert result.final_metrics["validation:rmse"] < 0.5 * target.std()
    predictions = [r["score"] for r in invoke_every_type(model, features[300:])["records"]]
    assert np.sqrt(np.mean((np.array(predictions) - target[300:]) ** 2)) < 0.5 * target.std()


def test_multiclass_gives_class_probabilities(tmp_path, multiclass_problem) -> None:
    features, labels = multiclass_problem
    _, model, _ = train(
        "lightgbm",
        {**FAST, "objective": "multiclass", "num_class": "3"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    records = invoke_every_type(model, features[300:])["records"]
    assert all(len(r["score"]) == 3 and abs(sum(r["score"]) - 1) < 1e-6 for r in records)
    accuracy = np.mean([r["predicted_label"] for r in records] == labels[300:])
    assert accuracy > 0.9


def test_stop_request_ends_training_with_a_usable_model(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    reporter = RecordingReporter(stop_after_checks=3)
    result, model, _ = train(
        "lightgbm",
        {**FAST, "objective": "binary"},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
        reporter,
    )
    assert result.stopped_early
    assert max(reporter.steps("validation:binary_logloss")) == 3
    assert model.booster.num_trees() == 3
    assert len(invoke_every_type(model, features[:5])["records"]) == 5


def _train_until_early_stopping(tmp_path, binary_problem, **more: str):
    """A fast learning rate and 500 rounds: validation stops improving long before the end."""
    features, labels = binary_problem
    hyperparameters = {
        **FAST,
        "objective": "binary",
        "num_boost_round": "500",
        "learning_rate": "0.5",
        "early_stopping_rounds": "5",
        **more,
    }
    return train(
        "lightgbm", hyperparameters, _channels(tmp_path, features, labels), tmp_path / "model"
    )


def test_early_stopping_keeps_the_best_iteration(tmp_path, binary_problem) -> None:
    result, model, reporter = _train_until_early_stopping(tmp_path, binary_problem)
    assert not result.stopped_early
    assert len(reporter.steps("validation:binary_logloss")) < 500
    assert model.booster.num_trees() < len(reporter.steps("validation:binary_logloss"))


def test_a_costly_training_metric_is_taken_less_often_but_the_final_one_is_exact(
    tmp_path, binary_problem, monkeypatch
) -> None:
    """Evaluating the training set may cost more than an iteration (auc over a million rows):
    then it is skipped on most iterations, and still measured on the model that is kept."""
    from algorithms.builtin import boosting

    monkeypatch.setattr(boosting, "CHEAP_EVALUATION_SECONDS", 0.0)  # every evaluation is costly
    monkeypatch.setattr(boosting, "TRAIN_METRIC_SHARE", 0.0)  # and none fits the budget
    result, model, reporter = _train_until_early_stopping(tmp_path, binary_problem)
    features, labels = binary_problem
    validation_steps = reporter.steps("validation:binary_logloss")
    kept = model.booster.num_trees()
    assert validation_steps == list(range(1, kept + 6))  # every iteration, 5 past the best
    assert reporter.steps("train:binary_logloss") == [1, kept]
    probabilities = model.booster.predict(features[:300])
    assert result.final_metrics["train:binary_logloss"] == pytest.approx(
        log_loss(labels[:300], probabilities), rel=1e-6
    )


def test_a_tuning_trials_training_objective_is_taken_every_iteration_however_costly(
    tmp_path, binary_problem, monkeypatch
) -> None:
    """The median rule compares trials iteration by iteration: a trial tuned on a ``train:*``
    metric reports it at each one, as SageMaker requires of the objective."""
    from algorithms.builtin import boosting

    monkeypatch.setattr(boosting, "CHEAP_EVALUATION_SECONDS", 0.0)
    monkeypatch.setattr(boosting, "TRAIN_METRIC_SHARE", 0.0)
    _, model, reporter = _train_until_early_stopping(
        tmp_path, binary_problem, _tuning_objective_metric="train:binary_logloss"
    )
    every_iteration = list(range(1, model.booster.num_trees() + 6))
    assert reporter.steps("train:binary_logloss") == every_iteration
    assert reporter.steps("validation:binary_logloss") == every_iteration


def test_missing_cells_are_fine_but_text_is_not(tmp_path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "a.csv").write_text("1,0.5,\n0,,2\n1,0.7,1\n0,0.1,3\n" * 10 + "1,0.2,high\n")
    with pytest.raises(DataError, match="not a number: 'high'") as caught:
        train("lightgbm", FAST, {"train": channel(folder)}, tmp_path / "model")
    assert (caught.value.source, caught.value.line, caught.value.column) == ("train/a.csv", 41, 3)


def test_class_labels_must_be_class_indices(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    with pytest.raises(DataError, match=r"label 3 in record 1 is not a class index \(0 to 1\)"):
        train(
            "lightgbm",
            {**FAST, "objective": "binary"},
            _channels(tmp_path, features, labels + 2),
            tmp_path / "model",
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"learning_rate": "0"}, "'learning_rate' must be greater than 0"),
        ({"objective": "multiclass"}, "'num_class' must be at least 2"),
        ({"metric": "auc,f1"}, "'metric' must list only"),
        ({"num_round": "10"}, "'num_round' is not a hyperparameter of lightgbm"),
    ],
)
def test_bad_hyperparameters_are_refused(tmp_path, binary_problem, values, message) -> None:
    features, labels = binary_problem
    with pytest.raises(HyperparameterError, match=message):
        train(
            "lightgbm",
            {**FAST, **values},
            _channels(tmp_path, features, labels),
            tmp_path / "model",
        )
