"""linear-learner: the three predictor types, softmax multiclass, SageMaker's optimizers and losses,
per-epoch metrics under SageMaker's names, SageMaker-shaped outputs."""

from __future__ import annotations

import json

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


def test_multiclass_classifier_is_a_softmax_with_sagemakers_answers_and_metrics(
    tmp_path, multiclass_problem
) -> None:
    features, labels = multiclass_problem
    result, model, reporter = train(
        "linear-learner",
        {
            **FAST,
            "predictor_type": "multiclass_classifier",
            "num_classes": "3",
            "loss": "softmax_loss",
            "balance_multiclass_weights": "true",
            "accuracy_top_k": "2",
        },
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    for name in (
        "multiclass_accuracy",
        "multiclass_top_k_accuracy",
        "dcg",
        "macro_f_beta",
        "macro_precision",
        "macro_recall",
        "objective_loss",
    ):
        assert reporter.steps(f"validation:{name}") == list(range(1, 7))
    assert result.final_metrics["validation:multiclass_accuracy"] > 0.9
    assert (
        result.final_metrics["validation:multiclass_top_k_accuracy"]
        >= (result.final_metrics["validation:multiclass_accuracy"])
    )
    body = json.dumps({"instances": features[300:].tolist()}).encode()
    answer = json.loads(model.invoke(body, "application/json", "application/json"))
    (predictions,) = answer.values()
    assert set(answer) == {"predictions"} and len(predictions) == 60
    scores = np.array([p["score"] for p in predictions])
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)  # one softmax over classes
    assert [p["predicted_label"] for p in predictions] == scores.argmax(axis=1).tolist()
    assert all(isinstance(p["predicted_label"], int) for p in predictions)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "auto"])
def test_each_optimizer_learns(tmp_path, binary_problem, optimizer) -> None:
    features, labels = binary_problem
    result, _, _ = train(
        "linear-learner",
        {**FAST, "predictor_type": "binary_classifier", "optimizer": optimizer},
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    assert result.final_metrics["validation:binary_classification_accuracy"] > 0.9


@pytest.mark.parametrize(
    "loss",
    [
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "huber_loss",
    ],
)
def test_each_regression_loss_learns(tmp_path, regression_problem, loss) -> None:
    features, target = regression_problem
    result, _, _ = train(
        "linear-learner",
        {**FAST, "predictor_type": "regressor", "loss": loss},
        _channels(tmp_path, features, target),
        tmp_path / "model",
    )
    assert result.final_metrics["validation:rmse"] < 0.3 * target.std()


def test_quantile_loss_predicts_the_quantile(tmp_path) -> None:
    rng = np.random.default_rng(2)
    features = rng.normal(size=(400, 2))
    target = features[:, 0] + rng.normal(size=400)  # noise of sd 1 around x0
    _, model, _ = train(
        "linear-learner",
        {
            "epochs": "15",
            "mini_batch_size": "50",
            "predictor_type": "regressor",
            "loss": "quantile_loss",
            "quantile": "0.9",
        },
        _channels(tmp_path, features, target),
        tmp_path / "model",
    )
    scores = np.array([r["score"] for r in invoke_every_type(model, features)["records"]])
    assert 0.8 < np.mean(target < scores) < 0.97


def test_hinge_loss_scores_the_margin(tmp_path, binary_problem) -> None:
    features, labels = binary_problem
    result, model, _ = train(
        "linear-learner",
        {
            **FAST,
            "predictor_type": "binary_classifier",
            "loss": "hinge_loss",
            "binary_classifier_model_selection_criteria": "loss_function",
        },
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    assert result.final_metrics["validation:binary_classification_accuracy"] > 0.9
    records = invoke_every_type(model, features[300:])["records"]
    scores = np.array([r["score"] for r in records])
    assert scores.min() < -1 and scores.max() > 1  # a margin, not a probability
    assert [r["predicted_label"] for r in records] == (scores > 0).astype(int).tolist()


def test_num_models_train_in_one_pass_and_the_criterion_keeps_one(tmp_path, binary_problem):
    features, labels = binary_problem
    result, _, reporter = train(
        "linear-learner",
        {
            **FAST,
            "predictor_type": "binary_classifier",
            "num_models": "5",
            "binary_classifier_model_selection_criteria": "f_beta",
            "f_beta": "2",
        },
        _channels(tmp_path, features, labels),
        tmp_path / "model",
    )
    # Every model logs each epoch; one curve is reported; the kept one is named.
    assert sum(line.startswith("model 5 epoch ") for line in reporter.lines) == 6
    assert reporter.steps("validation:binary_f_beta") == list(range(1, 7))
    assert sum(line.startswith("kept model ") for line in reporter.lines) == 1
    assert any("chosen by f_beta" in line for line in reporter.lines)
    assert result.final_metrics["validation:binary_f_beta"] > 0.9


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
        ({"predictor_type": "binary_classifier", "loss": "softmax_loss"}, "for binary_classifier"),
        ({"predictor_type": "regressor", "optimizer": "lbfgs"}, "'optimizer' must be one of"),
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
