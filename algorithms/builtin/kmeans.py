"""``kmeans``: SageMaker k-means' hyperparameters and outputs, on scikit-learn ``MiniBatchKMeans``.

Training data has no label column (``text/csv``, or ``label_size=1`` to skip one). Each epoch is
one pass of mini-batches; ``train:msd`` (mean squared distance to the closest centre) is reported
per epoch, and ``test:msd``/``test:ssd`` at the end when a ``test`` channel is given. Outputs
``closest_cluster`` and ``distance_to_cluster``; a CSV line carries both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from algorithms.base import (
    Algorithm,
    Channel,
    Hyperparameter,
    HyperparameterError,
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

INIT_METHODS = {"random": "random", "kmeans++": "k-means++"}


@register("kmeans")
class KMeans(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("train:msd", "test:msd", "test:ssd")
    hyperparameters = (
        Hyperparameter("k", "int", required=True, min=2),
        Hyperparameter("feature_dim", "int", required=True, min=1),
        Hyperparameter("mini_batch_size", "int", 5000, min=1),
        Hyperparameter("epochs", "int", 1, min=1),
        Hyperparameter("init_method", "str", "random", choices=tuple(INIT_METHODS)),
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
        train_channel, test_channel = split_channels(channels, evaluation=("test",))
        train = read_channel(train_channel, labelled=False)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        if hp["k"] > train.rows:
            raise HyperparameterError("k", f"must be at most the {train.rows} training records")
        estimator = MiniBatchKMeans(
            n_clusters=hp["k"],
            batch_size=hp["mini_batch_size"],
            init=INIT_METHODS[hp["init_method"]],
            n_init=1,
            random_state=0,
        )
        rng = np.random.default_rng(0)
        features = train.features
        final: dict[str, float] = {}
        stopped = False
        for epoch in range(1, hp["epochs"] + 1):
            order = rng.permutation(train.rows)
            for start in range(0, train.rows, hp["mini_batch_size"]):
                batch = features[order[start : start + hp["mini_batch_size"]]]
                if epoch == 1 and start == 0 and len(batch) < hp["k"]:
                    batch = features[order[: hp["k"]]]  # the first batch seeds k centres
                estimator.partial_fit(batch)
            final["train:msd"] = float(-estimator.score(features) / train.rows)
            reporter.metric("train:msd", final["train:msd"], step=epoch)
            reporter.log(f"epoch {epoch}: train:msd={final['train:msd']:.6g}")
            if reporter.should_stop():
                stopped = True
                break
        if test_channel is not None:
            test = read_channel(test_channel, labelled=False, feature_count=train.feature_count)
            ssd = float(-estimator.score(test.features))
            final |= {"test:ssd": ssd, "test:msd": ssd / test.rows}
            for name in ("test:msd", "test:ssd"):
                reporter.metric(name, final[name], step=epoch)
        save_fitted(model_dir, estimator)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics=final, stopped_early=stopped)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        estimator = load_fitted(model_dir)
        return KMeansModel(estimator, feature_count=estimator.n_features_in_)


class KMeansModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, estimator: MiniBatchKMeans, *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.estimator = estimator

    def predict(self, features: np.ndarray) -> Predictions:
        distances = self.estimator.transform(features)
        closest = distances.argmin(axis=1)
        return Predictions(
            outputs={
                "closest_cluster": closest,
                "distance_to_cluster": distances[np.arange(len(closest)), closest],
            },
            csv=("closest_cluster", "distance_to_cluster"),
        )
