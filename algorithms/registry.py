"""Built-in algorithms by training-image name, and how an image URI resolves to one.

An algorithm module registers its class with ``@register("name")``. The built-ins are imported
lazily: ``BUILTIN_MODULES`` says which module registers each name, and ``resolve_image`` imports
only that module. A Dask worker scoring a LightGBM model so never imports torch (~190 MB).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from algorithms.base import Algorithm, AlgorithmError

A = TypeVar("A", bound=type[Algorithm])

_ALGORITHMS: dict[str, type[Algorithm]] = {}

# Every built-in image name and the module whose ``@register`` defines it. Adding an algorithm:
# one module calling ``@register("<name>")`` and one line here.
BUILTIN_MODULES: dict[str, str] = {
    "auto-labeling": "algorithms.builtin.auto_labeling",  # automated labeling's classifier
    "factorization-machines": "algorithms.builtin.factorization_machines",
    "kmeans": "algorithms.builtin.kmeans",
    "knn": "algorithms.builtin.knn",
    "lightgbm": "algorithms.builtin.lightgbm",
    "linear-learner": "algorithms.builtin.linear_learner",
    "mlp": "algorithms.builtin.mlp",
    "pca": "algorithms.builtin.pca",
    "randomcutforest": "algorithms.builtin.random_cut_forest",
    "xgboost": "algorithms.builtin.xgboost",
    # Script mode: framework images run the user's own code.
    "script": "algorithms.script",
    "sklearn": "algorithms.script",
    "scikit-learn": "algorithms.script",
    "pytorch": "algorithms.script",
    "pytorch-training": "algorithms.script",
    "pytorch-inference": "algorithms.script",
}

# The model file of a SageMaker container that writes no manifest, and the built-in that serves
# it: a ``model.tar.gz`` made by SageMaker's XGBoost holds only ``xgboost-model``.
CONTAINER_MODEL_FILES: dict[str, str] = {"xgboost-model": "xgboost"}
# SageMaker's own algorithms all call their model file ``model_algo-1`` (an MXNet NDArray file for
# k-means and PCA): the model's image says whose it is.
ALGO_MODEL_FILE = "model_algo-1"
ALGO_MODEL_IMAGES = ("kmeans", "pca")

# SageMaker's first-party images are named "sagemaker-<algorithm>" (sagemaker-xgboost).
_IMAGE_PREFIX = "sagemaker-"


class UnknownAlgorithm(AlgorithmError, LookupError):
    """A training image that names no registered algorithm."""

    def __init__(self, image: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"training image {image!r} names no built-in algorithm; known: {', '.join(known)}"
        )
        self.image = image


def register(name: str) -> Callable[[A], A]:
    """Class decorator: make ``cls`` the algorithm for training image ``name``."""

    def decorate(cls: A) -> A:
        if name in _ALGORITHMS and _ALGORITHMS[name] is not cls:
            raise ValueError(f"algorithm {name!r} is already registered by {_ALGORITHMS[name]}")
        cls.name = name
        _ALGORITHMS[name] = cls
        return cls

    return decorate


def image_name(image: str) -> str:
    """The algorithm name an image stands for.

    ``123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1`` → ``xgboost``;
    ``linear-learner``, ``kmeans:1`` and ``registry:5000/team/lightgbm@sha256:…`` work too.
    """
    repository = image.strip().rsplit("/", 1)[-1]
    repository = repository.split("@", 1)[0].split(":", 1)[0].lower()
    return repository.removeprefix(_IMAGE_PREFIX)


def resolve_image(image: str) -> type[Algorithm]:
    """The algorithm class for a training image (or a bare algorithm name).

    Imports the built-in's module on first use; nothing else is imported.
    """
    name = image_name(image)
    if name not in _ALGORITHMS and name in BUILTIN_MODULES:
        importlib.import_module(BUILTIN_MODULES[name])
    try:
        return _ALGORITHMS[name]
    except KeyError:
        raise UnknownAlgorithm(image, algorithm_names()) from None


def algorithm_names() -> tuple[str, ...]:
    """Every name an image can resolve to: the built-ins (imported or not) and any registered."""
    return tuple(sorted(set(_ALGORITHMS) | set(BUILTIN_MODULES)))


def container_model_algorithm(model_dir: Path, image: str = "") -> str | None:
    """The built-in that serves a manifest-less model directory of a SageMaker container
    (``image``: the model's, where known)."""
    name = image_name(image) if image else ""
    if name in ALGO_MODEL_IMAGES and (model_dir / ALGO_MODEL_FILE).is_file():
        return name
    return next(
        (name for file, name in CONTAINER_MODEL_FILES.items() if (model_dir / file).is_file()),
        None,
    )
