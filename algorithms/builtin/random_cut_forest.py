"""``randomcutforest``: SageMaker Random Cut Forest's interface, on scikit-learn IsolationForest.

Not the Robust Random Cut Forest algorithm itself: an isolation forest (same idea — anomalies
are isolated by few random cuts) with ``num_trees`` trees of ``num_samples_per_tree`` samples.
``score`` is the anomaly score, higher meaning more anomalous (IsolationForest's score
negated, in (0, 1]); its scale differs from SageMaker RCF's, so thresholds must be re-derived.
Training data has no label column. Reports ``train:mean_score`` once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from algorithms.base import (
    Algorithm,
    Channel,
    Hyperparameter,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.builtin.fitted import LIBRARIES, load_fitted, save_fitted
from algorithms.codecs import Predictions
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import check_feature_dim
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register


@register("randomcutforest")
class RandomCutForest(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("train:mean_score",)
    hyperparameters = (
        Hyperparameter("num_trees", "int", 100, min=50, max=1000),
        Hyperparameter("num_samples_per_tree", "int", 256, min=1, max=2048),
        Hyperparameter("feature_dim", "int", required=True, min=1, max=10_000),
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
        train_channel, _ = split_channels(channels, evaluation=("test",))
        train = read_channel(train_channel, labelled=False)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        estimator = IsolationForest(
            n_estimators=hp["num_trees"],
            max_samples=min(hp["num_samples_per_tree"], train.rows),
            random_state=0,
        )
        estimator.fit(train.features)
        mean_score = float(np.mean(-estimator.score_samples(train.features)))
        reporter.metric("train:mean_score", mean_score, step=1)
        save_fitted(model_dir, estimator)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics={"train:mean_score": mean_score})

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        estimator = load_fitted(model_dir)
        return AnomalyModel(estimator, feature_count=estimator.n_features_in_)


class AnomalyModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, estimator: IsolationForest, *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.estimator = estimator

    def predict(self, features: np.ndarray) -> Predictions:
        return Predictions(
            outputs={"score": -self.estimator.score_samples(features)}, csv=("score",)
        )
