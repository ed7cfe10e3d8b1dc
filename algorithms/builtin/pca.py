"""``pca``: SageMaker PCA's hyperparameters and outputs, on scikit-learn.

``algorithm_mode`` ``regular`` is an exact SVD, ``randomized`` a randomised one; with
``subtract_mean=false`` the data is not centred (``TruncatedSVD``). Training data has no label
column. Reports ``train:explained_variance_ratio`` once (PCA has no epochs). Outputs
``projection``, a list of ``num_components`` numbers; a CSV line carries them all.

The model directory holds, beside the fitted estimator, SageMaker's own artifact: ``model_algo-1``,
an MXNet NDArray file that ``mx.ndarray.load("model_algo-1")`` reads as ``{"s", "v", "mean"}``:
the singular values ``(num_components,)``, the components as the columns of ``v``
``(feature_dim, num_components)``, and ``mean`` ``(1, feature_dim)`` (only with
``subtract_mean``), float32. As in SageMaker's files, ``regular`` mode orders the components from
the smallest singular value to the largest, ``randomized`` from the largest; a projection lists its
numbers in that same order (``(x - mean) @ v``). A ``model.tar.gz`` made by SageMaker's PCA (that
file alone) loads too, and answers the same way.
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
from algorithms.builtin.fitted import FITTED_FILE, LIBRARIES, load_fitted, save_fitted
from algorithms.codecs import Predictions
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import MACHINERY, check_feature_dim, log_moot_values, no_effect
from algorithms.manifest import read_manifest, write_manifest
from algorithms.ndarray_file import NDArrayFileError
from algorithms.ndarray_file import load as load_ndarrays
from algorithms.ndarray_file import save as save_ndarrays
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import ALGO_MODEL_FILE, register


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
        arrays = sagemaker_arrays(estimator, algorithm_mode=hp["algorithm_mode"])
        save_ndarrays(
            model_dir / ALGO_MODEL_FILE,
            {name: array.astype(np.float32) for name, array in arrays.items()},
        )
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
        if (model_dir / FITTED_FILE).is_file():  # ours: full precision
            mode = read_manifest(model_dir).hyperparameters.get("algorithm_mode", "regular")
            arrays = sagemaker_arrays(load_fitted(model_dir), algorithm_mode=mode)
        else:  # SageMaker's artifact: model_algo-1 alone
            arrays = _sagemaker_model(model_dir / ALGO_MODEL_FILE)
        mean = arrays.get("mean")
        return ProjectionModel(arrays["v"], mean=None if mean is None else mean.reshape(-1))


def sagemaker_arrays(
    estimator: SklearnPCA | TruncatedSVD, *, algorithm_mode: str
) -> dict[str, np.ndarray]:
    """SageMaker PCA's model arrays (``s``, ``v``, ``mean``) for a fitted estimator, whose
    components come largest first."""
    order = slice(None, None, -1) if algorithm_mode == "regular" else slice(None)
    arrays = {"s": estimator.singular_values_[order], "v": estimator.components_[order].T}
    if isinstance(estimator, SklearnPCA):
        arrays["mean"] = estimator.mean_.reshape(1, -1)
    return arrays


def _sagemaker_model(path: Path) -> dict[str, np.ndarray]:
    arrays = load_ndarrays(path)
    v = arrays.get("v") if isinstance(arrays, dict) else None
    if v is None or v.ndim != 2:
        raise NDArrayFileError(
            f"{path}: a PCA model names its arrays, with v the (feature_dim, num_components) "
            "components"
        )
    mean = arrays.get("mean")
    if mean is not None and mean.size != v.shape[0]:
        raise NDArrayFileError(f"{path}: mean has {mean.size} values for {v.shape[0]} features")
    return {name: array.astype(np.float64) for name, array in arrays.items()}


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
    """``(x - mean) @ v``: each record on the components that are ``v``'s columns."""

    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, v: np.ndarray, *, mean: np.ndarray | None) -> None:
        super().__init__(feature_count=v.shape[0])
        self.v = v
        self.mean = mean

    def predict(self, features: np.ndarray) -> Predictions:
        centred = features if self.mean is None else features - self.mean
        return Predictions(
            outputs={"projection": centred @ self.v},
            csv=("projection",),
            json_key="projections",
        )
