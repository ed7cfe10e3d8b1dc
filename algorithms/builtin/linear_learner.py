"""``linear-learner``: SageMaker Linear Learner's hyperparameters and outputs, on scikit-learn SGD.

Mini-batch SGD (``SGDClassifier``/``SGDRegressor.partial_fit``) over ``epochs``, features (and a
regressor's labels) standardised first. Multiclass uses one-vs-rest logistic models rather than
a softmax. ``auto`` resolves to: learning_rate 0.01 (constant), l1 0, wd 1e-4. With a validation
channel, the epoch with the best ``objective_loss`` is kept and training stops after
``early_stopping_patience`` epochs without improvement. A binary classifier's threshold is then
chosen on the validation channel (else the train channel) by
``binary_classifier_model_selection_criteria``, as SageMaker's is; a ``test`` channel is scored
once at the end (``test:*`` metrics). Outputs ``predicted_label`` and ``score`` for classifiers,
``score`` for regressors; a CSV line carries the first of these.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.preprocessing import StandardScaler

from algorithms.base import (
    Algorithm,
    Channel,
    DataError,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.builtin.fitted import LIBRARIES, load_fitted, save_fitted
from algorithms.builtin.linear_learner_parameters import (
    HYPERPARAMETERS,
    LOSSES,
    check_hyperparameters,
    choose_threshold,
    class_weights,
    model_candidates,
    selection_score,
)
from algorithms.codecs import Predictions
from algorithms.data import Dataset, read_channel, split_channels
from algorithms.hyperparameters import check_feature_dim, log_moot_values
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register


@register("linear-learner")
class LinearLearner(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = (
        "train:objective_loss",
        *(
            f"{channel}:{name}"
            for channel in ("validation", "test")
            for name in (
                "objective_loss",
                "binary_classification_accuracy",
                "binary_f_beta",
                "precision",
                "recall",
                "roc_auc_score",
                "multiclass_accuracy",
                "multiclass_top_k_accuracy",
                "mse",
                "rmse",
                "absolute_loss",
            )
        ),
    )
    hyperparameters = HYPERPARAMETERS

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        check_hyperparameters(values)

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        hp = hyperparameters
        log_moot_values(self.hyperparameters, hp, reporter.log)
        split_channels(channels, evaluation=("validation", "test"))
        train = read_channel(channels["train"])
        check_feature_dim(hp["feature_dim"], train.feature_count)
        validation, test = (
            read_channel(channels[name], feature_count=train.feature_count)
            if name in channels
            else None
            for name in ("validation", "test")
        )
        for dataset, name in ((train, "train"), (validation, "validation"), (test, "test")):
            if dataset is not None:
                _check_labels(dataset, hp, source=name)
        candidates = model_candidates(hp)
        results = []
        for candidate in candidates:
            live = len(candidates) == 1
            results.append(_train_one(candidate, train, validation, reporter, live=live))
            if results[-1].stopped:
                break
        scores = []
        for result in results:
            if hp["predictor_type"] == "binary_classifier":
                result.fitted["threshold"] = _threshold(result.fitted, validation or train, hp)
            model = LinearModel(result.fitted, feature_count=train.feature_count)
            evaluated = _evaluate(model, validation or train, hp, prefix="")
            scores.append(selection_score({k[1:]: v for k, v in evaluated.items()}, hp))
        kept = results[int(np.argmax(scores))]
        if len(candidates) > 1:
            reporter.log(f"kept model {int(np.argmax(scores)) + 1} of {len(results)} trained")
            for epoch, metrics in kept.history:
                for name, value in metrics.items():
                    reporter.metric(name, value, step=epoch)
        fitted, final_metrics, epoch, stopped = kept.fitted, kept.metrics, kept.epoch, kept.stopped
        if "threshold" in fitted:
            reporter.log(
                f"threshold {fitted['threshold']:.6g} chosen by "
                f"{hp['binary_classifier_model_selection_criteria']}"
            )
        if test is not None:
            scored = LinearModel(fitted, feature_count=train.feature_count)
            tested = _evaluate(scored, test, hp, prefix="test")
            for name, value in tested.items():
                reporter.metric(name, value, step=epoch)
            final_metrics = {**final_metrics, **tested}
        save_fitted(model_dir, fitted)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics=final_metrics, stopped_early=stopped)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        fitted = load_fitted(model_dir)
        return LinearModel(fitted, feature_count=fitted["scaler"].n_features_in_)


@dataclass
class _Trained:
    fitted: dict[str, Any]
    metrics: dict[str, float]
    history: list[tuple[int, dict[str, float]]]
    epoch: int
    stopped: bool


def _train_one(
    hp: dict[str, Any],
    train: Dataset,
    validation: Dataset | None,
    reporter: Reporter,
    *,
    live: bool,
) -> _Trained:
    """One model's epochs, the best epoch kept; its metrics reported as they come when ``live``
    (one model), else kept in its history for the chosen model's report."""
    fit = _Fit(hp, train)
    best: tuple[float, Any, dict[str, float]] = (np.inf, None, {})
    history: list[tuple[int, dict[str, float]]] = []
    patience, stopped, epoch = 0, False, 0
    for epoch in range(1, hp["epochs"] + 1):
        fit.epoch()
        metrics = {"train:objective_loss": fit.objective_loss(train)}
        if validation is not None:
            metrics |= fit.evaluate(validation, prefix="validation")
        history.append((epoch, metrics))
        if live:
            for name, value in metrics.items():
                reporter.metric(name, value, step=epoch)
        model = "" if live else f"model {hp['_seed'] + 1} "
        summary = " ".join(f"{k}={v:.6g}" for k, v in metrics.items())
        reporter.log(f"{model}epoch {epoch}: {summary}")
        watched = metrics.get("validation:objective_loss", metrics["train:objective_loss"])
        if watched < best[0] - hp["early_stopping_tolerance"] or best[1] is None:
            best, patience = (watched, fit.snapshot(), metrics), 0
        else:
            patience += 1
        if validation is not None and patience >= hp["early_stopping_patience"]:
            reporter.log(f"no improvement for {patience} epochs; keeping the best epoch")
            break
        if reporter.should_stop():
            stopped = True
            break
    return _Trained(best[1], best[2], history, epoch, stopped)


def _check_labels(dataset: Dataset, hp: dict[str, Any], *, source: str) -> None:
    if hp["predictor_type"] == "regressor":
        return
    classes = 2 if hp["predictor_type"] == "binary_classifier" else hp["num_classes"]
    labels = dataset.labels
    bad = (labels < 0) | (labels >= classes) | (labels != np.floor(labels))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"label {float(labels[row]):g} in record {row + 1} is not a class index "
            f"(0 to {classes - 1}) for {hp['predictor_type']}",
            source=source,
        )


class _Fit:
    """One model being trained: scaling, the SGD estimator and its mini-batch epochs."""

    def __init__(self, hp: dict[str, Any], train: Dataset) -> None:
        self.hp = hp
        self.regressor = hp["predictor_type"] == "regressor"
        self.scaler = StandardScaler(with_mean=hp["normalize_data"], with_std=hp["normalize_data"])
        self.features = self.scaler.fit_transform(train.features)
        normalize_label = hp["normalize_label"]
        if normalize_label == "auto":
            normalize_label = self.regressor
        labels = train.labels
        self.label_mean = float(labels.mean()) if normalize_label and self.regressor else 0.0
        self.label_scale = float(labels.std() or 1.0) if normalize_label and self.regressor else 1.0
        self.labels = (labels - self.label_mean) / self.label_scale
        self.classes = (
            None
            if self.regressor
            else np.arange(2 if hp["predictor_type"] == "binary_classifier" else hp["num_classes"])
        )
        self.estimator = self._estimator()
        self.rng = np.random.default_rng(hp.get("_seed", 0))

    def _estimator(self) -> SGDClassifier | SGDRegressor:
        hp = self.hp
        l1 = 0.0 if hp["l1"] == "auto" else hp["l1"]
        wd = 1e-4 if hp["wd"] == "auto" else hp["wd"]
        options = dict(
            loss=LOSSES[hp["predictor_type"]][hp["loss"]],
            penalty="elasticnet",
            alpha=l1 + wd,
            l1_ratio=l1 / (l1 + wd) if l1 + wd > 0 else 0.0,
            learning_rate="constant",
            eta0=0.01 if hp["learning_rate"] == "auto" else hp["learning_rate"],
            fit_intercept=hp["use_bias"],
            random_state=hp.get("_seed", 0),
        )
        if self.regressor:
            epsilon = {"huber_loss": hp["huber_delta"], "absolute_loss": 0.0}.get(
                hp["loss"], hp["loss_insensitivity"]
            )
            return SGDRegressor(epsilon=epsilon, **options)
        return SGDClassifier(class_weight=class_weights(hp, self.labels), **options)

    def epoch(self) -> None:
        order = self.rng.permutation(len(self.labels))
        size = self.hp["mini_batch_size"]
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            if self.regressor:
                self.estimator.partial_fit(self.features[batch], self.labels[batch])
            else:
                self.estimator.partial_fit(
                    self.features[batch], self.labels[batch], classes=self.classes
                )

    def snapshot(self) -> dict[str, Any]:
        return {
            "scaler": self.scaler,
            "estimator": copy.deepcopy(self.estimator),
            "label_mean": self.label_mean,
            "label_scale": self.label_scale,
            "predictor_type": self.hp["predictor_type"],
        }

    def objective_loss(self, dataset: Dataset) -> float:
        model = LinearModel(self.snapshot(), feature_count=dataset.feature_count)
        return _objective_loss(model, dataset, self.hp)

    def evaluate(self, dataset: Dataset, *, prefix: str) -> dict[str, float]:
        model = LinearModel(self.snapshot(), feature_count=dataset.feature_count)
        return _evaluate(model, dataset, self.hp, prefix=prefix)


def _evaluate(
    model: LinearModel, dataset: Dataset, hp: dict[str, Any], *, prefix: str
) -> dict[str, float]:
    """SageMaker's metrics of ``model`` on ``dataset``, named ``<prefix>:<metric>``."""
    values = {"objective_loss": _objective_loss(model, dataset, hp)}
    outputs = model.predict(dataset.features).outputs
    labels = dataset.labels
    if hp["predictor_type"] == "regressor":
        errors = outputs["score"] - labels
        values |= {
            "mse": float(np.mean(errors**2)),
            "rmse": float(np.sqrt(np.mean(errors**2))),
            "absolute_loss": float(np.mean(np.abs(errors))),
        }
    elif hp["predictor_type"] == "binary_classifier":
        predicted = outputs["predicted_label"]
        values |= {
            "binary_classification_accuracy": skm.accuracy_score(labels, predicted),
            "binary_f_beta": skm.fbeta_score(labels, predicted, beta=hp["f_beta"], zero_division=0),
            "precision": skm.precision_score(labels, predicted, zero_division=0),
            "recall": skm.recall_score(labels, predicted, zero_division=0),
        }
        if len(np.unique(labels)) == 2:
            values["roc_auc_score"] = skm.roc_auc_score(labels, outputs["score"])
    else:
        values["multiclass_accuracy"] = skm.accuracy_score(labels, outputs["predicted_label"])
        top = np.argsort(-outputs["score"], axis=1)[:, : hp["accuracy_top_k"]]
        values["multiclass_top_k_accuracy"] = np.mean(np.any(top == labels[:, None], axis=1))
    return {f"{prefix}:{name}": float(value) for name, value in values.items()}


def _threshold(fitted: dict[str, Any], dataset: Dataset, hp: dict[str, Any]) -> float:
    model = LinearModel(fitted, feature_count=dataset.feature_count)
    scores = model.predict(dataset.features).outputs["score"]
    default = 0.5 if fitted["estimator"].loss == "log_loss" else 0.0
    return choose_threshold(np.asarray(scores), dataset.labels, hp, default)


def _objective_loss(model: LinearModel, dataset: Dataset, hp: dict[str, Any]) -> float:
    loss = model.estimator.loss
    scores = model.predict(dataset.features).outputs["score"]
    labels = dataset.labels
    if loss == "log_loss":
        return float(skm.log_loss(labels, scores, labels=model.classes))
    if loss == "hinge":
        signs = np.where(labels > 0, 1.0, -1.0)
        return float(np.mean(np.maximum(0.0, 1.0 - signs * scores)))
    errors = np.abs(scores - labels)
    if loss == "huber":
        delta = hp["huber_delta"]
        return float(
            np.mean(np.where(errors <= delta, errors**2 / 2, delta * (errors - delta / 2)))
        )
    epsilon = 0.0 if hp["loss"] == "absolute_loss" else hp["loss_insensitivity"]
    if loss == "epsilon_insensitive":
        return float(np.mean(np.maximum(errors - epsilon, 0.0)))
    if loss == "squared_epsilon_insensitive":
        return float(np.mean(np.maximum(errors - epsilon, 0.0) ** 2))
    return float(np.mean(errors**2))


class LinearModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, fitted: dict[str, Any], *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.scaler = fitted["scaler"]
        self.estimator = fitted["estimator"]
        self.label_mean = fitted["label_mean"]
        self.label_scale = fitted["label_scale"]
        self.predictor_type = fitted["predictor_type"]
        self.classes = getattr(self.estimator, "classes_", None)
        # A binary classifier answers 1 above the threshold its selection criterion chose.
        self.threshold = fitted.get("threshold")

    def predict(self, features: np.ndarray) -> Predictions:
        scaled = self.scaler.transform(features)
        if self.predictor_type == "regressor":
            score = self.estimator.predict(scaled) * self.label_scale + self.label_mean
            return Predictions(outputs={"score": score}, csv=("score",))
        if self.estimator.loss == "log_loss":
            probabilities = self.estimator.predict_proba(scaled)
            score = (
                probabilities[:, 1] if self.predictor_type == "binary_classifier" else probabilities
            )
            label = probabilities.argmax(axis=1)
        else:  # hinge: the margin is the score, its sign the label
            score = self.estimator.decision_function(scaled)
            label = (score > 0).astype(np.int64)
        if self.threshold is not None:
            label = (score > self.threshold).astype(np.int64)
        return Predictions(
            outputs={"predicted_label": self.classes[label].astype(np.int64), "score": score},
            csv=("predicted_label",),
        )
