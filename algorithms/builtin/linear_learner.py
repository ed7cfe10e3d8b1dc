"""``linear-learner``: SageMaker's Linear Learner, in torch.

A linear map from standardised features to one score (binary classifier, regressor) or one score
per class (multiclass: softmax). ``num_models`` models are trained side by side in one vectorised
pass (:mod:`algorithms.builtin.linear_learner_training`) with SageMaker's optimizers and losses;
each keeps its epoch with the best ``objective_loss`` (validation, else train), and training
stops once every model has gone ``early_stopping_patience`` epochs without improving by
``early_stopping_tolerance`` (relative). A binary classifier's threshold is then chosen on the
validation channel (else train) by ``binary_classifier_model_selection_criteria``, which also
picks the kept model (the lowest objective loss for the other predictor types). A ``test``
channel is scored once at the end (``test:*``). Per epoch, the metrics reported are those of the
model that is best on that epoch, so a tuning job sees one curve. Outputs are SageMaker's:
``score`` (a list of class probabilities for multiclass) and ``predicted_label`` for classifiers,
``score`` for regressors; a CSV line carries the first of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from algorithms.base import Algorithm, Channel, DataError, Model, Reporter, TrainingResult
from algorithms.builtin.linear_learner_metrics import metrics_of, outputs_of
from algorithms.builtin.linear_learner_parameters import (
    HYPERPARAMETERS,
    check_hyperparameters,
    choose_threshold,
    model_candidates,
    record_weights,
    selection_score,
)
from algorithms.builtin.linear_learner_training import ParallelLinear, Scaling, fit_scaling
from algorithms.builtin.torch_training import (
    limit_cpu_threads,
    seed_everything,
    training_device,
)
from algorithms.codecs import Predictions
from algorithms.data import Dataset, read_channel, split_channels
from algorithms.hyperparameters import check_feature_dim, log_moot_values
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register

MODEL_FILE = "linear_model.npz"
# Below this many multiply-adds per mini-batch (all models), training runs on one CPU thread.
SMALL_BATCH_WORK = 1 << 20
METRICS = (
    "objective_loss",
    "binary_classification_accuracy",
    "binary_f_beta",
    "precision",
    "recall",
    "roc_auc_score",
    "multiclass_accuracy",
    "multiclass_top_k_accuracy",
    "dcg",
    "macro_f_beta",
    "macro_precision",
    "macro_recall",
    "mse",
    "rmse",
    "absolute_loss",
)


@register("linear-learner")
class LinearLearner(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = (
        "train:objective_loss",
        *(f"{channel}:{name}" for channel in ("validation", "test") for name in METRICS),
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
        candidates = model_candidates(hp, rows=train.rows)
        threads = torch.get_num_threads()
        try:
            run = _Training(candidates, train, validation, reporter)
            models = run.fit()
        finally:
            torch.set_num_threads(threads)
        calibration = validation or train
        scores = []
        for fitted in models:
            if candidates[0]["predictor_type"] == "binary_classifier":
                fitted.threshold = _threshold(fitted, calibration, candidates[0])
            evaluated = evaluate(fitted, calibration, candidates[0], prefix="")
            scores.append(selection_score({k[1:]: v for k, v in evaluated.items()}, hp))
        kept = int(np.argmax(scores))
        fitted = models[kept]
        if len(models) > 1:
            reporter.log(f"kept model {kept + 1} of {len(models)} trained")
        if fitted.threshold is not None:
            reporter.log(
                f"threshold {fitted.threshold:.6g} chosen by "
                f"{hp['binary_classifier_model_selection_criteria']}"
            )
        final_metrics = run.best_metrics[kept]
        if test is not None:
            tested = evaluate(fitted, test, candidates[0], prefix="test")
            for name, value in tested.items():
                reporter.metric(name, value, step=run.epoch)
            final_metrics = {**final_metrics, **tested}
        fitted.save(model_dir)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=("torch",),
            details={"resolved": {k: v for k, v in candidates[kept].items() if k != "_seed"}},
        )
        return TrainingResult(final_metrics=final_metrics, stopped_early=run.stopped)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return LinearModel.load(model_dir)


class _Training:
    """The epochs of every candidate model, each model's best epoch kept."""

    def __init__(
        self,
        candidates: list[dict[str, Any]],
        train: Dataset,
        validation: Dataset | None,
        reporter: Reporter,
    ) -> None:
        self.hp = hp = candidates[0]
        self.train, self.validation, self.reporter = train, validation, reporter
        limit_cpu_threads()
        outputs = hp["num_classes"] if hp["predictor_type"] == "multiclass_classifier" else 1
        work = min(hp["mini_batch_size"], train.rows) * train.feature_count * outputs
        if work * len(candidates) < SMALL_BATCH_WORK:
            # Threads cost more than they save on small matrices (far more on a busy machine).
            torch.set_num_threads(1)
        _, generator = seed_everything(0)
        self.device = training_device()
        self.scaling = fit_scaling(train.features, train.labels, hp)
        self.net = ParallelLinear(
            candidates,
            feature_count=train.feature_count,
            outputs=outputs,
            device=self.device,
            generator=generator,
        )
        self.count = len(candidates)
        self.best_metrics: list[dict[str, float]] = [{} for _ in candidates]
        self.epoch, self.stopped = 0, False
        self.validation_features: torch.Tensor | None = None

    def fit(self) -> list[LinearFit]:
        hp, count = self.hp, self.count
        features = torch.as_tensor(self.scaling.features(self.train.features), device=self.device)
        targets = (self.train.labels - self.scaling.label_mean) / self.scaling.label_scale
        labels = torch.as_tensor(targets, dtype=torch.float32, device=self.device)
        weights = record_weights(hp, self.train.labels)
        if weights is not None:
            weights = torch.as_tensor(weights, dtype=torch.float32, device=self.device)
        best = np.full(count, np.inf)
        fits: list[LinearFit | None] = [None] * count
        patience = np.zeros(count, dtype=int)
        for self.epoch in range(1, hp["epochs"] + 1):
            train_loss = self.net.epoch(features, labels, weights)
            per_model = [{"train:objective_loss": float(loss)} for loss in train_loss]
            if self.validation is not None:
                for model, metrics in enumerate(self._evaluate_all(self.validation)):
                    per_model[model] |= metrics
            watched = np.array(
                [m.get("validation:objective_loss", m["train:objective_loss"]) for m in per_model]
            )
            for model in range(count):
                self._log(model, per_model[model])
                margin = hp["early_stopping_tolerance"] * abs(best[model])
                if fits[model] is None or watched[model] < best[model] - margin:
                    best[model], patience[model] = watched[model], 0
                    fits[model] = self._fit(model)
                    self.best_metrics[model] = per_model[model]
                else:
                    patience[model] += 1
            leader = int(np.nanargmin(watched)) if np.isfinite(watched).any() else 0
            for name, value in per_model[leader].items():
                self.reporter.metric(name, value, step=self.epoch)
            if self.validation is not None and (patience >= hp["early_stopping_patience"]).all():
                self.reporter.log(
                    f"no improvement for {hp['early_stopping_patience']} epochs; "
                    "keeping the best epoch"
                )
                break
            if self.reporter.should_stop():
                self.stopped = True
                break
        return [fit for fit in fits if fit is not None]

    def _fit(self, model: int) -> LinearFit:
        weights, bias = self.net.snapshot(model)
        return LinearFit(self.scaling, weights, bias, self.hp["predictor_type"], self.hp["loss"])

    def _evaluate_all(self, dataset: Dataset) -> list[dict[str, float]]:
        if self.validation_features is None:  # scaled once, scored every epoch
            scaled = self.scaling.features(dataset.features)
            self.validation_features = torch.as_tensor(scaled, device=self.device)
        raw = self.net.raw_scores(self.validation_features)
        return [
            metrics_of(
                raw[model], dataset.labels, self.hp, scaling=self.scaling, prefix="validation"
            )
            for model in range(self.count)
        ]

    def _log(self, model: int, metrics: dict[str, float]) -> None:
        summary = " ".join(f"{k}={v:.6g}" for k, v in metrics.items())
        prefix = f"model {model + 1} " if self.count > 1 else ""
        self.reporter.log(f"{prefix}epoch {self.epoch}: {summary}")


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


@dataclass
class LinearFit:
    """One trained linear model: its scaling, weights ``(features, outputs)`` and bias."""

    scaling: Scaling
    weights: np.ndarray
    bias: np.ndarray
    predictor_type: str
    loss: str
    # A binary classifier answers 1 above the threshold its selection criterion chose.
    threshold: float | None = None

    def raw(self, features: np.ndarray) -> np.ndarray:
        return self.scaling.features(features) @ self.weights + self.bias

    def save(self, model_dir: Path) -> None:
        model_dir.mkdir(parents=True, exist_ok=True)
        np.savez(
            model_dir / MODEL_FILE,
            weights=self.weights,
            bias=self.bias,
            mean=self.scaling.mean,
            scale=self.scaling.scale,
            label=np.array([self.scaling.label_mean, self.scaling.label_scale]),
            threshold=np.array(np.nan if self.threshold is None else self.threshold),
            predictor_type=np.array(self.predictor_type),
            loss=np.array(self.loss),
        )

    @classmethod
    def load(cls, model_dir: Path) -> LinearFit:
        with np.load(model_dir / MODEL_FILE, allow_pickle=False) as saved:
            threshold = float(saved["threshold"])
            return cls(
                Scaling(saved["mean"], saved["scale"], *map(float, saved["label"])),
                saved["weights"],
                saved["bias"],
                str(saved["predictor_type"]),
                str(saved["loss"]),
                None if np.isnan(threshold) else threshold,
            )


def evaluate(fitted: LinearFit, dataset: Dataset, hp: dict[str, Any], *, prefix: str):
    """The metrics of one trained model on ``dataset`` (with its chosen threshold)."""
    return metrics_of(
        fitted.raw(dataset.features),
        dataset.labels,
        hp,
        scaling=fitted.scaling,
        prefix=prefix,
        threshold=fitted.threshold,
    )


def _threshold(fitted: LinearFit, dataset: Dataset, hp: dict[str, Any]) -> float:
    score = outputs_of(
        fitted.raw(dataset.features), fitted.predictor_type, hp["loss"], fitted.scaling
    )
    default = 0.5 if hp["loss"] == "logistic" else 0.0
    return choose_threshold(np.asarray(score), dataset.labels, hp, default)


class LinearModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, fitted: LinearFit) -> None:
        super().__init__(feature_count=fitted.weights.shape[0])
        self.fitted = fitted

    @classmethod
    def load(cls, model_dir: Path) -> LinearModel:
        return cls(LinearFit.load(model_dir))

    def predict(self, features: np.ndarray) -> Predictions:
        fitted = self.fitted
        score = outputs_of(fitted.raw(features), fitted.predictor_type, fitted.loss, fitted.scaling)
        if fitted.predictor_type == "regressor":
            return Predictions(outputs={"score": score}, csv=("score",))
        if fitted.predictor_type == "multiclass_classifier":
            label = score.argmax(axis=1)
        else:
            default = 0.5 if fitted.loss == "logistic" else 0.0
            threshold = default if fitted.threshold is None else fitted.threshold
            label = (score > threshold).astype(np.int64)
        return Predictions(
            outputs={"predicted_label": label.astype(np.int64), "score": score},
            csv=("predicted_label",),
        )
