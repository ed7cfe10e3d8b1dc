"""``pca``: SageMaker PCA's hyperparameters and outputs, on scikit-learn.

``algorithm_mode`` ``regular`` is an exact SVD, ``randomized`` a randomised one; with
``subtract_mean=false`` the data is not centred (``TruncatedSVD``). Training data has no label
column. Reports ``train:explained_variance_ratio`` once (PCA has no epochs). Outputs
``projection``, a list of ``num_components`` numbers; a CSV line carries them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.decomposition import TruncatedSVD

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
from algorithms.hyperparameters import MACHINERY, check_feature_dim, log_moot_values, no_effect
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register


@register("pca")
class PCA(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("train:explained_variance_ratio",)
    hyperparameters = (
        Hyperparameter("num_components", "int", required=True, min=1),
        Hyperparameter("feature_dim", "int", required=True, min=1),
        no_effect("mini_batch_size", "int", 500, "the fit sees all records at once", min=1),
        Hyperparameter("algorithm_mode", "str", "regular", choices=("regular", "randomized")),
        Hyperparameter("subtract_mean", "bool", True),
        Hyperparameter(
            "extra_components",
            "int",
            -1,
            min=-1,
            description="oversampling for randomized mode; -1: automatic",
        ),
        *MACHINERY,
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
        train_channel, _ = split_channels(channels, evaluation=("test",))
        train = read_channel(train_channel, labelled=False)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        limit = min(train.rows, train.feature_count) - (0 if hp["subtract_mean"] else 1)
        if hp["num_components"] > limit:
            raise HyperparameterError(
                "num_components",
                f"must be at most {limit} for this data (got {hp['num_components']})",
            )
        estimator = _estimator(hp)
        estimator.fit(train.features)
        ratio = float(np.sum(estimator.explained_variance_ratio_))
        reporter.metric("train:explained_variance_ratio", ratio, step=1)
        reporter.log(f"{hp['num_components']} components explain {ratio:.2%} of the variance")
        save_fitted(model_dir, estimator)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics={"train:explained_variance_ratio": ratio})

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        estimator = load_fitted(model_dir)
        return ProjectionModel(estimator, feature_count=estimator.n_features_in_)


def _estimator(hp: dict[str, Any]) -> SklearnPCA | TruncatedSVD:
    randomized = hp["algorithm_mode"] == "randomized"
    oversamples = 10 if hp["extra_components"] < 0 else hp["extra_components"]
    if not hp["subtract_mean"]:
        return TruncatedSVD(
            n_components=hp["num_components"],
            algorithm="randomized" if randomized else "arpack",
            n_oversamples=oversamples,
            random_state=0,
        )
    if randomized:
        return SklearnPCA(
            n_components=hp["num_components"],
            svd_solver="randomized",
            n_oversamples=oversamples,
            random_state=0,
        )
    return SklearnPCA(n_components=hp["num_components"], svd_solver="full")


class ProjectionModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, estimator: SklearnPCA | TruncatedSVD, *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.estimator = estimator

    def predict(self, features: np.ndarray) -> Predictions:
        return Predictions(
            outputs={"projection": self.estimator.transform(features)},
            csv=("projection",),
            json_key="projections",
        )
