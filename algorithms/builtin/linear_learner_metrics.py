"""Linear Learner's outputs and metrics: SageMaker's ``score`` from a linear map's raw scores, and
the metrics of its tuning table (``objective_loss``, binary ``binary_f_beta``/``precision``/...,
multiclass ``multiclass_top_k_accuracy``/``dcg``/``macro_*``, regression ``mse``/``rmse``/...)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from algorithms.builtin.linear_learner_training import Scaling, loss_values


def outputs_of(raw: np.ndarray, predictor_type: str, loss: str, scaling: Scaling) -> np.ndarray:
    """SageMaker's ``score`` from raw scores ``(rows, outputs)``: a probability (logistic), the
    margin (hinge), class probabilities (softmax) or the label-scale value (regressor)."""
    if predictor_type == "regressor":
        return raw[:, 0] * scaling.label_scale + scaling.label_mean
    if predictor_type == "multiclass_classifier":
        return torch.softmax(torch.as_tensor(raw), dim=1).numpy()
    return 1 / (1 + np.exp(-raw[:, 0])) if loss == "logistic" else raw[:, 0]


def metrics_of(
    raw: np.ndarray,
    labels: np.ndarray,
    hp: dict[str, Any],
    *,
    scaling: Scaling,
    prefix: str,
    threshold: float | None = None,
) -> dict[str, float]:
    """SageMaker's metrics of raw scores ``(rows, outputs)`` against ``labels``, named
    ``<prefix>:<metric>``."""
    predictor_type = hp["predictor_type"]
    score = outputs_of(raw, predictor_type, hp["loss"], scaling)
    if predictor_type == "regressor":  # the loss on the label's own scale
        loss_input = torch.as_tensor(score, dtype=torch.float64)[:, None]
    else:
        loss_input = torch.as_tensor(raw, dtype=torch.float64)
    target = torch.as_tensor(labels, dtype=torch.float64)
    loss = loss_values(loss_input, target, loss=hp["loss"], hp=hp)
    values = {"objective_loss": float(loss.mean())}
    if predictor_type == "regressor":
        errors = score - labels
        values |= {
            "mse": float(np.mean(errors**2)),
            "rmse": float(np.sqrt(np.mean(errors**2))),
            "absolute_loss": float(np.mean(np.abs(errors))),
        }
    elif predictor_type == "binary_classifier":
        if threshold is None:
            threshold = 0.5 if hp["loss"] == "logistic" else 0.0
        values |= _binary_metrics(score, labels == 1, threshold, hp["f_beta"])
    else:
        values |= _multiclass_metrics(score, labels.astype(np.int64), hp)
    return {f"{prefix}:{name}": float(value) for name, value in values.items()}


# Metrics in numpy: they run for every model on every epoch, where scikit-learn's input checks
# cost more than the training step.


def _f_beta(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    denominator = beta**2 * precision + recall
    return np.where(
        denominator > 0, (1 + beta**2) * precision * recall / np.maximum(denominator, 1e-300), 0.0
    )


def _binary_metrics(
    score: np.ndarray, positive: np.ndarray, threshold: float, beta: float
) -> dict[str, float]:
    predicted = score > threshold
    true_positive = float(np.sum(predicted & positive))
    precision = true_positive / max(float(predicted.sum()), 1.0)
    recall = true_positive / max(float(positive.sum()), 1.0)
    values = {
        "binary_classification_accuracy": float(np.mean(predicted == positive)),
        "binary_f_beta": float(_f_beta(np.array(precision), np.array(recall), beta)),
        "precision": precision,
        "recall": recall,
    }
    positives = int(positive.sum())
    if 0 < positives < len(positive):  # the area under the ROC curve, from the scores' ranks
        ranks = rankdata(score)
        negatives = len(positive) - positives
        u = ranks[positive].sum() - positives * (positives + 1) / 2
        values["roc_auc_score"] = float(u / (positives * negatives))
    return values


def _multiclass_metrics(
    probabilities: np.ndarray, labels: np.ndarray, hp: dict[str, Any]
) -> dict[str, float]:
    classes = hp["num_classes"]
    predicted = probabilities.argmax(axis=1)
    # The true class's rank among the scores (1 = the top), for top-k accuracy and DCG.
    true_score = probabilities[np.arange(len(labels)), labels]
    rank = 1 + np.sum(probabilities > true_score[:, None], axis=1)
    hits = np.bincount(labels[predicted == labels], minlength=classes).astype(float)
    precision = hits / np.maximum(np.bincount(predicted, minlength=classes), 1)
    recall = hits / np.maximum(np.bincount(labels, minlength=classes), 1)
    return {
        "multiclass_accuracy": float(np.mean(predicted == labels)),
        "multiclass_top_k_accuracy": float(np.mean(rank <= hp["accuracy_top_k"])),
        "dcg": float(np.mean(1 / np.log2(1 + rank))),
        "macro_f_beta": float(np.mean(_f_beta(precision, recall, hp["f_beta"]))),
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
    }
