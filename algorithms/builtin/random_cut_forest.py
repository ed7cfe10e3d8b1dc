"""``randomcutforest``: SageMaker Random Cut Forest's interface, on scikit-learn IsolationForest.

Not the Robust Random Cut Forest algorithm itself: an isolation forest (same idea — anomalies
are isolated by few random cuts) with ``num_trees`` trees of ``num_samples_per_tree`` samples.
``score`` is the anomaly score, higher meaning more anomalous (IsolationForest's score
negated, in (0, 1]); its scale differs from SageMaker RCF's, so thresholds must be re-derived.
Training data has no label column. Reports ``train:mean_score`` once; with a labelled ``test``
channel (``text/csv;label_size=1``), its ``eval_metrics``: ``test:accuracy`` and
``test:precision``/``test:recall``/``test:f1``, a record counting as anomalous when its score is
above the training scores' mean plus three standard deviations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from algorithms.base import (
    Algorithm,
    Channel,
    DataError,
    Hyperparameter,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.builtin.fitted import LIBRARIES, load_fitted, save_fitted
from algorithms.codecs import Predictions
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import (
    MACHINERY,
    check_feature_dim,
    log_moot_values,
    parse_metric_list,
)
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register


@register("randomcutforest")
class RandomCutForest(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("train:mean_score", "test:accuracy", "test:precision", "test:recall", "test:f1")
    hyperparameters = (
        Hyperparameter("num_trees", "int", 100, min=50, max=1000),
        Hyperparameter("num_samples_per_tree", "int", 256, min=1, max=2048),
        Hyperparameter("feature_dim", "int", required=True, min=1, max=10_000),
        Hyperparameter("eval_metrics", "str", '["accuracy", "precision_recall_fscore"]'),
        Hyperparameter("mini_batch_size", "int", 1000, min=1, description="no effect here"),
        *MACHINERY,
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        values["eval_metrics"] = parse_metric_list(
            "eval_metrics", values["eval_metrics"], EVAL_METRICS
        )

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
        train_channel, test_channel = split_channels(channels, evaluation=("test",))
        train = read_channel(train_channel, labelled=False)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        estimator = IsolationForest(
            n_estimators=hp["num_trees"],
            max_samples=min(hp["num_samples_per_tree"], train.rows),
            random_state=0,
        )
        estimator.fit(train.features)
        scores = -estimator.score_samples(train.features)
        mean_score = float(np.mean(scores))
        reporter.metric("train:mean_score", mean_score, step=1)
        final = {"train:mean_score": mean_score}
        if test_channel is not None:
            threshold = mean_score + 3 * float(np.std(scores))
            test = read_channel(test_channel, feature_count=train.feature_count)
            predicted = -estimator.score_samples(test.features) > threshold
            for name, value in _test_metrics(predicted, test.labels, hp["eval_metrics"]).items():
                final[name] = value
                reporter.metric(name, value, step=1)
            reporter.log(f"test: anomalous above {threshold:.6g} (mean + 3 sd of training scores)")
        save_fitted(model_dir, estimator)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics=final)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        estimator = load_fitted(model_dir)
        return AnomalyModel(estimator, feature_count=estimator.n_features_in_)


EVAL_METRICS = ("accuracy", "precision_recall_fscore")


def _test_metrics(
    predicted: np.ndarray, labels: np.ndarray, wanted: tuple[str, ...]
) -> dict[str, float]:
    if not np.isin(labels, (0, 1)).all():
        raise DataError("test labels must be 0 (normal) or 1 (anomalous)", source="test")
    actual = labels == 1
    true_positives = float(np.sum(predicted & actual))
    metrics = {}
    if "accuracy" in wanted:
        metrics["test:accuracy"] = float(np.mean(predicted == actual))
    if "precision_recall_fscore" in wanted:
        precision = true_positives / max(int(predicted.sum()), 1)
        recall = true_positives / max(int(actual.sum()), 1)
        total = precision + recall
        metrics |= {
            "test:precision": precision,
            "test:recall": recall,
            "test:f1": 2 * precision * recall / total if total else 0.0,
        }
    return metrics


class AnomalyModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, estimator: IsolationForest, *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.estimator = estimator

    def predict(self, features: np.ndarray) -> Predictions:
        return Predictions(
            outputs={"score": -self.estimator.score_samples(features)},
            csv=("score",),
            json_key="scores",
        )
