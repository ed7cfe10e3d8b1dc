"""Linear Learner's hyperparameter table (SageMaker's 44 entries), its losses, class weights and
the binary classifier's threshold chosen by ``binary_classifier_model_selection_criteria``."""

from __future__ import annotations

from typing import Any

import numpy as np

from algorithms.base import Hyperparameter, HyperparameterError
from algorithms.hyperparameters import MACHINERY, no_effect

PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")
# Linear Learner loss → scikit-learn loss, per predictor type ("auto" first).
LOSSES = {
    "binary_classifier": {"auto": "log_loss", "logistic": "log_loss", "hinge_loss": "hinge"},
    "multiclass_classifier": {"auto": "log_loss", "softmax_loss": "log_loss"},
    "regressor": {
        "auto": "squared_error",
        "squared_loss": "squared_error",
        "absolute_loss": "epsilon_insensitive",
        "eps_insensitive_absolute_loss": "epsilon_insensitive",
        "eps_insensitive_squared_loss": "squared_epsilon_insensitive",
        "huber_loss": "huber",
    },
}
ALL_LOSSES = (
    *dict.fromkeys(name for losses in LOSSES.values() for name in losses),
    "quantile_loss",
)
SELECTION_CRITERIA = (
    "accuracy",
    "f1",
    "f_beta",
    "precision_at_target_recall",
    "recall_at_target_precision",
    "cross_entropy_loss",
    "loss_function",
)
_SGD = "training is scikit-learn SGD with a constant learning rate"

HYPERPARAMETERS = (
    Hyperparameter("predictor_type", "str", required=True, choices=PREDICTOR_TYPES),
    Hyperparameter("num_classes", "int", None, min=3, max=1_000_000),
    Hyperparameter("accuracy_top_k", "int", 3, min=1, max=1_000_000),
    Hyperparameter("balance_multiclass_weights", "bool", False),
    no_effect("beta_1", "float", "auto", _SGD, min=0, max=0.999999, allows_auto=True),
    no_effect("beta_2", "float", "auto", _SGD, min=0, max=0.999999, allows_auto=True),
    no_effect("bias_lr_mult", "float", "auto", _SGD, min=0, min_exclusive=True, allows_auto=True),
    no_effect("bias_wd_mult", "float", "auto", _SGD, min=0, allows_auto=True),
    Hyperparameter(
        "binary_classifier_model_selection_criteria", "str", "accuracy", choices=SELECTION_CRITERIA
    ),
    Hyperparameter("early_stopping_patience", "int", 3, min=1),
    Hyperparameter("early_stopping_tolerance", "float", 0.001, min=0),
    Hyperparameter("epochs", "int", 15, min=1),
    Hyperparameter("f_beta", "float", 1.0, min=0, min_exclusive=True),
    Hyperparameter("feature_dim", "int", "auto", min=1, allows_auto=True),
    Hyperparameter("huber_delta", "float", 1.0, min=0),
    no_effect("init_bias", "float", 0.0, "weights start at 0"),
    no_effect("init_method", "str", "uniform", "weights start at 0", choices=("uniform", "normal")),
    no_effect("init_scale", "float", 0.07, "weights start at 0", min=0, min_exclusive=True),
    no_effect("init_sigma", "float", 0.01, "weights start at 0", min=0, min_exclusive=True),
    Hyperparameter("l1", "float", "auto", min=0, allows_auto=True),
    Hyperparameter("learning_rate", "float", "auto", min=0, min_exclusive=True, allows_auto=True),
    Hyperparameter("loss", "str", "auto", choices=ALL_LOSSES),
    Hyperparameter("loss_insensitivity", "float", 0.01, min=0, min_exclusive=True),
    no_effect(
        "lr_scheduler_factor",
        "float",
        "auto",
        _SGD,
        min=0,
        min_exclusive=True,
        max=0.999999,
        allows_auto=True,
    ),
    no_effect(
        "lr_scheduler_minimum_lr",
        "float",
        "auto",
        _SGD,
        min=0,
        min_exclusive=True,
        allows_auto=True,
    ),
    no_effect("lr_scheduler_step", "int", "auto", _SGD, min=1, allows_auto=True),
    no_effect("margin", "float", 1.0, "the hinge loss's margin is 1", min=0),
    Hyperparameter("mini_batch_size", "int", 1000, min=1),
    no_effect("momentum", "float", "auto", _SGD, min=0, max=0.999999, allows_auto=True),
    Hyperparameter("normalize_data", "bool", True),
    Hyperparameter("normalize_label", "bool", "auto", allows_auto=True),
    no_effect("num_calibration_samples", "int", 10_000_000, "every record calibrates", min=1),
    Hyperparameter("num_models", "int", "auto", min=1, allows_auto=True),
    no_effect("num_point_for_scaler", "int", 10_000, "every record is scaled", min=1),
    no_effect("optimizer", "str", "auto", _SGD, choices=("auto", "sgd", "adam", "rmsprop")),
    Hyperparameter("positive_example_weight_mult", "str", "1.0"),
    Hyperparameter("quantile", "float", 0.5, min=0, min_exclusive=True, max=0.999999),
    Hyperparameter("target_precision", "float", 0.8, min=0, min_exclusive=True, max=0.999999),
    Hyperparameter("target_recall", "float", 0.8, min=0, min_exclusive=True, max=0.999999),
    no_effect("unbias_data", "bool", "auto", "normalize_data centres", allows_auto=True),
    no_effect("unbias_label", "bool", "auto", "normalize_label centres", allows_auto=True),
    Hyperparameter("use_bias", "bool", True),
    no_effect("use_lr_scheduler", "bool", True, _SGD),
    Hyperparameter("wd", "float", "auto", min=0, allows_auto=True),
    *MACHINERY,
)


def check_hyperparameters(values: dict[str, Any]) -> None:
    predictor_type = values["predictor_type"]
    if predictor_type == "multiclass_classifier" and values["num_classes"] is None:
        raise HyperparameterError("num_classes", "is required for multiclass_classifier")
    if predictor_type != "multiclass_classifier" and values["num_classes"] is not None:
        raise HyperparameterError("num_classes", "applies only to multiclass_classifier")
    if values["loss"] == "quantile_loss":
        raise HyperparameterError("loss", "quantile_loss is not supported on this platform")
    if values["loss"] not in LOSSES[predictor_type]:
        raise HyperparameterError(
            "loss",
            f"must be one of {', '.join(LOSSES[predictor_type])} for "
            f"{predictor_type} (got {values['loss']!r})",
        )
    weight = values["positive_example_weight_mult"]
    if weight not in ("auto", "balanced"):
        try:
            number = float(weight)
        except ValueError:
            number = 0.0
        if not number > 0:
            raise HyperparameterError(
                "positive_example_weight_mult",
                f"must be a number greater than 0, auto or balanced (got {weight!r})",
            )


def class_weights(hp: dict[str, Any], labels: np.ndarray) -> dict[int, float] | None:
    """SGD class weights from ``balance_multiclass_weights`` / ``positive_example_weight_mult``."""
    if hp["predictor_type"] == "multiclass_classifier" and hp["balance_multiclass_weights"]:
        counts = np.bincount(labels.astype(np.int64), minlength=hp["num_classes"])
        present = np.maximum(counts, 1)
        return {c: len(labels) / (hp["num_classes"] * present[c]) for c in range(len(counts))}
    if hp["predictor_type"] != "binary_classifier":
        return None
    weight = hp["positive_example_weight_mult"]
    if weight == "auto":
        return None
    if weight == "balanced":
        positives = max(int(np.sum(labels == 1)), 1)
        return {0: 1.0, 1: float(np.sum(labels == 0)) / positives}
    return {0: 1.0, 1: float(weight)}


def choose_threshold(scores: np.ndarray, labels: np.ndarray, hp: dict[str, Any], default: float):
    """The score above which a binary classifier answers 1, chosen on ``scores`` of labelled
    records as ``binary_classifier_model_selection_criteria`` asks (``default`` for the loss
    criteria)."""
    criterion = hp["binary_classifier_model_selection_criteria"]
    if criterion in ("cross_entropy_loss", "loss_function") or len(scores) == 0:
        return default
    order = np.argsort(-scores, kind="stable")
    ranked, positive = scores[order], labels[order] == 1
    # Cut after each distinct score: the records above the cut are answered 1.
    last = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])
    true_pos = np.cumsum(positive)[last].astype(float)
    false_pos = (last + 1) - true_pos
    positives, negatives = float(positive.sum()), float(len(positive) - positive.sum())
    precision = true_pos / (last + 1)
    recall = true_pos / max(positives, 1.0)
    if criterion == "accuracy":
        value = (true_pos + negatives - false_pos) / len(scores)
    elif criterion in ("f1", "f_beta"):
        beta2 = 1.0 if criterion == "f1" else hp["f_beta"] ** 2
        value = (
            (1 + beta2)
            * true_pos
            / np.maximum((1 + beta2) * true_pos + beta2 * (positives - true_pos) + false_pos, 1e-12)
        )
    elif criterion == "precision_at_target_recall":
        value = np.where(recall >= hp["target_recall"], precision, -1 + recall)
    else:
        value = np.where(precision >= hp["target_precision"], recall, -1 + precision)
    best = int(np.argmax(value))
    # Midway between the last score answered 1 and the next, so that both sides keep their answer.
    below = ranked[last[best] + 1] if last[best] + 1 < len(ranked) else ranked[last[best]] - 1.0
    return float((ranked[last[best]] + below) / 2)


# The metric that ranks a binary classifier's candidate models, per selection criterion.
_SELECTION_METRIC = {
    "accuracy": "binary_classification_accuracy",
    "f1": "binary_f_beta",
    "f_beta": "binary_f_beta",
    "precision_at_target_recall": "precision",
    "recall_at_target_precision": "recall",
}


def model_candidates(hp: dict[str, Any]) -> list[dict[str, Any]]:
    """The hyperparameters of each of ``num_models`` models trained side by side (``auto``: one
    here): the first as given, the others with a learning rate and weight decay drawn (seeded)
    where those are ``auto``, and each with its own shuffling."""
    count = 1 if hp["num_models"] == "auto" else hp["num_models"]
    rng = np.random.default_rng(0)
    candidates = [{**hp, "_seed": 0}]
    for seed in range(1, count):
        varied = {**hp, "_seed": seed}
        if hp["learning_rate"] == "auto":
            varied["learning_rate"] = float(10 ** rng.uniform(-3.5, -0.5))
        if hp["wd"] == "auto":
            varied["wd"] = float(10 ** rng.uniform(-6, -2))
        candidates.append(varied)
    return candidates


def selection_score(metrics: dict[str, float], hp: dict[str, Any]) -> float:
    """How good a candidate's evaluation ``metrics`` (unprefixed) are; higher is better."""
    criterion = _SELECTION_METRIC.get(hp["binary_classifier_model_selection_criteria"])
    if hp["predictor_type"] == "binary_classifier" and criterion is not None:
        return metrics[criterion]
    return -metrics["objective_loss"]
