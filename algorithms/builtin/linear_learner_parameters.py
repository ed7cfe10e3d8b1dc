"""Linear Learner's hyperparameter table (SageMaker's 44 entries, every one acted on), what its
``auto`` values resolve to here, its losses, record weights, the ``num_models`` candidates, and the
binary classifier's threshold chosen by ``binary_classifier_model_selection_criteria``."""

from __future__ import annotations

from typing import Any

import numpy as np

from algorithms.base import Hyperparameter, HyperparameterError
from algorithms.hyperparameters import MACHINERY

PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")
# The losses each predictor type takes; "auto" is the first after it.
LOSSES = {
    "binary_classifier": ("auto", "logistic", "hinge_loss"),
    "multiclass_classifier": ("auto", "softmax_loss"),
    "regressor": (
        "auto",
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ),
}
ALL_LOSSES = tuple(dict.fromkeys(name for losses in LOSSES.values() for name in losses))
DEFAULT_LOSS = {
    "binary_classifier": "logistic",
    "multiclass_classifier": "softmax_loss",
    "regressor": "squared_loss",
}
OPTIMIZERS = ("auto", "sgd", "adam", "rmsprop")
SELECTION_CRITERIA = (
    "accuracy",
    "f1",
    "f_beta",
    "precision_at_target_recall",
    "recall_at_target_precision",
    "cross_entropy_loss",
    "loss_function",
)
# What "auto" means here, where SageMaker decides from the data. The learning rate is the
# optimizer's; the scheduler's step is one epoch's updates.
AUTO_LEARNING_RATE = {"adam": 0.1, "rmsprop": 0.05, "sgd": 0.05}
AUTO = {
    "optimizer": "adam",
    "wd": 1e-4,
    "l1": 0.0,
    "momentum": 0.9,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "bias_lr_mult": 1.0,
    "bias_wd_mult": 0.0,
    "lr_scheduler_factor": 0.9,
    "lr_scheduler_minimum_lr": 1e-5,
}

HYPERPARAMETERS = (
    Hyperparameter("predictor_type", "str", required=True, choices=PREDICTOR_TYPES),
    Hyperparameter("num_classes", "int", None, min=3, max=1_000_000),
    Hyperparameter("accuracy_top_k", "int", 3, min=1, max=1_000_000),
    Hyperparameter("balance_multiclass_weights", "bool", False),
    Hyperparameter("beta_1", "float", "auto", min=0, max=0.999999, allows_auto=True),
    Hyperparameter("beta_2", "float", "auto", min=0, max=0.999999, allows_auto=True),
    Hyperparameter("bias_lr_mult", "float", "auto", min=0, min_exclusive=True, allows_auto=True),
    Hyperparameter("bias_wd_mult", "float", "auto", min=0, allows_auto=True),
    Hyperparameter(
        "binary_classifier_model_selection_criteria", "str", "accuracy", choices=SELECTION_CRITERIA
    ),
    Hyperparameter("early_stopping_patience", "int", 3, min=1),
    Hyperparameter("early_stopping_tolerance", "float", 0.001, min=0),
    Hyperparameter("epochs", "int", 15, min=1),
    Hyperparameter("f_beta", "float", 1.0, min=0, min_exclusive=True),
    Hyperparameter("feature_dim", "int", "auto", min=1, allows_auto=True),
    Hyperparameter("huber_delta", "float", 1.0, min=0),
    Hyperparameter("init_bias", "float", 0.0),
    Hyperparameter("init_method", "str", "uniform", choices=("uniform", "normal")),
    Hyperparameter("init_scale", "float", 0.07, min=0, min_exclusive=True),
    Hyperparameter("init_sigma", "float", 0.01, min=0, min_exclusive=True),
    Hyperparameter("l1", "float", "auto", min=0, allows_auto=True),
    Hyperparameter("learning_rate", "float", "auto", min=0, min_exclusive=True, allows_auto=True),
    Hyperparameter("loss", "str", "auto", choices=ALL_LOSSES),
    Hyperparameter("loss_insensitivity", "float", 0.01, min=0, min_exclusive=True),
    Hyperparameter(
        "lr_scheduler_factor",
        "float",
        "auto",
        min=0,
        min_exclusive=True,
        max=0.999999,
        allows_auto=True,
    ),
    Hyperparameter(
        "lr_scheduler_minimum_lr",
        "float",
        "auto",
        min=0,
        min_exclusive=True,
        allows_auto=True,
    ),
    Hyperparameter("lr_scheduler_step", "int", "auto", min=1, allows_auto=True),
    Hyperparameter("margin", "float", 1.0, min=0),
    Hyperparameter("mini_batch_size", "int", 1000, min=1),
    Hyperparameter("momentum", "float", "auto", min=0, max=0.999999, allows_auto=True),
    Hyperparameter("normalize_data", "bool", True),
    Hyperparameter("normalize_label", "bool", "auto", allows_auto=True),
    Hyperparameter("num_calibration_samples", "int", 10_000_000, min=1),
    Hyperparameter("num_models", "int", "auto", min=1, allows_auto=True),
    Hyperparameter("num_point_for_scaler", "int", 10_000, min=1),
    Hyperparameter("optimizer", "str", "auto", choices=OPTIMIZERS),
    Hyperparameter("positive_example_weight_mult", "str", "1.0"),
    Hyperparameter("quantile", "float", 0.5, min=0, min_exclusive=True, max=0.999999),
    Hyperparameter("target_precision", "float", 0.8, min=0, min_exclusive=True, max=0.999999),
    Hyperparameter("target_recall", "float", 0.8, min=0, min_exclusive=True, max=0.999999),
    Hyperparameter("unbias_data", "bool", "auto", allows_auto=True),
    Hyperparameter("unbias_label", "bool", "auto", allows_auto=True),
    Hyperparameter("use_bias", "bool", True),
    Hyperparameter("use_lr_scheduler", "bool", True),
    Hyperparameter("wd", "float", "auto", min=0, allows_auto=True),
    *MACHINERY,
)


def check_hyperparameters(values: dict[str, Any]) -> None:
    predictor_type = values["predictor_type"]
    if predictor_type == "multiclass_classifier" and values["num_classes"] is None:
        raise HyperparameterError("num_classes", "is required for multiclass_classifier")
    if predictor_type != "multiclass_classifier" and values["num_classes"] is not None:
        raise HyperparameterError("num_classes", "applies only to multiclass_classifier")
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


def record_weights(hp: dict[str, Any], labels: np.ndarray) -> np.ndarray | None:
    """Each training record's weight in the loss, from ``balance_multiclass_weights`` or
    ``positive_example_weight_mult`` (None: all equal)."""
    classes = labels.astype(np.int64)
    if hp["predictor_type"] == "multiclass_classifier" and hp["balance_multiclass_weights"]:
        counts = np.maximum(np.bincount(classes, minlength=hp["num_classes"]), 1)
        return (len(labels) / (hp["num_classes"] * counts))[classes]
    if hp["predictor_type"] != "binary_classifier":
        return None
    weight = hp["positive_example_weight_mult"]
    if weight == "auto":
        return None
    if weight == "balanced":
        positive = float(np.sum(labels == 1)) or 1.0
        weight = float(np.sum(labels == 0)) / positive
    return np.where(classes == 1, float(weight), 1.0)


def choose_threshold(scores: np.ndarray, labels: np.ndarray, hp: dict[str, Any], default: float):
    """The score above which a binary classifier answers 1, chosen on ``scores`` of labelled
    records as ``binary_classifier_model_selection_criteria`` asks (``default`` for the loss
    criteria)."""
    criterion = hp["binary_classifier_model_selection_criteria"]
    if criterion in ("cross_entropy_loss", "loss_function") or len(scores) == 0:
        return default
    scores, labels = (
        scores[: hp["num_calibration_samples"]],
        labels[: hp["num_calibration_samples"]],
    )
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


def resolve_auto(hp: dict[str, Any], *, rows: int) -> dict[str, Any]:
    """``hp`` with every ``auto`` this platform decides replaced by its value (see ``AUTO``)."""
    resolved = {**hp}
    if resolved["loss"] == "auto":
        resolved["loss"] = DEFAULT_LOSS[hp["predictor_type"]]
    for name, value in AUTO.items():
        if resolved[name] == "auto":
            resolved[name] = value
    if resolved["learning_rate"] == "auto":
        resolved["learning_rate"] = AUTO_LEARNING_RATE[resolved["optimizer"]]
    if resolved["lr_scheduler_step"] == "auto":
        resolved["lr_scheduler_step"] = max(1, -(-rows // hp["mini_batch_size"]))
    return resolved


def model_candidates(hp: dict[str, Any], *, rows: int) -> list[dict[str, Any]]:
    """The hyperparameters of each of ``num_models`` models trained side by side (``auto``: one
    here): the first as given, the others with a learning rate, weight decay and L1 drawn
    (seeded) where those are ``auto``."""
    count = 1 if hp["num_models"] == "auto" else hp["num_models"]
    rng = np.random.default_rng(0)
    first = resolve_auto(hp, rows=rows)
    candidates = [first]
    for _ in range(1, count):
        varied = {**first}
        if hp["learning_rate"] == "auto":
            varied["learning_rate"] = float(first["learning_rate"] * 10 ** rng.uniform(-1.5, 1))
        if hp["wd"] == "auto":
            varied["wd"] = float(10 ** rng.uniform(-7, -2))
        if hp["l1"] == "auto":
            varied["l1"] = float(rng.choice([0.0, 10 ** rng.uniform(-7, -3)]))
        candidates.append(varied)
    return candidates


def selection_score(metrics: dict[str, float], hp: dict[str, Any]) -> float:
    """How good a candidate's evaluation ``metrics`` (unprefixed) are; higher is better."""
    criterion = _SELECTION_METRIC.get(hp["binary_classifier_model_selection_criteria"])
    if hp["predictor_type"] == "binary_classifier" and criterion is not None:
        return metrics[criterion]
    return -metrics["objective_loss"]
